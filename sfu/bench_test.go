package sfu

import (
	"encoding/binary"
	"fmt"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley/internal/cputime"
	"github.com/parleyhq/parley/sfu/udpbatch"
)

// BenchmarkForward measures the forwarding path of one VP8 track to subs real subscribers: from a
// packet in the reader's buffer through the cache, the gate, the per-subscriber rewriting, SRTP
// encryption (AES-128-GCM, as negotiated) and the UDP write to each subscriber's socket on
// loopback. The subscribers are real Pion connections (ICE, DTLS, SRTP) whose sockets discard RTP
// unread, so their decryption does not compete for the CPU. ns/op is per published packet,
// ns/fwd per packet written to one subscriber.
func BenchmarkForward(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) { benchForward(b, n, false) })
	}
}

// BenchmarkForwardInline is BenchmarkForward with every subscriber written on the reader's
// goroutine (no writer lanes), to measure what the lanes buy.
func BenchmarkForwardInline(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) { benchForward(b, n, true) })
	}
}

// BenchmarkForwardNoIO is the same path without SRTP and sockets: subscribers' bindings write to a
// writer that discards. It isolates our own work (cache, gate, rewrite, fan-out).
func BenchmarkForwardNoIO(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) { benchNoIO(b, n) })
	}
}

func benchForward(b *testing.B, n int, inline bool) {
	s := newTestSFU(b)
	pub := newTestClient(b, s, "bench", "pub")
	pub.publish(false, true)
	var t *upTrack
	waitFor(b, "the published track", func() bool {
		if r := s.room("bench", false); r != nil {
			if ts := r.tracksOf("pub", KindVideo); len(ts) == 1 {
				t = ts[0]

				return true
			}
		}

		return false
	})
	if inline {
		t.mu.Lock()
		t.inlineMax = 1 << 20
		t.mu.Unlock()
	}
	subs := make([]*testClient, n)
	for i := range subs {
		subs[i] = newTestClient(b, s, "bench", fmt.Sprintf("sub-%d", i), clientOptions{sink: true})
	}
	waitFor(b, "every subscriber receiving", func() bool {
		for _, c := range subs {
			if c.sink.rtp.Load() < 3 {
				return false
			}
		}

		return true
	})
	// From here on the benchmark is the track's only source of packets.
	pub.paused.Store(true)
	settle(b, t)
	runForward(b, t, uint16(pub.lastVideoSeq.Load()), pub.lastVideoTS.Load(), s.writes)
}

// settle waits until the track's last real packet has been forwarded everywhere.
func settle(b *testing.B, t *upTrack) {
	b.Helper()
	last, since := uint64(0), time.Now()
	waitFor(b, "the track to go quiet", func() bool {
		cur, _ := laneTotals(t)
		if cur != last {
			last, since = cur, time.Now()
		}

		return time.Since(since) > 300*time.Millisecond
	})
}

// laneTotals sums the track's forwarded and dropped counters.
func laneTotals(t *upTrack) (forwarded, dropped uint64) {
	for _, l := range t.allLanes() {
		forwarded += l.c.forwarded.Load()
		for r := range l.c.dropped {
			dropped += l.c.dropped[r].Load()
		}
	}

	return forwarded, dropped
}

