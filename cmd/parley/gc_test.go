package main

import (
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	was := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(was) })

	if got := tuneGC(func(string) string { return "" }); got != defaultGCPercent || readGCPercent() != defaultGCPercent {
		t.Errorf("without GOGC: tuneGC = %d, target in force %d; want %d", got, readGCPercent(), defaultGCPercent)
	}

	// With GOGC set the runtime applied it at start; tuneGC must leave it alone.
	debug.SetGCPercent(200)
	if got := tuneGC(func(k string) string {
		if k == "GOGC" {
			return "200"
		}
		return ""
	}); got != 200 || readGCPercent() != 200 {
		t.Errorf("with GOGC=200: tuneGC = %d, target in force %d; want 200 kept", got, readGCPercent())
	}
}
