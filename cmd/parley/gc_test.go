package main

import (
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	was := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(was) })

	tuneGC(func(string) string { return "" })
	if got := readGCPercent(); got != defaultGCPercent {
		t.Errorf("without GOGC: target in force %d; want %d", got, defaultGCPercent)
	}

	// With GOGC set the runtime applied it at start; tuneGC must leave it alone.
	debug.SetGCPercent(200)
	tuneGC(func(k string) string {
		if k == "GOGC" {
			return "200"
		}
		return ""
	})
	if got := readGCPercent(); got != 200 {
		t.Errorf("with GOGC=200: target in force %d; want 200 kept", got)
	}
}

// readGCPercent returns the collector's target without changing it.
func readGCPercent() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}
