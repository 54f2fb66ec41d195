//go:build unix

package cputime

import (
	"testing"
	"time"
)

// Spinning shows up as CPU time of the process, however busy the machine (the spin ends when it
// has been counted, or fails after a generous deadline).
func TestProcessCountsWork(t *testing.T) {
	before := Process()
	deadline := time.Now().Add(20 * time.Second)
	for Process()-before < 20*time.Millisecond {
		if time.Now().After(deadline) {
			t.Fatalf("20 s of spinning counted as %v of CPU", Process()-before)
		}
	}
}
