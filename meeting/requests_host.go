package meeting

import (
	"fmt"

	"github.com/parleyhq/parley/wire"
)

// Kick removes a participant (not the host) from the meeting. With Ban its browser (and
// address, with Config.BanAddresses) is refused for the meeting's life (decisions.go).
type Kick struct {
	ParticipantID string
	Ban           bool
}

// SetLocked locks or unlocks the meeting; while locked, only the host can join.
type SetLocked struct{ Locked bool }

// EndMeeting ends the meeting for everyone.
type EndMeeting struct{}

// RequestKind returns wire.TypeKick.
func (Kick) RequestKind() RequestKind { return wire.TypeKick }

// RequestKind returns wire.TypeSetLocked.
func (SetLocked) RequestKind() RequestKind { return wire.TypeSetLocked }

// RequestKind returns wire.TypeEndMeeting.
func (EndMeeting) RequestKind() RequestKind { return wire.TypeEndMeeting }

func (r Kick) apply(a *action) error {
	lm := a.lm
	s, err := lm.seatOf(r.ParticipantID)
	if err != nil {
		return err
	}
	if s.p.Role == wire.RoleHost {
		return newError(wire.CodeBadRequest, "the host cannot remove themselves; leave or end the meeting instead")
	}
	if r.Ban {
		if err := lm.saveBan(a, s); err != nil {
			return err
		}
	}
	lm.remove(s)
	lm.rememberRemoval(s, r.Ban)
	s.send(wire.Kicked{})
	lm.toAll(wire.ParticipantLeft{ParticipantID: s.p.ID, Reason: wire.ReasonKicked})
	lm.logLeft(s, wire.ReasonKicked)
	return nil
}

func (r SetLocked) apply(a *action) error {
	lm := a.lm
	if lm.rec.Locked == r.Locked {
		return nil
	}
	rec := lm.rec
	rec.Locked = r.Locked
	if err := lm.svc.store.Update(a.ctx, rec); err != nil {
		return fmt.Errorf("set locked: %w: %w", errNotSaved(), err)
	}
	lm.rec = rec
	lm.toAll(wire.MeetingUpdated{Meeting: lm.view()})
	return nil
}

// apply fails and changes nothing if the ended state cannot be saved: a meeting ended only in
// memory would come back open on the next join.
func (EndMeeting) apply(a *action) error {
	lm := a.lm
	rec := lm.rec
	rec.State = wire.StateEnded
	if err := lm.svc.store.Update(a.ctx, rec); err != nil {
		return fmt.Errorf("end meeting: %w: %w", errNotSaved(), err)
	}
	lm.rec = rec
	lm.ended = true
	seats := lm.seats
	// Media first (every peer connection of the meeting is dropped), then everyone is told.
	lm.release()
	msg := wire.NewEventMessage(wire.MeetingEnded{})
	for _, s := range seats {
		s.member.gone = true
		lm.deliver(s.member, msg)
	}
	lm.logEnded()
	return nil
}

func errNotSaved() *Error {
	return newError(wire.CodeInternal, "the change could not be saved; please try again")
}
