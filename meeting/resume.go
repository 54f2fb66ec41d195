package meeting

import (
	"crypto/sha256"
	"time"

	"github.com/parleyhq/parley/wire"
)

// Resume (PROTOCOL.md 1.1, "Staying connected"): every joined carries a resume token, a secret
// that takes the participant back on a new connection. When a connection goes away without a
// leave, the seat stays for the grace period with Participant.reconnecting set, and its media
// is left alone (the peer connections may still carry it); a join with the seat's token within
// that time puts a new connection on the seat, with everything the seat holds (participantId,
// name, role, host mute, hand). A token is good once: each joined has a fresh one, and the
// last one issued is the only one a seat answers to. A seat that leaves the meeting (grace over,
// kicked, ended) takes its token with it, so a later resume is forbidden.

// DefaultResumeGrace is the protocol's default grace period, for the server's configuration
// (Config.ResumeGrace has no default: zero turns resume off, as tests of the domain want).
const DefaultResumeGrace = 30 * time.Second

// resumeTokenBytes is the size of a resume token: 192 bits, above the protocol's 128.
const resumeTokenBytes = 24

// tokenHash is how tokens are kept: a map lookup by hash tells nothing about a stored token
// through timing, and a memory dump holds no usable token.
type tokenHash [32]byte

func hashToken(t string) tokenHash { return sha256.Sum256([]byte(t)) }

// issueToken gives s a fresh resume token and forgets its previous one.
func (lm *liveMeeting) issueToken(s *seat) string {
	lm.dropToken(s)
	t := randomToken(resumeTokenBytes)
	lm.keepToken(s, hashToken(t))
	lm.rosterChanged() // the token a takeover must know
	return t
}

// keepToken makes h s's current resume token.
func (lm *liveMeeting) keepToken(s *seat, h tokenHash) {
	s.token, s.hasToken = h, true
	if lm.tokens == nil {
		lm.tokens = make(map[tokenHash]*seat)
	}
	lm.tokens[s.token] = s
}

func (lm *liveMeeting) dropToken(s *seat) {
	if s.hasToken {
		delete(lm.tokens, s.token)
		s.hasToken = false
	}
}

// resume moves s to a new connection. An old connection still there gets wire.Replaced (and
// closes); the others see s back through wire.ParticipantUpdated, never a leave and a join.
func (lm *liveMeeting) resume(s *seat, sink Sink) *Member {
	if old := s.member; !old.gone {
		old.gone = true
		lm.deliver(old, wire.NewEventMessage(wire.Replaced{}))
	}
	lm.stopGrace(s)
	s.member = &Member{lm: lm, id: s.p.ID, role: s.p.Role, sink: sink}
	s.p.Reconnecting = false
	lm.applyGate(s, wire.KindAudio)
	lm.applyGate(s, wire.KindVideo)
	// The screen's gates hold across the gap (a host mute closes its audio too); what it
	// publishes is told by the offer the resumed client sends next.
	lm.applyScreenGates(s)
	lm.toOthers(s, wire.ParticipantUpdated{Participant: s.p})
	lm.tellSpeakers(s)
	lm.svc.log.Debug("participant resumed", "meetingId", lm.id, "participantId", s.p.ID)
	return s.member
}

// awaitResume keeps s, whose connection went away, for the grace period: it is reconnecting,
// its events go nowhere, and the grace timer removes it unless it resumes first.
func (lm *liveMeeting) awaitResume(s *seat) {
	s.member.gone = true
	s.member = &Member{lm: lm, id: s.p.ID, role: s.p.Role, sink: discardSink{}, gone: true}
	s.p.Reconnecting = true
	lm.toOthers(s, wire.ParticipantUpdated{Participant: s.p})
	lm.startGrace(s)
	lm.svc.log.Debug("participant reconnecting", "meetingId", lm.id, "participantId", s.p.ID,
		"graceSeconds", lm.svc.resumeGrace.Seconds())
}

// startGrace starts s's grace timer: it leaves unless it resumes first.
func (lm *liveMeeting) startGrace(s *seat) {
	s.graceGen++
	gen := s.graceGen
	s.grace = lm.svc.clock.AfterFunc(lm.svc.resumeGrace, func() { lm.graceEnded(s, gen) })
}

// graceEnded removes s if it is still waiting for the resume its grace timer (generation gen)
// was set for: the others get participantLeft with reason disconnected.
func (lm *liveMeeting) graceEnded(s *seat, gen uint64) {
	lm.mu.Lock()
	defer lm.unlock()
	if lm.released || lm.byID[s.p.ID] != s || !s.p.Reconnecting || s.graceGen != gen {
		return
	}
	s.grace = nil
	lm.remove(s)
	lm.toAll(wire.ParticipantLeft{ParticipantID: s.p.ID, Reason: wire.ReasonDisconnected})
	lm.logged(lm.entry(wire.AuditDisconnect, s.p))
	lm.logLeft(s, wire.ReasonDisconnected)
}

// stopGrace cancels s's grace timer, if any.
func (lm *liveMeeting) stopGrace(s *seat) {
	if s.grace != nil {
		s.grace.Stop()
		s.grace = nil
	}
	s.graceGen++
}

// discardSink takes the events of a reconnecting participant: nobody is there to read them,
// and what they said is in the state its resume brings back.
type discardSink struct{}

func (discardSink) Deliver([]*wire.EventMessage) {}
func (discardSink) Flush()                       {}
