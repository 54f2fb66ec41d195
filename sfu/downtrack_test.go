package sfu

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// captureWriter records what a subscriber's binding was given.
type captureWriter struct {
	mu   sync.Mutex
	hdrs []rtp.Header
	pays [][]byte
}

func (w *captureWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.hdrs = append(w.hdrs, *h)
	w.pays = append(w.pays, append([]byte(nil), payload...))

	return h.MarshalSize() + len(payload), nil
}

func (w *captureWriter) Write(b []byte) (int, error) { return len(b), nil }

func (w *captureWriter) last() (rtp.Header, []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()

	return w.hdrs[len(w.hdrs)-1], w.pays[len(w.pays)-1]
}

func (w *captureWriter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()

	return len(w.hdrs)
}

// audioRig is one Opus upTrack with one downTrack whose binding captures, driven through the real
// upTrack.handle path (cache, gate, inline lane, rewrite).
type audioRig struct {
	t    *testing.T
	up   *upTrack
	down *downTrack
	w    *captureWriter
	gate *atomic.Bool
	p    rtp.Packet
	at   int64
	step time.Duration // between two packets
}

func newAudioRig(t *testing.T) *audioRig {
	gate := &atomic.Bool{}
	gate.Store(true)
	opus := webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2},
		PayloadType:        111,
	}
	r := &audioRig{t: t, gate: gate, w: &captureWriter{}, at: int64(time.Hour), step: 20 * time.Millisecond}
	r.up = newLoneTrack(KindAudio, gate, opus, 7)
	r.down = newDownTrack(r.up, nil)
	if !r.up.addDown(r.down) {
		t.Fatal("addDown")
	}
	r.down.binding.Store(&binding{ws: r.w, ssrc: 4242, clock: 48000, pt: 109})

	return r
}

// send feeds one publisher packet, r.step after the previous one.
func (r *audioRig) send(seq uint16, ts uint32) {
	r.t.Helper()
	r.at += int64(r.step)
	raw, err := (&rtp.Packet{
		Header:  rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, Timestamp: ts, SSRC: 7, Extension: true, ExtensionProfile: 0xBEDE, Extensions: nil},
		Payload: []byte{byte(seq), byte(seq >> 8), 0x55},
	}).Marshal()
	if err != nil {
		r.t.Fatal(err)
	}
	r.up.handle(raw, &r.p, r.at)
}

func TestRewriteAcrossWrapKeepsPublisherNumbering(t *testing.T) {
	r := newAudioRig(t)
	for i := range 20 {
		r.send(uint16(65530+i), uint32(4294967000+960*i))
		h, pay := r.w.last()
		if h.SequenceNumber != uint16(65530+i) || h.Timestamp != uint32(4294967000+960*i) {
			t.Fatalf("packet %d rewritten to seq %d ts %d", i, h.SequenceNumber, h.Timestamp)
		}
		if h.SSRC != 4242 || h.PayloadType != 109 || len(h.Extensions) != 0 || pay[0] != byte(65530+i) {
			t.Fatalf("packet %d: ssrc %d pt %d extensions %v", i, h.SSRC, h.PayloadType, h.Extensions)
		}
	}
}

func TestPauseResumesWithNextSequenceAndElapsedTime(t *testing.T) {
	r := newAudioRig(t)
	seq, ts := uint16(65500), uint32(1000)
	for range 10 {
		seq++
		ts += 960
		r.send(seq, ts)
	}
	last, _ := r.w.last()
	r.gate.Store(false)
	for range 50 { // one second withheld, across the sequence number wrap
		seq++
		ts += 960
		r.send(seq, ts)
	}
	if n := r.w.count(); n != 10 {
		t.Fatalf("%d packets written through a closed gate", n-10)
	}
	r.gate.Store(true)
	seq++
	ts += 960
	r.send(seq, ts)
	h, _ := r.w.last()
	if h.SequenceNumber != last.SequenceNumber+1 {
		t.Errorf("after the pause seq %d, want %d", h.SequenceNumber, last.SequenceNumber+1)
	}
	// 51 intervals of 20 ms passed since the last packet sent: 1.02 s at 48 kHz.
	if got, want := h.Timestamp-last.Timestamp, uint32(48960); got != want {
		t.Errorf("timestamp moved %d, want %d", got, want)
	}
	// Upstream loss inside an epoch still shows as a gap.
	seq += 3
	ts += 3 * 960
	r.send(seq, ts)
	if h2, _ := r.w.last(); h2.SequenceNumber != h.SequenceNumber+3 {
		t.Errorf("a loss of 2 became a jump of %d", h2.SequenceNumber-h.SequenceNumber)
	}
	// A straggler from before the pause is dropped; one from inside the epoch is forwarded.
	n := r.w.count()
	r.send(seq-60, ts)
	if r.w.count() != n {
		t.Error("a packet from before the pause was forwarded after it")
	}
	r.send(seq-1, ts-960)
	if h3, _ := r.w.last(); r.w.count() != n+1 || h3.SequenceNumber != h.SequenceNumber+2 {
		t.Errorf("late packet inside the epoch: written %d, seq %d", r.w.count()-n, h3.SequenceNumber)
	}
}

