package meeting

// Event is something a member's connection must be told. Each event's JSON fields are the
// protocol's, and EventType returns the protocol's "type".
type Event interface{ EventType() string }

// Sink receives one member's events, in order. Deliver is called with the meeting's lock held:
// it must not block and must not call back into the meeting (signaling enqueues the event into
// the connection's write queue).
type Sink interface{ Deliver(Event) }

// ParticipantJoined goes to everyone else when a participant joins.
type ParticipantJoined struct {
	Participant Participant `json:"participant"`
}

// ParticipantUpdated goes to everyone, the participant included, when its state changes, and to
// the others when the host's connection is replaced.
type ParticipantUpdated struct {
	Participant Participant `json:"participant"`
}

// ParticipantLeft goes to everyone else when a participant leaves, is kicked or disconnects.
type ParticipantLeft struct {
	ParticipantID string      `json:"participantId"`
	Reason        LeaveReason `json:"reason"`
}

// MutedByHost goes to a participant the host has muted.
type MutedByHost struct {
	AllowSelfUnmute bool `json:"allowSelfUnmute"`
}

// UnmuteAllowed goes to a participant the host now allows to unmute itself.
type UnmuteAllowed struct{}

// TimerStarted goes to everyone when the host starts or restarts the timer.
type TimerStarted struct {
	TimerID string `json:"timerId"`
	Seconds int    `json:"seconds"`
	EndsAt  int64  `json:"endsAt"` // Unix milliseconds
}

// TimerCancelled goes to everyone when the host cancels the running timer.
type TimerCancelled struct{}

// TimerEnded goes to everyone when the running timer's time is up.
type TimerEnded struct {
	TimerID string `json:"timerId"`
}

// MeetingUpdated goes to everyone when the meeting's lock changes.
type MeetingUpdated struct {
	Meeting MeetingView `json:"meeting"`
}

// Kicked goes to the removed participant. It is terminal: the member is gone afterwards.
type Kicked struct{}

// MeetingEnded goes to everyone when the host ends the meeting. It is terminal.
type MeetingEnded struct{}

// Replaced goes to an old host connection when the host joins again on a new one. It is terminal;
// the participant stays, on the new connection.
type Replaced struct{}

// EventType returns "participantJoined".
func (ParticipantJoined) EventType() string { return "participantJoined" }

// EventType returns "participantUpdated".
func (ParticipantUpdated) EventType() string { return "participantUpdated" }

// EventType returns "participantLeft".
func (ParticipantLeft) EventType() string { return "participantLeft" }

// EventType returns "mutedByHost".
func (MutedByHost) EventType() string { return "mutedByHost" }

// EventType returns "unmuteAllowed".
func (UnmuteAllowed) EventType() string { return "unmuteAllowed" }

// EventType returns "timerStarted".
func (TimerStarted) EventType() string { return "timerStarted" }

// EventType returns "timerCancelled".
func (TimerCancelled) EventType() string { return "timerCancelled" }

// EventType returns "timerEnded".
func (TimerEnded) EventType() string { return "timerEnded" }

// EventType returns "meetingUpdated".
func (MeetingUpdated) EventType() string { return "meetingUpdated" }

// EventType returns "kicked".
func (Kicked) EventType() string { return "kicked" }

// EventType returns "meetingEnded".
func (MeetingEnded) EventType() string { return "meetingEnded" }

// EventType returns "replaced".
func (Replaced) EventType() string { return "replaced" }

// Terminal reports whether ev ends the receiving member's membership (kicked, meetingEnded,
// replaced): signaling closes the connection after sending it.
func Terminal(ev Event) bool {
	switch ev.(type) {
	case Kicked, MeetingEnded, Replaced:
		return true
	}
	return false
}
