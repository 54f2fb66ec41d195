package udpbatch

import (
	"sync"
	"sync/atomic"
	"time"
)

// Group is what the Conns of one server share: their counters, and the hold that gathers their
// writes into batches (Hold). The zero value is ready to use.
type Group struct {
	// holds counts the holders (Hold) not yet released; conns are the open Conns, sent when the
	// last holder releases.
	holds   atomic.Int64
	connsMu sync.Mutex
	conns   atomic.Pointer[[]*Conn]

	sockets    atomic.Int64  // Conns opened
	queued     atomic.Uint64 // datagrams accepted by a write
	sent       atomic.Uint64 // datagrams handed to the kernel
	gso        atomic.Uint64 // of which sent in GSO messages (several datagrams to one address)
	batches    atomic.Uint64 // sendmmsg calls
	fullWaits  atomic.Uint64 // writes that found the queue full (and sent it, or waited)
	sendErrors atomic.Uint64 // datagrams the kernel refused (or left queued at close)
	flushes    [numCauses]atomic.Uint64
}

// Why a queue was sent (the label of the flushes metric).
const (
	causeUnheld   = iota // a write while nothing was held
	causeReleased        // the last holder released
	causeOverdue         // a datagram had waited maxHold
	causeFull            // a write found the queue full
	causeClose
	numCauses
)

var causeNames = [numCauses]string{"unheld", "released", "overdue", "full", "close"}

// Counts is a snapshot of a Group's counters.
type Counts struct {
	// Sockets counts the Conns opened (closing one does not take it back).
	Sockets int64
	// Queued counts datagrams accepted by a write; Sent those handed to the kernel, of which GSO
	// went out several to one address in one message; SendErrors those the kernel refused or
	// that were still queued when their Conn closed.
	Queued, Sent, GSO, SendErrors uint64
	// Batches counts sendmmsg calls (Sent / Batches is the mean batch).
	Batches uint64
	// Flushes counts the queues sent, by why (see causeNames).
	Flushes [numCauses]uint64
	// FullWaits counts writes that found the queue full (and sent it first, or waited while
	// another goroutine sent).
	FullWaits uint64
}

// Pending is the number of datagrams queued and neither sent nor refused yet.
func (c Counts) Pending() uint64 { return c.Queued - c.Sent - c.SendErrors }

// Snapshot reads the counters. Each is read atomically, not all at once; sent and refused are
// read before queued, so Pending is never negative.
func (g *Group) Snapshot() Counts {
	c := Counts{Sent: g.sent.Load(), SendErrors: g.sendErrors.Load()}
	c.Queued = g.queued.Load()
	c.Sockets = g.sockets.Load()
	c.GSO = g.gso.Load()
	c.Batches = g.batches.Load()
	c.FullWaits = g.fullWaits.Load()
	for i := range c.Flushes {
		c.Flushes[i] = g.flushes[i].Load()
	}

	return c
}

// Hold keeps the Conns' writes queued until the matching Release (and every other holder's):
// a caller about to write many datagrams (a packet's fan-out) holds so that they leave in few
// sendmmsg calls, with each destination's datagrams together (GSO). Holds nest and overlap
// across goroutines; a datagram still waits at most about maxHold. Nil-safe: a nil Group holds
// nothing.
func (g *Group) Hold() {
	if g != nil {
		g.holds.Add(1)
	}
}

// Release ends one Hold. The last holder to release sends what every Conn queued, on its own
// goroutine; a release that leaves others holding sends only queues that waited over maxHold.
func (g *Group) Release() {
	if g == nil {
		return
	}
	n := g.holds.Add(-1)
	list := g.conns.Load()
	if list == nil {
		return
	}
	if n > 0 {
		now := nanotime()
		for _, c := range *list {
			if c.overdue(now) {
				c.flush(causeOverdue)
			}
		}

		return
	}
	for _, c := range *list {
		c.flush(causeReleased)
	}
}

// held reports whether some goroutine holds the writes.
func (g *Group) held() bool { return g.holds.Load() > 0 }

// add and remove keep the list of open Conns (copy on write: Release reads it without a lock).
func (g *Group) add(c *Conn) {
	g.connsMu.Lock()
	defer g.connsMu.Unlock()
	var list []*Conn
	if cur := g.conns.Load(); cur != nil {
		list = append(list, *cur...)
	}
	list = append(list, c)
	g.conns.Store(&list)
}

func (g *Group) remove(c *Conn) {
	g.connsMu.Lock()
	defer g.connsMu.Unlock()
	cur := g.conns.Load()
	if cur == nil {
		return
	}
	list := make([]*Conn, 0, len(*cur))
	for _, x := range *cur {
		if x != c {
			list = append(list, x)
		}
	}
	g.conns.Store(&list)
}

var clockBase = time.Now()

// nanotime is a monotonic clock in nanoseconds.
func nanotime() int64 { return int64(time.Since(clockBase)) }
