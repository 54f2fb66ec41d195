package signaling

import (
	"sync"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/wire"
)

// maxQueued bounds a session's unsent messages. A client that falls this far behind is not
// reading; it is cut off rather than letting the server's memory grow without end.
const maxQueued = 4096

// outMessage is one frame for the writer: data, or an event the writer encodes (once for every
// session it goes to); closeAfter ends the connection once it is written.
type outMessage struct {
	data       []byte
	event      *wire.EventMessage
	closeAfter bool
	status     websocket.StatusCode // 0: normal closure
	reason     string
}

// outbox is a session's write queue. Enqueuing never blocks, because the meeting delivers events
// with its lock held. Until release, messages are held back so that "joined" goes out first.
type outbox struct {
	mu       sync.Mutex
	held     bool
	queue    []outMessage
	pending  []outMessage
	finished bool // a closing message was queued: nothing more is accepted
	overflow bool
	wake     chan struct{}
}

func newOutbox() *outbox {
	return &outbox{held: true, wake: make(chan struct{}, 1)}
}

// push queues data; it reports false when the outbox no longer accepts messages.
func (o *outbox) push(m outMessage) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
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
	if len(o.queue) >= maxQueued && !m.closeAfter {
		o.overflow = true
		o.finished = true
		o.queue = append(o.queue, outMessage{closeAfter: true, status: websocket.StatusPolicyViolation, reason: "client too slow"})
	} else {
		o.queue = append(o.queue, m)
	}
	o.signal()
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
	o.queue = append(o.queue, outMessage{data: first})
	o.queue = append(o.queue, o.pending...)
	o.pending = nil
	o.signal()
}

func (o *outbox) signal() {
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
	return q
}
