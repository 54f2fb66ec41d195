package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtcp"

	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/sfu/rtcpscan"
)

// nackPairs makes one NACK pair per sequence number (a message may repeat one).
func nackPairs(seqs ...uint16) []rtcp.NackPair {
	pairs := make([]rtcp.NackPair, len(seqs))
	for i, seq := range seqs {
		pairs[i] = rtcp.NackPair{PacketID: seq}
	}

	return pairs
}

// nacksOf puts pairs on the wire in a generic NACK and reads them back as downTrack.readRTCP
// does, so that the NACK tests go through real bytes.
func nacksOf(t testing.TB, pairs []rtcp.NackPair) rtcpscan.Nacks {
	t.Helper()
	b, err := (&rtcp.TransportLayerNack{MediaSSRC: 1, Nacks: pairs}).Marshal()
	if err != nil {
		t.Fatalf("marshal NACK: %v", err)
	}
	var s rtcpscan.Scanner
	if s.Reset(b); !s.Next() || s.Packet().NACK().Len() != len(pairs) {
		t.Fatalf("scan NACK %x: %v", b, s.Err())
	}

	return s.Packet().NACK()
}

// NACKing two packets that share a resend slot in turn does not reset either one's count: a
// packet still in the cache (a video-sized cache, 1 ms apart: seq-256 is 256 ms old) is refused
// while the slot holds the other's recent resend, and a NACK of a packet we cannot resend (too
// old at 2 ms apart; out of the cache in audio's) leaves the other's mark alone.
func TestNACKSlotCollisionKeepsMarks(t *testing.T) {
	for _, tc := range []struct {
		step  time.Duration
		cache int
	}{{time.Millisecond, videoCacheSize}, {2 * time.Millisecond, videoCacheSize}, {time.Millisecond, audioCacheSize}} {
		r := newAudioRig(t)
		r.step = tc.step
		r.up.layer(layerF).cache = newPacketCache(tc.cache) // before any packet: no one else reads it yet
		for seq := uint16(1); seq <= 300; seq++ {
			r.send(seq, uint32(seq)*48)
		}
		written := r.w.count()
		answered := 0
		for i := range 100 { // 10 ms apart for a second: past resendInterval many times over
			res := r.down.retransmit(nacksOf(t, nackPairs(300, 300-256)), r.at+int64(i)*int64(10*time.Millisecond))
			answered += res.answered
		}
		if answered == 0 || answered > maxResends {
			t.Errorf("packets %v apart, cache %d: %d resends for NACKs of {300, 44} in turn; want 1 to %d", tc.step, tc.cache, answered, maxResends)
		}
		if got := r.w.count() - written; got != answered {
			t.Errorf("%d packets written for %d answers", got, answered)
		}
	}
}

// A subscriber's resends draw on one byte budget per second: NACKs of ever new packets get no
// more than the budget, and the budget refills with time.
func TestResendByteBudget(t *testing.T) {
	r := newAudioRig(t)
	r.step = time.Millisecond
	for seq := uint16(1); seq <= 400; seq++ {
		r.send(seq, uint32(seq)*48)
	}
	const rate = 1000 // bytes per second; a rig packet is under 30 bytes
	r.down.resendBudget = newResendBudget(rate)
	sent := 0
	for seq := uint16(300); seq <= 400; seq++ {
		res := r.down.retransmit(nacksOf(t, nackPairs(seq)), r.at)
		sent += res.answered
		if res.ignored[nackBudget]+res.answered != 1 {
			t.Fatalf("seq %d: %+v", seq, res)
		}
	}
	_, payload := r.w.last()
	size := 12 + len(payload) // header without extensions, as cached: an upper bound on its share
	if sent == 0 || sent*size > rate+size {
		t.Errorf("%d resends of about %d bytes within one instant; want some, within %d bytes", sent, size, rate)
	}
	// Half a second later half the budget is back.
	before := sent
	for seq := uint16(300); seq <= 400; seq++ { // most not resent yet; the rest are refused as repeated
		sent += r.down.retransmit(nacksOf(t, nackPairs(seq)), r.at+int64(500*time.Millisecond)).answered
	}
	if again := sent - before; again == 0 || again > before/2+1 {
		t.Errorf("%d resends after half a second, %d in the first instant", again, before)
	}
}

