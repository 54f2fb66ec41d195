package sfu

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// The simulcast test publisher sends a camera as three VP8 layers at 25 frames a second, sized
// like a browser's (q ~150 kbit/s, h ~500 kbit/s, f ~1.5 Mbit/s), each with its own SSRC,
// sequence numbers, timestamps, picture ids and TL0PICIDX from bases of its own. Every packet's
// last payload byte names its layer ('q', 'h', 'f'), so a subscriber can tell which layer it
// got. Keyframes come every 4 s and when the server asks for one on a layer.
var (
	simPackets = [numLayers]int{1, 3, 7}        // packets per frame
	simSize    = [numLayers]int{700, 830, 1070} // payload bytes per packet
)

// capTrack is a layer's track that also hands out its binding: the write stream (to send RTX
// packets as they are), its RTX SSRC and payload type.
type capTrack struct {
	*webrtc.TrackLocalStaticRTP
	ws     atomic.Value // webrtc.TrackLocalWriter
	rtx    atomic.Uint32
	rtxPT  atomic.Uint32
	bounds atomic.Bool
}

func (c *capTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, err := c.TrackLocalStaticRTP.Bind(ctx)
	if err != nil {
		return codec, err
	}
	c.ws.Store(ctx.WriteStream())
	c.rtx.Store(uint32(ctx.SSRCRetransmission()))
	for _, x := range ctx.CodecParameters() {
		if strings.EqualFold(x.MimeType, webrtc.MimeTypeRTX) && x.SDPFmtpLine == fmt.Sprintf("apt=%d", codec.PayloadType) {
			c.rtxPT.Store(uint32(x.PayloadType))
		}
	}
	c.bounds.Store(true)

	return codec, nil
}

// sentPacket is a packet kept for retransmission.
type sentPacket struct {
	seq     uint16
	ts      uint32
	marker  bool
	payload []byte
}

// simLayer is one layer's sender state.
type simLayer struct {
	tr      *webrtc.TrackLocalStaticRTP
	cap     *capTrack
	mu      sync.Mutex
	history [512]sentPacket // by sequence number, for RTX
	rtxSeq  uint16
	resent  atomic.Int64
	on      atomic.Bool // sending (dynacast may turn a layer off)
	wantKey atomic.Bool
	seq     uint16
	ts      uint32
	pic     uint16
	tl0     uint8
	sent    atomic.Int64
}

// simPublisher is a test client publishing a microphone and a simulcast camera.
type simPublisher struct {
	*testClient
	layers       [numLayers]*simLayer
	sender       *webrtc.RTPSender
	midID, ridID uint8
	rridID       uint8
	ownRepair    bool // answers NACKs itself, on its RTX streams with the repaired RID (a browser's way)
	h264         bool // sends H.264 (packetization mode 1) instead of VP8
	mid          string
	ssrcs        sync.Map // SSRC -> layer index
	keysSent     [numLayers]atomic.Int64
}

// newSimPublisher joins room as id and starts publishing audio and a three-layer camera.
func newSimPublisher(t *testing.T, s *SFU, room, id string, opts ...clientOptions) *simPublisher {
	t.Helper()

	return newSimPublisherOf(t, s, room, id, webrtc.MimeTypeVP8, opts...)
}

// h264Fmtp is the H.264 profile the test publishers send.
const h264Fmtp = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"

