package sfu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"
	"go.uber.org/goleak"

	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/internal/loopback"
)

// Pion's SRTP reader can block for good handing a new SSRC to a PeerConnection that stopped
// accepting streams while closing (pion/webrtc's undeclaredRTPMediaProcessor returns when the
// SRTCP session closed first; pion/srtp's decrypt then sends on newStream with no receiver): a
// goroutine of Pion's, after our Close returned, that this code cannot reach.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/pion/srtp/v3.(*SessionSRTP).decrypt"))
}

// waitTimeout bounds every wait on a condition: generous for a loaded 2-core machine under -race.
const waitTimeout = await.Limit

// waitFor is the project's one wait on a condition (await.Until).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	await.Until(t, what, cond)
}

// newTestSFU starts an SFU on loopback, closed (and checked for leaks) when the test ends.
func newTestSFU(t testing.TB) *SFU {
	t.Helper()
	if tt, ok := t.(*testing.T); ok {
		t.Cleanup(func() { goleak.VerifyNone(tt) }) // registered first: runs after every other cleanup
	}
	var log *slog.Logger
	if testing.Verbose() && os.Getenv("SFU_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := New(Config{LoopbackOnly: true, Logger: log, BatchWrites: testBatchWrites})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close sfu: %v", err)
		}
	})

	return s
}

// pause is a stretch without packets seen by a receiver.
type pause struct {
	wall     time.Duration
	tsDelta  uint32
	seqDelta uint16
	keyframe bool // the first packet after it starts a VP8 keyframe
}

// recvTrack counts what a client receives on one track.
type recvTrack struct {
	id, stream string
	kind       Kind
	packets    int
	gaps       int // sequence numbers that did not follow the previous one
	lastSeq    uint16
	lastTS     uint32
	lastAt     time.Time
	pauses     []pause
	seen       map[uint16]bool
	ended      bool
	firstKey   bool // the first packet received started a VP8 keyframe
	padding    int  // padding-only packets (bandwidth probes): in the sequence, not media
}

type streamKey struct {
	stream string
	kind   Kind
}

// clientOptions adjust a test client.
type clientOptions struct {
	// receiveDropper drops the first copy of chosen incoming VP8 packets at the client's UDP socket,
	// before SRTP, as a lossy network would (a retransmission then is not a replay).
	receiveDropper func(seq uint16) bool
	// sendDropper drops the first copy of chosen outgoing VP8 packets after the client's NACK
	// responder has kept them, so the server's NACK brings them back.
	sendDropper func(seq uint16) bool
	// holdable gives the client a socket whose incoming RTP a test can hold back (testClient.hold).
	holdable bool
	// sink makes the client's UDP socket discard every RTP packet unread (counted), for benchmarks:
	// the server still encrypts and writes each one, but the client spends nothing on them.
	sink bool
	// shaper puts a bottleneck on the client's receive path.
	shaper *shapedConn
	// ownRepair leaves NACKs to the test's publisher (no Pion NACK responder).
	ownRepair bool
}

