package meeting

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/parleyhq/parley/wire"
)

// liveMeeting is the in-memory state of one meeting on this node. Every field below mu is
// guarded by it, and every change and every event delivery of the meeting happens under it, so
// all of the meeting's sinks see its events in one order. Events are queued per member while the
// lock is held and handed to the sinks, each its batch in one call, just before the lock is
// released (unlock): a broadcast to N members costs N appends under the lock, and a request that
// causes N broadcasts (mute all) costs N calls of each sink, not N².
type liveMeeting struct {
	svc *Service
	id  string

	mu       sync.Mutex
	loaded   bool // rec has been read from the store
	released bool // dropped from the service's map; a Join that finds it must look up again
	ended    bool
	rec      Record // the durable record as last written (state, lock)

	seats  []*seat             // participants (reconnecting ones included), in join order
	byID   map[string]*seat    // the same, by participantId
	tokens map[tokenHash]*seat // the seats by their current resume token (resume.go)

	browsers    map[string]*browserDecision // the host's decisions by browser id (decisions.go)
	bannedAddrs map[string]bool             // addresses banned, with Config.BanAddresses

	hostPID  string // kept while the host is away so a returning host gets its id back
	muteLock bool   // muteAll without allowSelfUnmute: joiners come in muted by the host

	timer    *runningTimer
	timerGen uint64 // tells a stale timer callback from the current one

	idle    Stopper // pending release of an empty meeting, or nil
	idleGen uint64

	peak int // most participants at once, for the log

	chat  chatLog   // public chat history
	lobby lobby     // joins held for the host's decision
	audit *auditLog // set by load; the Service keeps it beyond the meeting's memory

	saver *saver // writes the takeover state behind the meeting (persist.go); nil without
	dirty bool   // the takeover state changed since the saver was last handed it

	speakers []string // the active speakers last told (screen.go)

	deliveries []delivery // events for members, in the order they were sent, until unlock
	recipients []*Member  // the members in deliveries, each once
}

// seat is one participant and its current connection.
type seat struct {
	p         wire.Participant
	member    *Member
	joinedAt  time.Time
	chatLimit *rate.Limiter // the participant's chat allowance, made on its first message
	token     tokenHash     // the hash of its current resume token, while hasToken
	hasToken  bool
	grace     Stopper     // the pending end of its grace period while it is reconnecting
	graceGen  uint64      // tells a stale grace timer from the current one
	browser   string      // the browser id it joined with, "" if none (decisions.go)
	addr      string      // the client address it joined from
	screen    screenState // its screen share (screen.go)
}

// send delivers an event to s alone.
func (s *seat) send(ev wire.Event) { s.member.lm.deliver(s.member, wire.NewEventMessage(ev)) }

// delivery is one event for one member, queued until unlock.
type delivery struct {
	to  *Member
	msg *wire.EventMessage
}

// maxKeptDeliveries bounds the queue a meeting keeps for reuse between lock sections (16 bytes
// an entry: about 4 MiB). Growing it anew for every mute all of a large meeting costs more than the
// mute all (47 ms against 3 ms for 500 participants, see docs/benchmarks.md); a meeting of up to
// 512 keeps what it needs, larger ones let it go.
const maxKeptDeliveries = 1 << 18

// deliver queues msg for m's sink; unlock hands it over.
func (lm *liveMeeting) deliver(m *Member, msg *wire.EventMessage) {
	if m.queued == 0 {
		lm.recipients = append(lm.recipients, m)
	}
	m.queued++
	lm.deliveries = append(lm.deliveries, delivery{m, msg})
}

// unlock hands every member the events queued for it, in one Deliver each, releases the
// meeting's lock, then flushes those sinks. Every path that takes lm.mu and may cause events
// releases it with unlock. The members' batches share one allocation, cut to the counts deliver
// kept, so a broadcast costs an append per recipient and nothing more.
func (lm *liveMeeting) unlock() {
	lm.saveBehind() // takeover.go
	var flush []Sink
	if len(lm.deliveries) > 0 {
		all := make([]*wire.EventMessage, len(lm.deliveries))
		batches := make([][]*wire.EventMessage, len(lm.recipients))
		off := 0
		for i, m := range lm.recipients {
			batches[i] = all[off : off : off+m.queued]
			off += m.queued
			m.queued = i // now the index of m's batch
		}
		for _, d := range lm.deliveries {
			batches[d.to.queued] = append(batches[d.to.queued], d.msg)
		}
		flush = make([]Sink, len(lm.recipients))
		for i, m := range lm.recipients {
			m.queued = 0
			m.sink.Deliver(batches[i]) // the sink keeps its batch
			flush[i] = m.sink
		}
		clear(lm.recipients)
		lm.recipients = lm.recipients[:0]
		if len(lm.deliveries) > maxKeptDeliveries {
			lm.deliveries = nil
		} else {
			clear(lm.deliveries)
			lm.deliveries = lm.deliveries[:0]
		}
	}
	lm.mu.Unlock()
	for _, s := range flush {
		s.Flush()
	}
}

