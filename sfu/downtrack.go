package sfu

import (
	"encoding/binary"
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"golang.org/x/time/rate"

	"github.com/parleyhq/parley/sfu/rtcpscan"
)

// maxPause caps the wall time a timestamp is moved on by, so the arithmetic cannot overflow.
const maxPause = int64(24 * 3600 * 1e9)

// binding is what Pion tells a downTrack when the subscriber's answer made the track live.
type binding struct {
	ws     webrtc.TrackLocalWriter
	ssrc   uint32
	clock  uint32
	pt     uint8
	twccID uint8 // 0 when the subscriber did not negotiate transport-wide sequence numbers
}

// offsets map a publisher's stream onto the subscriber's: downstream = upstream + offset, for
// the sequence number, the timestamp and (VP8) the picture id and TL0PICIDX.
type offsets struct {
	seq uint16
	ts  uint32
	pic uint16
	tl0 uint8
}

// epoch is one stretch of uninterrupted forwarding of one layer with fixed offsets, from the
// downstream sequence number downStart on (to downEnd once it ended). A pause, a layer switch,
// a restarted publisher stream or padding between two packets starts a new one. The NACK path
// finds the epoch a requested sequence number was sent in to map it back to the publisher's.
type epoch struct {
	layer     *upLayer
	gen       uint32
	off       offsets
	downStart uint16
	downEnd   uint16
	ended     bool
	cont      bool // continues the previous epoch after padding (same stream, shifted numbers)
}

// epochHistory is how many epochs the NACK path can map back through: enough for the padding a
// bandwidth probe inserts between frames within a NACK's round trip.
const epochHistory = 8

// downTrack is one published track as sent to one subscriber: our own webrtc.TrackLocal, because
// Pion's TrackLocalStaticRTP writes one stream to every binding and cannot gate, rewrite or drop
// per subscriber. It forwards one layer at a time (target, chosen by the subscriber's allocator)
// and switches only at a keyframe of the new layer, keeping one continuous stream: one SSRC,
// sequence numbers without gaps, timestamps that only move forward, continuous VP8 picture ids.
type downTrack struct {
	up      *upTrack
	sub     *Peer // the subscriber
	lane    *lane // set by upTrack.addDown, fixed for life: one goroutine owns the state below
	sender  *webrtc.RTPSender
	binding atomic.Pointer[binding]

	// Set by the allocator and SetVideoQuality, read per packet.
	target   atomic.Int32  // the layer to forward, noLayer for none
	curLayer atomic.Int32  // mirror of cur for the control plane
	maxLayer atomic.Int32  // the highest layer the subscriber asked for (Quality); noLayer: off
	desired  atomic.Int32  // the layer the allocator chose, received or not (dynacast)
	limited  atomic.Bool   // the allocator holds the track below what was asked, for bandwidth
	lastNeed atomic.Uint32 // needMask when the track's needs were last updated
	sentAny  atomic.Bool   // a packet has been sent (started, for the control plane)
	urgent   atomic.Bool   // moving down under congestion: leave the current layer at once
	detached atomic.Bool   // the track no longer sends to the subscriber: no resends either

	// Owned by the lane's goroutine.
	lastBinding  *binding
	cur          int8 // the layer being forwarded, noLayer for none
	gen          uint32
	started      bool // a packet has been sent
	paused       bool // packets were withheld since the last one sent
	needKeyframe bool
	off          offsets
	lastUp       uint16 // the publisher's highest sequence number sent in the epoch
	lastSeq      uint16
	lastTS       uint32
	lastPic      uint16
	lastTL0      uint8
	lastAt       int64
	lastPadAt    int64
	hdr          rtp.Header
	ext          [1]rtp.Extension
	twcc         [2]byte

	// Shared with the NACK path (the sender's RTCP goroutine).
	epMu    sync.Mutex
	eps     [epochHistory]epoch
	epLen   int
	epHead  int
	highest atomic.Uint32 // highest sequence number sent

	// Owned by the sender's RTCP goroutine.
	resendBudget *rate.Limiter  // the subscriber's, shared by its tracks (nack.go)
	resendBytes  *atomic.Uint64 // the sfu's count of resent bytes; nil in unit rigs
	resends      []resendMark   // by downstream sequence number, resendHistory of them
	nackBuf      []byte
	nackPkt      rtp.Packet
	nackHdr      rtp.Header
	nackExt      [1]rtp.Extension
	nackTWCC     [2]byte
}