// testClient is a participant: a publisher and a subscriber Pion connection wired to a Peer.
type testClient struct {
	t    testing.TB
	id   string
	peer *Peer
	pub  *webrtc.PeerConnection
	sub  *webrtc.PeerConnection
	net  *clientNet
	mux  ice.UDPMux // the client's own socket when it simulates loss or sinks
	sink *sinkConn
	hold *holdConn

	sigMu     sync.Mutex
	sigs      []Signal
	sigKick   chan struct{}
	pubSignal []Signal // signals about the publisher connection (publisherLayers, sources)
	pubAt     []time.Time

	mu      sync.Mutex
	tracks  map[string]*recvTrack // by stream, track id and arrival
	nTracks int
	inspect func(rt *recvTrack, p *rtp.Packet) // sees every packet received, under mu

	audio, video         atomic.Pointer[webrtc.TrackLocalStaticRTP]
	senders              map[string]*webrtc.RTPSender // by local track id; only the test goroutine
	clockOnce            sync.Once
	paused               atomic.Bool // the media clock runs but sends nothing
	lastVideoSeq         atomic.Uint32
	lastVideoTS          atomic.Uint32
	audioSent, videoSent atomic.Int64
	plisReceived         atomic.Int64
	offers               atomic.Int64 // subscriber offers received
	wantKeyframe         atomic.Bool

	// offerFilter, when set, rewrites the publisher offer before the server sees it.
	offerFilter func(string) string
	// sources, when set, names the offer's sections (by the local track ids of their senders).
	sources map[string]Source

	stop      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// newTestClient joins room as id with real Pion connections restricted to loopback.
func newTestClient(t testing.TB, s *SFU, room, id string, opts ...clientOptions) *testClient {
	t.Helper()
	var o clientOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if o.sendDropper != nil {
		d := &dropper{send: o.sendDropper, seen: map[uint32]map[uint16]bool{}}
		ir.Add(dropperFactory{d}) // first: closest to the network
	}
	switch {
	case o.ownRepair: // Pion's defaults without its NACK responder
		err := webrtc.ConfigureRTCPReports(ir)
		if err == nil {
			err = webrtc.ConfigureSimulcastExtensionHeaders(me)
		}
		if err == nil {
			err = webrtc.ConfigureTWCCSender(me, ir)
		}
		if err != nil {
			t.Fatal(err)
		}
	case !o.sink: // a sink never reads RTP: its interceptors would only add background work
		if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
			t.Fatal(err)
		}
	}
	var se webrtc.SettingEngine
	loopback.Configure(&se)
	nw, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	cn := &clientNet{Net: nw}
	se.SetNet(cn)
	var mux ice.UDPMux
	if o.receiveDropper != nil {
		conn := cn.listen(t)
		mux = ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: &lossyConn{PacketConn: conn, drop: o.receiveDropper, seen: map[uint16]bool{}}})
		se.SetICEUDPMux(mux)
	}
	if o.shaper != nil {
		o.shaper.start(cn.listen(t))
		mux = ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: o.shaper})
		se.SetICEUDPMux(mux)
	}
	var hold *holdConn
	if o.holdable {
		conn := cn.listen(t)
		hold = &holdConn{PacketConn: conn}
		mux = ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: hold})
		se.SetICEUDPMux(mux)
	}
	var sink *sinkConn
	if o.sink {
		conn := cn.listen(t)
		sink = &sinkConn{UDPConn: conn}
		mux = ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: sink})
		se.SetICEUDPMux(mux)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))

	c := &testClient{t: t, id: id, net: cn, mux: mux, sink: sink, hold: hold, senders: map[string]*webrtc.RTPSender{}, sigKick: make(chan struct{}, 1), tracks: map[string]*recvTrack{}, stop: make(chan struct{})}
	if c.pub, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		t.Fatal(err)
	}
	if c.sub, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	if c.peer, err = s.Join(room, id, c.onSignal); err != nil {
		t.Fatal(err)
	}
	c.pub.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand != nil {
			if err := c.peer.AddCandidate(TargetPublisher, cand.ToJSON()); err != nil && !errors.Is(err, ErrClosed) {
				t.Errorf("%s: publisher candidate: %v", id, err)
			}
		}
	})
	c.sub.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand != nil {
			if err := c.peer.AddCandidate(TargetSubscriber, cand.ToJSON()); err != nil && !errors.Is(err, ErrClosed) {
				t.Errorf("%s: subscriber candidate: %v", id, err)
			}
		}
	})
	c.sub.OnTrack(c.onTrack)
	c.wg.Add(1)
	go c.handleSignals()

	return c
}

// onSignal is the Peer's send: it must not block, so signals are queued.
func (c *testClient) onSignal(s Signal) {
	c.sigMu.Lock()
	c.sigs = append(c.sigs, s)
	c.sigMu.Unlock()
	select {
	case c.sigKick <- struct{}{}:
	default:
	}
}

func (c *testClient) handleSignals() {
	defer c.wg.Done()
	for {
		select {
		case <-c.stop:
			return
		case <-c.sigKick:
		}
		c.sigMu.Lock()
		sigs := c.sigs
		c.sigs = nil
		c.sigMu.Unlock()
		for _, s := range sigs {
			c.handleSignal(s)
		}
	}
}

