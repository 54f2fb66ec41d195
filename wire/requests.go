package wire

import (
	"encoding/json"
	"errors"
)

// Message types a client sends.
const (
	TypeJoin            = "join"
	TypeOffer           = "offer"
	TypeAnswer          = "answer"
	TypeCandidate       = "candidate"
	TypeSetMuted        = "setMuted"
	TypeLeave           = "leave"
	TypeMuteAll         = "muteAll"
	TypeMuteParticipant = "muteParticipant"
	TypeAllowUnmute     = "allowUnmute"
	TypeStartTimer      = "startTimer"
	TypeCancelTimer     = "cancelTimer"
	TypeKick            = "kick"
	TypeSetLocked       = "setLocked"
	TypeEndMeeting      = "endMeeting"
	TypeSetVideoQuality = "setVideoQuality"
	TypeIceRestart      = "iceRestart"
)

// requestTypes is the one table of what a client may send: each type and a constructor of its
// request value, into which Decode unmarshals the message before asking it to validate itself.
var requestTypes = map[string]func() Request{
	TypeJoin:            func() Request { return new(Join) },
	TypeOffer:           func() Request { return new(Offer) },
	TypeAnswer:          func() Request { return new(Answer) },
	TypeCandidate:       func() Request { return new(Candidate) },
	TypeSetMuted:        func() Request { return new(SetMuted) },
	TypeLeave:           func() Request { return new(Leave) },
	TypeMuteAll:         func() Request { return new(MuteAll) },
	TypeMuteParticipant: func() Request { return new(MuteParticipant) },
	TypeAllowUnmute:     func() Request { return new(AllowUnmute) },
	TypeStartTimer:      func() Request { return new(StartTimer) },
	TypeCancelTimer:     func() Request { return new(CancelTimer) },
	TypeKick:            func() Request { return new(Kick) },
	TypeSetLocked:       func() Request { return new(SetLocked) },
	TypeEndMeeting:      func() Request { return new(EndMeeting) },
	TypeSendChat:        func() Request { return new(SendChat) },
	TypeSetChatAllowed:  func() Request { return new(SetChatAllowed) },
	TypeSetHandRaised:   func() Request { return new(SetHandRaised) },
	TypeLowerHand:       func() Request { return new(LowerHand) },
	TypeSetLobby:        func() Request { return new(SetLobby) },
	TypeAdmit:           func() Request { return new(Admit) },
	TypeDeny:            func() Request { return new(Deny) },
	TypeAdmitAll:        func() Request { return new(AdmitAll) },
	TypeSetVideoQuality: func() Request { return new(SetVideoQuality) },
	TypeIceRestart:      func() Request { return new(IceRestart) },

	TypeSetScreenShareAllowed: func() Request { return new(SetScreenShareAllowed) },
	TypeStopScreenShare:       func() Request { return new(StopScreenShare) },
}

// RequestTypes returns the type of every request a client may send, in no order.
func RequestTypes() []string {
	types := make([]string, 0, len(requestTypes))
	for t := range requestTypes {
		types = append(types, t)
	}
	return types
}

// Join is the first message of every connection.
type Join struct {
	MeetingID *string `json:"meetingId"`
	Name      *string `json:"name"`
	// HostKey is optional; empty or null counts as absent.
	HostKey *string `json:"hostKey"`
	// ResumeToken is optional (PROTOCOL.md 1.1, "Staying connected"): the token of an earlier
	// joined, to take that participant back. Empty or null counts as absent.
	ResumeToken *string `json:"resumeToken"`
	// KeepMedia is this server's addition, read only with a ResumeToken: false says the client
	// lost its peer connections (a reloaded page) and needs new ones; absent means true, the
	// protocol's resume, on which the media kept flowing (see Joined.MediaKept).
	KeepMedia *bool `json:"keepMedia"`
	// BrowserID is this server's addition (docs/protocol.md): an id the web client keeps in
	// its browser's local storage, so that a host's mute and removal stick to the person
	// across a fresh join from the same browser. Optional; at most maxBrowserID bytes.
	BrowserID *string `json:"browserId"`
}

