package meeting_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/meeting"
)

// heldStore is the takeover store (the in-memory one, takeover_test.go) whose snapshot writes
// can be held: once hold is set, each SaveTakeover is counted, says it started (with the
// snapshot it writes) and waits until release is closed, or until its context ends, as a real
// store gives up at its deadline. An in-memory store is enough here: what is under test is the
// meeting's waiting for the write, not the store.
type heldStore struct {
	*takeoverStore
	hold    atomic.Bool
	calls   atomic.Int32
	started chan meeting.Takeover
	release chan struct{}
	once    sync.Once
}

func newHeldStore(t *testing.T) *heldStore {
	s := &heldStore{takeoverStore: newTakeoverStore(), started: make(chan meeting.Takeover, 8), release: make(chan struct{})}
	t.Cleanup(s.letGo) // a test that fails early leaves no write hanging
	return s
}

func (s *heldStore) SaveTakeover(ctx context.Context, id string, t meeting.Takeover) error {
	if s.hold.Load() {
		s.calls.Add(1)
		select {
		case s.started <- t:
		default: // the test looks at the first writes only
		}
		select {
		case <-s.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.takeoverStore.SaveTakeover(ctx, id, t)
}

// letGo lets every held write, and every later one, go through.
func (s *heldStore) letGo() { s.once.Do(func() { close(s.release) }) }

// heldHostRequest sets up a meeting on store with its state written, holds the store's writes,
// has the host ask for mute all and returns the channel its answer comes on, the time it was
// asked, and the snapshot whose write started (and is held) meanwhile.
func heldHostRequest(t *testing.T, store *heldStore) (e *env, id string, answered <-chan error, asked time.Time, held meeting.Takeover) {
	t.Helper()
	e = newEnv(t, func(c *meeting.Config) { c.Store = store })
	created := e.create("Ada")
	id = created.MeetingID
	host := e.joinAs(id, "Ada", created.HostKey, "")
	e.joinAs(id, "Grace", "", "")
	e.flush()
	store.hold.Store(true)

	ch := make(chan error, 1)
	asked = time.Now()
	go func() { ch <- host.m.Do(e.ctx, meeting.MuteAll{AllowSelfUnmute: false}) }()
	select {
	case held = <-store.started:
	case <-time.After(await.Limit):
		t.Fatal("the host's mute all started no write of its snapshot")
	}
	if !held.MuteLock {
		t.Fatalf("the snapshot being written is %+v, want the host's mute all (muteLock)", held)
	}
	return e, id, ch, asked, held
}

func answer(t *testing.T, answered <-chan error) error {
	t.Helper()
	select {
	case err := <-answered:
		return err
	case <-time.After(await.Limit):
		t.Fatal("the host's request was never answered")
		return nil
	}
}

// A host request's answer follows the write of its takeover snapshot: while the store holds
// the write the host has no answer; once the write is through, the answer comes at once (not
// after takeoverTimeout), and the store holds the host's decision by then. So a node that dies
// right after answering leaves its decision to the node that takes the meeting over.
func TestHostAnswerWaitsForItsSnapshot(t *testing.T) {
	store := newHeldStore(t)
	_, id, answered, asked, _ := heldHostRequest(t, store)

	// The write has started and is held (its SaveTakeover is running): no answer yet.
	select {
	case err := <-answered:
		t.Fatalf("the host's request was answered (%v) while its snapshot's write was held", err)
	default:
	}
	store.letGo()
	if err := answer(t, answered); err != nil {
		t.Fatalf("mute all: %v", err)
	}
	// A timer-driven answer would take takeoverTimeout from the request at least; this one
	// follows the write, a few milliseconds after it was let go.
	if d := time.Since(asked); d >= meeting.TakeoverTimeout {
		t.Errorf("the answer came %v after the request: it waited for takeoverTimeout, not for the write", d)
	}
	if !store.snapshot(id).MuteLock {
		t.Error("answered, yet the store does not hold the host's mute all")
	}
	if n := store.calls.Load(); n != 1 {
		t.Errorf("%d snapshot writes for one host request, want 1", n)
	}
}

// A store that never finishes a write holds a host request up for takeoverTimeout at most:
// the request is answered, without an error (the store's trouble is never the request's), and
// the write lands whenever the store gets to it.
func TestHostAnswerDoesNotWaitForeverForItsSnapshot(t *testing.T) {
	store := newHeldStore(t)
	e, id, answered, asked, _ := heldHostRequest(t, store)

	if err := answer(t, answered); err != nil {
		t.Fatalf("mute all with the store hanging: %v", err)
	}
	if d := time.Since(asked); d < meeting.TakeoverTimeout {
		t.Fatalf("answered after %v while the write hung: want takeoverTimeout (%v) first", d, meeting.TakeoverTimeout)
	}
	if store.snapshot(id).MuteLock {
		t.Fatal("the held write landed before it was let go")
	}
	store.letGo()
	e.flush()
	if !store.snapshot(id).MuteLock {
		t.Error("after the store got to it, the write of the host's mute all is not in it")
	}
}
