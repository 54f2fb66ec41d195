package client

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/parleyhq/parley/meeting"
)

// Message is one message from the server as it arrived.
type Message struct {
	// Seq is the message's position in the client's log, from 0.
	Seq  int
	Type string
	// ID is the request id the message carries, nil when none.
	ID  json.RawMessage
	Raw json.RawMessage
	At  time.Time
}

// Decode unmarshals the whole message into v (a body struct such as wire.Joined or
// meeting.TimerStarted: the "type" and "id" fields are ignored by them).
func (m Message) Decode(v any) error {
	if err := json.Unmarshal(m.Raw, v); err != nil {
		return fmt.Errorf("decode %s message: %w", m.Type, err)
	}
	return nil
}

// Event decodes an event message into its meeting event value (meeting.ParticipantJoined,
// meeting.TimerStarted, ...).
func (m Message) Event() (meeting.Event, error) {
	decode, ok := eventDecoders[m.Type]
	if !ok {
		return nil, fmt.Errorf("%q is not an event of the protocol", m.Type)
	}
	ev, err := decode(m.Raw)
	if err != nil {
		return nil, fmt.Errorf("decode %s event: %w", m.Type, err)
	}
	return ev, nil
}

func decodeEvent[E meeting.Event](raw []byte) (meeting.Event, error) {
	var ev E
	err := json.Unmarshal(raw, &ev)
	return ev, err
}

var eventDecoders = func() map[string]func([]byte) (meeting.Event, error) {
	m := map[string]func([]byte) (meeting.Event, error){}
	add := func(ev meeting.Event, decode func([]byte) (meeting.Event, error)) { m[ev.EventType()] = decode }
	add(meeting.ParticipantJoined{}, decodeEvent[meeting.ParticipantJoined])
	add(meeting.ParticipantUpdated{}, decodeEvent[meeting.ParticipantUpdated])
	add(meeting.ParticipantLeft{}, decodeEvent[meeting.ParticipantLeft])
	add(meeting.MutedByHost{}, decodeEvent[meeting.MutedByHost])
	add(meeting.UnmuteAllowed{}, decodeEvent[meeting.UnmuteAllowed])
	add(meeting.TimerStarted{}, decodeEvent[meeting.TimerStarted])
	add(meeting.TimerCancelled{}, decodeEvent[meeting.TimerCancelled])
	add(meeting.TimerEnded{}, decodeEvent[meeting.TimerEnded])
	add(meeting.MeetingUpdated{}, decodeEvent[meeting.MeetingUpdated])
	add(meeting.Kicked{}, decodeEvent[meeting.Kicked])
	add(meeting.MeetingEnded{}, decodeEvent[meeting.MeetingEnded])
	add(meeting.Replaced{}, decodeEvent[meeting.Replaced])
	return m
}()

// OfType matches messages of any of the given types.
func OfType(types ...string) func(Message) bool {
	return func(m Message) bool { return slices.Contains(types, m.Type) }
}