// runForward drives t.handle with VP8 interframes continuing the publisher's numbering. Writer
// lanes are paced the way a network paces the reader: the benchmark waits while a queue is more
// than half full, so it measures forwarding, not dropping. With batched writes (writes non-nil)
// the timed work includes sending what is still queued at the end.
func runForward(b *testing.B, t *upTrack, seq uint16, ts uint32, writes *udpbatch.Group) {
	raw, err := (&rtp.Packet{
		Header:  rtp.Header{Version: 2, PayloadType: 96, SSRC: t.layer(layerF).ssrc.Load(), Marker: true},
		Payload: vp8Payload(1, true, false, 1100),
	}).Marshal()
	if err != nil {
		b.Fatal(err)
	}
	var p rtp.Packet
	lanes := t.allLanes()
	// Warm up: every slot of the track's cache holds a full-size packet before the timing
	// starts (slots grow to what they hold).
	for range videoCacheSize {
		seq++
		binary.BigEndian.PutUint16(raw[2:], seq)
		for _, l := range lanes[1:] {
			for len(l.queue) > cap(l.queue)/2 {
				runtime.Gosched()
			}
		}
		t.handle(raw, &p, monoNow())
	}
	fwd0, drop0 := laneTotals(t)
	var full0 uint64
	if writes != nil {
		full0 = writes.Snapshot().FullWaits
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		seq++
		if i%3 == 0 {
			ts += 3000
		}
		binary.BigEndian.PutUint16(raw[2:], seq)
		binary.BigEndian.PutUint32(raw[4:], ts)
		for _, l := range lanes[1:] {
			for len(l.queue) > cap(l.queue)/2 {
				runtime.Gosched() // let the writers catch up
			}
		}
		t.handle(raw, &p, monoNow())
	}
	for _, l := range lanes[1:] {
		for len(l.queue) > 0 || l.busy.Load()&1 == 1 {
			runtime.Gosched()
		}
	}
	for writes != nil && writes.Snapshot().Pending() > 0 {
		runtime.Gosched()
	}
	b.StopTimer()
	cpu := cputime.Process() - cpu0
	fwd, drop := laneTotals(t)
	if fwd == fwd0 {
		b.Fatal("nothing forwarded")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(fwd-fwd0), "ns/fwd")
	// Wall time hides work moved to other goroutines (writer lanes) on other
	// cores; CPU time of the whole test process does not (it includes the subscribers' side).
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(fwd-fwd0), "cpu-ns/fwd")
	b.ReportMetric(float64(drop-drop0)/float64(b.N), "drops/op")
	if writes != nil {
		w := writes.Snapshot()
		b.ReportMetric(float64(w.FullWaits-full0)/float64(b.N), "queue-waits/op")
		b.ReportMetric(float64(w.Sent)/float64(max(w.Batches, 1)), "dgrams/batch")
	}
}

// discardWriter is a binding's write stream that only counts.
type discardWriter struct{ n atomic.Uint64 }

func (w *discardWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.n.Add(1)

	return h.MarshalSize() + len(payload), nil
}

func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

func benchNoIO(b *testing.B, n int) {
	var gate atomic.Bool
	gate.Store(true)
	vp8 := webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
		PayloadType:        96,
	}
	t := newLoneTrack(KindVideo, &gate, vp8, 1)
	b.Cleanup(func() {
		close(t.done)
		t.writersWG.Wait()
	})
	w := &discardWriter{}
	for i := range n {
		d := newDownTrack(t, nil)
		if !t.addDown(d) {
			b.Fatal("addDown")
		}
		d.binding.Store(&binding{ws: w, ssrc: uint32(1000 + i), clock: 90000, pt: 100})
	}
	key, err := (&rtp.Packet{
		Header:  rtp.Header{Version: 2, PayloadType: 96, SSRC: 1, SequenceNumber: 1, Timestamp: 1},
		Payload: vp8Payload(0, true, true, 1100),
	}).Marshal()
	if err != nil {
		b.Fatal(err)
	}
	var p rtp.Packet
	t.handle(key, &p, monoNow())
	runForward(b, t, 1, 1, nil)
}

// BenchmarkLoopbackSendto is the floor under BenchmarkForward on this machine: one bare UDP
// write of a forwarded packet's size to a loopback socket, as every forwarded packet costs.
func BenchmarkLoopbackSendto(b *testing.B) {
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	tx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, maxPacketSize)
		for {
			if _, _, err := rx.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
		}
	}()
	b.Cleanup(func() {
		_ = tx.Close()
		_ = rx.Close()
		<-done
	})
	dst := rx.LocalAddr().(*net.UDPAddr).AddrPort()
	p := make([]byte, 1150)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tx.WriteToUDPAddrPort(p, dst); err != nil {
			b.Fatal(err)
		}
	}
}
