package meeting

import (
	"context"
	"time"
)

// Takeover is what a live meeting holds in memory that another node needs to take the meeting
// over when its node dies (a cluster: package cluster, redisstore): the mute-all policy, the
// running timer's deadline, and the host's mutes of the participants there now (and of those
// who left muted), by browser id. The record (lock, lobby, chat, bans) is durable already.
//
// It is saved after every host request that was carried out, so it is never behind the host's
// last decision; a participant's own unmute (allowed by the host) is not saved, so a takeover
// may bring that participant back muted, with the permission to unmute itself it had. A node
// that takes a meeting over loads it with the record: the timer ends at its deadline (not
// before, and once: the node that started it is gone), joiners come in muted as the host
// decided.
type Takeover struct {
	MuteLock    bool
	TimerID     string    // "" when no timer runs
	TimerEndsAt time.Time // the running timer's deadline
	// HostMutes maps a browser id to whether its participant may unmute itself.
	HostMutes map[string]bool
}

// TakeoverStore is a Store that also keeps each live meeting's Takeover.
type TakeoverStore interface {
	SaveTakeover(ctx context.Context, meetingID string, t Takeover) error
	// LoadTakeover returns the saved state; ok is false when none was saved.
	LoadTakeover(ctx context.Context, meetingID string) (t Takeover, ok bool, err error)
}

// takeoverTimeout bounds saving the state after a host request: the request's answer waits for
// it, and a failure (the store is unreachable) is logged, never the request's.
const takeoverTimeout = 500 * time.Millisecond

// saveTakeover saves lm's takeover state when the store keeps it; the caller holds lm.mu.
func (lm *liveMeeting) saveTakeover(ctx context.Context) {
	ts, ok := lm.svc.store.(TakeoverStore)
	if !ok || lm.ended {
		return
	}
	t := Takeover{MuteLock: lm.muteLock, HostMutes: map[string]bool{}}
	if lm.timer != nil {
		t.TimerID, t.TimerEndsAt = lm.timer.def.id, lm.timer.endsAt
	}
	for b, d := range lm.browsers {
		if d.muted {
			t.HostMutes[b] = d.canUnmute
		}
	}
	for _, s := range lm.seats {
		if s.browser != "" && s.p.MutedByHost {
			t.HostMutes[s.browser] = s.p.CanUnmute
		} else if s.browser != "" {
			delete(t.HostMutes, s.browser)
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), takeoverTimeout)
	defer cancel()
	if err := ts.SaveTakeover(ctx, lm.id, t); err != nil {
		lm.svc.log.Warn("could not save the meeting's state for a takeover", "meetingId", lm.id, "err", err)
	}
}

// loadTakeover applies the saved takeover state to lm as it is loaded; the caller holds lm.mu.
func (lm *liveMeeting) loadTakeover(ctx context.Context) error {
	ts, ok := lm.svc.store.(TakeoverStore)
	if !ok {
		return nil
	}
	t, ok, err := ts.LoadTakeover(ctx, lm.id)
	if err != nil || !ok {
		return err
	}
	lm.muteLock = t.MuteLock
	for b, canUnmute := range t.HostMutes {
		d := lm.decisionFor(b)
		d.muted, d.canUnmute = true, canUnmute
	}
	for _, def := range timerDefs {
		left := t.TimerEndsAt.Sub(lm.svc.clock.Now())
		if def.id != t.TimerID || left <= 0 {
			continue
		}
		lm.timerGen++
		gen := lm.timerGen
		lm.timer = &runningTimer{def: def, endsAt: t.TimerEndsAt, stop: lm.svc.clock.AfterFunc(left, func() { lm.timerFired(gen) })}
	}
	return nil
}
