package client

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/wire"
)

// writeTimeout bounds one WebSocket write when the caller's context has no deadline.
const writeTimeout = 10 * time.Second

// Request sends a request of type typ with a fresh id and the fields of body (a struct such as
// wire.SetMuted, a map, or nil), and waits for its answer: the raw answer message (ok, joined,
// answer) or, for an error answer, a *ProtocolError.
func (c *Client) Request(ctx context.Context, typ string, body any) ([]byte, error) {
	return c.request(ctx, typ, body, nil)
}

// request is Request with a hook run once the request is written (before its answer).
func (c *Client) request(ctx context.Context, typ string, body any, written func()) ([]byte, error) {
	id := strconv.AppendInt(nil, c.nextID.Add(1), 10)
	data, err := wire.Encode(typ, id, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", typ, err)
	}
	done := c.Done()
	answers := make(chan Message, 1)
	c.addPending(string(id), func(m Message) { answers <- m })
	if err := c.write(ctx, data); err != nil {
		c.takePending(string(id))
		return nil, fmt.Errorf("%s: %w", typ, err)
	}
	if written != nil {
		written()
	}
	select {
	case m := <-answers:
		return answerOf(m)
	case <-ctx.Done():
		c.takePending(string(id))
		return nil, fmt.Errorf("%s: waiting for the answer: %w", typ, ctx.Err())
	case <-done:
		// The read loop hands out answers before it closes done.
		select {
		case m := <-answers:
			return answerOf(m)
		default:
			return nil, fmt.Errorf("%s: %w", typ, c.closedErr())
		}
	}
}

func answerOf(m Message) ([]byte, error) {
	if m.Type == wire.TypeError {
		return m.Raw, parseErrorMessage(m.Raw)
	}
	return m.Raw, nil
}

// requestAsync sends a request whose answer is not waited for: an error answer is logged and
// kept in the message log, where tests can find it.
func (c *Client) requestAsync(ctx context.Context, typ string, body any) error {
	id := strconv.AppendInt(nil, c.nextID.Add(1), 10)
	data, err := wire.Encode(typ, id, body)
	if err != nil {
		return fmt.Errorf("%s: %w", typ, err)
	}
	c.addPending(string(id), func(m Message) {
		if m.Type == wire.TypeError {
			c.log.Warn("request refused", "type", typ, "answer", string(m.Raw))
			c.events.add(m)
		}
	})
	if err := c.write(ctx, data); err != nil {
		c.takePending(string(id))
		return fmt.Errorf("%s: %w", typ, err)
	}
	return nil
}

// Send sends a message of type typ with the fields of body and no id: the server answers
// only errors, and those land in the message log.
func (c *Client) Send(ctx context.Context, typ string, body any) error {
	data, err := wire.Encode(typ, nil, body)
	if err != nil {
		return fmt.Errorf("%s: %w", typ, err)
	}
	return c.write(ctx, data)
}

// SendRaw sends data as one text message, as is (for tests of malformed input).
func (c *Client) SendRaw(ctx context.Context, data []byte) error {
	return c.write(ctx, data)
}

// SendBinary sends data as one binary message (which the protocol forbids).
func (c *Client) SendBinary(ctx context.Context, data []byte) error {
	return c.writeType(ctx, websocket.MessageBinary, data)
}

func (c *Client) write(ctx context.Context, data []byte) error {
	return c.writeType(ctx, websocket.MessageText, data)
}

func (c *Client) writeType(ctx context.Context, typ websocket.MessageType, data []byte) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, writeTimeout)
		defer cancel()
	}
	l := c.cur.Load()
	if err := l.conn.Write(ctx, typ, data); err != nil {
		select {
		case <-l.done:
			return c.closedErr()
		default:
		}
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

func (c *Client) addPending(id string, answer func(Message)) {
	c.pendMu.Lock()
	c.pending[id] = answer
	c.pendMu.Unlock()
}

func (c *Client) takePending(id string) func(Message) {
	c.pendMu.Lock()
	defer c.pendMu.Unlock()
	answer := c.pending[id]
	delete(c.pending, id)
	return answer
}
