package signaling

import (
	"sync"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/wire"
)

// maxQueued bounds a session's unsent messages. A client that falls this far behind is not
// reading; it is cut off rather than letting the server's memory grow without end.
const maxQueued = 4096

// outMessage is what the writer sends next: data, or events it encodes (each once for every
// session it goes to); closeAfter ends the connection once it is written.
type outMessage struct {
	data       []byte
	events     []*wire.EventMessage
	closeAfter bool
	status     websocket.StatusCode // 0: normal closure
	reason     string
}

// frames is how many messages m sends.
func (m outMessage) frames() int {
	if m.data != nil {
		return 1
	}
	return len(m.events)
}

// outbox is a session's write queue. Enqueuing never blocks and costs the same for one event or
// a hundred, because the meeting delivers events with its lock held. Until release, messages are
// held back so that "joined" goes out first.
type outbox struct {
	mu       sync.Mutex
	held     bool
	queue    []outMessage
	queued   int // messages in queue
	pending  []outMessage
	finished bool // a closing message was queued: nothing more is accepted
	overflow bool
	wake     chan struct{}
}

func newOutbox() *outbox {
	return &outbox{held: true, wake: make(chan struct{}, 1)}
}

// push queues m; it reports false when the outbox no longer accepts messages.
func (o *outbox) push(m outMessage) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	ok := o.add(m)
	o.signal()
	return ok
}

// queueEvents queues events in order, after everything queued before, without waking the
// writer (flush does); it keeps msgs.
func (o *outbox) queueEvents(msgs []*wire.EventMessage) {
	if len(msgs) == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.add(outMessage{events: msgs})
}

// flush wakes the writer for what queueEvents queued.
func (o *outbox) flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.signal()
}

// add queues m without waking the writer; o.mu is held.
func (o *outbox) add(m outMessage) bool {
	if o.finished {
		return false
	}
	if m.closeAfter {
		o.finished = true
	}
	if o.held && !m.closeAfter {
		o.pending = append(o.pending, m)
		return true
	}
	if o.held {
		// Closing while held: what was held back is dropped; only the final word goes out.
		o.pending = nil
		o.held = false
	}
	if n := m.frames(); !m.closeAfter && o.queued+n > maxQueued {
		// The client has stopped reading: what fits goes out, then the connection closes.
		if room := maxQueued - o.queued; room > 0 && m.events != nil {
			o.queue = append(o.queue, outMessage{events: m.events[:room]})
			o.queued += room
		}
		o.overflow = true
		o.finished = true
		o.queue = append(o.queue, outMessage{closeAfter: true, status: websocket.StatusPolicyViolation, reason: "client too slow"})
		return true
	}
	o.queue = append(o.queue, m)
	o.queued += m.frames()
	return true
}

// release sends first, then everything held back since the outbox was made.
func (o *outbox) release(first []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.held {
		return
	}
	o.held = false
	pending := o.pending
	o.pending = nil
	o.add(outMessage{data: first})
	for _, m := range pending {
		o.add(m)
	}
	o.signal()
}

// signal wakes the writer if there is something for it; o.mu is held.
func (o *outbox) signal() {
	if len(o.queue) == 0 {
		return // held back, or nothing: the writer has no work
	}
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// take returns the queued messages, leaving the queue empty.
func (o *outbox) take() []outMessage {
	o.mu.Lock()
	defer o.mu.Unlock()
	q := o.queue
	o.queue = nil
	o.queued = 0
	return q
}