// newSimPublisherOf is newSimPublisher for a codec (VP8 or H.264).
func newSimPublisherOf(t *testing.T, s *SFU, room, id, mime string, opts ...clientOptions) *simPublisher {
	t.Helper()
	layers := []int{layerQ, layerH, layerF}
	c := newTestClient(t, s, room, id, opts...)
	p := &simPublisher{testClient: c, ownRepair: len(opts) > 0 && opts[0].ownRepair, h264: mime == webrtc.MimeTypeH264}
	capability := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
	if p.h264 {
		capability = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: h264Fmtp}
	}
	if p.ownRepair { // as a browser: the simulcast section declares no SSRCs
		c.offerFilter = stripVideoSSRCs
	}
	for _, i := range layers {
		tr, err := webrtc.NewTrackLocalStaticRTP(capability, "cam", "client-stream-"+id, webrtc.WithRTPStreamID(layerRIDs[i]))
		if err != nil {
			t.Fatal(err)
		}
		// Bases apart from each other, and near the wrap for one layer.
		l := &simLayer{tr: tr, cap: &capTrack{TrackLocalStaticRTP: tr}, seq: uint16(1000 + 20000*i), ts: uint32(500000 * (i + 1)),
			pic: uint16(100 + 10000*i), tl0: uint8(10 + 100*i)}
		if i == layerH {
			l.seq, l.pic = 65500, 0x7ff0
		}
		l.on.Store(true)
		p.layers[i] = l
		var local webrtc.TrackLocal = tr
		if p.ownRepair {
			local = l.cap
		}
		if p.sender == nil {
			x, err := c.pub.AddTransceiverFromTrack(local, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
			if err != nil {
				t.Fatal(err)
			}
			p.sender = x.Sender()
		} else if err := p.sender.AddEncoding(local); err != nil {
			t.Fatal(err)
		}
	}
	c.senders["cam"] = p.sender
	for _, i := range layers {
		c.wg.Add(1)
		go p.readRTCP(layerRIDs[i])
	}
	c.publish(true, false) // the microphone; negotiates the camera too
	for _, x := range c.pub.GetTransceivers() {
		if x.Sender() == p.sender {
			p.mid = x.Mid()
		}
	}
	params := p.sender.GetParameters()
	for _, e := range params.HeaderExtensions {
		switch e.URI {
		case sdp.SDESMidURI:
			p.midID = uint8(e.ID)
		case sdp.SDESRTPStreamIDURI:
			p.ridID = uint8(e.ID)
		case sdp.SDESRepairRTPStreamIDURI:
			p.rridID = uint8(e.ID)
		}
	}
	for _, enc := range params.Encodings {
		p.ssrcs.Store(uint32(enc.SSRC), layerOfRID(enc.RID))
	}
	if p.midID == 0 || p.ridID == 0 {
		t.Fatalf("MID/RID extensions not negotiated: %+v", params.HeaderExtensions)
	}
	c.wg.Add(1)
	go p.run()

	return p
}

// readRTCP reads one encoding's RTCP: keyframe requests become a keyframe on the layer asked
// for, NACKs retransmissions (ownRepair).
func (p *simPublisher) readRTCP(rid string) {
	defer p.wg.Done()
	for {
		pkts, _, err := p.sender.ReadSimulcastRTCP(rid)
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			var ssrc uint32
			switch x := pkt.(type) {
			case *rtcp.PictureLossIndication:
				ssrc = x.MediaSSRC
			case *rtcp.FullIntraRequest:
				ssrc = x.MediaSSRC
			case *rtcp.TransportLayerNack:
				if i, ok := p.ssrcs.Load(x.MediaSSRC); ok && p.ownRepair && p.layers[i.(int)] != nil {
					for _, pair := range x.Nacks {
						for _, seq := range pair.PacketList() {
							p.repair(i.(int), seq)
						}
					}
				}

				continue
			default:
				continue
			}
			p.plisReceived.Add(1)
			if i, ok := p.ssrcs.Load(ssrc); ok && p.layers[i.(int)] != nil {
				p.layers[i.(int)].wantKey.Store(true)
			}
		}
	}
}