func (c *testClient) handleSignal(s Signal) {
	select {
	case <-c.stop:
		return // closing: the connections may be gone
	default:
	}
	if s.Type == SignalPublisherLayers || s.Type == SignalSources {
		if s.Target != TargetPublisher {
			c.t.Errorf("%s: %s signal for %q", c.id, s.Type, s.Target)
		}
		c.sigMu.Lock()
		c.pubSignal = append(c.pubSignal, s)
		c.pubAt = append(c.pubAt, time.Now())
		c.sigMu.Unlock()

		return
	}
	if s.Target != TargetSubscriber {
		c.t.Errorf("%s: signal for %q", c.id, s.Target)

		return
	}
	switch s.Type {
	case "offer":
		// A renegotiation must not reach a client before its connection's transports started (see
		// Peer.negotiate): Pion would take it for an ICE restart.
		if c.offers.Add(1) > 1 && c.sub.ICEConnectionState() == webrtc.ICEConnectionStateNew {
			c.fail("subscriber renegotiation offer before the connection's ICE transport started")
		}
		if err := c.sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: s.SDP}); err != nil {
			c.fail("apply subscriber offer: %v", err)

			return
		}
		answer, err := c.sub.CreateAnswer(nil)
		if err == nil {
			err = c.sub.SetLocalDescription(answer)
		}
		if err == nil {
			err = c.peer.Answer(answer.SDP)
		}
		if err != nil && !errors.Is(err, ErrClosed) {
			c.fail("answer subscriber offer: %v", err)
		}
	case "candidate":
		if s.Candidate.Candidate == "" {
			return
		}
		if err := c.sub.AddICECandidate(*s.Candidate); err != nil {
			c.fail("subscriber candidate: %v", err)
		}
	default:
		c.t.Errorf("%s: unknown signal %q", c.id, s.Type)
	}
}

// fail reports an error unless the client is being closed (then its connections may be gone).
func (c *testClient) fail(format string, args ...any) {
	select {
	case <-c.stop:
	default:
		c.t.Errorf(c.id+": "+format, args...)
	}
}

// publish adds Opus and/or VP8 tracks to the publisher connection, negotiates, and runs the media
// clock (started once; it sends on whatever tracks are published at each tick).
func (c *testClient) publish(audio, video bool) {
	c.t.Helper()
	add := func(capability webrtc.RTPCodecCapability, id string) *webrtc.TrackLocalStaticRTP {
		tr, err := webrtc.NewTrackLocalStaticRTP(capability, id, "client-stream-"+c.id)
		if err != nil {
			c.t.Fatal(err)
		}
		x, err := c.pub.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			c.t.Fatal(err)
		}
		c.senders[id] = x.Sender()
		c.wg.Add(1)
		go c.readSenderRTCP(x.Sender())

		return tr
	}
	if audio {
		c.audio.Store(add(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic"))
	}
	if video {
		c.video.Store(add(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "cam"))
	}
	c.negotiatePublisher()
	c.clockOnce.Do(func() {
		c.wg.Add(1)
		go c.sendMedia()
	})
}

// unpublishVideo stops sending the camera and renegotiates.
func (c *testClient) unpublishVideo() {
	c.t.Helper()
	c.video.Store(nil)
	if err := c.pub.RemoveTrack(c.senders["cam"]); err != nil {
		c.t.Fatal(err)
	}
	delete(c.senders, "cam")
	c.negotiatePublisher()
}

// negotiatePublisher makes an offer, hands it to the Peer and applies the answer.
func (c *testClient) negotiatePublisher() {
	c.t.Helper()
	offer, err := c.pub.CreateOffer(nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.pub.SetLocalDescription(offer); err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	sdp := offer.SDP
	if c.offerFilter != nil {
		sdp = c.offerFilter(sdp)
	}
	var sources map[string]Source
	if c.sources != nil {
		sources = map[string]Source{}
		for _, x := range c.pub.GetTransceivers() {
			if tr := x.Sender().Track(); tr != nil && c.sources[tr.ID()] != "" {
				sources[x.Mid()] = c.sources[tr.ID()]
			}
		}
	}
	answer, err := c.peer.OfferSources(ctx, sdp, sources)
	if err != nil {
		c.t.Fatalf("%s: publisher offer: %v", c.id, err)
	}
	if err := c.pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		c.t.Fatal(err)
	}
}

// readSenderRTCP notes keyframe requests from the server.
func (c *testClient) readSenderRTCP(s *webrtc.RTPSender) {
	defer c.wg.Done()
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				c.plisReceived.Add(1)
				c.wantKeyframe.Store(true)
			}
		}
	}
}

