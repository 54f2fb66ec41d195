package meeting

import "github.com/parleyhq/parley/wire"

// Sink receives one member's events, in order. A broadcast hands the same *wire.EventMessage to
// every recipient's sink, so it is encoded once for all of them.
type Sink interface {
	// Deliver brings the events that one request (or join, leave, timer) caused for this member,
	// oldest first. It is called with the meeting's lock held, which fixes the order of all the
	// meeting's events, so it must only queue msgs (it may keep the slice): it must not block,
	// call back into the meeting, or encode.
	Deliver(msgs []*wire.EventMessage)
	// Flush follows Deliver once the meeting's lock is released: the sink may now start sending
	// what it queued (signaling wakes the connection's writer). Waking hundreds of writers only
	// then keeps them from taking the CPU from the holder of the lock.
	Flush()
}

// Terminal reports whether ev ends the receiving member's membership (kicked, meetingEnded,
// replaced): signaling closes the connection after sending it.
func Terminal(ev wire.Event) bool {
	switch ev.(type) {
	case wire.Kicked, wire.MeetingEnded, wire.Replaced:
		return true
	}
	return false
}
