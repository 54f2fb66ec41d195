package udpbatch

import "sync/atomic"

// Stats counts what Conns did; one may be shared by every socket of a server. The zero value is
// ready to use.
type Stats struct {
	sockets    atomic.Int64  // Conns opened
	queued     atomic.Uint64 // datagrams accepted by a write
	sent       atomic.Uint64 // datagrams handed to the kernel
	gso        atomic.Uint64 // of which sent in GSO messages (several datagrams to one address)
	batches    atomic.Uint64 // sendmmsg calls
	fullWaits  atomic.Uint64 // writes that waited for the flusher because the queue was full
	sendErrors atomic.Uint64 // datagrams the kernel refused (or left queued at close)
}

// Counts is a snapshot of Stats.
type Counts struct {
	// Sockets counts the Conns opened (closing one does not take it back).
	Sockets int64
	// Queued counts datagrams accepted by a write; Sent those handed to the kernel, of which GSO
	// went out several to one address in one message; SendErrors those the kernel refused or
	// that were still queued when their Conn closed.
	Queued, Sent, GSO, SendErrors uint64
	// Batches counts sendmmsg calls (Sent / Batches is the mean batch).
	Batches uint64
	// FullWaits counts writes that waited for the flusher because the queue was full.
	FullWaits uint64
}

// Pending is the number of datagrams queued and neither sent nor refused yet.
func (c Counts) Pending() uint64 { return c.Queued - c.Sent - c.SendErrors }

// Snapshot reads the counters. Each is read atomically, not all at once; sent and refused are
// read before queued, so Pending is never negative.
func (s *Stats) Snapshot() Counts {
	c := Counts{Sent: s.sent.Load(), SendErrors: s.sendErrors.Load()}
	c.Queued = s.queued.Load()
	c.Sockets = s.sockets.Load()
	c.GSO = s.gso.Load()
	c.Batches = s.batches.Load()
	c.FullWaits = s.fullWaits.Load()

	return c
}