// NACKs map back through the epoch a packet was sent in and are answered from the cache, with
// the sequence number and timestamp the subscriber saw the first time.
func TestRetransmitAcrossEpochs(t *testing.T) {
	r := newAudioRig(t)
	r.step = 5 * time.Millisecond // every packet still young enough to be resent at the end
	seq, ts := uint16(100), uint32(0)
	sent := map[uint16]rtp.Header{}
	step := func() {
		seq++
		ts += 960
		before := r.w.count()
		r.send(seq, ts)
		if r.w.count() > before {
			h, _ := r.w.last()
			sent[h.SequenceNumber] = h
		}
	}
	for range 20 {
		step()
	}
	r.gate.Store(false)
	for range 30 {
		step()
	}
	r.gate.Store(true)
	for range 20 {
		step()
	}
	var ask []uint16
	for s := range sent {
		ask = append(ask, s)
	}
	ask = append(ask, 1, 60000) // never sent
	res := r.down.retransmit(nacksOf(t, rtcp.NackPairsFromSequenceNumbers(ask)), r.at)
	asked, answered := res.asked, res.answered
	if asked != len(ask) || answered != len(sent) || res.ignored[nackUnavailable] != 2 {
		t.Fatalf("asked %d answered %d (%v), want %d and %d", asked, answered, res.ignored, len(ask), len(sent))
	}
	r.w.mu.Lock()
	resent := r.w.hdrs[len(r.w.hdrs)-answered:]
	pays := r.w.pays[len(r.w.pays)-answered:]
	r.w.mu.Unlock()
	for i, h := range resent {
		orig, ok := sent[h.SequenceNumber]
		if !ok || orig.Timestamp != h.Timestamp {
			t.Errorf("resent seq %d ts %d; first sent with ts %d (%v)", h.SequenceNumber, h.Timestamp, orig.Timestamp, ok)
		}
		// The payload carries the publisher's sequence number: check the mapping went to the right packet.
		up := uint16(pays[i][0]) | uint16(pays[i][1])<<8
		if want := h.SequenceNumber - r.down.epochFor(h.SequenceNumber).off.seq; up != want {
			t.Errorf("seq %d resent publisher packet %d, want %d", h.SequenceNumber, up, want)
		}
	}
}

// epochFor is the epoch a sent sequence number belongs to (test helper).
func (d *downTrack) epochFor(seq uint16) epoch {
	e, _ := d.epochOf(seq, uint16(d.highest.Load()))

	return e
}

// newLoneTrack is a track with one layer and no publisher, for driving the forwarding path
// directly (tests and benchmarks).
func newLoneTrack(kind Kind, gate *atomic.Bool, codec webrtc.RTPCodecParameters, ssrc uint32) *upTrack {
	src := SourceMicrophone
	if kind == KindVideo {
		src = SourceCamera
	}
	t := newUpTrack(string(src)+"-1", nil, sectionDecl{mid: "0", kind: kind, source: src}, gate, codec)
	t.addLayer(newUpLayer(t, layerF, "", ssrc))

	return t
}

