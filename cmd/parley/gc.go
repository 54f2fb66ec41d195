package main

import "runtime/debug"

// defaultGCPercent is the garbage collector's target when GOGC is not set. The server's heap is
// mostly long-lived state per connection and it allocates little (about 0.7 MB/s at 1 x 100), so
// collections are rare at any setting (at 50, one every half minute or so there); but at Go's
// default of 100 the heap may grow to twice what is live before one, and the runtime keeps about
// that much from the system between collections. At 50 the memory per subscriber at 1 x 100
// stays under 0.6 MiB (issue 17, docs/benchmarks.md).
const defaultGCPercent = 50

// tuneGC sets the collector's target to defaultGCPercent unless the operator chose one with GOGC
// (which the runtime has already applied).
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}