// repair resends a layer's packet on its RTX stream, as a browser does: the original sequence
// number first in the payload, the MID and the repaired RID in the header.
func (p *simPublisher) repair(layer int, seq uint16) {
	l := p.layers[layer]
	ws, _ := l.cap.ws.Load().(webrtc.TrackLocalWriter)
	if ws == nil || l.cap.rtx.Load() == 0 {
		return
	}
	l.mu.Lock()
	sp := l.history[seq%512]
	if sp.payload == nil || sp.seq != seq {
		l.mu.Unlock()

		return
	}
	l.rtxSeq++
	h := &rtp.Header{Version: 2, PayloadType: uint8(l.cap.rtxPT.Load()), SSRC: l.cap.rtx.Load(),
		SequenceNumber: l.rtxSeq, Timestamp: sp.ts, Marker: sp.marker}
	payload := append([]byte{byte(seq >> 8), byte(seq)}, sp.payload...)
	l.mu.Unlock()
	_ = h.SetExtension(p.midID, []byte(p.mid))
	_ = h.SetExtension(p.rridID, []byte(layerRIDs[layer]))
	if _, err := ws.WriteRTP(h, payload); err == nil {
		l.resent.Add(1)
	}
}

// payload builds packet k of a frame of parts packets on layer.
func (p *simPublisher) payload(l *simLayer, layer, k, parts int, key bool) []byte {
	if p.h264 {
		return simH264(l, layer, k, parts, key)
	}

	return simVP8(l, layer, k == 0, key)
}

// simH264 builds an H.264 payload (RFC 6184, packetization mode 1): a keyframe starts with a
// STAP-A of SPS and PPS and goes on as FU-A fragments of an IDR slice; other frames are FU-A
// fragments of a non-IDR slice. The bytes after the NAL headers follow a pattern of the layer,
// the frame and the packet (h264Pattern), so a subscriber can check they arrived untouched; the
// last byte names the layer.
func simH264(l *simLayer, layer, k, parts int, key bool) []byte {
	b := make([]byte, simSize[layer])
	start := 2
	switch {
	case key && k == 0: // STAP-A: SPS (4 bytes), PPS (3 bytes)
		copy(b, []byte{24, 0, 4, 0x67, 0x42, 0xe0, 0x1f, 0, 3, 0x68, 0xce, 0x3c})
		start = 12
	default:
		nal, s := byte(1), byte(0)
		if key {
			nal = 5
		}
		if (key && k == 1) || (!key && k == 0) {
			s = 0x80 // the slice's first fragment
		}
		e := byte(0)
		if k == parts-1 {
			e = 0x40
		}
		b[0], b[1] = 0x60|28, s|e|nal
	}
	for i := start; i < len(b)-1; i++ {
		b[i] = h264Pattern(layer, l.pic, k, i)
	}
	b[len(b)-1] = layerRIDs[layer][0]

	return b
}

// h264Pattern is byte i of packet k of frame pic on layer.
func h264Pattern(layer int, pic uint16, k, i int) byte { return byte(layer*31 + int(pic)*7 + k*13 + i) }

// simVP8 builds a VP8 payload: descriptor with a 15-bit picture id, TL0PICIDX and TID 0; on a
// frame's first packet the payload header (a keyframe's with its start code); the layer's name
// in the last byte.
func simVP8(l *simLayer, layer int, first, key bool) []byte {
	b := make([]byte, simSize[layer])
	b[0] = 0x80 // X
	if first {
		b[0] |= 0x10 // S, partition 0
	}
	b[1] = 0x80 | 0x40 | 0x20 // I, L, T
	b[2] = 0x80 | byte(l.pic>>8)
	b[3] = byte(l.pic)
	b[4] = l.tl0
	b[5] = 0x20 // TID 0, Y
	if first {
		b[6] = 0x01 // interframe
		if key {
			b[6] = 0x00
			copy(b[9:], []byte{0x9d, 0x01, 0x2a})
		}
	}
	b[len(b)-1] = layerRIDs[layer][0]

	return b
}