// vp8Payload builds one VP8 packet payload with a real payload descriptor (X=1, I=1 with a 15-bit
// picture id); only the first packet of a frame has S=1 and the VP8 payload header.
func vp8Payload(pictureID uint16, first, keyframe bool, size int) []byte {
	p := make([]byte, size)
	p[0] = 0x80 // X
	if first {
		p[0] |= 0x10 // S, PID 0
	}
	p[1] = 0x80 // I
	p[2] = 0x80 | byte(pictureID>>8&0x7f)
	p[3] = byte(pictureID)
	if first {
		p[4] = 0x01 // P=1: interframe
		if keyframe {
			p[4] = 0x00
			copy(p[7:], []byte{0x9d, 0x01, 0x2a}) // keyframe start code
		}
	}

	return p
}

// sendMedia is the synthetic media clock: Opus every 20 ms, a VP8 frame every 40 ms, a keyframe
// first, every 2 s and after a PLI.
func (c *testClient) sendMedia() {
	defer c.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var aSeq, vSeq, pictureID uint16 = 1000, 5000, 0
	var aTS, vTS uint32 = 100000, 200000
	opus := make([]byte, 80)
	for n := 0; ; n++ {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		if c.paused.Load() {
			continue
		}
		audio, video := c.audio.Load(), c.video.Load()
		if audio != nil {
			aSeq++
			aTS += 960
			opus[0] = 0x78
			opus[1], opus[2] = byte(aSeq>>8), byte(aSeq) // the publisher's number, for loss counts
			if err := audio.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: aSeq, Timestamp: aTS}, Payload: opus}); err == nil {
				c.audioSent.Add(1)
			}
		}
		if video == nil || n%2 != 0 {
			continue
		}
		vTS += 3600
		pictureID = (pictureID + 1) & 0x7fff
		key := n%100 == 0 || c.wantKeyframe.Swap(false)
		parts := 1
		if key {
			parts = 3
		}
		for i := range parts {
			vSeq++
			pkt := &rtp.Packet{
				Header:  rtp.Header{Version: 2, SequenceNumber: vSeq, Timestamp: vTS, Marker: i == parts-1},
				Payload: vp8Payload(pictureID, i == 0, key, 600),
			}
			if err := video.WriteRTP(pkt); err == nil {
				c.videoSent.Add(1)
			}
			c.lastVideoSeq.Store(uint32(vSeq))
			c.lastVideoTS.Store(vTS)
		}
	}
}

// onTrack counts every packet of a forwarded track.
func (c *testClient) onTrack(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	kind := KindAudio
	if tr.Kind() == webrtc.RTPCodecTypeVideo {
		kind = KindVideo
	}
	if tr.ID() == "" && tr.StreamID() == "" {
		// Pion's guess for a packet of a track a renegotiation just removed, which was on its
		// way (a browser drops it): no track the server sent.
		c.t.Logf("%s: ignoring a packet of SSRC %d, which no section declares", c.id, tr.SSRC())

		return
	}
	rt := &recvTrack{id: tr.ID(), stream: tr.StreamID(), kind: kind, seen: map[uint16]bool{}}
	if rt.id == "" || rt.stream == "" {
		// Pion makes such a track of packets whose SSRC its remote description does not declare
		// (it guesses the m-section by payload type): the server sent media it did not offer.
		c.t.Errorf("%s: %s track with id %q, stream %q (ssrc %d)", c.id, kind, rt.id, rt.stream, tr.SSRC())
	}
	c.mu.Lock()
	for _, old := range c.tracks {
		if old.stream == rt.stream && old.id == rt.id && !old.ended {
			c.t.Errorf("%s: track %s of %s received twice", c.id, tr.ID(), tr.StreamID())
		}
	}
	c.nTracks++
	c.tracks[fmt.Sprintf("%s/%s/%d", rt.stream, rt.id, c.nTracks)] = rt
	c.mu.Unlock()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					c.t.Logf("%s: track %s read: %v", c.id, tr.ID(), err)
				}
				c.mu.Lock()
				rt.ended = true
				c.mu.Unlock()

				return
			}
			c.record(rt, p)
		}
	}()
}

