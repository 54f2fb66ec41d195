package sfu

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley/sfu/rtcpscan"
)

// BenchmarkForwardSimulcast measures the forwarding path of one three-layer VP8 track to subs
// subscribers spread over the layers, without SRTP and sockets (bindings discard), as
// BenchmarkForwardNoIO does for one layer: the layers' packets in the proportions a browser
// sends them (f:h:q = 7:3:1), each through its reader's cache and the writer lanes to the
// subscribers of its layer, with the sequence number, timestamp and VP8 picture id rewriting,
// the TWCC sequence and the estimator's send record. ns/op is per published packet. With
// switch=true every subscriber moves to another layer every 250 packets (at the next keyframe).
func BenchmarkForwardSimulcast(b *testing.B) {
	for _, n := range []int{3, 30} {
		for _, switching := range []bool{false, true} {
			b.Run(fmt.Sprintf("subs=%d/switch=%v", n, switching), func(b *testing.B) { benchSimulcast(b, n, switching) })
		}
	}
}

// simBench is a simulcast track driven directly, with its subscribers.
type simBench struct {
	t      *upTrack
	lanes  []*lane // the writer lanes, once every subscriber is on one
	downs  []*downTrack
	raw    [numLayers][]byte
	seq    [numLayers]uint16
	ts     [numLayers]uint32
	pic    [numLayers]uint16
	p      rtp.Packet
	writer *discardWriter
}

func newSimBench(b *testing.B, n int) *simBench {
	var gate atomic.Bool
	gate.Store(true)
	vp8 := webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
		PayloadType:        96,
	}
	decl := sectionDecl{mid: "1", kind: KindVideo, source: SourceCamera, layers: 1<<layerQ | 1<<layerH | 1<<layerF}
	sb := &simBench{t: newUpTrack("camera-1", nil, decl, &gate, vp8), writer: &discardWriter{}}
	for i := range numLayers {
		sb.t.addLayer(newUpLayer(sb.t, i, layerRIDs[i], uint32(100+i)))
		sb.seq[i], sb.ts[i], sb.pic[i] = uint16(1000*i), uint32(90000*i), uint16(300*i)
	}
	b.Cleanup(func() {
		close(sb.t.done)
		sb.t.writersWG.Wait()
	})
	sub := &Peer{
		s: &SFU{counters: newCounters()}, bwe: newEstimator(newCounters()),
		resendBudget: newResendBudget(DefaultResendBytesPerSecond),
	} // what the write path needs of a subscriber
	for i := range n {
		d := newDownTrack(sb.t, sub)
		d.target.Store(int32(i % numLayers))
		if !sb.t.addDown(d) {
			b.Fatal("addDown")
		}
		d.binding.Store(&binding{ws: sb.writer, ssrc: uint32(1000 + i), clock: 90000, pt: 100, twccID: 3})
		sb.downs = append(sb.downs, d)
	}
	sb.t.updateNeeds()
	sb.lanes = sb.t.allLanes()[1:]

	return sb
}

// send hands one packet of layer to its reader's path.
func (sb *simBench) send(layer int, key, marker bool) {
	sb.seq[layer]++
	if marker {
		sb.ts[layer] += 3600
		sb.pic[layer] = (sb.pic[layer] + 1) & 0x7fff
	}
	if sb.raw[layer] == nil {
		raw, err := (&rtp.Packet{
			Header:  rtp.Header{Version: 2, PayloadType: 96, SSRC: uint32(100 + layer)},
			Payload: vp8Payload(0, true, false, 1100),
		}).Marshal()
		if err != nil {
			panic(err)
		}
		sb.raw[layer] = raw
	}
	raw := sb.raw[layer]
	raw[1] = 96
	if marker {
		raw[1] |= 0x80
	}
	binary.BigEndian.PutUint16(raw[2:], sb.seq[layer])
	binary.BigEndian.PutUint32(raw[4:], sb.ts[layer])
	pl := raw[12:]
	pl[0] = 0x90 // X, S
	pl[2], pl[3] = 0x80|byte(sb.pic[layer]>>8), byte(sb.pic[layer])
	pl[4] = 0x01
	if key {
		pl[4] = 0x00
	}
	now := monoNow()
	sb.t.layer(layer).handle(raw, &sb.p, now, now)
}

// pace waits while a writer lane's queue is more than half full, as a network paces a reader.
func (sb *simBench) pace() {
	for _, l := range sb.lanes {
		for len(l.queue) > cap(l.queue)/2 {
			runtime.Gosched()
		}
	}
}

// drain waits until every lane has written what it was given: its queue is empty and it is not
// between taking an item and writing it (it marks busy only once it forwards, so look twice).
func (sb *simBench) drain() {
	for range 2 {
		for _, l := range sb.lanes {
			for len(l.queue) > 0 || l.busy.Load()&1 == 1 {
				runtime.Gosched()
			}
		}
		time.Sleep(time.Millisecond)
	}
}

// benchOrder is one round of packets by layer: f:h:q = 7:3:1.
var benchOrder = [...]int{layerF, layerF, layerH, layerF, layerF, layerQ, layerF, layerH, layerF, layerF, layerH}