// An epoch longer than half the sequence space still accepts late packets and answers NACKs.
func TestLongEpoch(t *testing.T) {
	r := newAudioRig(t)
	seq := uint16(0)
	for range 40000 {
		seq++
		r.send(seq, uint32(seq)*960)
	}
	n := r.w.count()
	r.send(seq-2, uint32(seq-2)*960)
	if r.w.count() != n+1 {
		t.Fatal("a late packet was dropped in a long epoch")
	}
	res := r.down.retransmit(nacksOf(t, rtcp.NackPairsFromSequenceNumbers([]uint16{seq - 5})), r.at)
	if res.asked != 1 || res.answered != 1 {
		t.Fatalf("NACK in a long epoch: %+v", res)
	}
	if h, pay := r.w.last(); h.SequenceNumber != seq-5 || uint16(pay[0])|uint16(pay[1])<<8 != seq-5 {
		t.Errorf("resent seq %d payload of %d", h.SequenceNumber, uint16(pay[0])|uint16(pay[1])<<8)
	}
}

// A subscriber gets a packet again at most maxResends times, never twice within resendInterval,
// never once it is older than maxResendAge, and nothing while the track is congested.
func TestResendBounds(t *testing.T) {
	r := newAudioRig(t)
	for seq := uint16(1); seq <= 40; seq++ {
		r.send(seq, uint32(seq)*960) // 20 ms apart: seq 40 arrived at r.at
	}
	nack := func(now time.Duration, seqs ...uint16) nackResult {
		t.Helper()
		before := r.w.count()
		pairs := make([]rtcp.NackPair, len(seqs)) // one pair each: a message may repeat one
		for i, seq := range seqs {
			pairs[i] = rtcp.NackPair{PacketID: seq}
		}
		res := r.down.retransmit(nacksOf(t, pairs), r.at+int64(now))
		if got := r.w.count() - before; got != res.answered {
			t.Fatalf("%d packets written for %d answers", got, res.answered)
		}

		return res
	}
	want := func(res nackResult, answered int, o nackOutcome, ignored int) {
		t.Helper()
		if res.answered != answered || res.ignored[o] != ignored || res.asked != answered+ignored {
			t.Errorf("answered %d ignored %v; want %d answered, %d %s", res.answered, res.ignored, answered, ignored, nackOutcomeNames[o])
		}
	}
	want(nack(0, 38, 38, 38), 1, nackRepeated, 2) // one NACK message asking three times
	want(nack(50*time.Millisecond, 38), 0, nackRepeated, 1)
	want(nack(150*time.Millisecond, 38), 1, nackRepeated, 0)
	want(nack(300*time.Millisecond, 38), 0, nackRepeated, 1) // maxResends reached
	// Seq 10 arrived 600 ms before seq 40.
	want(nack(0, 10), 0, nackTooOld, 1)
	// Another subscriber-side sequence number is not held back by seq 38's resends.
	want(nack(0, 37), 1, nackRepeated, 0)

	r.up.noteCongestion(r.at)
	want(nack(10*time.Millisecond, 36, 35), 0, nackCongested, 2)
	for seq := uint16(41); seq <= 70; seq++ { // 600 ms on: the track is no longer congested
		r.send(seq, uint32(seq)*960)
	}
	want(nack(0, 69, 70), 2, nackRepeated, 0)
}

