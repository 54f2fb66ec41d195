package sfu

import (
	"runtime"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// Fan-out policy. The first subscribers of a track are written inline by the track's reader
// (cheapest: no hand-off, no second copy of the packet). Beyond that, subscribers are spread over
// writer lanes, each a goroutine with a small queue, so that encrypting and writing for a large
// room runs on several cores and a subscriber whose writes stall delays only its own lane.
// Measured (BenchmarkForwardNoIO, BenchmarkForwardInline): waking a writer goroutine per packet
// costs more than writing a few subscribers inline, so meetings of usual size stay inline: up to
// 24 (1 x 20 in parley-load: 16 inline and a lane of 4 cost about 1 µs more per forwarded packet,
// issue 17, docs/benchmarks.md).
// A lane's queue holds a large keyframe arriving at once (a browser's can be 50-100 packets);
// what waits in it too long is dropped by age (see waitGate), not by the queue's length.
const (
	defaultInlineMax  = 24
	defaultPerWriter  = 16
	writerQueueLength = 128
)

// maxWriters bounds the writer lanes of one track; more goroutines than cores buy nothing.
func maxWriters() int { return 2 * runtime.GOMAXPROCS(0) }

// laneItem tells a writer lane which cached packet to forward.
type laneItem struct {
	at         int64 // arrival time, monoNow
	gen        uint32
	seq        uint16
	layer      int8
	keyframe   bool // starts a keyframe
	inKeyframe bool // belongs to one
}

// pktInfo is what the fan-out knows of one packet beyond its RTP header, worked out once for
// all its subscribers.
type pktInfo struct {
	now      int64 // when the lane took the packet, monoNow
	gen      uint32
	layer    int8
	keyframe bool // starts a keyframe
	vp8      vp8Desc
}

// lane is one goroutine's share of a track's subscribers. Every field the forwarding path reads is
// an atomic; the subscriber list is copy-on-write.
type lane struct {
	t     *upTrack
	subs  atomic.Pointer[[]*downTrack]
	busy  atomic.Uint64 // odd while a packet is being written; see waitIdle
	queue chan laneItem // nil for the inline lane
	// layers is the set of simulcast layers some subscriber of the lane forwards or switches
	// to; readers enqueue nothing else (a writer lane of a simulcast track only).
	layers atomic.Uint32
	n      int          // subscribers, guarded by t.mu
	waits  waitGate     // owned by the lane's goroutine
	c      laneCounters // written by this lane's goroutine (and the reader on queue_full)
}

// forward writes one packet to every subscriber of the lane that forwards its layer, or drops it
// for them while the publisher's gate is closed.
func (l *lane) forward(p *rtp.Packet, in *pktInfo, at int64) {
	l.busy.Add(1)
	if list := l.subs.Load(); list != nil && len(*list) > 0 {
		if !l.t.gate.Load() {
			var muted uint64
			for _, d := range *list {
				if d.gated(in.layer) {
					muted++
				}
			}
			l.c.dropped[dropMuted].Add(muted)
		} else {
			var fwd uint64
			for _, d := range *list {
				switch r := d.write(p, in, at); r {
				case dropNone:
					fwd++
				case dropSkip:
				default:
					l.c.dropped[r].Add(1)
				}
			}
			if fwd > 0 {
				l.c.forwarded.Add(fwd)
				l.c.byLayer[in.layer].Add(fwd)
				l.c.bytes.Add(fwd * uint64(len(p.Payload)))
			}
		}
	}
	l.busy.Add(1)
}

// enqueue hands a packet to a writer lane without ever blocking the reader: a full queue drops the
// packet for this lane's subscribers (see behind).
func (l *lane) enqueue(it laneItem) {
	list := l.subs.Load()
	if list == nil || len(*list) == 0 {
		return
	}
	select {
	case l.queue <- it:
	default:
		l.behind(it, dropQueueFull)
	}
}

// behind drops a packet the lane could not forward in time. The track is congested: NACKs are
// not answered for a while (see congestionHold), so a lost part of a keyframe is replaced by a
// new keyframe rather than repaired. Other gaps stay until the subscriber's own keyframe request
// or the next keyframe, which is what a subscriber of an overloaded server should see: some
// frames missing, the rest on time.
func (l *lane) behind(it laneItem, reason dropReason) {
	l.dropAll(reason)
	l.t.noteCongestion(monoNow())
	if it.inKeyframe {
		l.t.requestKeyframe(int(it.layer), pliLoss)
	}
}

// dropAll counts a packet not forwarded to any subscriber of the lane.
func (l *lane) dropAll(reason dropReason) {
	if list := l.subs.Load(); list != nil {
		l.c.dropped[reason].Add(uint64(len(*list)))
	}
}

// drainMax bounds the packets a lane forwards under one hold of the media sockets' writes.
const drainMax = 64

// run is a writer lane's goroutine: it copies each queued packet out of the track's cache (one
// copy per lane, not per subscriber) and forwards it. It holds the batched sockets' writes
// (udpbatch.Group.Hold) while it works through what is queued, so that its datagrams leave with
// those of the other lanes and the reader, grouped per subscriber.
func (l *lane) run(done <-chan struct{}) {
	defer l.t.writersWG.Done()
	buf := make([]byte, maxPacketSize)
	var p rtp.Packet
	w := l.t.writes
	for {
		select {
		case <-done:
			return
		case it := <-l.queue:
			w.Hold()
			l.take(it, buf, &p)
			l.drain(buf, &p)
			w.Release()
		}
	}
}

// drain forwards what else is queued, up to drainMax packets in all.
func (l *lane) drain(buf []byte, p *rtp.Packet) {
	for range drainMax - 1 {
		select {
		case it := <-l.queue:
			l.take(it, buf, p)
		default:
			return
		}
	}
}

// take forwards one queued packet, or drops it for lateness.
func (l *lane) take(it laneItem, buf []byte, p *rtp.Packet) {
	if now := monoNow(); l.waits.late(now-it.at, now) {
		l.behind(it, dropLate)

		return
	}
	ly := l.t.layer(int(it.layer))
	if ly == nil {
		return
	}
	n, _ := ly.cache.get(it.seq, buf)
	if n == 0 {
		l.dropAll(dropCacheMiss)

		return
	}
	if p.Unmarshal(buf[:n]) != nil {
		return
	}
	in := pktInfo{now: monoNow(), gen: it.gen, layer: it.layer, keyframe: it.keyframe}
	if l.t.vp8 {
		in.vp8 = parseVP8(p.Payload)
	}
	l.forward(p, &in, it.at)
}

// waitIdle returns once the lane is not in the middle of a packet it started before the caller's
// change (a closed gate, a removed subscriber) was visible. forward marks busy before loading the
// gate and the list, so after waitIdle no write based on the old state can still happen.
func (l *lane) waitIdle() {
	b := l.busy.Load()
	if b&1 == 0 {
		return
	}
	deadline := time.Now().Add(2 * time.Second)
	for i := 0; l.busy.Load() == b; i++ {
		if i < 100 {
			runtime.Gosched()

			continue
		}
		if time.Now().After(deadline) {
			return // a write stuck in the kernel must not hang the control plane
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// setSubs replaces the lane's list; callers hold t.mu.
func (l *lane) setSubs(list []*downTrack) {
	l.n = len(list)
	if len(list) == 0 {
		l.subs.Store(nil)
		l.layers.Store(0)

		return
	}
	l.subs.Store(&list)
	l.updateLayers()
}

// updateLayers recomputes the layers the lane's subscribers need; callers hold t.mu.
func (l *lane) updateLayers() {
	var mask uint32
	if list := l.subs.Load(); list != nil {
		for _, d := range *list {
			mask |= d.laneLayers()
		}
	}
	l.layers.Store(mask)
}

// with returns a copy of the lane's list with d added; callers hold t.mu.
func (l *lane) with(d *downTrack) []*downTrack {
	var out []*downTrack
	if cur := l.subs.Load(); cur != nil {
		out = make([]*downTrack, 0, len(*cur)+1)
		out = append(out, *cur...)
	}

	return append(out, d)
}

// without returns a copy of the lane's list with d removed; callers hold t.mu.
func (l *lane) without(d *downTrack) []*downTrack {
	cur := l.subs.Load()
	if cur == nil {
		return nil
	}
	out := make([]*downTrack, 0, len(*cur))
	for _, x := range *cur {
		if x != d {
			out = append(out, x)
		}
	}

	return out
}
