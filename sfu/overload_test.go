package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// publishedTrack waits for the server side of a participant's published track of kind.
func publishedTrack(t *testing.T, s *SFU, room, id string, kind Kind) *upTrack {
	t.Helper()
	var tr *upTrack
	waitFor(t, id+"'s "+string(kind)+" track", func() bool {
		if r := s.room(room, false); r != nil {
			if ts := r.tracksOf(id, kind); len(ts) == 1 {
				tr = ts[0]

				return true
			}
		}

		return false
	})

	return tr
}

// statsDelta is what changed in the NACK counters since base.
func nackDelta(s *SFU, base Stats) (received, answered uint64, ignored map[string]uint64) {
	st := s.Stats()
	ignored = map[string]uint64{}
	for k, v := range st.NACKsIgnored {
		ignored[k] = v - base.NACKsIgnored[k]
	}

	return st.NACKsReceived - base.NACKsReceived, st.NACKsAnswered - base.NACKsAnswered, ignored
}

// When the track's reader falls behind (here: held for 2 x maxForwardDelay), what waited longer than
// maxForwardDelay in Pion's buffer is dropped rather than forwarded late, by the reader and by
// the writer lanes; the publisher is asked for a keyframe, and forwarding goes on with fresh
// packets.
func TestStalePacketsAreDropped(t *testing.T) {
	s := newTestSFU(t)
	a := newTestClient(t, s, "room", "a")
	a.publish(true, true)
	tracks := []*upTrack{publishedTrack(t, s, "room", "a", KindAudio), publishedTrack(t, s, "room", "a", KindVideo)}
	for _, tr := range tracks {
		if tr.layer(layerF).arrival.Load() == nil {
			t.Fatalf("%s track: no arrival times from its SRTP buffer", tr.kind)
		}
		tr.mu.Lock()
		tr.inlineMax, tr.perWriter = 0, 1 // every subscriber on a writer lane
		tr.mu.Unlock()
	}
	b := newTestClient(t, s, "room", "b")
	c := newTestClient(t, s, "room", "c")
	b.waitReceiving(t, 25, a)
	c.waitReceiving(t, 25, a)

	// Hold the reader and the lanes (both need the cache) for twice maxForwardDelay of audio.
	plis := a.plisReceived.Load()
	for _, tr := range tracks {
		tr.layer(layerF).cache.mu.Lock()
	}
	first := uint16(1000 + a.audioSent.Load() + 1)             // the harness numbers audio from 1001
	held := int(2 * maxForwardDelay / (20 * time.Millisecond)) // twice maxForwardDelay of audio
	waitFor(t, "a sending audio while the reader is held", func() bool {
		return int(int16(uint16(1000+a.audioSent.Load())-first)) >= held
	})
	last := uint16(1000 + a.audioSent.Load())
	for _, tr := range tracks {
		tr.layer(layerF).cache.mu.Unlock()
	}
	b.waitReceiving(t, 25, a) // fresh packets flow again
	c.waitReceiving(t, 25, a)
	waitFor(t, "audio sent after the stall arriving", func() bool {
		rt, _ := b.track("a", KindAudio)
		return int16(rt.lastSeq-last) >= 10
	})

	// Of what was held back only the end (younger than maxForwardDelay, half of it, with some
	// slack for a slow machine) may have been forwarded.
	for _, sub := range []*testClient{b, c} {
		rt, _ := sub.track("a", KindAudio)
		got := 0
		for seq := first; seq != last+1; seq++ {
			if rt.seen[seq] {
				got++
			}
		}
		if got > held/2+10 {
			t.Errorf("%s got %d of the %d audio packets sent while the reader was held", sub.id, got, last-first+1)
		}
		t.Logf("%s got %d of the %d audio packets sent while the reader was held", sub.id, got, last-first+1)
	}
	st := s.Stats()
	if st.PacketsDropped["late"] == 0 {
		t.Errorf("no late drops: %v", st.PacketsDropped)
	}
	waitFor(t, "a keyframe request for the dropped video", func() bool { return a.plisReceived.Load() > plis })
}