// run is the media clock: a frame on every layer every 40 ms (the microphone is sent by the
// harness's own clock).
func (p *simPublisher) run() {
	defer p.wg.Done()
	tick := time.NewTicker(40 * time.Millisecond)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		if p.paused.Load() {
			continue
		}
		for i, l := range p.layers {
			if l == nil {
				continue
			}
			l.ts += 3600
			l.pic = (l.pic + 1) & 0x7fff
			l.tl0++
			if !l.on.Load() {
				continue
			}
			key := n%100 == 0 || l.wantKey.Swap(false)
			if key {
				p.keysSent[i].Add(1)
			}
			parts := simPackets[i]
			if key {
				parts *= 3
			}
			for k := range parts {
				l.seq++
				pkt := &rtp.Packet{
					Header:  rtp.Header{Version: 2, SequenceNumber: l.seq, Timestamp: l.ts, Marker: k == parts-1},
					Payload: p.payload(l, i, k, parts, key),
				}
				_ = pkt.SetExtension(p.midID, []byte(p.mid))
				_ = pkt.SetExtension(p.ridID, []byte(layerRIDs[i]))
				l.mu.Lock()
				l.history[l.seq%512] = sentPacket{seq: l.seq, ts: l.ts, marker: pkt.Marker, payload: pkt.Payload}
				l.mu.Unlock()
				if err := l.tr.WriteRTP(pkt); err == nil {
					l.sent.Add(1)
				}
			}
		}
	}
}

// applyLayers turns layers on and off as the last publisherLayers signal says (dynacast).
func (p *simPublisher) applyLayers() {
	sigs := p.publisherSignals(SignalPublisherLayers)
	if len(sigs) == 0 {
		return
	}
	on := map[string]bool{}
	for _, rid := range sigs[len(sigs)-1].Layers {
		on[rid] = true
	}
	for i, l := range p.layers {
		if l != nil {
			l.on.Store(on[layerRIDs[i]])
		}
	}
}

// vidPacket is one video packet a subscriber received, as the continuity checks need it.
type vidPacket struct {
	ssrc     uint32
	seq      uint16
	ts       uint32
	padding  bool
	layer    byte
	pic      uint16
	tl0      uint8
	keyStart bool // the first packet of a keyframe
	at       time.Time
}

// simSubscriber records every video packet a client receives from one publisher.
type simSubscriber struct {
	*testClient
	from     string
	h264     bool
	mu       sync.Mutex
	pkts     []vidPacket
	audio    []audioPacket
	modified int // H.264 payloads that did not arrive as sent
}

// audioPacket is one audio packet a subscriber received.
type audioPacket struct {
	seq uint16
	at  time.Time
}

func newSimSubscriber(t *testing.T, s *SFU, room, id, from string, opts ...clientOptions) *simSubscriber {
	t.Helper()
	c := newTestClient(t, s, room, id, opts...)
	sub := &simSubscriber{testClient: c, from: from}
	c.mu.Lock()
	c.inspect = func(rt *recvTrack, p *rtp.Packet) {
		if rt.stream != from {
			return
		}
		if rt.kind == KindAudio {
			if len(p.Payload) >= 3 { // not padding: the publisher's number is in the payload
				sub.mu.Lock()
				sub.audio = append(sub.audio, audioPacket{seq: uint16(p.Payload[1])<<8 | uint16(p.Payload[2]), at: time.Now()})
				sub.mu.Unlock()
			}

			return
		}
		v := vidPacket{ssrc: p.SSRC, seq: p.SequenceNumber, ts: p.Timestamp, at: time.Now(), padding: p.Padding && len(p.Payload) == 0}
		modified := false
		switch {
		case v.padding || len(p.Payload) <= 12:
		case sub.h264:
			v.layer, v.keyStart = p.Payload[len(p.Payload)-1], isH264Keyframe(p.Payload)
			modified = !h264Intact(p.Payload)
		default:
			d := parseVP8(p.Payload)
			v.layer, v.pic, v.tl0 = p.Payload[len(p.Payload)-1], d.pic, d.tl0
			v.keyStart = isVP8Keyframe(p.Payload)
		}
		sub.mu.Lock()
		sub.pkts = append(sub.pkts, v)
		if modified {
			sub.modified++
		}
		sub.mu.Unlock()
	}
	c.mu.Unlock()

	return sub
}

