package client

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/parleyhq/parley/wire"
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
// wire.TimerStarted: the "type" and "id" fields are ignored by them).
func (m Message) Decode(v any) error {
	if err := json.Unmarshal(m.Raw, v); err != nil {
		return fmt.Errorf("decode %s message: %w", m.Type, err)
	}
	return nil
}

// Event decodes an event message into its event value (wire.ParticipantJoined,
// wire.TimerStarted, ...).
func (m Message) Event() (wire.Event, error) {
	return wire.DecodeEvent(m.Type, m.Raw)
}

// OfType matches messages of any of the given types.
func OfType(types ...string) func(Message) bool {
	return func(m Message) bool { return slices.Contains(types, m.Type) }
}
