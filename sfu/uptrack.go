package sfu

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley/sfu/udpbatch"
)

// pliInterval is the least time between two keyframe requests for one layer: each keyframe
// costs the publisher's uplink several normal frames, and one answers every waiting subscriber.
const pliInterval = 500 * time.Millisecond

// Cache sizes cover about a second of packets (audio 50 pkt/s, video up to a few hundred),
// longer than a NACK round trip and than a writer lane's queue.
const (
	audioCacheSize = 128
	videoCacheSize = 512
)

var clockBase = time.Now()

// monoNow is a monotonic clock in nanoseconds, cheap enough to read once per packet.
func monoNow() int64 { return int64(time.Since(clockBase)) }

// upTrack is one source a publisher sends us (its microphone, camera, screen or screen audio),
// received as one RTP stream or as up to three simulcast layers, and its fan-out to subscribers.
// Each subscriber gets one downTrack that forwards one layer at a time.
type upTrack struct {
	id        string // unique in this server, for logs
	owner     *Peer
	ctr       *counters
	kind      Kind
	source    Source
	mid       string
	codec     webrtc.RTPCodecParameters
	gate      *atomic.Bool // the owner's gate for this source, kept by the room across peers
	keyframe  keyframeFunc
	vp8       bool
	simulcast bool  // more than one layer declared: every layer goes through writer lanes
	declared  uint8 // the layers the offer declared
	layers    [numLayers]atomic.Pointer[upLayer]
	// congestedAt is when a lane or a reader last dropped a packet for being behind (monoNow).
	congestedAt atomic.Int64
	// levelPeak is the loudest audio level (127 minus RFC 6464's -dBov) of a microphone's
	// packets since the speaker detector last took it (speakers.go).
	levelPeak atomic.Uint32
	done      chan struct{}
	writes    *udpbatch.Group // the batched media sockets, held during a fan-out; nil: unbatched

	// Fan-out policy; fixed at creation (tests and benchmarks may set them before any subscriber).
	inlineMax, perWriter, writerMax int

	mu         sync.Mutex
	closed     bool
	downs      map[*downTrack]struct{}
	inline     *lane
	writers    []*lane
	writerList atomic.Pointer[[]*lane] // what the readers enqueue to
	writersWG  sync.WaitGroup
	dyn        dynacast
}

func newUpTrack(id string, owner *Peer, decl sectionDecl, gate *atomic.Bool, codec webrtc.RTPCodecParameters) *upTrack {
	t := &upTrack{
		id: id, owner: owner, kind: decl.kind, source: decl.source, mid: decl.mid, codec: codec, gate: gate,
		keyframe:  keyframeDetector(codec.MimeType),
		vp8:       codecIs(codec.MimeType, webrtc.MimeTypeVP8),
		simulcast: decl.simulcast(),
		declared:  decl.declaredLayers(),
		done:      make(chan struct{}),
		downs:     map[*downTrack]struct{}{},
		inlineMax: defaultInlineMax, perWriter: defaultPerWriter, writerMax: maxWriters(),
	}
	if t.simulcast {
		// Several readers feed one subscriber's state: only a writer lane may own it.
		t.inlineMax = 0
	}
	t.ctr = newCounters() // a track without a peer (tests, benchmarks) counts on its own
	if owner != nil {
		t.ctr = owner.s.counters
		t.writes = owner.s.writes
	}
	t.inline = &lane{t: t}
	t.congestedAt.Store(-int64(congestionHold))
	t.dyn.reported = t.declared

	return t
}

// layer returns the layer i, or nil.
func (t *upTrack) layer(i int) *upLayer {
	if i < 0 || i >= numLayers {
		return nil
	}

	return t.layers[i].Load()
}

// addLayer installs a received stream as layer i; false when the layer is not declared or
// already received.
func (t *upTrack) addLayer(l *upLayer) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.declared&(1<<l.idx) == 0 || t.layers[l.idx].Load() != nil {
		return false
	}
	t.layers[l.idx].Store(l)

	return true
}

// handle forwards one packet of the track's only layer (tests and benchmarks; the readers use
// their layer's handle).
func (t *upTrack) handle(raw []byte, p *rtp.Packet, at int64) {
	for i := numLayers - 1; i >= 0; i-- {
		if l := t.layer(i); l != nil {
			l.handle(raw, p, at, monoNow())

			return
		}
	}
}

// noteCongestion marks the track congested (see congestionHold).
func (t *upTrack) noteCongestion(now int64) {
	if t.congestedAt.Load() < now {
		t.congestedAt.Store(now)
	}
}

// congested reports whether the track dropped a packet for being behind within congestionHold.
func (t *upTrack) congested(now int64) bool {
	return now-t.congestedAt.Load() < int64(congestionHold)
}

