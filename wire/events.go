package wire

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
)

// Event is a server event. Its exported fields are the message's fields, and EventType is the
// message's "type". Events are values: once made they are not changed, so one event can go to
// many connections.
type Event interface{ EventType() string }

// eventTypes lists every event of the protocol, for DecodeEvent. An event is declared once: its
// struct and EventType below, and its zero value here.
var eventTypes = []Event{
	ParticipantJoined{}, ParticipantUpdated{}, ParticipantLeft{},
	MutedByHost{}, UnmuteAllowed{},
	TimerStarted{}, TimerCancelled{}, TimerEnded{},
	MeetingUpdated{},
	Kicked{}, MeetingEnded{}, Replaced{},
	Chat{}, LobbyWaiting{}, LobbyUpdated{},
	PublisherLayers{},
	ScreenShareStopped{}, ActiveSpeakers{},
}

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

// Kicked goes to the removed participant; then the server closes its connection.
type Kicked struct{}

// MeetingEnded goes to everyone when the host ends the meeting; then the server closes every
// connection of the meeting.
type MeetingEnded struct{}

// Replaced goes to an old host connection when the host joins again on a new one; then it is
// closed.
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

// eventByType maps each event's "type" to its Go type.
var eventByType = func() map[string]reflect.Type {
	m := make(map[string]reflect.Type, len(eventTypes))
	for _, ev := range eventTypes {
		m[ev.EventType()] = reflect.TypeOf(ev)
	}
	return m
}()

// IsEvent reports whether typ is the "type" of one of the protocol's events.
func IsEvent(typ string) bool { _, ok := eventByType[typ]; return ok }

// DecodeEvent decodes a whole server message of type typ into its event value (a
// ParticipantJoined, a TimerStarted, ...); the "type" and "id" fields are ignored.
func DecodeEvent(typ string, data []byte) (Event, error) {
	t, ok := eventByType[typ]
	if !ok {
		return nil, fmt.Errorf("%q is not an event of the protocol", typ)
	}
	ptr := reflect.New(t)
	if err := json.Unmarshal(data, ptr.Interface()); err != nil {
		return nil, fmt.Errorf("decode %s event: %w", typ, err)
	}
	return ptr.Elem().Interface().(Event), nil
}

// EventMessage is one event as a message, for any number of connections: it is encoded at most
// once, by the first connection writer that needs its bytes. A broadcast to a meeting of N
// therefore costs one encoding, not N, and none of it is spent by the meeting, whose lock is
// held while it hands events out.
type EventMessage struct {
	// Event is the event; it must not be changed once the message is made.
	Event Event

	once sync.Once
	data []byte
	err  error
}

// NewEventMessage wraps ev for delivery.
func NewEventMessage(ev Event) *EventMessage { return &EventMessage{Event: ev} }

// Bytes returns the encoded message; every caller gets the same slice, which must not be
// changed.
func (m *EventMessage) Bytes() ([]byte, error) {
	m.once.Do(func() { m.data, m.err = Encode(m.Event.EventType(), nil, m.Event) })
	return m.data, m.err
}
