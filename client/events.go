package client

import (
	"context"
	"fmt"
	"sync"
)

// eventLog is the ordered log of server messages that answered no pending request.
type eventLog struct {
	mu      sync.Mutex
	max     int       // 0: keep all
	msgs    []Message // msgs[0] has Seq base
	base    int
	changed chan struct{} // closed and replaced on every change
}

func (l *eventLog) init(max int) {
	l.max = max
	l.changed = make(chan struct{})
}

func (l *eventLog) add(m Message) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m.Seq = l.base + len(l.msgs)
	l.msgs = append(l.msgs, m)
	if l.max > 0 && len(l.msgs) > 2*l.max {
		// Trim in batches so adding stays cheap.
		drop := len(l.msgs) - l.max
		l.msgs = append(l.msgs[:0], l.msgs[drop:]...)
		l.base += drop
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

// wake lets waiters look again (the connection ended).
func (l *eventLog) wake() {
	l.mu.Lock()
	defer l.mu.Unlock()
	close(l.changed)
	l.changed = make(chan struct{})
}

// find returns the first message at or after seq matching match, and the channel that is
// closed on the next change.
func (l *eventLog) find(seq int, match func(Message) bool) (Message, bool, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := max(0, seq-l.base); i < len(l.msgs); i++ {
		if match(l.msgs[i]) {
			return l.msgs[i], true, nil
		}
	}
	return Message{}, false, l.changed
}

func (l *eventLog) snapshot() []Message {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Message(nil), l.msgs...)
}

func (l *eventLog) next() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.base + len(l.msgs)
}

// Messages returns a copy of the message log: every server message that answered no pending
// request (events, offers, candidates, unsolicited errors), in arrival order.
func (c *Client) Messages() []Message { return c.events.snapshot() }

// Mark returns the Seq the next logged message will have, to wait for messages after now
// with WaitFrom.
func (c *Client) Mark() int { return c.events.next() }

// WaitFor returns the first message of the log, from its start, that matches match, waiting
// for it until ctx ends or the connection closes.
func (c *Client) WaitFor(ctx context.Context, match func(Message) bool) (Message, error) {
	return c.WaitFrom(ctx, 0, match)
}

// WaitFrom is WaitFor counting only messages with Seq at least seq (see Mark).
func (c *Client) WaitFrom(ctx context.Context, seq int, match func(Message) bool) (Message, error) {
	done := c.Done()
	for {
		m, ok, changed := c.events.find(seq, match)
		if ok {
			return m, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return Message{}, fmt.Errorf("wait for message: %w", ctx.Err())
		case <-done:
			// Messages logged before the close are still looked at once more.
			if m, ok, _ := c.events.find(seq, match); ok {
				return m, nil
			}
			return Message{}, fmt.Errorf("wait for message: %w", c.closedErr())
		}
	}
}
