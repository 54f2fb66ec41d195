package meetingtest

import (
	"slices"
	"sync"
	"time"

	"github.com/parleyhq/parley/meeting"
)

// Clock is a deterministic meeting.Clock: time moves only by Advance, which runs the functions
// that fall due, in order of due time, on the caller's goroutine. It starts no goroutines.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	seq    uint64
	timers []*timer
}

type timer struct {
	c   *Clock
	due time.Time
	seq uint64 // keeps timers due at the same instant in the order they were made
	f   func()
}

// NewClock returns a Clock that reads start until it is advanced.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc arranges for f to run during the Advance that reaches now+d.
func (c *Clock) AfterFunc(d time.Duration, f func()) meeting.Stopper {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &timer{c: c, due: c.now.Add(d), seq: c.seq, f: f}
	c.timers = append(c.timers, t)
	return t
}

// Stop cancels the timer; it reports false if it already ran or was stopped.
func (t *timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	i := slices.Index(t.c.timers, t)
	if i < 0 {
		return false
	}
	t.c.timers = slices.Delete(t.c.timers, i, i+1)
	return true
}

// Advance moves the clock d forward. Each timer that falls due runs with Now() equal to its due
// time, without the clock's lock held, so it may use the clock (and take other locks).
// Timers made by those functions run too if they fall due within d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	for {
		t := c.nextDue(target)
		if t == nil {
			break
		}
		c.now = t.due
		c.mu.Unlock()
		t.f()
		c.mu.Lock()
	}
	c.now = target
	c.mu.Unlock()
}

// nextDue removes and returns the earliest timer due by target, or nil. The caller holds c.mu.
func (c *Clock) nextDue(target time.Time) *timer {
	best := -1
	for i, t := range c.timers {
		if t.due.After(target) {
			continue
		}
		if best < 0 || t.due.Before(c.timers[best].due) || (t.due.Equal(c.timers[best].due) && t.seq < c.timers[best].seq) {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	t := c.timers[best]
	c.timers = slices.Delete(c.timers, best, best+1)
	return t
}

// Pending returns how many timers have neither run nor been stopped.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}