// MessageType implements Request.
func (*Join) MessageType() string { return TypeJoin }

func (j *Join) validate() error {
	if j.MeetingID == nil {
		return missing("meetingId")
	}
	if j.Name == nil {
		return missing("name")
	}
	if j.BrowserID != nil && len(*j.BrowserID) > maxBrowserID {
		return errors.New(`"browserId" is too long`)
	}
	return nil
}

// maxBrowserID bounds join.browserId: the web client sends 32 hex digits.
const maxBrowserID = 128

// Browser is the browser id, "" when absent.
func (j *Join) Browser() string {
	if j.BrowserID == nil {
		return ""
	}
	return *j.BrowserID
}

// Resume is the resume token, "" when absent.
func (j *Join) Resume() string {
	if j.ResumeToken == nil {
		return ""
	}
	return *j.ResumeToken
}

// KeepsMedia reports whether a resume keeps the client's peer connections (absent: it does).
func (j *Join) KeepsMedia() bool { return j.KeepMedia == nil || *j.KeepMedia }

// Key is the host key, "" when absent.
func (j *Join) Key() string {
	if j.HostKey == nil {
		return ""
	}
	return *j.HostKey
}

// Offer carries an SDP offer: from a client for its publisher connection, from the server for
// the subscriber connection. Sources names the source of each sending section by its mid (a
// client's offer only; absent: the first audio section is the microphone, the first video
// section the camera).
type Offer struct {
	Target  string            `json:"target"`
	SDP     string            `json:"sdp"`
	Sources map[string]Source `json:"sources,omitempty"`
}

// MessageType implements Request.
func (*Offer) MessageType() string { return TypeOffer }

func (o *Offer) validate() error {
	if o.Target != TargetPublisher {
		return errors.New(`a client's offer must have "target": "publisher"`)
	}
	if o.SDP == "" {
		return missing("sdp")
	}
	return validateSources(o.Sources)
}

// Answer carries an SDP answer: from the server for the publisher connection, from a client for
// the subscriber connection.
type Answer struct {
	Target string `json:"target"`
	SDP    string `json:"sdp"`
}

// MessageType implements Request.
func (*Answer) MessageType() string { return TypeAnswer }

func (a *Answer) validate() error {
	if a.Target != TargetSubscriber {
		return errors.New(`a client's answer must have "target": "subscriber"`)
	}
	if a.SDP == "" {
		return missing("sdp")
	}
	return nil
}

// ICECandidate is a trickled candidate as browsers give it (RTCIceCandidateInit).
type ICECandidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex"`
	UsernameFragment *string `json:"usernameFragment"`
}

