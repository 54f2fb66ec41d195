package sfu

import (
	"testing"
	"time"
)

// waitOnLayer waits up to limit for a subscriber's last 50 media packets to be all of layer and
// returns how long it took.
func waitOnLayer(t *testing.T, sub *simSubscriber, layer byte, from time.Time, limit time.Duration) time.Duration {
	t.Helper()
	for !sub.onLayer(layer, 50) {
		if time.Since(from) > limit {
			t.Fatalf("%s not on layer %c %v after: last layers %q", sub.id, layer, limit, sub.lastLayers(50))
		}
		time.Sleep(50 * time.Millisecond)
	}

	return time.Since(from).Round(time.Millisecond)
}

// A subscriber whose downlink carries only 400 kbit/s settles on the low layer within 15 s, with
// audio loss under 2%: when it joins behind the limit, and when the limit comes while it is on
// the high layer. When the limit is lifted it climbs back to the high layer within 30 s.
// Meanwhile an unconstrained subscriber of the same publisher gets and keeps the high layer
// without losing a packet; on a machine too busy to run the test's clients on time (busyWatch)
// it may step down for a while, loses no more than the server shed, and is back on the high
// layer at the end.
func TestBandwidthAdaptation(t *testing.T) {
	s := newTestSFU(t)
	pub := newSimPublisher(t, s, "room", "pub")
	free := newSimSubscriber(t, s, "room", "free", "pub")
	link := newShapedConn(400_000, 250*time.Millisecond)
	slow := newSimSubscriber(t, s, "room", "slow", "pub", clientOptions{shaper: link})
	joined := time.Now()
	machine := watchBusy(t)

	// Joining behind the limit.
	took := waitOnLayer(t, slow, 'q', joined, 15*time.Second)
	time.Sleep(3 * time.Second) // a stretch of time to watch, not a wait for a condition
	if !slow.onLayer('q', 60) {
		t.Errorf("slow left q: %q", slow.lastLayers(60))
	}
	lost, total := slow.audioLoss(joined)
	t.Logf("joined behind the limit: on q after %v, audio lost %d of %d, link dropped %d of %d",
		took, lost, total, link.dropped.Load(), link.passed.Load()+link.dropped.Load())
	if total < 100 || float64(lost) > 0.02*float64(total) {
		t.Errorf("slow lost %d of %d audio packets", lost, total)
	}
	waitOnLayer(t, free, 'f', joined, 30*time.Second)
	freeMark := len(free.received())

	// The limit lifted: back to the high layer.
	link.rate.Store(0)
	lifted := time.Now()
	t.Logf("limit lifted: slow on f after %v", waitOnLayer(t, slow, 'f', lifted, 30*time.Second))

	// The limit back while on the high layer.
	dropped := link.dropped.Load()
	link.rate.Store(400_000)
	limited := time.Now()
	t.Logf("limit back at %s", limited.Format("15:04:05.000"))
	took = waitOnLayer(t, slow, 'q', limited, 15*time.Second)
	time.Sleep(time.Until(limited.Add(15 * time.Second))) // the audio over the 15 s is what counts
	lost, total = slow.audioLoss(limited)
	t.Logf("limited while on f: on q after %v, audio lost %d of %d, link dropped %d",
		took, lost, total, link.dropped.Load()-dropped)
	if total < 500 || float64(lost) > 0.02*float64(total) {
		t.Errorf("slow lost %d of %d audio packets", lost, total)
	}
	if !slow.onLayer('q', 60) {
		t.Errorf("slow left q: %q", slow.lastLayers(60))
	}

	// The unconstrained subscriber kept the high layer and lost nothing, unless the machine was
	// too busy for the server to keep up: then it owes only what it shed (counted), and the
	// subscriber's estimate may have seen the server's own delay and stepped down for a while.
	freePkts := free.received()
	low := 0
	for _, p := range freePkts[freeMark:] {
		if !p.padding && p.layer != 'f' {
			low++
		}
	}
	checkContinuity(t, s, free)
	st := s.Stats()
	var shed uint64
	for _, r := range shedReasons {
		shed += st.PacketsDropped[r]
	}
	lost, total = free.audioLoss(joined)
	busy, how := machine.busy()
	switch {
	case !busy && low > 0:
		t.Errorf("free received %d packets of a lower layer", low)
	case shed == 0 && lost != 0:
		t.Errorf("free lost %d of %d audio packets", lost, total)
	case uint64(lost) > shed:
		t.Errorf("free lost %d of %d audio packets, more than the %d the server shed", lost, total, shed)
	}
	t.Logf("free: %d packets below f, audio lost %d of %d; the server shed %d; the machine: %s", low, lost, total, shed, how)
	waitOnLayer(t, free, 'f', time.Now(), 30*time.Second)
	t.Logf("stats: layers %v switches %d probes %v padding %d PLIs %v dropped %v", st.ForwardedByLayer,
		st.LayerSwitches, st.Probes, st.PaddingPackets, st.PLIsByCause, st.PacketsDropped)
	_ = pub
}
