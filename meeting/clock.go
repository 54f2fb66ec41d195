package meeting

import "time"

// Clock is the meeting's source of time; tests use meetingtest.Clock to move time by hand.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f once, d from now, on a goroutine of its choosing.
	AfterFunc(d time.Duration, f func()) Stopper
}

// Stopper cancels a pending AfterFunc; Stop reports whether it stopped the call before it ran.
type Stopper interface{ Stop() bool }

type systemClock struct{}

// SystemClock returns the real clock (time.Now and time.AfterFunc).
func SystemClock() Clock { return systemClock{} }

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) AfterFunc(d time.Duration, f func()) Stopper { return time.AfterFunc(d, f) }