// received returns a copy of what arrived so far.
func (s *simSubscriber) received() []vidPacket {
	s.mu.Lock()
	defer s.mu.Unlock()

	return append([]vidPacket(nil), s.pkts...)
}

// audioLoss counts the publisher's audio packets a subscriber never received, from the first it
// received at or after since to the last it received, by the number the publisher put in each
// payload (the subscriber's sequence numbers also count padding).
func (s *simSubscriber) audioLoss(since time.Time) (lost, total int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[uint16]bool{}
	var first, last uint16
	for _, a := range s.audio {
		if a.at.Before(since) {
			continue
		}
		if len(seen) == 0 {
			first, last = a.seq, a.seq
		}
		seen[a.seq] = true
		if int16(a.seq-first) < 0 {
			first = a.seq
		}
		if int16(a.seq-last) > 0 {
			last = a.seq
		}
	}
	if len(seen) == 0 {
		return 0, 0
	}
	total = int(last-first) + 1

	return total - len(seen), total
}

// lastLayers returns the layers of the last n media packets received.
func (s *simSubscriber) lastLayers(n int) string {
	pkts := s.received()
	out := make([]byte, 0, n)
	for i := len(pkts) - 1; i >= 0 && len(out) < n; i-- {
		if !pkts[i].padding {
			out = append(out, pkts[i].layer)
		}
	}

	return string(out)
}

// onLayer reports whether the last n media packets are all of layer.
func (s *simSubscriber) onLayer(layer byte, n int) bool {
	got := s.lastLayers(n)
	if len(got) < n {
		return false
	}
	for i := range len(got) {
		if got[i] != layer {
			return false
		}
	}

	return true
}

// checkContinuity checks a subscriber's video, packet by packet: one SSRC, sequence numbers
// that move on by one, timestamps that never go back (and move on with each new frame), picture
// ids and TL0PICIDX that move on by one with each new frame, and a keyframe first after every
// change of layer and at the start. A gap is allowed only as far as the server owes it: the
// packets missing (a late repair filling its gap) are no more than the server shed and the
// kernel dropped at the subscriber's sockets (see checkLossExplained); across a gap the picture
// id and TL0PICIDX may move on by as many as the packets missing. It returns the layers in the
// order they were received.
func checkContinuity(t *testing.T, s *SFU, sub *simSubscriber) string {
	t.Helper()

	return checkStream(t, s, sub, true)
}