// Padding a probe inserts after a frame takes sequence numbers of its own: media after it follows
// it without a gap, a publisher's late retransmission from before it keeps the number it was to
// have, and NACKs map to the right packets (and never to padding).
func TestPaddingKeepsNumbering(t *testing.T) {
	gate := &atomic.Bool{}
	gate.Store(true)
	vp8 := webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
		PayloadType:        96,
	}
	up := newLoneTrack(KindVideo, gate, vp8, 7)
	sub := &Peer{
		s: &SFU{counters: newCounters()}, bwe: newEstimator(newCounters()),
		resendBudget: newResendBudget(DefaultResendBytesPerSecond),
	}
	d := newDownTrack(up, sub)
	if !up.addDown(d) {
		t.Fatal("addDown")
	}
	w := &captureWriter{}
	d.binding.Store(&binding{ws: w, ssrc: 4242, clock: 90000, pt: 100, twccID: 3})
	at := int64(time.Hour)
	var p rtp.Packet
	send := func(seq uint16, key bool) {
		t.Helper()
		at += int64(40 * time.Millisecond)
		payload := vp8Payload(seq, true, key, 200)
		payload[len(payload)-1] = byte(seq)
		raw, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SSRC: 7, SequenceNumber: seq,
			Timestamp: uint32(seq) * 3600, Marker: true}, Payload: payload}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		up.layer(layerF).handle(raw, &p, at, at)
	}
	send(100, true)
	for seq := uint16(101); seq <= 110; seq++ {
		if seq != 105 { // lost upstream for now
			send(seq, false)
		}
	}
	// A probe: padding after the next frames.
	sub.probeRate.Store(100_000)
	sub.probeUntil.Store(at + int64(time.Hour))
	sub.probeHost.Store(d)
	send(111, false)
	send(112, false)
	sub.probeHost.Store(nil)
	send(113, false)
	send(105, false) // the publisher's retransmission, after the padding

	w.mu.Lock()
	hdrs, pays := append([]rtp.Header(nil), w.hdrs...), append([][]byte(nil), w.pays...)
	w.mu.Unlock()
	byDown := map[uint16]int{} // downstream seq -> upstream seq (from the payload's last byte)
	padding := 0
	for i, h := range hdrs {
		if h.Padding {
			padding++

			continue
		}
		if _, dup := byDown[h.SequenceNumber]; dup {
			t.Errorf("downstream seq %d sent twice", h.SequenceNumber)
		}
		byDown[h.SequenceNumber] = int(pays[i][len(pays[i])-1])
	}
	if padding == 0 {
		t.Fatal("no padding sent")
	}
	// Every media packet kept its place: downstream order is upstream order, the padding's
	// numbers between frames, no gap but the one left for 105, which it took.
	for down := range byDown {
		if _, ok := byDown[down+1]; !ok && down != last(hdrs) {
			isPad := false
			for _, h := range hdrs {
				isPad = isPad || (h.Padding && h.SequenceNumber == down+1)
			}
			if !isPad {
				t.Errorf("nothing sent as %d", down+1)
			}
		}
	}
	prev, lastUp := uint16(0), 0
	for i := range hdrs {
		h := hdrs[i]
		if h.Padding {
			continue
		}
		up := byDown[h.SequenceNumber]
		if up == 105 {
			if byDown[h.SequenceNumber-1] != 104 || byDown[h.SequenceNumber+1] != 106 {
				t.Errorf("the retransmitted 105 went out as %d, between %d and %d", h.SequenceNumber,
					byDown[h.SequenceNumber-1], byDown[h.SequenceNumber+1])
			}

			continue
		}
		if prev != 0 && int16(h.SequenceNumber-prev) <= 0 || up < lastUp {
			t.Errorf("downstream %d (upstream %d) after %d (%d)", h.SequenceNumber, up, prev, lastUp)
		}
		prev, lastUp = h.SequenceNumber, up
	}
	// NACKs: a media packet from before the padding comes back as itself; padding does not.
	var mediaSeq, padSeq uint16
	for down, up := range byDown {
		if up == 103 {
			mediaSeq = down
		}
	}
	for _, h := range hdrs {
		if h.Padding {
			padSeq = h.SequenceNumber
		}
	}
	before := w.count()
	res := d.retransmit(nacksOf(t, rtcp.NackPairsFromSequenceNumbers([]uint16{mediaSeq, padSeq})), at)
	if res.answered != 1 || res.ignored[nackUnavailable] != 1 {
		t.Fatalf("NACK of media %d and padding %d: %+v", mediaSeq, padSeq, res)
	}
	h, pay := w.last()
	if w.count() != before+1 || h.SequenceNumber != mediaSeq || pay[len(pay)-1] != 103 {
		t.Errorf("resent seq %d carrying upstream %d, want %d carrying 103", h.SequenceNumber, pay[len(pay)-1], mediaSeq)
	}
}

// last is the highest sequence number among hdrs.
func last(hdrs []rtp.Header) uint16 {
	m := hdrs[0].SequenceNumber
	for _, h := range hdrs {
		if int16(h.SequenceNumber-m) > 0 {
			m = h.SequenceNumber
		}
	}

	return m
}