// join runs Join's checks and changes under the meeting's lock. retry means the meeting was
// released before the lock was taken, so the caller must look it up again.
func (lm *liveMeeting) join(ctx context.Context, req JoinRequest, name string, sink Sink) (m *Member, res JoinResult, retry bool, err error) {
	lm.mu.Lock()
	defer lm.unlock()
	if lm.released && !lm.ended {
		return nil, JoinResult{}, true, nil
	}
	if err := lm.load(ctx); err != nil {
		return nil, JoinResult{}, false, err
	}
	if lm.ended {
		return nil, JoinResult{}, false, newError(wire.CodeMeetingEnded, "this meeting has ended")
	}
	defer lm.scheduleIdleIfEmpty()

	isHost := false
	if req.HostKey != "" {
		if !hostKeyMatches(req.HostKey, lm.rec.HostKeyHash) {
			return nil, JoinResult{}, false, newError(wire.CodeForbidden, "the host key is not valid for this meeting")
		}
		isHost = true
	}
	if !isHost && lm.banned(req.Joiner) {
		return nil, JoinResult{}, false, newError(wire.CodeForbidden, "the host removed you from this meeting and does not let you back in")
	}
	if req.ResumeToken != "" {
		// A resume is the participant coming back, not a newcomer: neither the lock, nor the
		// size (its seat is still counted), nor the lobby stands in its way.
		s := lm.tokens[hashToken(req.ResumeToken)]
		if s == nil {
			return nil, JoinResult{}, false, newError(wire.CodeForbidden, "this resume token is not valid: it was used already, has expired, or the participant was removed")
		}
		m := lm.resume(s, sink)
		res := lm.joinResult(s)
		res.Resumed = true
		return m, res, false, nil
	}
	if lm.rec.Locked && !isHost {
		return nil, JoinResult{}, false, newError(wire.CodeMeetingLocked, "this meeting is locked; the host is not letting anyone else in")
	}
	if isHost {
		if hs := lm.byID[lm.hostPID]; hs != nil {
			m := lm.replaceHost(hs, name, sink)
			lm.logged(lm.entry(wire.AuditJoin, hs.p))
			return m, lm.joinResult(hs), false, nil
		}
	}
	if len(lm.seats) >= lm.svc.maxParticipants {
		return nil, JoinResult{}, false, newError(wire.CodeMeetingFull, "this meeting is full (%d participants)", lm.svc.maxParticipants)
	}
	if (lm.rec.Lobby || lm.removedBefore(req.Joiner)) && !isHost {
		// A participant the host removed comes back only if the host lets it (decisions.go).
		return nil, JoinResult{Held: lm.hold(name, req.Joiner, sink)}, false, nil
	}

	s := lm.enter(name, req.Joiner, isHost, sink)
	lm.logged(lm.entry(wire.AuditJoin, s.p))
	return s.member, lm.joinResult(s), false, nil
}

// enter seats a new participant: its gates are set and the others told.
func (lm *liveMeeting) enter(name string, j Joiner, isHost bool, sink Sink) *seat {
	s := lm.newSeat(name, isHost)
	s.browser, s.addr = j.BrowserID, j.Address
	lm.inheritMute(s)
	s.member = &Member{lm: lm, id: s.p.ID, role: s.p.Role, sink: sink}
	lm.seats = append(lm.seats, s)
	lm.byID[s.p.ID] = s
	lm.cancelIdle()
	lm.applyGate(s, wire.KindAudio)
	lm.applyGate(s, wire.KindVideo)
	lm.applyScreenGates(s)
	lm.toOthers(s, wire.ParticipantJoined{Participant: s.p})
	lm.tellSpeakers(s)
	lm.logJoined(s)
	return s
}

