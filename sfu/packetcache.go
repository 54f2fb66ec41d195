package sfu

import "sync"

// maxPacketSize bounds one RTP packet; larger ones are not produced by WebRTC senders (MTU).
const maxPacketSize = 1500

// packetCache keeps the most recent packets of one published track, indexed by the publisher's
// sequence number, with the time each arrived. It is the single copy every subscriber's NACKs are
// answered from, and where writer lanes fetch the packet the reader just stored. Slots are fixed
// arrays allocated once, so storing and fetching never allocate.
type packetCache struct {
	mu    sync.Mutex
	mask  uint16
	slots []cacheSlot
}

type cacheSlot struct {
	at    int64 // arrival, monoNow
	seq   uint16
	n     uint16
	valid bool
	buf   [maxPacketSize]byte
}

// newPacketCache returns a cache of size slots; size must be a power of two.
func newPacketCache(size int) *packetCache {
	return &packetCache{mask: uint16(size - 1), slots: make([]cacheSlot, size)}
}

// store copies pkt in as the packet with sequence number seq, which arrived at at. A packet
// larger than a slot is not kept (it cannot have come from a WebRTC sender).
func (c *packetCache) store(seq uint16, pkt []byte, at int64) {
	if len(pkt) > maxPacketSize {
		return
	}
	c.mu.Lock()
	s := &c.slots[seq&c.mask]
	s.at, s.seq, s.n, s.valid = at, seq, uint16(len(pkt)), true
	copy(s.buf[:], pkt)
	c.mu.Unlock()
}

// get copies the packet with sequence number seq into dst and returns its length and arrival
// time, or 0 when it is no longer (or never was) in the cache.
func (c *packetCache) get(seq uint16, dst []byte) (n int, at int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &c.slots[seq&c.mask]
	if !s.valid || s.seq != seq {
		return 0, 0
	}

	return copy(dst, s.buf[:s.n]), s.at
}