// A real subscriber that NACKs {highest, highest-256} in turn (what drove 220x amplification when
// a miss reset the other packet's mark: highest-256 is out of audio's cache) gets each packet at
// most maxResends times, and a subscriber NACKing ever new packets gets no more bytes than its
// budget, while another subscriber's media keeps flowing.
func TestNACKAmplification(t *testing.T) {
	s := newTestSFU(t)
	a := newTestClient(t, s, "room", "a")
	b := newTestClient(t, s, "room", "b")
	c := newTestClient(t, s, "room", "c")
	a.publish(true, true)
	audio := publishedTrack(t, s, "room", "a", KindAudio)
	video := publishedTrack(t, s, "room", "a", KindVideo)
	// highest-256 must lie in b's stream (sent, then dropped from the cache) for its NACK to
	// reach the resend marks: 5 s of audio.
	if !await.Within(2*await.Limit, func() bool { return b.packets("a", KindAudio) >= 270 }) {
		t.Fatal("b did not receive 270 audio packets")
	}
	down := func(tr *upTrack) (*downTrack, uint32) {
		b.peer.subMu.Lock()
		defer b.peer.subMu.Unlock()
		d := b.peer.downs[tr]

		return d, d.binding.Load().ssrc
	}

	// attack sends n NACK messages for d 5 ms apart, each asking for seqs(highest), and waits
	// until the server has handled them all. It returns how many distinct sequence numbers were
	// asked for.
	attack := func(d *downTrack, ssrc uint32, n int, seqs func(h uint16) []uint16) int {
		t.Helper()
		base := s.Stats()
		asked, distinct := 0, map[uint16]bool{}
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for range n {
			<-tick.C
			list := seqs(uint16(d.highest.Load()))
			for _, seq := range list {
				distinct[seq] = true
			}
			asked += len(list)
			if err := b.sub.WriteRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{MediaSSRC: ssrc, Nacks: nackPairs(list...)}}); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, "the NACKs handled", func() bool { return s.Stats().NACKsReceived-base.NACKsReceived >= uint64(asked) })

		return len(distinct)
	}

	cAudio, cVideo := c.packets("a", KindAudio), c.packets("a", KindVideo)
	base := s.Stats()
	d, ssrc := down(audio)
	distinct := attack(d, ssrc, 300, func(h uint16) []uint16 { return []uint16{h, h - 256} })
	st := s.Stats()
	answered, bytes := st.NACKsAnswered-base.NACKsAnswered, st.BytesResent-base.BytesResent
	t.Logf("{h, h-256} x 300: %d distinct sequence numbers asked, %d resends, %d bytes", distinct, answered, bytes)
	// Half the numbers asked are out of the cache. b's own NACKs for real loss (none on
	// loopback, but a busy machine may drop some) are allowed a few resends more.
	if answered > uint64(maxResends*distinct/2+8) {
		t.Errorf("%d resends for NACKs of %d distinct sequence numbers (half of them never cached)", answered, distinct)
	}

	// Ever new video packets, with the budget lowered to 2000 bytes/s (three video packets).
	const rate = 2000
	bud := b.peer.resendBudget
	bud.SetLimit(rate)
	bud.SetBurst(rate)
	base = s.Stats()
	start := time.Now()
	d, ssrc = down(video)
	attack(d, ssrc, 200, func(h uint16) []uint16 { return []uint16{h, h - 1, h - 2, h - 3, h - 4, h - 5, h - 6, h - 7} })
	elapsed := time.Since(start)
	st = s.Stats()
	bytes = st.BytesResent - base.BytesResent
	limit := uint64(rate + rate*elapsed.Seconds() + maxPacketSize)
	t.Logf("8 fresh sequence numbers x 200 over %v: %d resends, %d bytes, %d refused for the budget",
		elapsed, st.NACKsAnswered-base.NACKsAnswered, bytes, st.NACKsIgnored["budget"]-base.NACKsIgnored["budget"])
	if bytes > limit {
		t.Errorf("%d bytes resent in %v on a budget of %d bytes/s", bytes, elapsed, rate)
	}
	if st.NACKsIgnored["budget"] == base.NACKsIgnored["budget"] {
		t.Error("no NACK refused for the budget")
	}
	waitFor(t, "c still receiving a's media", func() bool {
		return c.packets("a", KindAudio) >= cAudio+100 && c.packets("a", KindVideo) >= cVideo+50
	})
}