// load reads the record the first time the meeting is used on this node. A meeting that does
// not exist or has ended is released again at once, so unknown ids leave nothing behind.
func (lm *liveMeeting) load(ctx context.Context) error {
	if lm.loaded {
		return nil
	}
	rec, err := lm.svc.store.Get(ctx, lm.id)
	if err != nil {
		lm.release()
		return fmt.Errorf("join: %w", err)
	}
	if rec.State == wire.StateEnded {
		lm.ended = true
		lm.release()
		return newError(wire.CodeMeetingEnded, "this meeting has ended")
	}
	lm.rec = rec
	if err := lm.loadTakeover(ctx); err != nil { // takeover.go
		lm.release()
		return fmt.Errorf("join: %w", err)
	}
	lm.loaded = true
	lm.audit = lm.svc.auditOf(lm.id)
	lm.saver = lm.svc.newSaver(lm) // persist.go
	return nil
}

func (lm *liveMeeting) newSeat(name string, isHost bool) *seat {
	p := wire.Participant{Name: name, Role: wire.RoleParticipant, CanUnmute: true}
	if isHost {
		p.Role = wire.RoleHost
		if lm.hostPID == "" {
			lm.hostPID = lm.uniqueParticipantID()
		}
		p.ID = lm.hostPID
	} else {
		p.ID = lm.uniqueParticipantID()
		if lm.muteLock {
			p.AudioMuted, p.MutedByHost, p.CanUnmute = true, true, false
		}
	}
	return &seat{p: p, screen: newScreenState()}
}

func (lm *liveMeeting) uniqueParticipantID() string {
	for {
		id := newParticipantID()
		if lm.byID[id] == nil && id != lm.hostPID {
			return id
		}
	}
}

// replaceHost moves the host's seat to a new connection: same participantId and mute state,
// the new name. The media stays (the new connection publishes anew under the same id).
func (lm *liveMeeting) replaceHost(hs *seat, name string, sink Sink) *Member {
	old := hs.member
	old.gone = true
	lm.deliver(old, wire.NewEventMessage(wire.Replaced{}))
	lm.stopGrace(hs)
	hs.member = &Member{lm: lm, id: hs.p.ID, role: wire.RoleHost, sink: sink}
	hs.p.Name = name
	hs.p.Reconnecting = false
	lm.applyGate(hs, wire.KindAudio)
	lm.applyGate(hs, wire.KindVideo)
	lm.applyScreenGates(hs)
	// The new connection publishes anew: nothing of the old one's screen is shared.
	hs.screen.offered, hs.screen.published = false, false
	lm.refreshSharing(hs, false)
	lm.toOthers(hs, wire.ParticipantUpdated{Participant: hs.p})
	lm.tellSpeakers(hs)
	lm.svc.log.Debug("host connection replaced", "meetingId", lm.id, "participantId", hs.p.ID)
	return hs.member
}

// joinResult is what self is told on joining, with a fresh resume token.
func (lm *liveMeeting) joinResult(self *seat) JoinResult {
	res := JoinResult{
		Self:         self.p,
		Meeting:      lm.view(),
		Participants: make([]wire.Participant, 0, len(lm.seats)-1),
		Timers:       timerCatalogue(),
		Chat:         lm.chat.recent(),
		ResumeToken:  lm.issueToken(self),
	}
	if self.p.Role == wire.RoleHost {
		res.Lobby = lm.lobby.view()
	}
	for _, s := range lm.seats {
		if s != self {
			res.Participants = append(res.Participants, s.p)
		}
	}
	if lm.timer != nil {
		tv := lm.timer.view()
		res.Timer = &tv
	}
	return res
}

func (lm *liveMeeting) view() wire.MeetingView {
	st := wire.StateOpen
	if lm.ended {
		st = wire.StateEnded
	}
	return wire.MeetingView{MeetingID: lm.id, State: st, Locked: lm.rec.Locked, ChatAllowed: !lm.rec.ChatDisabled, Lobby: lm.rec.Lobby,
		ScreenShareAllowed: !lm.rec.ScreenShareDisabled}
}

// applyGate tells Media whether s's microphone (audio) or camera (video) is forwarded: exactly
// while that kind is not muted. The screen's gates are applyScreenGates' (screen.go).
func (lm *liveMeeting) applyGate(s *seat, k wire.Kind) {
	g := s.gate(k)
	lm.svc.media.SetForwarding(lm.id, g.ParticipantID, g.Source, g.Forward)
}

// gate is the state of s's microphone (audio) or camera (video) gate: open exactly while that
// kind is not muted.
func (s *seat) gate(k wire.Kind) Gate {
	muted, src := s.p.AudioMuted, wire.SourceMicrophone
	if k == wire.KindVideo {
		muted, src = s.p.VideoMuted, wire.SourceCamera
	}
	return Gate{ParticipantID: s.p.ID, Source: src, Forward: !muted}
}

