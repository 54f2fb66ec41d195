package meeting

import (
	"context"

	"github.com/parleyhq/parley/wire"
)

// Member is one connection's membership of a meeting. Once it is gone (left, disconnected,
// kicked, replaced, or the meeting ended) its methods change nothing: Do returns an *Error, and
// Leave and Disconnect do nothing.
type Member struct {
	lm     *liveMeeting
	id     string
	role   wire.Role
	sink   Sink
	gone   bool // guarded by lm.mu
	queued int  // guarded by lm.mu: events for sink in lm.deliveries
}

// ParticipantID returns the member's participantId.
func (m *Member) ParticipantID() string { return m.id }

// MeetingID returns the id of the member's meeting.
func (m *Member) MeetingID() string { return m.lm.id }

// Role returns the member's role, fixed at join.
func (m *Member) Role() wire.Role { return m.role }

// Leave takes the member out of the meeting: the others get wire.ParticipantLeft with reason "left"
// and Media drops the participant. The host leaving does not end the meeting.
func (m *Member) Leave() { m.leave(wire.ReasonLeft) }

// Disconnect is for a connection that went away without a leave. With a resume grace
// (Config.ResumeGrace) the participant stays, reconnecting, for that long (resume.go); without,
// it is Leave with reason "disconnected". It reports whether the participant's seat lives on (it
// waits for a resume, or another connection has taken it already): its media is then the seat's
// to keep, and the connection must not close it.
func (m *Member) Disconnect() (seatLives bool) {
	lm := m.lm
	lm.mu.Lock()
	if m.gone {
		s := lm.byID[m.id]
		lives := s != nil && s.member != m
		lm.unlock()
		return lives
	}
	if lm.svc.resumeGrace > 0 {
		lm.awaitResume(lm.byID[m.id])
		lm.unlock()
		return true
	}
	lm.unlock()
	m.leave(wire.ReasonDisconnected)
	return false
}

func (m *Member) leave(reason wire.LeaveReason) {
	m.onSeat(func(lm *liveMeeting, s *seat) {
		lm.remove(s)
		lm.toAll(wire.ParticipantLeft{ParticipantID: m.id, Reason: reason})
		lm.logged(lm.entry(auditAction[reason], s.p))
		lm.logLeft(s, reason)
	})
}

// onSeat runs f on the member's seat under the meeting's lock (its events delivered after),
// unless the member is gone: then nothing happens.
func (m *Member) onSeat(f func(lm *liveMeeting, s *seat)) {
	lm := m.lm
	lm.mu.Lock()
	defer lm.unlock()
	if m.gone {
		return
	}
	f(lm, lm.byID[m.id])
}

// Do runs one request for this member. Authorization comes first: a request the member's role
// may not make is an *Error with wire.CodeForbidden and changes nothing, whatever its fields.
// Then the request's validation (bad_request, not_found), then the change, its Media calls and
// its events, all delivered before Do returns.
func (m *Member) Do(ctx context.Context, r Request) error {
	if r == nil {
		return newError(wire.CodeBadRequest, "missing request")
	}
	lm := m.lm
	lm.mu.Lock()
	defer lm.unlock()
	if m.gone {
		if lm.ended {
			return newError(wire.CodeMeetingEnded, "this meeting has ended")
		}
		return newError(wire.CodeNotFound, "you are no longer in this meeting")
	}
	if !Allowed(m.role, r.RequestKind()) {
		return newError(wire.CodeForbidden, "only the host may %s", describe(r.RequestKind()))
	}
	a := &action{ctx: ctx, lm: lm, self: lm.byID[m.id]}
	if !HostOnly(r.RequestKind()) {
		return r.apply(a)
	}
	by := a.self.p
	a.note = lm.noteBefore(r)
	if err := r.apply(a); err != nil {
		return err
	}
	lm.audited(r, by, a)
	lm.logHostAction(m.id, r)
	lm.saveTakeover(ctx) // takeover.go
	return nil
}

// action is what a request's apply works with: the caller's meeting (locked) and seat, and, for a
// host request, what its audit entry will say.
type action struct {
	ctx  context.Context
	lm   *liveMeeting
	self *seat
	note auditNote
	then []wire.AuditEntry // entries that follow the request's own (joins it caused)
}

// auditAction is the audit log's action for each way of leaving but removal (which is the
// host's kick).
var auditAction = map[wire.LeaveReason]string{
	wire.ReasonLeft:         wire.AuditLeave,
	wire.ReasonDisconnected: wire.AuditDisconnect,
}
