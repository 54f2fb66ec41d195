package sfu

import (
	"errors"
	"io"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Simulcast layers, by the RIDs the protocol names: a quarter (q), half (h) and full (f)
// resolution. A track sent as one encoding is received as layer f.
const (
	layerQ    = 0
	layerH    = 1
	layerF    = 2
	numLayers = 3
	noLayer   = -1
)

var layerRIDs = [numLayers]string{"q", "h", "f"}

// layerOfRID returns the layer a RID names, or noLayer.
func layerOfRID(rid string) int {
	for i, r := range layerRIDs {
		if r == rid {
			return i
		}
	}

	return noLayer
}

// nominalLayerRate guesses a layer's rate (bits per second) before it was ever received, for
// planning only: the allocator uses measured rates once packets arrive.
var nominalLayerRate = [numLayers]int64{150_000, 500_000, 1_500_000}

// layerActiveFor is how long a layer counts as being received after its last packet.
const layerActiveFor = time.Second

// rateWindow is the interval a layer's rate is measured over.
const rateWindow = 500 * time.Millisecond

// wireOverhead approximates what a packet costs on the wire beyond its RTP bytes (SRTP tag, UDP
// and IP headers), so rates compare with what a link carries.
const wireOverhead = 44

// upLayer is one RTP stream a publisher sends for a track: the track itself, or one of its
// simulcast layers. Its reader goroutine reads each packet into one reused buffer (TrackRemote's
// ReadRTP would allocate a buffer and a packet every time), caches it and hands it to the
// track's fan-out.
type upLayer struct {
	t        *upTrack
	idx      int8
	rid      string
	remote   *webrtc.TrackRemote
	receiver *webrtc.RTPReceiver
	arrival  atomic.Pointer[arrivalBuffer] // the SRTP stream's buffer; nil: arrival = read time
	cache    *packetCache
	ssrc     atomic.Uint32 // for keyframe requests; changes when the publisher restarts the stream
	lastPLI  atomic.Int64
	lastAt   atomic.Int64  // arrival of the last packet (monoNow); 0 before the first
	bps      atomic.Int64  // measured rate in bits per second, wire overhead included
	tsBase   atomic.Uint32 // the stream's RTP timestamp at monoNow 0, from the last frame start
	genNow   atomic.Uint32 // gen, for the NACK path

	// Owned by the reader.
	curSSRC   uint32
	gen       uint32 // counts restarts (SSRC changes) of the stream
	keyTS     uint32
	keyValid  bool
	lastTS    uint32
	waits     waitGate
	rateStart int64
	rateBytes int64
}

func newUpLayer(t *upTrack, idx int, rid string, ssrc uint32) *upLayer {
	size := audioCacheSize
	if t.kind == KindVideo {
		size = videoCacheSize
	}
	l := &upLayer{t: t, idx: int8(idx), rid: rid, cache: newPacketCache(size), curSSRC: ssrc}
	l.ssrc.Store(ssrc)
	l.lastPLI.Store(-int64(pliInterval))

	return l
}

// active reports whether the layer is being received.
func (l *upLayer) active(now int64) bool {
	at := l.lastAt.Load()

	return at != 0 && now-at < int64(layerActiveFor)
}

// rate is the layer's bit rate: measured, or the last measured while it is paused, or a guess
// before it was ever received.
func (l *upLayer) rate() int64 {
	if r := l.bps.Load(); r > 0 {
		return r
	}
	if l.t.kind == KindAudio {
		return 64_000
	}

	return nominalLayerRate[l.idx]
}

// run is the layer's reader goroutine. It holds the batched sockets' writes from a packet until
// its buffer is empty (a frame's packets arrive together), so that a burst's copies leave
// together, each subscriber's as one GSO message.
func (l *upLayer) run() {
	t := l.t
	defer t.owner.wg.Done()
	defer t.writersWG.Wait()
	defer t.close() // the publisher's receiver stopped: the track ends with any of its layers
	held := false
	defer func() {
		if held {
			t.writes.Release()
		}
	}()
	buf := make([]byte, maxPacketSize)
	var p rtp.Packet
	for failures := 0; failures < 100; {
		n, _, err := l.remote.Read(buf)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) {
				return
			}
			failures++ // e.g. a payload type the publisher did not negotiate

			continue
		}
		failures = 0
		if !held {
			t.writes.Hold()
			held = true
		}
		now := monoNow()
		at := now
		b := l.arrival.Load()
		if b != nil {
			if a := b.lastArrival(); a > 0 && a < now {
				at = a
			}
		}
		if l.waits.late(now-at, now) {
			l.dropLate(now)
		} else {
			l.handlePacket(buf[:n], &p, at, now)
		}
		if b == nil || !b.more() {
			t.writes.Release()
			held = false
		}
	}
}

