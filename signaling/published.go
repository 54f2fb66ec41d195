package signaling

import (
	"context"
	"sync"

	"github.com/parleyhq/parley/meeting"
)

// The media server tells a session which sources it receives from the client (screen sharing
// starts when a screen arrives, ends when it stops) from inside its own locks, where the
// session must not block nor call into the domain, whose lock comes before the media server's.
// So the news waits in a latest-value box and the session's helper tellPublished hands it to
// the domain: only the newest list matters.

// latest holds the newest value put and wakes one taker.
type latest[T any] struct {
	mu    sync.Mutex
	v     T
	full  bool
	ready chan struct{}
	once  sync.Once
}

func (l *latest[T]) wake() chan struct{} {
	l.once.Do(func() { l.ready = make(chan struct{}, 1) })
	return l.ready
}

// put replaces the held value; it never blocks.
func (l *latest[T]) put(v T) {
	l.mu.Lock()
	l.v, l.full = v, true
	l.mu.Unlock()
	select {
	case l.wake() <- struct{}{}:
	default:
	}
}

// take returns the held value and empties the box; ok is false when it was empty.
func (l *latest[T]) take() (v T, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok = l.v, l.full
	var zero T
	l.v, l.full = zero, false
	return v, ok
}

// tellPublished hands the domain each new list of the sources the client publishes, until ctx
// (the session's) ends.
func (s *session) tellPublished(ctx context.Context, member *meeting.Member) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.published.wake():
		}
		if srcs, ok := s.published.take(); ok {
			member.Published(srcs)
		}
	}
}
