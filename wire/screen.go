package wire

// Screen share and active speakers (PROTOCOL.md 1.1, "Sources and screen share", "Active
// speakers"): the host's two requests about screen sharing, the event a stopped sharer gets,
// and the list of who is speaking. Participant.ScreenSharing and MeetingView.ScreenShareAllowed
// are in types.go.

// Message types a client sends about screen sharing (host only).
const (
	TypeSetScreenShareAllowed = "setScreenShareAllowed"
	TypeStopScreenShare       = "stopScreenShare"
)

// SetScreenShareAllowed allows or stops screen sharing for everyone but the host (host only).
type SetScreenShareAllowed struct {
	Allowed *bool `json:"allowed"`
}

// MessageType implements Request.
func (*SetScreenShareAllowed) MessageType() string { return TypeSetScreenShareAllowed }

func (s *SetScreenShareAllowed) validate() error {
	if s.Allowed == nil {
		return missing("allowed")
	}
	return nil
}

// StopScreenShare stops forwarding one participant's screen tracks (host only).
type StopScreenShare struct {
	ParticipantID *string `json:"participantId"`
}

// MessageType implements Request.
func (*StopScreenShare) MessageType() string { return TypeStopScreenShare }

func (s *StopScreenShare) validate() error {
	if s.ParticipantID == nil {
		return missing("participantId")
	}
	return nil
}

// ScreenShareStopped goes to a participant whose screen share the server stopped forwarding
// (the host stopped it, or turned screen sharing off).
type ScreenShareStopped struct{}

// EventType returns "screenShareStopped".
func (ScreenShareStopped) EventType() string { return "screenShareStopped" }

// ActiveSpeakers goes to everyone when the list of participants speaking now changes, loudest
// first; at most every 300 ms. A participant whose audio is not forwarded is never in it.
type ActiveSpeakers struct {
	Speakers []string `json:"speakers"`
}

// EventType returns "activeSpeakers".
func (ActiveSpeakers) EventType() string { return "activeSpeakers" }
