package meeting

import (
	"context"
	"strconv"
	"time"

	"github.com/parleyhq/parley/wire"
)

// Takeover is what a live meeting holds in memory that another node needs to take the meeting
// over when its node dies (a cluster: package cluster, redisstore): the mute-all policy, the
// running timer's deadline, the host's mutes by browser id (of the participants there now and
// of those who left muted), and the roster: every participant's seat with its moderation state
// and the hash of its current resume token. The record (lock, lobby, chat allowed, bans) is
// durable already; chat history and the audit log are appended beside it (HistoryStore).
//
// It is saved after every host request that was carried out, before the request's answer, so
// it is never behind the host's last decision; other changes of the roster (joins, leaves,
// hands, a participant's own unmute where the host allowed it, resume tokens) are saved behind
// them, coalesced (persist.go). A node that takes a meeting over loads it with the record: the
// timer ends at its deadline (not before, and once: the node that started it is gone), joiners
// come in muted as the host decided, and the seats wait, reconnecting, for their participants
// to resume on any node with their tokens (or leave after the resume grace).
type Takeover struct {
	MuteLock    bool
	TimerID     string    // "" when no timer runs
	TimerEndsAt time.Time // the running timer's deadline
	// HostMutes maps a browser id to whether its participant may unmute itself.
	HostMutes map[string]bool
	// HostID is the host's participantId, "" before the host first joined.
	HostID string
	// Seats are the participants, in join order.
	Seats []SavedSeat
	// ChatSeq is the id of the last chat message sent (private ones included), so that the
	// ids go on without repeating.
	ChatSeq uint64
}

// SavedSeat is one participant's seat as a takeover needs it.
type SavedSeat struct {
	// Participant is its state as the others see it: participantId, name, role, mute state
	// (by the host or its own), permission to unmute, hand.
	Participant wire.Participant
	BrowserID   string // the browser id it joined with, "" if none
	// TokenHash is the SHA-256 of its current resume token; zero when it has none.
	TokenHash [32]byte
}

// TakeoverStore is a Store that also keeps each live meeting's Takeover.
type TakeoverStore interface {
	SaveTakeover(ctx context.Context, meetingID string, t Takeover) error
	// LoadTakeover returns the saved state; ok is false when none was saved.
	LoadTakeover(ctx context.Context, meetingID string) (t Takeover, ok bool, err error)
}

// takeoverTimeout bounds how long a host request's answer waits for its state to be saved; a
// failure (the store is unreachable) is logged, never the request's.
const takeoverTimeout = 500 * time.Millisecond

// takeoverState is lm's takeover state now; the caller holds lm.mu.
func (lm *liveMeeting) takeoverState() Takeover {
	t := Takeover{MuteLock: lm.muteLock, HostMutes: map[string]bool{}, HostID: lm.hostPID, ChatSeq: lm.chat.seq,
		Seats: make([]SavedSeat, 0, len(lm.seats))}
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
		ss := SavedSeat{Participant: s.p, BrowserID: s.browser}
		if s.hasToken {
			ss.TokenHash = s.token
		}
		t.Seats = append(t.Seats, ss)
	}
	return t
}

// saveTakeover saves lm's takeover state, if the store keeps it, and waits for the write (a
// host request's answer follows it); the caller holds lm.mu.
func (lm *liveMeeting) saveTakeover(ctx context.Context) {
	if lm.saver == nil || lm.ended {
		return
	}
	lm.dirty = false
	lm.saver.wait(ctx, lm.saver.queue(lm.takeoverState()))
}

// rosterChanged marks lm's takeover state as changed: unlock hands the saver a snapshot. The
// caller holds lm.mu.
func (lm *liveMeeting) rosterChanged() { lm.dirty = true }

// saveBehind hands the saver lm's state if it changed, without waiting; the caller holds lm.mu.
func (lm *liveMeeting) saveBehind() {
	if !lm.dirty || lm.saver == nil || !lm.loaded || lm.ended || lm.released {
		lm.dirty = false
		return
	}
	if lm.saver.deferSnapshot() {
		return // still dirty: the saver asks again when its write is done
	}
	lm.dirty = false
	lm.saver.queue(lm.takeoverState())
}

// loadTakeover applies the saved takeover state to lm as it is loaded; the caller holds lm.mu.
func (lm *liveMeeting) loadTakeover(ctx context.Context) error {
	ts, ok := lm.svc.store.(TakeoverStore)
	if !ok {
		return nil
	}
	t, ok, err := ts.LoadTakeover(ctx, lm.id)
	if err != nil {
		return err
	}
	if err := lm.loadHistory(ctx, t.ChatSeq); err != nil {
		return err
	}
	if !ok {
		return nil
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
	lm.hostPID = t.HostID
	lm.seatSaved(t.Seats)
	return nil
}

// seatSaved seats the participants of a meeting taken over, each reconnecting as after a
// dropped connection: the seat waits the resume grace for its participant to resume with its
// token (on any node: the join comes here), with everything it held; a seat not resumed by then
// leaves (participantLeft, disconnected). Without resume (no grace) there is nothing to wait
// for. Media for the seats is made as each resumes: the old node took it with it.
func (lm *liveMeeting) seatSaved(saved []SavedSeat) {
	if lm.svc.resumeGrace <= 0 {
		return
	}
	for _, ss := range saved {
		p := ss.Participant
		if p.ID == "" || lm.byID[p.ID] != nil {
			continue
		}
		p.Reconnecting, p.ScreenSharing = true, false
		s := &seat{p: p, browser: ss.BrowserID, screen: newScreenState(), joinedAt: lm.svc.clock.Now()}
		s.member = &Member{lm: lm, id: p.ID, role: p.Role, sink: discardSink{}, gone: true}
		if ss.TokenHash != (tokenHash{}) {
			lm.keepToken(s, ss.TokenHash)
		}
		lm.seats = append(lm.seats, s)
		lm.byID[p.ID] = s
		lm.startGrace(s)
	}
	if len(saved) > 0 {
		lm.svc.log.Info("meeting taken over: seats wait for their participants to resume",
			"meetingId", lm.id, "seats", len(lm.seats), "graceSeconds", lm.svc.resumeGrace.Seconds())
	}
}

// loadHistory takes over the chat history and the audit log a HistoryStore kept: joiners get
// the messages from before the takeover, the host's log goes on from its earlier entries (this
// node's own log of the meeting, if it has one, is complete already), and chat ids go on after
// the last one sent.
func (lm *liveMeeting) loadHistory(ctx context.Context, chatSeq uint64) error {
	lm.chat.seq = max(lm.chat.seq, chatSeq)
	hs, ok := lm.svc.store.(HistoryStore)
	if !ok {
		return nil
	}
	chat, audit, err := hs.LoadHistory(ctx, lm.id)
	if err != nil {
		return err
	}
	for _, m := range chat { // add keeps the last ChatHistoryLength
		lm.chat.add(m)
		if n, err := strconv.ParseUint(m.MessageID, 10, 64); err == nil {
			lm.chat.seq = max(lm.chat.seq, n)
		}
	}
	lm.svc.auditOf(lm.id).fill(audit)
	return nil
}