func (c *testClient) record(rt *recvTrack, p *rtp.Packet) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inspect != nil {
		c.inspect(rt, p)
	}
	if p.Padding && len(p.Payload) == 0 { // a probe's padding: it only takes a sequence number
		rt.padding++
		rt.seen[p.SequenceNumber] = true
		if rt.packets > 0 && int16(p.SequenceNumber-rt.lastSeq) > 0 {
			if p.SequenceNumber-rt.lastSeq != 1 {
				rt.gaps++
			}
			rt.lastSeq = p.SequenceNumber
		}

		return
	}
	if rt.packets > 0 && !rt.seen[p.SequenceNumber] {
		d := p.SequenceNumber - rt.lastSeq
		if d != 1 && int16(d) > 0 {
			rt.gaps++
		}
		if wall := now.Sub(rt.lastAt); wall > 300*time.Millisecond && int16(d) > 0 {
			rt.pauses = append(rt.pauses, pause{wall: wall, tsDelta: p.Timestamp - rt.lastTS, seqDelta: d,
				keyframe: rt.kind == KindVideo && isVP8Keyframe(p.Payload)})
		}
	}
	if rt.packets == 0 {
		rt.firstKey = rt.kind == KindVideo && isVP8Keyframe(p.Payload)
	}
	rt.packets++
	rt.seen[p.SequenceNumber] = true
	if rt.packets == 1 || int16(p.SequenceNumber-rt.lastSeq) > 0 {
		rt.lastSeq, rt.lastTS, rt.lastAt = p.SequenceNumber, p.Timestamp, now
	}
}

// publisherSignals returns the signals about c's publisher connection of one type so far.
func (c *testClient) publisherSignals(typ string) []Signal {
	out, _ := c.publisherSignalTimes(typ)

	return out
}

// publisherSignalTimes is publisherSignals with when each was handed to the client.
func (c *testClient) publisherSignalTimes(typ string) ([]Signal, []time.Time) {
	c.sigMu.Lock()
	defer c.sigMu.Unlock()
	var out []Signal
	var at []time.Time
	for i, s := range c.pubSignal {
		if s.Type == typ {
			out = append(out, s)
			at = append(at, c.pubAt[i])
		}
	}

	return out, at
}

// packets counts what arrived from stream (a participant id) of kind, over all its tracks.
func (c *testClient) packets(stream string, kind Kind) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, rt := range c.tracks {
		if rt.stream == stream && rt.kind == kind {
			n += rt.packets
		}
	}

	return n
}

// streams lists the (stream, kind) pairs received, with their track ids.
func (c *testClient) streams() map[streamKey][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[streamKey][]string{}
	for _, rt := range c.tracks {
		k := streamKey{rt.stream, rt.kind}
		out[k] = append(out[k], rt.id)
	}

	return out
}

// track returns a copy of the stats of the only track live from stream of kind.
func (c *testClient) track(stream string, kind Kind) (recvTrack, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rt := range c.tracks {
		if rt.stream == stream && rt.kind == kind && !rt.ended {
			cp := *rt
			cp.pauses = append([]pause(nil), rt.pauses...)
			cp.seen = make(map[uint16]bool, len(rt.seen))
			for k, v := range rt.seen {
				cp.seen[k] = v
			}

			return cp, true
		}
	}

	return recvTrack{}, false
}

// repairWindow is how many of a video stream's newest sequence numbers may still be missing for
// a NACK repair on its way.
const repairWindow = 20

// missing counts the sequence numbers c never received between the first and the last it got of
// each track, the newest repairWindow of a video track left out.
func (c *testClient) missing() (audio, video int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rt := range c.tracks {
		if rt.packets == 0 {
			continue
		}
		first := rt.lastSeq
		for seq := range rt.seen {
			if int16(seq-first) < 0 {
				first = seq
			}
		}
		end := rt.lastSeq + 1
		if rt.kind == KindVideo {
			end -= repairWindow
		}
		for seq := first; int16(end-seq) > 0; seq++ {
			if !rt.seen[seq] {
				if rt.kind == KindVideo {
					video++
				} else {
					audio++
				}
			}
		}
	}

	return audio, video
}

