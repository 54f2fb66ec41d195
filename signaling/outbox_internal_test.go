package signaling

import (
	"slices"
	"testing"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/wire"
)

// TestOutboxOrder: what is queued before joined waits for it; events queued in a batch keep
// their order among single pushes; nothing is accepted after a closing message; a queue past
// maxQueued is cut off with a policy-violation close.
func TestOutboxOrder(t *testing.T) {
	o := newOutbox()
	ev := func(id string) *wire.EventMessage {
		return wire.NewEventMessage(wire.ParticipantLeft{ParticipantID: id})
	}
	o.queueEvents([]*wire.EventMessage{ev("a"), ev("b")})
	o.flush()
	if len(o.take()) != 0 {
		t.Fatal("messages went out before joined")
	}
	o.release([]byte("joined"))
	o.push(outMessage{data: []byte("ok")})
	o.queueEvents([]*wire.EventMessage{ev("c")})
	o.flush()
	var got []string
	for _, m := range o.take() {
		if m.data != nil {
			got = append(got, string(m.data))
		}
		for _, e := range m.events {
			got = append(got, e.Event.(wire.ParticipantLeft).ParticipantID)
		}
	}
	if want := []string{"joined", "a", "b", "ok", "c"}; !slices.Equal(got, want) {
		t.Errorf("sent %q, want %q", got, want)
	}
	select {
	case <-o.wake:
	default:
		t.Error("the writer was not woken")
	}

	o.push(outMessage{closeAfter: true})
	o.queueEvents([]*wire.EventMessage{ev("late")})
	if q := o.take(); len(q) != 1 || !q[0].closeAfter {
		t.Errorf("after the close: %+v", q)
	}

	slow := newOutbox()
	slow.release([]byte("joined"))
	batch := make([]*wire.EventMessage, maxQueued+10)
	for i := range batch {
		batch[i] = ev("x")
	}
	slow.queueEvents(batch)
	q := slow.take()
	frames := 0
	for _, m := range q {
		frames += m.frames()
	}
	if last := q[len(q)-1]; !last.closeAfter || last.status != websocket.StatusPolicyViolation || frames != maxQueued {
		t.Errorf("a flooded outbox sends %d messages, then %+v", frames, last)
	}
}
