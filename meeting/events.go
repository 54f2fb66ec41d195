package meeting

import "github.com/parleyhq/parley/wire"

// Sink receives one member's events, in order. Deliver is called with the meeting's lock held:
// it must not block, must not call back into the meeting, and must not encode (signaling queues
// the message for the connection's writer, which encodes it). A broadcast hands the same
// *wire.EventMessage to every recipient's sink, so it is encoded once for all of them.
type Sink interface{ Deliver(*wire.EventMessage) }

// Terminal reports whether ev ends the receiving member's membership (kicked, meetingEnded,
// replaced): signaling closes the connection after sending it.
func Terminal(ev wire.Event) bool {
	switch ev.(type) {
	case wire.Kicked, wire.MeetingEnded, wire.Replaced:
		return true
	}
	return false
}