// toAll delivers ev to everyone: one message, shared, so it is encoded once.
func (lm *liveMeeting) toAll(ev wire.Event) {
	lm.noteRoster(ev)
	msg := wire.NewEventMessage(ev)
	for _, s := range lm.seats {
		lm.deliver(s.member, msg)
	}
}

// toOthers delivers ev to everyone but except, as toAll does.
func (lm *liveMeeting) toOthers(except *seat, ev wire.Event) {
	lm.noteRoster(ev)
	msg := wire.NewEventMessage(ev)
	for _, s := range lm.seats {
		if s != except {
			lm.deliver(s.member, msg)
		}
	}
}

// noteRoster marks the takeover state changed when ev tells the others of a change of the
// roster: every change of a participant's state is told to the others.
func (lm *liveMeeting) noteRoster(ev wire.Event) {
	switch ev.(type) {
	case wire.ParticipantJoined, wire.ParticipantUpdated, wire.ParticipantLeft:
		lm.rosterChanged()
	}
}

// updated broadcasts s's new state to everyone, s included.
func (lm *liveMeeting) updated(s *seat) { lm.toAll(wire.ParticipantUpdated{Participant: s.p}) }

// seatOf returns the seat with participantID, or an *Error: bad_request for an empty id,
// not_found for one not in the meeting.
func (lm *liveMeeting) seatOf(participantID string) (*seat, error) {
	if participantID == "" {
		return nil, newError(wire.CodeBadRequest, "participantId is required")
	}
	s := lm.byID[participantID]
	if s == nil {
		return nil, newError(wire.CodeNotFound, "no participant %q in this meeting", participantID)
	}
	return s, nil
}

// remove takes s out of the meeting: its member is gone and Media drops it.
func (lm *liveMeeting) remove(s *seat) {
	s.member.gone = true
	lm.stopGrace(s)
	lm.dropToken(s)
	lm.rememberLeaving(s)
	if s.p.ScreenSharing {
		lm.svc.stats.screenStoppedSelf.Add(1) // the share ends with its sharer
	}
	lm.seats = slices.DeleteFunc(lm.seats, func(x *seat) bool { return x == s })
	delete(lm.byID, s.p.ID)
	lm.svc.media.RemoveParticipant(lm.id, s.p.ID)
	lm.scheduleIdleIfEmpty()
}

// scheduleIdleIfEmpty arranges for an empty meeting's memory to be released after the idle
// timeout, unless someone joins first.
func (lm *liveMeeting) scheduleIdleIfEmpty() {
	if len(lm.seats) > 0 || len(lm.lobby.waiting) > 0 || lm.idle != nil || lm.released {
		return
	}
	lm.idleGen++
	gen := lm.idleGen
	lm.idle = lm.svc.clock.AfterFunc(lm.svc.idleTimeout, func() { lm.idleFired(gen) })
}

func (lm *liveMeeting) cancelIdle() {
	if lm.idle != nil {
		lm.idle.Stop()
		lm.idle = nil
		lm.idleGen++
	}
}

func (lm *liveMeeting) idleFired(gen uint64) {
	lm.mu.Lock()
	defer lm.unlock()
	if gen != lm.idleGen || lm.released || len(lm.seats) > 0 || len(lm.lobby.waiting) > 0 {
		return
	}
	lm.idle = nil
	lm.logReleased()
	lm.release()
}

// release stops the meeting's timers, drops its participants' memory, frees its media and
// removes it from the service; the record stays in the store. Media is told before the meeting
// leaves the service's map: a join that comes meanwhile waits for this meeting's lock, finds it
// released and makes a new one, whose media state must not be the one being freed.
func (lm *liveMeeting) release() {
	lm.released = true
	lm.stopTimer()
	lm.cancelIdle()
	lm.closeLobby()
	for _, s := range lm.seats {
		lm.stopGrace(s)
	}
	lm.tokens = nil
	if lm.saver != nil {
		lm.saver.released()
	}
	if lm.ended && lm.audit != nil {
		lm.svc.retainAudit(lm.id, lm.audit)
	} else if lm.loaded && !lm.ended {
		lm.svc.markUnused(lm.id) // open and unused from now (retention.go)
	}
	lm.seats = nil
	lm.byID = nil
	if lm.loaded {
		// An unloaded meeting (unknown, or ended before this node loaded it) never had media.
		lm.svc.media.ReleaseMeeting(lm.id)
	}
	lm.svc.forget(lm)
}
