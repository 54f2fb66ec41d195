package sfu

import (
	"fmt"
	"os"
	"strconv"
	"strings"
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
	// idle and total are the machine's CPU time counters (/proc/stat) when the watch began:
	// goroutines woken on time do not show a machine whose cores are all taken, where the
	// server's own queues grow by a few milliseconds, which a delay-based estimator reads as
	// congestion just the same.
	idle, total uint64
}

// busyIdle is the share of the machine's CPU time left idle below which it counts as saturated.
const busyIdle = 0.10

// cpuTimes reads the machine's idle and total CPU time (in clock ticks) from /proc/stat; ok is
// false where there is none.
func cpuTimes() (idle, total uint64, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return 0, 0, false
	}
	for i, f := range fields[1:] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total += v
		if i == 3 || i == 4 { // idle, iowait
			idle += v
		}
	}
	return idle, total, true
}

// busyStall is a wake-up delay that a delay-based estimator reads as queueing (its overuse
// threshold is a few tens of milliseconds).
const busyStall = 30 * time.Millisecond

func watchBusy(t *testing.T) *busyWatch {
	w := &busyWatch{stop: make(chan struct{})}
	w.idle, w.total, _ = cpuTimes()
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

// busy reports whether the machine stalled the test's goroutines, or had no idle CPU left,
// since the watch began, and describes it.
func (w *busyWatch) busy() (bool, string) {
	n, worst := w.stalls.Load(), time.Duration(w.worst.Load())
	how := fmt.Sprintf("%d wake-ups later than %v, worst %v", n, busyStall, worst.Round(time.Millisecond))
	saturated := false
	if idle, total, ok := cpuTimes(); ok && total > w.total {
		share := float64(idle-w.idle) / float64(total-w.total)
		saturated = share < busyIdle
		how += fmt.Sprintf(", CPU idle %.0f%%", 100*share)
	}
	return n > 0 || saturated, how
}
