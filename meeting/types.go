package meeting

// Role is a participant's role; only the host may use the host's powers.
type Role string

// The roles.
const (
	RoleHost        Role = "host"
	RoleParticipant Role = "participant"
)

// Kind is a kind of media a participant publishes and may mute.
type Kind string

// The media kinds.
const (
	KindAudio Kind = "audio"
	KindVideo Kind = "video"
)

func (k Kind) valid() bool { return k == KindAudio || k == KindVideo }

// State is a meeting's lifecycle state.
type State string

// The meeting states.
const (
	StateOpen  State = "open"
	StateEnded State = "ended"
)

// LeaveReason says why a participant left, as sent in participantLeft.
type LeaveReason string

// The leave reasons.
const (
	ReasonLeft         LeaveReason = "left"
	ReasonKicked       LeaveReason = "kicked"
	ReasonDisconnected LeaveReason = "disconnected"
)

// Participant is a snapshot of one participant, shaped as the protocol's Participant object.
type Participant struct {
	ID          string `json:"participantId"`
	Name        string `json:"name"`
	Role        Role   `json:"role"`
	AudioMuted  bool   `json:"audioMuted"`
	VideoMuted  bool   `json:"videoMuted"`
	MutedByHost bool   `json:"mutedByHost"`
	CanUnmute   bool   `json:"canUnmute"`
}

// MeetingView is the protocol's "meeting" object.
type MeetingView struct {
	MeetingID string `json:"meetingId"`
	State     State  `json:"state"`
	Locked    bool   `json:"locked"`
}

// TimerView describes a timer: an entry of joined.timers (EndsAt zero) or the running timer
// (EndsAt in Unix milliseconds).
type TimerView struct {
	TimerID string `json:"timerId"`
	Seconds int    `json:"seconds"`
	EndsAt  int64  `json:"endsAt,omitempty"`
}

// Info is the public summary of a meeting, as GET /api/meetings/{meetingId} returns it.
type Info struct {
	MeetingID        string `json:"meetingId"`
	State            State  `json:"state"`
	Locked           bool   `json:"locked"`
	ParticipantCount int    `json:"participantCount"`
}
