package sfu

import (
	"encoding/binary"
	"math/bits"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
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

// epoch is one stretch of uninterrupted forwarding: downstream seq = upstream seq + seqOff (and
// likewise for timestamps) for every packet from downStart on. A pause starts a new epoch. The NACK
// path reads the current and previous epoch to map a requested sequence number back to the
// publisher's.
type epoch struct {
	prev      *epoch
	tsOff     uint32
	seqOff    uint16
	downStart uint16
}

// downTrack is one published track as sent to one subscriber: our own webrtc.TrackLocal, because
// Pion's TrackLocalStaticRTP writes one stream to every binding and cannot gate, rewrite or drop
// per subscriber.
type downTrack struct {
	up      *upTrack
	sub     *Peer // the subscriber
	lane    *lane // set by upTrack.addDown, fixed for life: one goroutine owns the state below
	sender  *webrtc.RTPSender
	binding atomic.Pointer[binding]

	// Owned by the lane's goroutine.
	lastBinding  *binding
	started      bool // a packet has been sent
	paused       bool // packets were withheld since the last one sent
	needKeyframe bool
	seqOff       uint16
	upStart      uint16 // the publisher's sequence number that started the epoch
	lastUp       uint16 // the publisher's highest sequence number sent in the epoch
	tsOff        uint32
	lastSeq      uint16
	lastTS       uint32
	lastAt       int64
	hdr          rtp.Header
	ext          [1]rtp.Extension
	twcc         [2]byte

	// Shared with the NACK path (the sender's RTCP goroutine).
	epoch   atomic.Pointer[epoch]
	highest atomic.Uint32 // highest sequence number sent

	// Owned by the sender's RTCP goroutine.
	resends  []resendMark // by downstream sequence number, resendHistory of them
	nackBuf  []byte
	nackPkt  rtp.Packet
	nackHdr  rtp.Header
	nackExt  [1]rtp.Extension
	nackTWCC [2]byte
}

func newDownTrack(up *upTrack, sub *Peer) *downTrack {
	return &downTrack{up: up, sub: sub, needKeyframe: up.kind == KindVideo}
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
	d.up.requestKeyframe() // the subscriber can start decoding only from a keyframe

	return c, nil
}

// Unbind is called by Pion when the sender stops.
func (d *downTrack) Unbind(webrtc.TrackLocalContext) error {
	d.binding.Store(nil)

	return nil
}

// ID is the published track's id, unique in the server.
func (d *downTrack) ID() string { return d.up.id }

// RID is empty: one encoding per track (no simulcast yet).
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

// pause notes that a packet was withheld (gate closed), so the next one sent starts a new epoch;
// video must then restart on a keyframe.
func (d *downTrack) pause() {
	if !d.started {
		return
	}
	d.paused = true
	if d.up.kind == KindVideo {
		d.needKeyframe = true
	}
}

// write rewrites p for this subscriber and writes it; it runs on the lane's goroutine. State
// changes only once the packet is really out: Pion silently drops (n == 0) what is written before
// the subscriber's DTLS is up, and a keyframe lost that way must not count as the one we waited for.
func (d *downTrack) write(p *rtp.Packet, keyframe bool, at int64) dropReason {
	b := d.binding.Load()
	if b == nil {
		return dropNotBound
	}
	if b != d.lastBinding { // a new SSRC: the receiver starts over, as after a pause
		d.lastBinding = b
		d.pause()
	}
	if d.needKeyframe && !keyframe {
		d.up.requestKeyframe()

		return dropWaitKeyframe
	}
	seqOff, tsOff := d.seqOff, d.tsOff
	startEpoch := !d.started || d.paused
	late := !startEpoch && int16(p.SequenceNumber-d.lastUp) <= 0
	if startEpoch {
		seqOff, tsOff = d.epochOffsets(p, at, b.clock)
	} else if late && d.beforeEpoch(p.SequenceNumber) {
		return dropStale
	}
	seq, ts := p.SequenceNumber+seqOff, p.Timestamp+tsOff
	d.fillHeader(&d.hdr, d.ext[:0], d.twcc[:], b, p.Marker, seq, ts)
	n, err := b.ws.WriteRTP(&d.hdr, p.Payload)
	if err != nil {
		return dropWriteError
	}
	if n == 0 {
		return dropNotBound
	}
	d.needKeyframe = false
	if startEpoch {
		d.startEpoch(p.SequenceNumber, seqOff, tsOff)
	} else if late {
		return dropNone // a late packet (e.g. a publisher's retransmission) does not move "last"
	}
	d.lastUp, d.lastSeq, d.lastTS, d.lastAt = p.SequenceNumber, seq, ts, at
	d.highest.Store(uint32(seq))

	return dropNone
}

// beforeEpoch reports whether a late packet was sent by the publisher before the current epoch
// started (it arrived after a pause ended and is dropped). Sixteen-bit comparisons with the
// epoch's start are only meaningful while the epoch is younger than half the sequence space; in
// an older one, any packet within reach of the last is inside it.
func (d *downTrack) beforeEpoch(upSeq uint16) bool {
	return d.lastUp-d.upStart < 0x8000 && int16(upSeq-d.upStart) < 0
}

// epochOffsets returns the offsets for a new epoch starting with p: the first packet after a pause
// follows the last one sent (seq last+1, no gap that looks like loss) and its timestamp has moved
// on by the wall time that passed. Real upstream loss within an epoch still shows as a gap, so the
// subscriber NACKs it. The first epoch keeps the publisher's numbers.
func (d *downTrack) epochOffsets(p *rtp.Packet, at int64, clock uint32) (seqOff uint16, tsOff uint32) {
	if !d.started {
		return 0, 0
	}
	elapsed := min(max(at-d.lastAt, 0), maxPause)
	ticks := uint32(uint64(elapsed) * uint64(clock) / 1e9)

	return d.lastSeq + 1 - p.SequenceNumber, d.lastTS + max(ticks, 1) - p.Timestamp
}

// startEpoch commits a new epoch and publishes it for the NACK path.
func (d *downTrack) startEpoch(upSeq, seqOff uint16, tsOff uint32) {
	d.started, d.paused = true, false
	d.seqOff, d.tsOff, d.upStart, d.lastUp = seqOff, tsOff, upSeq, upSeq
	e := &epoch{seqOff: seqOff, tsOff: tsOff, downStart: upSeq + seqOff}
	if old := d.epoch.Load(); old != nil {
		e.prev = &epoch{seqOff: old.seqOff, tsOff: old.tsOff, downStart: old.downStart}
	}
	d.epoch.Store(e)
}

// fillHeader builds the subscriber's RTP header. The publisher's header extensions are not
// forwarded: their ids belong to the publisher's negotiation. The transport-wide sequence number
// is counted per subscriber connection, as TWCC requires.
func (d *downTrack) fillHeader(h *rtp.Header, ext []rtp.Extension, twcc []byte, b *binding, marker bool, seq uint16, ts uint32) {
	*h = rtp.Header{
		Version: 2, Marker: marker, PayloadType: b.pt, SequenceNumber: seq, Timestamp: ts, SSRC: b.ssrc,
		Extensions: ext,
	}
	if b.twccID != 0 {
		binary.BigEndian.PutUint16(twcc, uint16(d.sub.twccSeq.Add(1)-1))
		_ = h.SetExtension(b.twccID, twcc)
	}
}

// Resends are bounded: a subscriber gets a packet again at most maxResends times, not twice within
// resendInterval (a repeated NACK that crossed the resend), and not once it arrived more than
// maxResendAge ago (the subscriber's jitter buffer has given up on it; sending it would only add
// load). Under overload no NACK is answered at all (see congestionHold): every subscriber of a
// lane that dropped a packet NACKs it, and answering them all is how a short overload used to
// become a collapse.
const (
	maxResends     = 2
	resendInterval = 100 * time.Millisecond
	maxResendAge   = 500 * time.Millisecond
	resendHistory  = 256 // sequence numbers remembered per subscriber; a power of two
)

// resendMark remembers the resends of one downstream sequence number.
type resendMark struct {
	at  int64 // last resend, monoNow
	seq uint16
	n   uint8
}

// nackResult is what became of one NACK message's sequence numbers.
type nackResult struct {
	asked, answered int
	ignored         [numNackOutcomes]int
}

// retransmit answers a subscriber's NACK from the track's cache, mapping each requested sequence
// number back to the publisher's through the epoch it was sent in. Runs on the sender's RTCP
// goroutine; now is monoNow.
func (d *downTrack) retransmit(nacks []rtcp.NackPair, now int64) (r nackResult) {
	for _, pair := range nacks {
		r.asked += 1 + bits.OnesCount16(uint16(pair.LostPackets))
	}
	b, e := d.binding.Load(), d.epoch.Load()
	switch {
	case b == nil || e == nil || !d.up.gate.Load():
		r.ignored[nackUnavailable] = r.asked

		return r
	case d.up.congested(now):
		r.ignored[nackCongested] = r.asked

		return r
	}
	if d.nackBuf == nil {
		d.nackBuf = make([]byte, maxPacketSize)
		d.resends = make([]resendMark, resendHistory)
	}
	highest := uint16(d.highest.Load())
	for _, pair := range nacks {
		lost := uint16(pair.LostPackets)
		for i := range uint16(17) { // PacketID, then one bit per following sequence number
			if i > 0 && lost&(1<<(i-1)) == 0 {
				continue
			}
			if o, sent := d.resend(b, e, highest, pair.PacketID+i, now); sent {
				r.answered++
			} else if o < numNackOutcomes {
				r.ignored[o]++
			}
		}
	}

	return r
}

// resend sends one NACKed packet again unless a bound forbids it. It returns why not, or sent;
// a failed write is neither (outcome numNackOutcomes).
func (d *downTrack) resend(b *binding, e *epoch, highest, seq uint16, now int64) (nackOutcome, bool) {
	if highest-seq >= 0x8000 {
		return nackUnavailable, false // never sent
	}
	ep := e
	if startedAfter(seq, e.downStart, highest) {
		if ep = e.prev; ep == nil || startedAfter(seq, ep.downStart, highest) {
			return nackUnavailable, false // sent in no epoch we still know: during a pause, or too long ago
		}
	}
	mark := &d.resends[seq&(resendHistory-1)]
	if mark.seq != seq || now-mark.at >= int64(maxResendAge) {
		*mark = resendMark{seq: seq} // another packet's, or one too old to be resent anyway
	} else if mark.n >= maxResends || now-mark.at < int64(resendInterval) {
		return nackRepeated, false
	}
	n, at := d.up.cache.get(seq-ep.seqOff, d.nackBuf)
	if n == 0 || d.nackPkt.Unmarshal(d.nackBuf[:n]) != nil {
		return nackUnavailable, false
	}
	if now-at > int64(maxResendAge) {
		return nackTooOld, false
	}
	d.fillHeader(&d.nackHdr, d.nackExt[:0], d.nackTWCC[:], b, d.nackPkt.Marker, seq, d.nackPkt.Timestamp+ep.tsOff)
	if _, err := b.ws.WriteRTP(&d.nackHdr, d.nackPkt.Payload); err != nil {
		return numNackOutcomes, false
	}
	mark.n++
	mark.at = now

	return 0, true
}

// startedAfter reports whether an epoch starting at downStart began after seq was sent. Both lie
// within half the sequence space below highest, or the epoch is so long that seq is inside it.
func startedAfter(seq, downStart, highest uint16) bool {
	return highest-downStart < 0x8000 && int16(seq-downStart) < 0
}

// readRTCP reads the subscriber's RTCP for this track (without a reader the sender interceptors
// see nothing), turns PLI/FIR into a throttled PLI to the publisher and answers NACKs.
func (d *downTrack) readRTCP() {
	defer d.sub.wg.Done()
	buf := make([]byte, maxPacketSize)
	for {
		n, _, err := d.sender.Read(buf)
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, pkt := range pkts {
			switch p := pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				d.up.requestKeyframe()
			case *rtcp.TransportLayerNack:
				r := d.retransmit(p.Nacks, monoNow())
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
