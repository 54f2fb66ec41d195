package sfu

import "sync"

// maxPacketSize bounds one RTP packet; larger ones are not produced by WebRTC senders (MTU).
const maxPacketSize = 1500

// packetCache keeps the most recent packets of one received RTP stream (a layer), indexed by the
// publisher's sequence number, with the time each arrived. It is the single copy every
// subscriber's NACKs are answered from, and where writer lanes fetch the packet the reader just
// stored. Nothing is allocated until packets arrive: the slot table comes with the first packet
// and each slot's buffer grows to the largest packet it held, so an audio track's cache stays a
// fraction of a video track's and a stream that never sends costs nothing. Once every slot has
// held a full-size packet, storing and fetching allocate nothing.
type packetCache struct {
	mu    sync.Mutex
	size  int // slots, a power of two
	slots []cacheSlot
}

type cacheSlot struct {
	at    int64 // arrival, monoNow
	seq   uint16
	valid bool
	buf   []byte
}

// cacheSlotRound is what a slot's buffer grows by, so a stream whose packet sizes vary a little
// does not reallocate a slot for every larger packet.
const cacheSlotRound = 256

// newPacketCache returns a cache of size slots; size must be a power of two.
func newPacketCache(size int) *packetCache { return &packetCache{size: size} }

// store copies pkt in as the packet with sequence number seq, which arrived at at. A packet
// larger than maxPacketSize is not kept (it cannot have come from a WebRTC sender).
func (c *packetCache) store(seq uint16, pkt []byte, at int64) {
	if len(pkt) > maxPacketSize {
		return
	}
	c.mu.Lock()
	if c.slots == nil {
		c.slots = make([]cacheSlot, c.size)
	}
	s := &c.slots[int(seq)&(c.size-1)]
	if cap(s.buf) < len(pkt) {
		s.buf = make([]byte, 0, min((len(pkt)+cacheSlotRound-1)/cacheSlotRound*cacheSlotRound, maxPacketSize))
	}
	s.at, s.seq, s.valid = at, seq, true
	s.buf = append(s.buf[:0], pkt...)
	c.mu.Unlock()
}

// get copies the packet with sequence number seq into dst and returns its length and arrival
// time, or 0 when it is no longer (or never was) in the cache.
func (c *packetCache) get(seq uint16, dst []byte) (n int, at int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.slots == nil {
		return 0, 0
	}
	s := &c.slots[int(seq)&(c.size-1)]
	if !s.valid || s.seq != seq {
		return 0, 0
	}

	return copy(dst, s.buf), s.at
}

// reset forgets every packet (the stream restarted with another SSRC and numbering) but keeps
// the buffers.
func (c *packetCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.slots {
		c.slots[i].valid = false
	}
}