func newDownTrack(up *upTrack, sub *Peer) *downTrack {
	d := &downTrack{up: up, sub: sub, cur: noLayer, needKeyframe: up.kind == KindVideo}
	if sub != nil && sub.s != nil { // unit rigs have no subscriber, or one without an sfu
		d.resendBudget, d.resendBytes = sub.resendBudget, &sub.s.counters.resentBytes
	}
	d.curLayer.Store(noLayer)
	d.maxLayer.Store(layerF)
	first := int32(layerF)
	if up.simulcast { // the allocator picks the layer as soon as it runs; start cheap
		first = int32(bits.TrailingZeros8(up.declared))
	}
	d.target.Store(first)
	d.desired.Store(first)

	return d
}

// Bind is called by Pion once the subscriber's answer made this track live.
func (d *downTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	c, ok := findCodec(ctx.CodecParameters(), d.up.codec.RTPCodecCapability)
	if !ok {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	b := &binding{ws: ctx.WriteStream(), ssrc: uint32(ctx.SSRC()), clock: c.ClockRate, pt: uint8(c.PayloadType)}
	for _, e := range ctx.HeaderExtensions() {
		if e.URI == transportCCURI && e.ID > 0 && e.ID < 256 {
			b.twccID = uint8(e.ID)
		}
	}
	d.binding.Store(b)
	// The subscriber can start decoding only from a keyframe.
	d.up.requestKeyframe(int(d.target.Load()), pliStart)

	return c, nil
}

// Unbind is called by Pion when the sender stops.
func (d *downTrack) Unbind(webrtc.TrackLocalContext) error {
	d.binding.Store(nil)

	return nil
}

// ID is the track id the subscriber sees: the source's name.
func (d *downTrack) ID() string { return string(d.up.source) }

// RID is empty: a subscriber receives one encoding per track.
func (d *downTrack) RID() string { return "" }

// StreamID is the publisher's participant id, so clients know whose media it is.
func (d *downTrack) StreamID() string { return d.up.owner.id }

// Kind is audio or video.
func (d *downTrack) Kind() webrtc.RTPCodecType {
	if d.up.kind == KindVideo {
		return webrtc.RTPCodecTypeVideo
	}

	return webrtc.RTPCodecTypeAudio
}

// laneLayers is the set of layers this subscriber needs its lane to be given.
func (d *downTrack) laneLayers() uint32 {
	var m uint32
	if t := d.target.Load(); t >= 0 {
		m |= 1 << t
	}
	if c := d.curLayer.Load(); c >= 0 {
		m |= 1 << c
	}
	if m == 0 && d.limited.Load() && d.sentAny.Load() {
		// Paused for bandwidth: the lowest layer's frames pace the probes that may resume it.
		m |= 1 << bits.TrailingZeros8(d.up.declared)
	}

	return m
}

// pause notes that a packet was withheld, so the next one sent starts a new epoch; video must
// then restart on a keyframe.
func (d *downTrack) pause() {
	if !d.started {
		return
	}
	d.paused = true
	if d.up.kind == KindVideo {
		d.needKeyframe = true
	}
}

// stop pauses and lets go of the layer: forwarding resumes on a keyframe of the target.
func (d *downTrack) stop() {
	d.pause()
	d.cur = noLayer
	d.curLayer.Store(noLayer)
}

// gated withholds a packet of layer for the publisher's closed gate; it reports whether the
// packet was one this subscriber would have been sent.
func (d *downTrack) gated(layer int8) bool {
	if layer != d.cur && (d.cur != noLayer || int32(layer) != d.target.Load()) {
		return false
	}
	d.pause()

	return true
}

// write rewrites p for this subscriber and writes it; it runs on the lane's goroutine. State
// changes only once the packet is really out: Pion silently drops (n == 0) what is written before
// the subscriber's DTLS is up, and a keyframe lost that way must not count as the one we waited for.
func (d *downTrack) write(p *rtp.Packet, in *pktInfo, at int64) dropReason {
	target := int8(d.target.Load())
	switching := false
	switch {
	case in.layer != d.cur:
		if in.layer != target {
			d.padIdle(p.Marker, in.now)

			return dropSkip
		}
		switching = true
	case target == noLayer || (target != d.cur && d.urgent.Load()):
		// Paused by request or for bandwidth, or leaving a layer the link cannot carry: resume
		// on a keyframe of the target.
		d.stop()
		d.padIdle(p.Marker, in.now)

		return dropSkip
	}
	b := d.binding.Load()
	if b == nil {
		return dropNotBound
	}
	if b != d.lastBinding { // a new SSRC: the receiver starts over, as after a pause
		d.lastBinding = b
		d.pause()
	}
	if d.up.kind == KindVideo && (switching || d.needKeyframe) && !in.keyframe {
		cause := pliResume
		switch {
		case !d.started:
			cause = pliStart
		case switching:
			cause = pliSwitch
		}
		d.up.requestKeyframe(int(in.layer), cause)
		if switching && d.cur != noLayer {
			return dropSkip // the current layer goes on until the new one's keyframe
		}

		return dropWaitKeyframe
	}
	off := d.off
	startEpoch := !d.started || d.paused || switching || in.gen != d.gen
	late := !startEpoch && int16(p.SequenceNumber-d.lastUp) <= 0
	if startEpoch {
		off = d.epochOffsets(p, in, at, b.clock, switching)
	} else if late {
		var ok bool
		if off, ok = d.lateOffsets(p.SequenceNumber); !ok {
			return dropStale
		}
	}
	seq, ts := p.SequenceNumber+off.seq, p.Timestamp+off.ts
	pic, tl0 := d.rewriteVP8(p.Payload, &in.vp8, off)
	tseq, twcc := d.fillHeader(&d.hdr, d.ext[:0], d.twcc[:], b, p.Marker, seq, ts)
	n, err := b.ws.WriteRTP(&d.hdr, p.Payload)
	if err != nil {
		return dropWriteError
	}
	if n == 0 {
		return dropNotBound
	}
	if twcc {
		d.sub.bwe.sent(tseq, n, in.now)
	}
	d.needKeyframe = false
	if startEpoch {
		if switching && d.cur != noLayer && d.started {
			d.up.ctr.switches.Add(1)
		}
		d.cur, d.gen = in.layer, in.gen
		d.curLayer.Store(int32(in.layer))
		d.startEpoch(p.SequenceNumber, off)
	} else if late {
		return dropNone // a late packet (e.g. a publisher's retransmission) does not move "last"
	}
	d.lastUp, d.lastSeq, d.lastTS, d.lastAt = p.SequenceNumber, seq, ts, at
	if in.vp8.picAt != 0 {
		d.lastPic = pic
	}
	if in.vp8.tl0At != 0 {
		d.lastTL0 = tl0
	}
	d.highest.Store(uint32(seq))
	d.sentAny.Store(true)
	if (p.Marker || d.up.kind == KindAudio) && d.sub != nil && d.sub.probeHost.Load() == d {
		d.pad(b, in.now)
	}

	return dropNone
}

// rewriteVP8 renumbers the picture id and TL0PICIDX of a VP8 payload in place; it returns what
// it wrote.
func (d *downTrack) rewriteVP8(payload []byte, v *vp8Desc, off offsets) (pic uint16, tl0 uint8) {
	if v.picAt == 0 && v.tl0At == 0 {
		return 0, 0
	}
	pic, tl0 = (v.pic+off.pic)&v.picMask(), v.tl0+off.tl0
	v.rewrite(payload, pic, tl0)

	return pic, tl0
}

// lateOffsets finds the offsets a late packet (a publisher's retransmission) was to be sent with:
// those of the epoch of the current layer its sequence number falls in, which may be one before
// some padding. A packet from before the layer's first epoch (sent before a pause or a switch
// ended) is not sent: false. Sixteen-bit comparisons with an epoch's start are only meaningful
// while the epoch is younger than half the sequence space; in an older one, any packet within
// reach of the last is inside it.
func (d *downTrack) lateOffsets(upSeq uint16) (offsets, bool) {
	d.epMu.Lock()
	defer d.epMu.Unlock()
	layer := d.up.layer(int(d.cur))
	for i := range d.epLen {
		e := &d.eps[(d.epHead-i+epochHistory)%epochHistory]
		if e.layer != layer || e.gen != d.gen {
			break // an epoch of another layer, or of the stream before it restarted
		}
		upStart := e.downStart - e.off.seq
		if int16(upSeq-upStart) >= 0 || (i == 0 && d.lastUp-upStart >= 0x8000) {
			return e.off, true
		}
		if !e.cont {
			break // before a pause or a switch: not forwarded after it
		}
	}

	return offsets{}, false
}

// epochOffsets returns the offsets for a new epoch starting with p: the first packet after a pause
// or a switch follows the last one sent (seq last+1, no gap that looks like loss, the next
// picture id). Its timestamp is mapped onto the old layer's timeline when switching between two
// layers being received (the layers sample the same clock from different bases), else moved on
// by the wall time that passed. Real upstream loss within an epoch still shows as a gap, so the
// subscriber NACKs it. The first epoch keeps the publisher's numbers.
func (d *downTrack) epochOffsets(p *rtp.Packet, in *pktInfo, at int64, clock uint32, switching bool) offsets {
	if !d.started {
		return offsets{}
	}
	var ts uint32
	mapped := false
	if switching && d.cur != noLayer && !d.paused {
		if from, to := d.up.layer(int(d.cur)), d.up.layer(int(in.layer)); from != nil && to != nil && from.active(at) {
			ts = p.Timestamp + d.off.ts + from.tsBase.Load() - to.tsBase.Load()
			mapped = int32(ts-d.lastTS) > 0
		}
	}
	if !mapped {
		elapsed := min(max(at-d.lastAt, 0), maxPause)
		ts = d.lastTS + max(uint32(uint64(elapsed)*uint64(clock)/1e9), 1)
	}
	off := offsets{seq: d.lastSeq + 1 - p.SequenceNumber, ts: ts - p.Timestamp}
	if in.vp8.picAt != 0 {
		off.pic = d.lastPic + 1 - in.vp8.pic
	}
	if in.vp8.tl0At != 0 {
		off.tl0 = d.lastTL0 + 1 - in.vp8.tl0
	}

	return off
}

// startEpoch commits a new epoch and publishes it for the NACK path.
func (d *downTrack) startEpoch(upSeq uint16, off offsets) {
	d.started, d.paused = true, false
	d.off, d.lastUp = off, upSeq
	d.pushEpoch(epoch{layer: d.up.layer(int(d.cur)), gen: d.gen, off: off, downStart: upSeq + off.seq}, d.lastSeq)
}

// pushEpoch ends the current epoch at end, the last sequence number it sent, and starts e.
func (d *downTrack) pushEpoch(e epoch, end uint16) {
	d.epMu.Lock()
	defer d.epMu.Unlock()
	if d.epLen > 0 {
		cur := &d.eps[d.epHead]
		cur.downEnd, cur.ended = end, true
		d.epHead = (d.epHead + 1) % epochHistory
	}
	d.eps[d.epHead] = e
	d.epLen = min(d.epLen+1, epochHistory)
}

// epochOf finds the epoch seq was sent in; highest is the highest sequence number sent.
func (d *downTrack) epochOf(seq, highest uint16) (epoch, bool) {
	d.epMu.Lock()
	defer d.epMu.Unlock()
	for i := range d.epLen {
		e := &d.eps[(d.epHead-i+epochHistory)%epochHistory]
		if startedAfter(seq, e.downStart, highest) {
			continue
		}
		if e.ended && int16(seq-e.downEnd) > 0 {
			return epoch{}, false // sent between two epochs: padding, or nothing
		}

		return *e, true
	}

	return epoch{}, false
}

// fillHeader builds the subscriber's RTP header. The publisher's header extensions are not
// forwarded: their ids belong to the publisher's negotiation. The transport-wide sequence number
// is counted per subscriber connection, as TWCC requires; it is returned with whether there is one.
func (d *downTrack) fillHeader(h *rtp.Header, ext []rtp.Extension, twcc []byte, b *binding, marker bool, seq uint16, ts uint32) (uint16, bool) {
	*h = rtp.Header{
		Version: 2, Marker: marker, PayloadType: b.pt, SequenceNumber: seq, Timestamp: ts, SSRC: b.ssrc,
		Extensions: ext,
	}
	if b.twccID == 0 {
		return 0, false
	}
	tseq := uint16(d.sub.twccSeq.Add(1) - 1)
	binary.BigEndian.PutUint16(twcc, tseq)
	_ = h.SetExtension(b.twccID, twcc)

	return tseq, true
}

// readRTCP reads the subscriber's RTCP for this track (without a reader the sender interceptors
// see nothing): PLI/FIR become a throttled PLI to the publisher for the layer being forwarded,
// NACKs are answered, and transport-wide feedback goes to the subscriber's bandwidth estimator.
// The datagram is read in place (rtcpscan): this runs for every subscriber's every RTCP packet.
func (d *downTrack) readRTCP() {
	defer d.sub.wg.Done()
	buf := make([]byte, maxPacketSize)
	var s rtcpscan.Scanner
	for {
		n, _, err := d.sender.Read(buf)
		if err != nil {
			return
		}
		// Packets before a malformed one are acted on; pion's Unmarshal dropped the datagram.
		for s.Reset(buf[:n]); s.Next(); {
			switch p := s.Packet(); p.Kind() {
			case rtcpscan.PLI, rtcpscan.FIR:
				d.up.requestKeyframe(int(d.curLayer.Load()), pliSubscriber)
			case rtcpscan.TWCC:
				fb := p.TWCC()
				d.sub.bwe.feedback(&fb, monoNow())
			case rtcpscan.NACK:
				r := d.retransmit(p.NACK(), monoNow())
				c := d.sub.s.counters
				c.nacksReceived.Add(uint64(r.asked))
				c.nacksAnswered.Add(uint64(r.answered))
				for o, n := range r.ignored {
					if n > 0 {
						c.nacksIgnored[o].Add(uint64(n))
					}
				}
			}
		}
	}
}