// drainRTCP reads the publisher's RTCP for a layer so the receiver-side interceptors (receiver
// reports need the sender reports) see it.
func (t *upTrack) drainRTCP(l *upLayer) {
	defer t.owner.wg.Done()
	buf := make([]byte, maxPacketSize)
	for {
		var err error
		if l.rid != "" {
			_, _, err = l.receiver.ReadSimulcast(buf, l.rid)
		} else {
			_, _, err = l.receiver.Read(buf)
		}
		if err != nil {
			return
		}
	}
}

// requestKeyframe sends a PLI to the publisher for one layer, at most once per pliInterval.
func (t *upTrack) requestKeyframe(layer int, cause pliCause) {
	l := t.layer(layer)
	if t.kind != KindVideo || l == nil || t.owner == nil {
		return
	}
	now, last := monoNow(), l.lastPLI.Load()
	if now-last < int64(pliInterval) || !l.lastPLI.CompareAndSwap(last, now) {
		return
	}
	pli := []rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: l.ssrc.Load()}}
	if err := t.owner.pub().WriteRTCP(pli); err == nil {
		t.ctr.plis[cause].Add(1)
	}
}

// requestKeyframes asks for a keyframe on every layer received.
func (t *upTrack) requestKeyframes(cause pliCause) {
	for i := range numLayers {
		t.requestKeyframe(i, cause)
	}
}

// addDown attaches a subscriber's downTrack to a lane; false once the track has ended.
func (t *upTrack) addDown(d *downTrack) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	l := t.pickLaneLocked()
	d.lane = l
	l.setSubs(l.with(d))
	t.downs[d] = struct{}{}
	t.updateNeedsLocked()

	return true
}

// pickLaneLocked chooses the lane for a new subscriber: inline while there is room, else the
// least loaded writer lane, starting another one while all are full and the cap allows.
func (t *upTrack) pickLaneLocked() *lane {
	if t.inline.n < t.inlineMax {
		return t.inline
	}
	var best *lane
	for _, w := range t.writers {
		if best == nil || w.n < best.n {
			best = w
		}
	}
	if best != nil && (best.n < t.perWriter || len(t.writers) >= t.writerMax) {
		return best
	}
	w := &lane{t: t, queue: make(chan laneItem, writerQueueLength)}
	t.writers = append(t.writers, w)
	list := append([]*lane(nil), t.writers...)
	t.writerList.Store(&list)
	t.writersWG.Add(1)
	go w.run(t.done)

	return w
}

// removeDown detaches d; once it returns nothing more is written to d.
func (t *upTrack) removeDown(d *downTrack) {
	t.mu.Lock()
	if _, ok := t.downs[d]; !ok {
		t.mu.Unlock()

		return
	}
	delete(t.downs, d)
	d.detached.Store(true)
	l := d.lane
	l.setSubs(l.without(d))
	t.updateNeedsLocked()
	t.mu.Unlock()
	l.waitIdle()
}

// allLanes returns the inline lane and the writer lanes.
func (t *upTrack) allLanes() []*lane {
	t.mu.Lock()
	defer t.mu.Unlock()

	return append([]*lane{t.inline}, t.writers...)
}

// waitIdle waits until no lane is writing a packet that passed a gate check made before now.
func (t *upTrack) waitIdle() {
	for _, l := range t.allLanes() {
		l.waitIdle()
	}
}

func (t *upTrack) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()

	return t.closed
}

// close ends the track: forwarding stops before it returns, then the track leaves the room and
// every subscriber (each renegotiates). Idempotent; the reader goroutines end when the
// publisher's connection stops the receiver.
func (t *upTrack) close() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()

		return
	}
	t.closed = true
	downs := make([]*downTrack, 0, len(t.downs))
	for d := range t.downs {
		downs = append(downs, d)
	}
	for d := range t.downs {
		d.detached.Store(true)
	}
	t.downs = nil
	lanes := append([]*lane{t.inline}, t.writers...)
	for _, l := range lanes {
		l.setSubs(nil)
	}
	t.dyn.stop()
	t.mu.Unlock()
	close(t.done)
	for _, l := range lanes {
		l.waitIdle()
	}
	t.owner.room.removeTrack(t)
	t.owner.forgetTrack(t)
	for _, d := range downs {
		d.sub.unsubscribe(d)
	}
	t.ctr.retireTrack(t)
}

// lowestDeclared is the lowest layer the offer declared (noLayer for none).
func (t *upTrack) lowestDeclared() int {
	for i := range numLayers {
		if t.declared&(1<<i) != 0 {
			return i
		}
	}

	return noLayer
}

// lowestActive reports whether the lowest declared layer is being received now (its frames can
// pace a probe's padding).
func (t *upTrack) lowestActive(now int64) bool {
	low := t.lowestDeclared()
	if low < 0 {
		return false
	}
	l := t.layer(low)

	return l != nil && l.active(now)
}