// Resends to one subscriber are bounded, checked with a real subscriber's NACKs: one message
// asking for a packet three times gets it once, a packet older than maxResendAge is not resent,
// and nothing is resent while the track is congested.
func TestNACKBounds(t *testing.T) {
	s := newTestSFU(t)
	a := newTestClient(t, s, "room", "a")
	b := newTestClient(t, s, "room", "b")
	a.publish(false, true)
	tr := publishedTrack(t, s, "room", "a", KindVideo)
	waitFor(t, "60 video packets at b", func() bool { return b.packets("a", KindVideo) >= 60 })
	b.peer.subMu.Lock()
	d := b.peer.downs[tr]
	b.peer.subMu.Unlock()
	ssrc := d.binding.Load().ssrc

	// nack sends one NACK message from b's subscriber connection and waits until the server has
	// handled it; a NACK of b's own for a real loss would spoil the count, so it tries again.
	nack := func(what string, seqs func(highest uint16) []uint16) (answered uint64, ignored map[string]uint64) {
		t.Helper()
		for range 5 {
			base := s.Stats()
			list := seqs(uint16(d.highest.Load()))
			pairs := make([]rtcp.NackPair, len(list))
			for i, seq := range list {
				pairs[i] = rtcp.NackPair{PacketID: seq}
			}
			if err := b.sub.WriteRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{MediaSSRC: ssrc, Nacks: pairs}}); err != nil {
				t.Fatal(err)
			}
			var received uint64
			waitFor(t, what+" handled", func() bool {
				received, answered, ignored = nackDelta(s, base)
				return received >= uint64(len(list))
			})
			if received == uint64(len(list)) {
				return answered, ignored
			}
		}
		t.Fatalf("%s: other NACKs kept interfering", what)

		return 0, nil
	}

	answered, ignored := nack("three NACKs of one packet", func(h uint16) []uint16 { return []uint16{h - 1, h - 1, h - 1} })
	if answered != 1 || ignored["repeated"] != 2 {
		t.Errorf("three NACKs of one packet: %d answered, ignored %v; want 1 and 2 repeated", answered, ignored)
	}
	// Video is about 27 packets/s: 30 packets back is over a second old, still in the cache.
	answered, ignored = nack("a NACK of an old packet", func(h uint16) []uint16 { return []uint16{h - 30} })
	// Far from the packets NACKed so far, so that none of them is the one asked for below.
	waitFor(t, "30 more video packets", func() bool { return b.packets("a", KindVideo) >= 90 })
	if answered != 0 || ignored["too_old"] != 1 {
		t.Errorf("a NACK of an old packet: %d answered, ignored %v; want 1 too_old", answered, ignored)
	}
	tr.congestedAt.Store(monoNow() + int64(time.Hour)) // congested for as long as the test runs
	answered, ignored = nack("NACKs while congested", func(h uint16) []uint16 { return []uint16{h - 1, h - 2} })
	if answered != 0 || ignored["congested"] != 2 {
		t.Errorf("NACKs while congested: %d answered, ignored %v; want 2 congested", answered, ignored)
	}
	tr.congestedAt.Store(-int64(congestionHold))
	answered, _ = nack("a NACK after the congestion", func(h uint16) []uint16 { return []uint16{h - 1} })
	if answered != 1 {
		t.Errorf("a NACK after the congestion: %d answered", answered)
	}
}

// A writer lane that drops part of a keyframe for being behind asks the publisher for a new
// keyframe (NACKs are not answered meanwhile); a dropped part of another frame does not.
func TestLaneDropOfKeyframeRequestsKeyframe(t *testing.T) {
	s := newTestSFU(t)
	a := newTestClient(t, s, "room", "a")
	b := newTestClient(t, s, "room", "b")
	a.publish(false, true)
	tr := publishedTrack(t, s, "room", "a", KindVideo)
	waitFor(t, "b receiving video", func() bool { return b.packets("a", KindVideo) >= 10 })
	b.peer.subMu.Lock()
	d := b.peer.downs[tr]
	b.peer.subMu.Unlock()

	// A lane of b's downTrack with room for one packet and no goroutine: the second is dropped.
	l := &lane{t: tr, queue: make(chan laneItem, 1)}
	l.setSubs([]*downTrack{d})
	plis := a.plisReceived.Load()
	tr.layer(layerF).lastPLI.Store(-int64(pliInterval)) // the last request was not just now
	l.enqueue(laneItem{at: monoNow(), seq: 1, layer: layerF})
	l.enqueue(laneItem{at: monoNow(), seq: 2, layer: layerF})
	if n := l.c.dropped[dropQueueFull].Load(); n != 1 || !tr.congested(monoNow()) {
		t.Fatalf("queue_full %d, congested %v", n, tr.congested(monoNow()))
	}
	if tr.layer(layerF).lastPLI.Load() >= 0 {
		t.Error("a keyframe was requested for a dropped interframe")
	}
	l.enqueue(laneItem{at: monoNow(), seq: 3, layer: layerF, inKeyframe: true})
	waitFor(t, "the publisher receiving a keyframe request", func() bool { return a.plisReceived.Load() > plis })
}

// waitGate lets a burst through, drops what waited too long, and drops what waited more than
// standingDelay once the waits have stayed above it for standingFor, until they fall below it.
func TestWaitGate(t *testing.T) {
	ms := func(n int) int64 { return int64(n) * int64(time.Millisecond) }
	var g waitGate
	for i, step := range []struct {
		now, wait int
		late      bool
	}{
		{0, 10, false},
		{10, 400, false},  // a burst: above standingDelay, not for long
		{100, 100, false}, // still above, for 90 ms
		{120, 10, false},  // below: the burst is over
		{130, 600, true},  // beyond maxForwardDelay
		{200, 100, false}, // above since 130 ms
		{629, 100, false}, // for 499 ms
		{630, 100, true},  // for 500 ms: a standing queue
		{640, 85, true},   // still above standingDelay: dropped
		{650, 30, false},  // below: forwarded, and the count starts over
		{660, 100, false},
		{1159, 100, false},
		{1160, 100, true},
	} {
		if got := g.late(ms(step.wait), ms(1000+step.now)); got != step.late {
			t.Errorf("step %d (at %d ms, waited %d ms): late %v, want %v", i, step.now, step.wait, got, step.late)
		}
	}
}
