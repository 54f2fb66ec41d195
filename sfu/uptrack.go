package sfu

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// pliInterval is the least time between two keyframe requests to one publisher: each keyframe
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

// upTrack is one track a publisher sends us, and its fan-out to subscribers.
type upTrack struct {
	id       string // unique in this server; the track id subscribers see
	owner    *Peer
	kind     Kind
	codec    webrtc.RTPCodecParameters
	ssrc     uint32
	remote   *webrtc.TrackRemote
	receiver *webrtc.RTPReceiver
	gate     *atomic.Bool // the owner's gate for this kind, kept by the room across peers
	keyframe keyframeFunc
	cache    *packetCache
	arrival  *arrivalBuffer // the SRTP stream's buffer; nil when unknown (arrival = read time)
	lastPLI  atomic.Int64
	// congestedAt is when a lane or the reader last dropped a packet for being behind (monoNow).
	congestedAt atomic.Int64
	done        chan struct{}

	// Owned by the reader: the timestamp of the last keyframe, to tell its packets, and what the
	// packets waited for it.
	keyTS    uint32
	keyValid bool
	waits    waitGate

	// Fan-out policy; fixed at creation (tests and benchmarks may set them before any subscriber).
	inlineMax, perWriter, writerMax int

	mu         sync.Mutex
	closed     bool
	downs      map[*downTrack]struct{}
	inline     *lane
	writers    []*lane
	writerList atomic.Pointer[[]*lane] // what the reader enqueues to
	writersWG  sync.WaitGroup
}

func newUpTrack(id string, owner *Peer, kind Kind, gate *atomic.Bool, codec webrtc.RTPCodecParameters, ssrc uint32) *upTrack {
	size := audioCacheSize
	if kind == KindVideo {
		size = videoCacheSize
	}
	t := &upTrack{
		id: id, owner: owner, kind: kind, codec: codec, ssrc: ssrc, gate: gate,
		keyframe:  keyframeDetector(codec.MimeType),
		cache:     newPacketCache(size),
		done:      make(chan struct{}),
		downs:     map[*downTrack]struct{}{},
		inlineMax: defaultInlineMax, perWriter: defaultPerWriter, writerMax: maxWriters(),
	}
	t.inline = &lane{t: t}
	t.lastPLI.Store(-int64(pliInterval))
	t.congestedAt.Store(-int64(congestionHold))

	return t
}

// run is the track's reader goroutine: it reads each packet into one reused buffer (TrackRemote's
// ReadRTP would allocate a buffer and a packet every time) and forwards it.
func (t *upTrack) run() {
	defer t.owner.wg.Done()
	defer t.writersWG.Wait()
	defer t.close()
	buf := make([]byte, maxPacketSize)
	var p rtp.Packet
	for failures := 0; failures < 100; {
		n, _, err := t.remote.Read(buf)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) {
				return
			}
			failures++ // e.g. a payload type the publisher did not negotiate

			continue
		}
		failures = 0
		now := monoNow()
		at := now
		if t.arrival != nil {
			if a := t.arrival.lastArrival(); a > 0 && a < now {
				at = a
			}
		}
		if t.waits.late(now-at, now) {
			t.dropLate(now)

			continue
		}
		t.handle(buf[:n], &p, at)
	}
}

// dropLate drops a packet the reader got too late, for every subscriber. It is not cached
// either, so no NACK can bring it back: video needs a keyframe.
func (t *upTrack) dropLate(now int64) {
	t.noteCongestion(now)
	t.inline.dropAll(dropLate)
	if ws := t.writerList.Load(); ws != nil {
		for _, w := range *ws {
			w.dropAll(dropLate)
		}
	}
	t.keyValid = false // what follows may belong to a keyframe whose start was dropped
	t.requestKeyframe()
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

// handle is the per-packet path from the read buffer to every subscriber.
func (t *upTrack) handle(raw []byte, p *rtp.Packet, at int64) {
	if p.Unmarshal(raw) != nil || len(p.Payload) == 0 {
		return // malformed, or padding only (bandwidth probing) which carries no media
	}
	keyframe := t.kind == KindVideo && t.keyframe(p.Payload)
	if keyframe {
		t.keyTS, t.keyValid = p.Timestamp, true
	}
	t.cache.store(p.SequenceNumber, raw, at)
	t.inline.forward(p, keyframe, at)
	if ws := t.writerList.Load(); ws != nil {
		it := laneItem{at: at, seq: p.SequenceNumber, keyframe: keyframe,
			inKeyframe: t.keyValid && p.Timestamp == t.keyTS}
		for _, w := range *ws {
			w.enqueue(it)
		}
	}
}

// drainRTCP reads the publisher's RTCP for this track so the receiver-side interceptors (receiver
// reports need the sender reports) see it.
func (t *upTrack) drainRTCP() {
	defer t.owner.wg.Done()
	buf := make([]byte, maxPacketSize)
	for {
		if _, _, err := t.receiver.Read(buf); err != nil {
			return
		}
	}
}

// requestKeyframe sends a PLI to the publisher, at most once per pliInterval.
func (t *upTrack) requestKeyframe() {
	if t.kind != KindVideo {
		return
	}
	now, last := monoNow(), t.lastPLI.Load()
	if now-last < int64(pliInterval) || !t.lastPLI.CompareAndSwap(last, now) {
		return
	}
	pli := []rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: t.ssrc}}
	if err := t.owner.pub().WriteRTCP(pli); err == nil {
		t.owner.s.counters.plisSent.Add(1)
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
	l := d.lane
	l.setSubs(l.without(d))
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
// every subscriber (each renegotiates). Idempotent; the reader goroutine ends when the publisher's
// connection stops the receiver.
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
	t.downs = nil
	lanes := append([]*lane{t.inline}, t.writers...)
	for _, l := range lanes {
		l.setSubs(nil)
	}
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
	t.owner.s.counters.retireTrack(t)
}
