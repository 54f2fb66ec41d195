package wire

// Raised hands (PROTOCOL.md 1.1, "Raised hands"): a participant's hand is Participant.HandRaised,
// changed by these requests and told as participantUpdated.

// Message types a client sends for hands.
const (
	TypeSetHandRaised = "setHandRaised"
	TypeLowerHand     = "lowerHand"
)

// SetHandRaised raises or lowers the sender's own hand.
type SetHandRaised struct {
	Raised *bool `json:"raised"`
}

// MessageType implements Request.
func (*SetHandRaised) MessageType() string { return TypeSetHandRaised }

func (s *SetHandRaised) validate() error {
	if s.Raised == nil {
		return missing("raised")
	}
	return nil
}

// LowerHand lowers one participant's hand, or everyone's when ParticipantID is absent (host
// only).
type LowerHand struct {
	ParticipantID *string `json:"participantId"`
}

// MessageType implements Request.
func (*LowerHand) MessageType() string { return TypeLowerHand }
func (*LowerHand) validate() error     { return nil }