// dropLate drops a packet the reader got too late, for every subscriber. It is not cached
// either, so no NACK can bring it back: video needs a keyframe.
func (l *upLayer) dropLate(now int64) {
	t := l.t
	t.noteCongestion(now)
	if !t.simulcast {
		t.inline.dropAll(dropLate)
	}
	if ws := t.writerList.Load(); ws != nil {
		for _, w := range *ws {
			w.dropAll(dropLate)
		}
	}
	l.keyValid = false // what follows may belong to a keyframe whose start was dropped
	t.requestKeyframe(int(l.idx), pliLoss)
}

// handle is handlePacket for tests and benchmarks, with the batched sockets' writes held
// meanwhile, as the reader holds them.
func (l *upLayer) handle(raw []byte, p *rtp.Packet, at, now int64) {
	w := l.t.writes
	w.Hold()
	l.handlePacket(raw, p, at, now)
	w.Release()
}

// handlePacket is the per-packet path from the read buffer to every subscriber; now is when the
// reader took the packet.
func (l *upLayer) handlePacket(raw []byte, p *rtp.Packet, at, now int64) {
	if p.Unmarshal(raw) != nil || len(p.Payload) == 0 {
		return // malformed, or padding only (bandwidth probing) which carries no media
	}
	t := l.t
	if p.SSRC != l.curSSRC {
		l.restart(p.SSRC)
	}
	in := pktInfo{layer: l.idx, gen: l.gen, now: now}
	if t.kind == KindVideo {
		in.keyframe = t.keyframe(p.Payload)
		if in.keyframe {
			l.keyTS, l.keyValid = p.Timestamp, true
		}
		if t.vp8 {
			in.vp8 = parseVP8(p.Payload)
		}
	}
	l.measure(p, len(raw), at)
	if t.source == SourceMicrophone {
		t.noteLevel(p)
	}
	l.cache.store(p.SequenceNumber, raw, at)
	if !t.simulcast {
		t.inline.forward(p, &in, at)
	}
	if ws := t.writerList.Load(); ws != nil {
		it := laneItem{at: at, seq: p.SequenceNumber, layer: l.idx, gen: l.gen, keyframe: in.keyframe,
			inKeyframe: l.keyValid && p.Timestamp == l.keyTS}
		bit := uint32(1) << l.idx
		for _, w := range *ws {
			if !t.simulcast || w.layers.Load()&bit != 0 {
				w.enqueue(it)
			}
		}
	}
}

// measure notes the packet for the layer's activity, rate and timestamp base.
func (l *upLayer) measure(p *rtp.Packet, size int, at int64) {
	l.lastAt.Store(at)
	if p.Timestamp != l.lastTS || l.rateStart == 0 {
		l.lastTS = p.Timestamp
		ticks := uint32(uint64(at) * uint64(l.t.codec.ClockRate) / 1e9)
		l.tsBase.Store(p.Timestamp - ticks)
	}
	l.rateBytes += int64(size + wireOverhead)
	switch {
	case l.rateStart == 0 || at-l.rateStart > 4*int64(rateWindow): // first packet, or after a pause
		l.rateStart, l.rateBytes = at, 0
	case at-l.rateStart >= int64(rateWindow):
		r := l.rateBytes * 8 * 1e9 / (at - l.rateStart)
		if old := l.bps.Load(); old > 0 {
			r = (old + r) / 2 // smooths keyframes over a second or so
		}
		l.bps.Store(r)
		l.rateStart, l.rateBytes = at, 0
	}
}

// restart follows the publisher to a new SSRC on the same layer (a restarted encoder, or an
// undeclared stream that Pion routed here by its MID): the new stream numbers afresh, so the
// cache is emptied and every subscriber starts a new epoch at the next keyframe.
func (l *upLayer) restart(ssrc uint32) {
	l.curSSRC = ssrc
	l.ssrc.Store(ssrc)
	l.gen++
	l.genNow.Store(l.gen)
	l.keyValid = false
	l.cache.reset()
	l.t.ctr.restarts.Add(1)
	l.t.requestKeyframe(int(l.idx), pliRestart)
}
