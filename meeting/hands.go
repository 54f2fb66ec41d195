package meeting

import "github.com/parleyhq/parley/wire"

// SetHandRaised raises or lowers the caller's own hand.
type SetHandRaised struct{ Raised bool }

// LowerHand lowers one participant's hand; ParticipantID "" lowers everyone's.
type LowerHand struct{ ParticipantID string }

// RequestKind returns wire.TypeSetHandRaised.
func (SetHandRaised) RequestKind() RequestKind { return wire.TypeSetHandRaised }

// RequestKind returns wire.TypeLowerHand.
func (LowerHand) RequestKind() RequestKind { return wire.TypeLowerHand }

// apply keeps the time a hand went up, so that every client lists raised hands in the order they
// were raised; raising a raised hand changes nothing (and keeps its place).
func (r SetHandRaised) apply(a *action) error {
	s := a.self
	if s.p.HandRaised == r.Raised {
		return nil
	}
	if r.Raised {
		s.p.HandRaised, s.p.HandRaisedAt = true, a.lm.svc.clock.Now().UnixMilli()
		a.lm.updated(s)
		return nil
	}
	lowerHand(a.lm, s)
	return nil
}

func (r LowerHand) apply(a *action) error {
	lm := a.lm
	if r.ParticipantID != "" {
		s, err := lm.seatOf(r.ParticipantID)
		if err != nil {
			return err
		}
		lowerHand(lm, s)
		return nil
	}
	for _, s := range lm.seats {
		lowerHand(lm, s)
	}
	return nil
}

// lowerHand lowers s's hand if it is up, and tells everyone.
func lowerHand(lm *liveMeeting, s *seat) {
	if !s.p.HandRaised {
		return
	}
	s.p.HandRaised, s.p.HandRaisedAt = false, 0
	lm.updated(s)
}