// UnmarshalJSON requires the "candidate" string (PROTOCOL.md: only usernameFragment may be
// null or absent; an empty string, not a missing one, marks the end of candidates).
func (c *ICECandidate) UnmarshalJSON(data []byte) error {
	// The fields are repeated rather than embedded (type plain ICECandidate): the decoder names an
	// embedded struct in its errors ("candidate.plain.sdpMid"), and the errors name wire fields.
	var v struct {
		Candidate        *string `json:"candidate"`
		SDPMid           *string `json:"sdpMid"`
		SDPMLineIndex    *uint16 `json:"sdpMLineIndex"`
		UsernameFragment *string `json:"usernameFragment"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	if v.Candidate == nil {
		return errors.New(`field "candidate.candidate" is required (an empty string ends the candidates)`)
	}
	*c = ICECandidate{Candidate: *v.Candidate, SDPMid: v.SDPMid, SDPMLineIndex: v.SDPMLineIndex, UsernameFragment: v.UsernameFragment}
	return nil
}

// Candidate trickles one ICE candidate; an empty candidate string ends the candidates.
type Candidate struct {
	Target    string        `json:"target"`
	Candidate *ICECandidate `json:"candidate"`
}

// MessageType implements Request.
func (*Candidate) MessageType() string { return TypeCandidate }

func (c *Candidate) validate() error {
	if c.Target != TargetPublisher && c.Target != TargetSubscriber {
		return errors.New(`"target" must be "publisher" or "subscriber"`)
	}
	if c.Candidate == nil {
		return missing("candidate")
	}
	return nil
}

// SetMuted sets the sender's own mute state for one kind.
type SetMuted struct {
	Kind  Kind  `json:"kind"`
	Muted *bool `json:"muted"`
}

// MessageType implements Request.
func (*SetMuted) MessageType() string { return TypeSetMuted }

func (s *SetMuted) validate() error {
	if !s.Kind.Valid() {
		return errors.New(`"kind" must be "audio" or "video"`)
	}
	if s.Muted == nil {
		return missing("muted")
	}
	return nil
}

// Leave ends the sender's participation.
type Leave struct{}

// MessageType implements Request.
func (*Leave) MessageType() string { return TypeLeave }
func (*Leave) validate() error     { return nil }

// MuteAll mutes every participant but the host (host only).
type MuteAll struct {
	AllowSelfUnmute *bool `json:"allowSelfUnmute"`
}

// MessageType implements Request.
func (*MuteAll) MessageType() string { return TypeMuteAll }

func (m *MuteAll) validate() error {
	if m.AllowSelfUnmute == nil {
		return missing("allowSelfUnmute")
	}
	return nil
}

// MuteParticipant mutes one participant (host only).
type MuteParticipant struct {
	ParticipantID   *string `json:"participantId"`
	AllowSelfUnmute *bool   `json:"allowSelfUnmute"`
}

// MessageType implements Request.
func (*MuteParticipant) MessageType() string { return TypeMuteParticipant }

func (m *MuteParticipant) validate() error {
	if m.ParticipantID == nil {
		return missing("participantId")
	}
	if m.AllowSelfUnmute == nil {
		return missing("allowSelfUnmute")
	}
	return nil
}

// AllowUnmute lifts the host's mute lock for one participant, or for everyone when
// ParticipantID is absent (host only).
type AllowUnmute struct {
	ParticipantID *string `json:"participantId"`
}

// MessageType implements Request.
func (*AllowUnmute) MessageType() string { return TypeAllowUnmute }
func (*AllowUnmute) validate() error     { return nil }

// StartTimer starts or restarts the meeting timer (host only).
type StartTimer struct {
	TimerID *string `json:"timerId"`
}

// MessageType implements Request.
func (*StartTimer) MessageType() string { return TypeStartTimer }

func (s *StartTimer) validate() error {
	if s.TimerID == nil {
		return missing("timerId")
	}
	return nil
}

// CancelTimer stops the running timer (host only).
type CancelTimer struct{}

// MessageType implements Request.
func (*CancelTimer) MessageType() string { return TypeCancelTimer }
func (*CancelTimer) validate() error     { return nil }

// Kick removes a participant (host only). Ban is this server's addition (docs/protocol.md):
// the removed participant's browser is refused for the meeting's life.
type Kick struct {
	ParticipantID *string `json:"participantId"`
	Ban           *bool   `json:"ban"`
}

// MessageType implements Request.
func (*Kick) MessageType() string { return TypeKick }

func (k *Kick) validate() error {
	if k.ParticipantID == nil {
		return missing("participantId")
	}
	return nil
}

// SetLocked locks or unlocks the meeting (host only).
type SetLocked struct {
	Locked *bool `json:"locked"`
}

// MessageType implements Request.
func (*SetLocked) MessageType() string { return TypeSetLocked }

func (s *SetLocked) validate() error {
	if s.Locked == nil {
		return missing("locked")
	}
	return nil
}

// EndMeeting ends the meeting for everyone (host only).
type EndMeeting struct{}

// MessageType implements Request.
func (*EndMeeting) MessageType() string { return TypeEndMeeting }
func (*EndMeeting) validate() error     { return nil }
