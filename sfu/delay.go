package sfu

import "time"

// Overload. A server short of CPU must shed work, not queue it: a packet forwarded late is worth
// little to the subscriber (its jitter buffer has moved on) and delays everything behind it. What a
// packet waited is measured from its arrival (see arrivals) to the track's reader taking it, and
// again to a writer lane taking it; a packet found too late is dropped ("late") before anything
// more is spent on it.
const (
	// A server that stalled for a moment (descheduled, a garbage collection, a keyframe to a
	// large room) catches up within milliseconds: what waited meanwhile is still worth
	// forwarding, a little late, rather than leaving a gap that only a keyframe repairs. Waits
	// that stay above standingDelay for standingFor mean a standing queue, a server that does not
	// catch up: then packets that waited longer than standingDelay are dropped until the waits are
	// back below it, so an overloaded server forwards what it can about standingDelay late rather
	// than everything later and later (as CoDel does for a router's queue, RFC 8289).
	standingDelay = 80 * time.Millisecond
	standingFor   = 500 * time.Millisecond
	// maxForwardDelay: a packet that waited longer is dropped in any case.
	maxForwardDelay = 500 * time.Millisecond
	// congestionHold is how long a track counts as congested after a lane or its reader dropped
	// a packet for being late. Meanwhile NACKs are not answered: resends would compete for the
	// CPU the forwarding lacks, and every subscriber NACKs the same gaps.
	congestionHold = 500 * time.Millisecond
)

// waitGate judges the waits of one queue's packets, in the order they leave it; one goroutine
// owns it.
type waitGate struct {
	aboveSince int64 // monoNow when waits went above standingDelay without a break; 0: below
}

// late reports whether a packet that waited wait (ns), taken at now, is to be dropped.
func (g *waitGate) late(wait, now int64) bool {
	if wait <= int64(standingDelay) {
		g.aboveSince = 0

		return false
	}
	if g.aboveSince == 0 {
		g.aboveSince = now
	}

	return wait > int64(maxForwardDelay) || now-g.aboveSince >= int64(standingFor)
}