// checkStream is checkContinuity, with the VP8 picture id checks when vp8 is set.
func checkStream(t *testing.T, s *SFU, sub *simSubscriber, vp8 bool) string {
	t.Helper()
	who, pkts := sub.id, sub.received()
	var layers []byte
	var prev *vidPacket // the previous media packet in order
	var last *vidPacket // the previous packet in order
	errs := 0
	fail := func(format string, args ...any) {
		t.Helper()
		if errs < 10 {
			t.Errorf(who+": "+format, args...)
		}
		errs++
	}
	missing := map[uint16]bool{}
	var highest uint16
	gap := 0 // packets missing since prev
	for i := range pkts {
		p := &pkts[i]
		if i > 0 {
			if p.ssrc != pkts[0].ssrc {
				fail("packet %d: SSRC %d after %d", i, p.ssrc, pkts[0].ssrc)
			}
			switch d := int16(p.seq - highest); {
			case d <= 0: // a repair arriving late, filling a gap
				if !missing[p.seq] {
					fail("packet %d: seq %d again (highest %d)", i, p.seq, highest)
				}
				delete(missing, p.seq)

				continue
			case d > 1:
				for s := highest + 1; s != p.seq; s++ {
					missing[s] = true
				}
				gap += int(d) - 1
			}
			if int32(p.ts-last.ts) < 0 {
				fail("packet %d: timestamp %d after %d", i, p.ts, last.ts)
			}
		}
		highest, last = p.seq, p
		if p.padding {
			continue
		}
		if prev == nil || p.layer != prev.layer {
			layers = append(layers, p.layer)
			if !p.keyStart && gap == 0 {
				fail("packet %d: layer %c starts without a keyframe", i, p.layer)
			}
		}
		if prev != nil && vp8 {
			dpic, dtl0 := int((p.pic-prev.pic)&0x7fff), int(p.tl0-prev.tl0)
			switch {
			case p.ts != prev.ts && gap == 0 && (dpic != 1 || dtl0 != 1):
				fail("packet %d (layer %c after %c): picture id %d/%d after %d/%d", i, p.layer, prev.layer, p.pic, p.tl0, prev.pic, prev.tl0)
			case p.ts != prev.ts && (dpic < 1 || dpic > gap+1 || dtl0 < 1 || dtl0 > gap+1):
				fail("packet %d (layer %c after %c, %d missing): picture id %d/%d after %d/%d", i, p.layer, prev.layer, gap, p.pic, p.tl0, prev.pic, prev.tl0)
			case p.ts == prev.ts && (dpic != 0 || dtl0 != 0):
				fail("packet %d: picture id %d/%d within a frame of %d/%d", i, p.pic, p.tl0, prev.pic, prev.tl0)
			}
		}
		prev, gap = p, 0
	}
	if errs > 10 {
		t.Errorf("%s: %d continuity errors in all", who, errs)
	}
	if len(missing) > 0 {
		// Read after the packets: a drop is counted before the gap it leaves shows.
		st := s.Stats()
		var shed uint64
		for _, r := range shedReasons {
			shed += st.PacketsDropped[r]
		}
		kernel := sub.net.kernelDrops(t)
		if uint64(len(missing)) > shed+kernel {
			t.Errorf("%s: %d video packets missing, more than the %d the server shed and the %d the kernel dropped at the subscriber (drops %v)",
				who, len(missing), shed, kernel, st.PacketsDropped)
		}
		t.Logf("%s: %d video packets missing; shed by the server %d, kernel drops at the subscriber %d", who, len(missing), shed, kernel)
	}

	return string(layers)
}

// setQuality asks for a quality until the subscriber's track exists.
func setQuality(t *testing.T, s *SFU, room, sub, pub string, q Quality) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%s setting %s's camera to %s", sub, pub, q), func() bool {
		return s.SetVideoQuality(room, sub, pub, SourceCamera, q) == nil
	})
}

// stripVideoSSRCs removes the a=ssrc and a=ssrc-group lines of an offer's video sections.
func stripVideoSSRCs(offer string) string {
	var out []string
	video := false
	for _, l := range strings.Split(offer, "\r\n") {
		if strings.HasPrefix(l, "m=") {
			video = strings.HasPrefix(l, "m=video")
		}
		if !video || !strings.HasPrefix(l, "a=ssrc") {
			out = append(out, l)
		}
	}

	return strings.Join(out, "\r\n")
}

// h264Intact reports whether an H.264 payload of the test publisher arrived as it was sent: its
// bytes after the NAL headers follow the pattern of some frame and packet of its layer.
func h264Intact(b []byte) bool {
	layer := layerOfRID(string(b[len(b)-1:]))
	start := 2
	if b[0]&0x1f == 24 {
		start = 12
	}
	if layer < 0 || len(b) != simSize[layer] || len(b) < start+3 {
		return false
	}
	// pattern(i) = base + i for a base of the frame and packet: every byte one more than the last.
	for i := start + 1; i < len(b)-1; i++ {
		if b[i] != b[i-1]+1 {
			return false
		}
	}

	return true
}
