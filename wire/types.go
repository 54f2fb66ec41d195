package wire

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

// Valid reports whether k is one of the protocol's kinds.
func (k Kind) Valid() bool { return k == KindAudio || k == KindVideo }

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

// Code is an error code: the "code" of an "error" message and of an HTTP error body.
type Code string

// The protocol's error codes.
const (
	CodeBadRequest    Code = "bad_request"
	CodeForbidden     Code = "forbidden"
	CodeNotFound      Code = "not_found"
	CodeMeetingEnded  Code = "meeting_ended"
	CodeMeetingLocked Code = "meeting_locked"
	CodeMeetingFull   Code = "meeting_full"
	CodeRateLimited   Code = "rate_limited"
	CodeInternal      Code = "internal"
	// CodeUnavailable is this server's addition: HTTP 503 while it drains.
	CodeUnavailable Code = "unavailable"
)

// Participant is the protocol's Participant object: one participant's identity and mute state.
type Participant struct {
	ID          string `json:"participantId"`
	Name        string `json:"name"`
	Role        Role   `json:"role"`
	AudioMuted  bool   `json:"audioMuted"`
	VideoMuted  bool   `json:"videoMuted"`
	MutedByHost bool   `json:"mutedByHost"`
	CanUnmute   bool   `json:"canUnmute"`
	HandRaised  bool   `json:"handRaised"`
	// HandRaisedAt is this server's addition: when the hand went up (Unix milliseconds),
	// omitted while it is down, so that every client lists raised hands in the order raised.
	HandRaisedAt int64 `json:"handRaisedAt,omitempty"`
	// Reconnecting is true while the participant's connection is gone and the server waits for
	// it to resume (PROTOCOL.md 1.1, "Staying connected").
	Reconnecting bool `json:"reconnecting"`
	// ScreenSharing is true while the participant publishes a screen that the server forwards.
	ScreenSharing bool `json:"screenSharing"`
}

// MeetingView is the protocol's "meeting" object (in joined and meetingUpdated).
type MeetingView struct {
	MeetingID   string `json:"meetingId"`
	State       State  `json:"state"`
	Locked      bool   `json:"locked"`
	ChatAllowed bool   `json:"chatAllowed"`
	Lobby       bool   `json:"lobby"`
	// ScreenShareAllowed is false while only the host may share a screen.
	ScreenShareAllowed bool `json:"screenShareAllowed"`
}

// TimerView describes a timer: an entry of joined.timers (EndsAt zero) or the running timer
// (EndsAt in Unix milliseconds).
type TimerView struct {
	TimerID string `json:"timerId"`
	Seconds int    `json:"seconds"`
	EndsAt  int64  `json:"endsAt,omitempty"`
}

// MeetingInfo is a meeting's public summary, the body of GET /api/meetings/{meetingId}.
type MeetingInfo struct {
	MeetingID        string `json:"meetingId"`
	State            State  `json:"state"`
	Locked           bool   `json:"locked"`
	ParticipantCount int    `json:"participantCount"`
	ChatAllowed      bool   `json:"chatAllowed"`
	Lobby            bool   `json:"lobby"`
	// ScreenShareAllowed is false while only the host may share a screen.
	ScreenShareAllowed bool `json:"screenShareAllowed"`
}
