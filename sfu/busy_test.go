package sfu

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// busyWatch measures how late a goroutine of the test process is woken: a timer due every 10 ms
// that fires late shows a machine too busy to run the test's clients and server on time. A
// delay-based estimate of a subscriber whose own client is not run on time sees its packets
// queue (they do, in the client's socket) and steps down: the server owes it nothing better.
type busyWatch struct {
	stalls atomic.Int64 // wake-ups later than busyStall
	worst  atomic.Int64 // the latest wake-up, in ns
	stop   chan struct{}
	wg     sync.WaitGroup
}

// busyStall is a wake-up delay that a delay-based estimator reads as queueing (its overuse
// threshold is a few tens of milliseconds).
const busyStall = 30 * time.Millisecond

func watchBusy(t *testing.T) *busyWatch {
	w := &busyWatch{stop: make(chan struct{})}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		const tick = 10 * time.Millisecond
		next := time.Now().Add(tick)
		timer := time.NewTimer(tick)
		defer timer.Stop()
		for {
			select {
			case <-w.stop:
				return
			case now := <-timer.C:
				late := now.Sub(next)
				if late > busyStall {
					w.stalls.Add(1)
				}
				if int64(late) > w.worst.Load() {
					w.worst.Store(int64(late))
				}
				next = time.Now().Add(tick)
				timer.Reset(tick)
			}
		}
	}()
	t.Cleanup(w.close)

	return w
}

func (w *busyWatch) close() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	w.wg.Wait()
}

// busy reports whether the machine stalled the test's goroutines since the watch began, and
// describes it.
func (w *busyWatch) busy() (bool, string) {
	n, worst := w.stalls.Load(), time.Duration(w.worst.Load())

	return n > 0, fmt.Sprintf("%d wake-ups later than %v, worst %v", n, busyStall, worst.Round(time.Millisecond))
}