// shedReasons are the drops of the server's documented shedding under load (delay.go, lane.go):
// a packet that waited too long, a writer lane's full queue, a packet evicted from the cache
// before a late lane got to it.
var shedReasons = []string{"late", "queue_full", "cache_miss"}

// startReasons are drops before a subscriber's stream starts: the track is not bound yet, or video
// waits for its first keyframe. They leave no gap (the receiver has no packet before them).
var startReasons = []string{"not_bound", "wait_keyframe"}

// lossAccount counts what the receivers miss, and what may explain it: what the server shed and
// what the kernel dropped at the receivers' sockets (not the server's doing; their buffers make it
// rare). The counters are read after the receivers: a drop is counted before the gap it leaves
// shows.
func lossAccount(t *testing.T, s *SFU, receivers []*testClient) (audio, video int, shed, kernel uint64, st Stats) {
	for _, c := range receivers {
		a, v := c.missing()
		audio, video = audio+a, video+v
	}
	st = s.Stats()
	for _, r := range shedReasons {
		shed += st.PacketsDropped[r]
	}
	for _, c := range receivers {
		kernel += c.net.kernelDrops(t)
	}

	return audio, video, shed, kernel, st
}

// checkLossExplained checks what the server owes its subscribers however busy the machine: it
// dropped nothing for a reason other than shedding, a stream's start and the reasons the test
// allows (e.g. "muted" when it closes a gate), and the receivers miss no more packets than the
// server shed (on loopback, what the server forwards arrives, unless the receiver's own socket
// overflowed: counted too).
func checkLossExplained(t *testing.T, s *SFU, receivers []*testClient, allowed ...string) {
	t.Helper()
	audio, video, shed, kernel, st := lossAccount(t, s, receivers)
	checkDropReasons(t, st, allowed...)
	if uint64(audio+video) > shed+kernel {
		t.Errorf("receivers miss %d audio and %d video packets, more than the %d the server shed and the %d the kernel dropped at them (drops: %v)",
			audio, video, shed, kernel, st.PacketsDropped)
	}
	t.Logf("missing at the receivers: %d audio, %d video; shed by the server: %d; kernel drops at the receivers: %d; drops %v",
		audio, video, shed, kernel, st.PacketsDropped)
}

// checkDropReasons wants no drop but for shedding, a stream's start, or a reason allowed.
func checkDropReasons(t *testing.T, st Stats, allowed ...string) {
	t.Helper()
	ok := map[string]bool{}
	for _, r := range append(append(append([]string(nil), shedReasons...), startReasons...), allowed...) {
		ok[r] = true
	}
	for reason, n := range st.PacketsDropped {
		if n > 0 && !ok[reason] {
			t.Errorf("%d packets dropped as %q (drops: %v)", n, reason, st.PacketsDropped)
		}
	}
}

// allEnded reports whether every track from stream has been removed by renegotiation.
func (c *testClient) allEnded(stream string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rt := range c.tracks {
		if rt.stream == stream && !rt.ended {
			return false
		}
	}

	return true
}

// close stops the media and both connections, and waits for the client's goroutines.
func (c *testClient) close() {
	c.closeOnce.Do(func() {
		close(c.stop)
		_ = c.pub.Close()
		_ = c.sub.Close()
		c.wg.Wait()
		if c.mux != nil {
			_ = c.mux.Close()
		}
	})
}

// waitReceiving waits until c got at least n packets of each kind from every publisher in from.
func (c *testClient) waitReceiving(t testing.TB, n int, from ...*testClient) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for _, f := range from {
		for c.packets(f.id, KindAudio) < n || c.packets(f.id, KindVideo) < n {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s receiving %d packets of each kind from %s: audio %d, video %d, tracks %v",
					c.id, n, f.id, c.packets(f.id, KindAudio), c.packets(f.id, KindVideo), c.streams())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