func benchSimulcast(b *testing.B, n int, switching bool) {
	sb := newSimBench(b, n)
	// Warm up: a keyframe on every layer starts every subscriber, then enough packets that every
	// cache slot has held one.
	for i := range numLayers {
		sb.send(i, true, true)
	}
	for range videoCacheSize + 1 {
		for i := range numLayers {
			sb.send(i, false, true)
			sb.pace()
		}
	}
	sb.drain()
	for _, d := range sb.downs {
		if !d.started {
			b.Fatalf("a subscriber of layer %d never started", d.target.Load())
		}
	}
	fwd0 := laneForwarded(sb.t)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		layer := benchOrder[i%len(benchOrder)]
		key := false
		if switching && i%250 == 0 {
			for j, d := range sb.downs {
				d.target.Store(int32((j + i/250) % numLayers))
			}
		}
		if switching && i%250 < len(benchOrder) {
			key = true // each layer's next frame is a keyframe after a switch
		}
		sb.send(layer, key, true)
		sb.pace()
	}
	sb.drain()
	b.StopTimer()
	if fwd := laneForwarded(sb.t) - fwd0; fwd == 0 {
		var drops [numDropReasons]uint64
		for _, l := range sb.t.allLanes() {
			for r := range drops {
				drops[r] += l.c.dropped[r].Load()
			}
		}
		b.Fatalf("nothing forwarded of %d; drops %v", b.N, drops)
	} else {
		b.ReportMetric(float64(fwd)/float64(b.N), "fwd/op")
	}
	if switching {
		b.ReportMetric(float64(sb.t.ctr.switches.Load())/float64(b.N), "switches/op")
	}
}

// laneForwarded sums the track's forwarded counters.
func laneForwarded(t *upTrack) uint64 {
	var n uint64
	for _, l := range t.allLanes() {
		n += l.c.forwarded.Load()
	}

	return n
}

// BenchmarkGCCSendPath measures what pion/interceptor's send-side bandwidth estimator (pkg/gcc,
// which pkg/cc wraps) costs per packet sent, with the pacer that sends at once (NoOpPacer):
// the per-packet path a forwarder would go through for every packet to every subscriber. The
// estimator here (bwe.go) records a packet with one atomic store (BenchmarkEstimatorSendPath).
func BenchmarkGCCSendPath(b *testing.B) {
	bwe, err := gcc.NewSendSideBWE(gcc.SendSideBWEPacer(gcc.NewNoOpPacer()))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = bwe.Close() }()
	info := &interceptor.StreamInfo{SSRC: 1, RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: transportCCURI, ID: 3}}}
	w := bwe.AddStream(info, interceptor.RTPWriterFunc(func(h *rtp.Header, p []byte, _ interceptor.Attributes) (int, error) {
		return len(p), nil
	}))
	h := &rtp.Header{Version: 2, SSRC: 1, PayloadType: 96}
	ext := make([]byte, 2)
	payload := make([]byte, 1100)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.SequenceNumber = uint16(i)
		binary.BigEndian.PutUint16(ext, uint16(i))
		h.Extensions = h.Extensions[:0]
		_ = h.SetExtension(3, ext)
		if _, err := w.Write(h, payload, nil); err != nil {
			b.Fatal(err)
		}
		if i%100 == 99 { // feedback now and then, as a subscriber sends it
			fb := &rtcp.TransportLayerCC{BaseSequenceNumber: uint16(i - 99), PacketStatusCount: 100, ReferenceTime: uint32(i / 100),
				PacketChunks: []rtcp.PacketStatusChunk{&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketReceivedSmallDelta, RunLength: 100}}}
			for range 100 {
				fb.RecvDeltas = append(fb.RecvDeltas, &rtcp.RecvDelta{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: 1000})
			}
			_ = bwe.WriteRTCP([]rtcp.Packet{fb}, nil)
		}
	}
}

// BenchmarkEstimatorSendPath is the same through this package's estimator: the record of every
// packet, and the same feedback every 100 packets (its cost, allocations included, spread over
// the packets), read from its bytes in place as downTrack.readRTCP reads it.
func BenchmarkEstimatorSendPath(b *testing.B) {
	e := newEstimator(newCounters())
	now := monoNow()
	fb := &rtcp.TransportLayerCC{PacketStatusCount: 100,
		PacketChunks: []rtcp.PacketStatusChunk{&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketReceivedSmallDelta, RunLength: 100}}}
	for range 100 {
		fb.RecvDeltas = append(fb.RecvDeltas, &rtcp.RecvDelta{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: 1000})
	}
	fb.Header = rtcp.Header{Type: rtcp.TypeTransportSpecificFeedback, Count: rtcp.FormatTCC, Length: uint16(fb.MarshalSize()/4 - 1)}
	wire, err := fb.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	var s rtcpscan.Scanner
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		at := now + int64(i)*int64(time.Millisecond)
		e.sent(uint16(i), 1100, at)
		if i%100 == 99 {
			binary.BigEndian.PutUint16(wire[12:], uint16(i-99))                      // base sequence number
			binary.BigEndian.PutUint32(wire[16:], uint32(i/100)<<8|uint32(wire[19])) // reference time
			if s.Reset(wire); !s.Next() {
				b.Fatal(s.Err())
			}
			f := s.Packet().TWCC()
			e.feedback(&f, at)
		}
	}
}
