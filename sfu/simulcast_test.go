package sfu

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// waitLayer waits until a subscriber's last n media packets are all of layer.
func waitLayer(t *testing.T, sub *simSubscriber, layer byte, n int) {
	t.Helper()
	waitFor(t, sub.id+" receiving layer "+string(layer), func() bool { return sub.onLayer(layer, n) })
}

// Subscribers asking low, medium, high and off each get exactly their layer of a three-layer
// publisher (off: nothing), and every subscriber's stream is continuous packet by packet.
func TestSimulcastQualities(t *testing.T) {
	s := newTestSFU(t)
	pub := newSimPublisher(t, s, "room", "pub")
	subs := map[Quality]*simSubscriber{}
	for _, q := range []Quality{QualityLow, QualityMedium, QualityHigh, QualityOff} {
		subs[q] = newSimSubscriber(t, s, "room", string(q), "pub")
		setQuality(t, s, "room", string(q), "pub", q)
	}
	want := map[Quality]byte{QualityLow: 'q', QualityMedium: 'h', QualityHigh: 'f'}
	for q, layer := range want {
		waitLayer(t, subs[q], layer, 30)
	}
	// From here on each gets its layer and nothing else; on a machine too busy to run the
	// clients on time, a subscriber's estimate may take it below its layer for a while, never
	// above.
	machine := watchBusy(t)
	marks := map[Quality]int{}
	for q := range want {
		marks[q] = len(subs[q].received())
	}
	off := len(subs[QualityOff].received())
	sent := pub.layers[layerF].sent.Load()
	waitFor(t, "the publisher sending 100 more packets of f", func() bool { return pub.layers[layerF].sent.Load() >= sent+100 })
	for q, layer := range want {
		pkts := subs[q].received()
		n, below := 0, 0
		for _, p := range pkts[marks[q]:] {
			if p.padding {
				continue
			}
			n++
			if p.layer == layer {
				continue
			}
			if busy, _ := machine.busy(); !busy || layerOfRID(string(p.layer)) > layerOfRID(string(layer)) {
				t.Errorf("%s received a packet of layer %c", q, p.layer)

				break
			}
			below++
		}
		if below > 0 {
			_, how := machine.busy()
			t.Logf("%s: %d packets below %c on a busy machine (%s)", q, below, layer, how)
		}
		if n < 10 {
			t.Errorf("%s received only %d packets", q, n)
		}
		layers := checkContinuity(t, s, subs[q])
		t.Logf("%s: %d packets, layers in order %q", q, len(pkts), layers)
	}
	if got := len(subs[QualityOff].received()); got != off {
		t.Errorf("off received %d video packets meanwhile", got-off)
	}
	if audio := subs[QualityOff].packets("pub", KindAudio); audio == 0 {
		t.Error("off receives no audio either")
	}
	st := s.Stats()
	if st.ForwardedByLayer["q"] == 0 || st.ForwardedByLayer["h"] == 0 || st.ForwardedByLayer["f"] == 0 {
		t.Errorf("forwarded by layer %v", st.ForwardedByLayer)
	}
	t.Logf("stats: layers %v switches %d PLIs %v probes %v padding %d", st.ForwardedByLayer, st.LayerSwitches,
		st.PLIsByCause, st.Probes, st.PaddingPackets)
}

// One subscriber goes through every quality and back: it gets each layer in turn, switching only
// at a keyframe, and its stream stays continuous across every switch and pause.
func TestSimulcastSwitches(t *testing.T) {
	s := newTestSFU(t)
	pub := newSimPublisher(t, s, "room", "pub")
	sub := newSimSubscriber(t, s, "room", "sub", "pub")
	setQuality(t, s, "room", "sub", "pub", QualityLow)
	waitLayer(t, sub, 'q', 20)
	steps := []struct {
		q     Quality
		layer byte
	}{
		{QualityHigh, 'f'}, {QualityLow, 'q'}, {QualityMedium, 'h'}, {QualityOff, 0},
		{QualityHigh, 'f'}, {QualityMedium, 'h'}, {QualityOff, 0}, {QualityLow, 'q'}, {QualityHigh, 'f'},
	}
	var want []byte
	want = append(want, 'q')
	for _, st := range steps {
		if err := s.SetVideoQuality("room", "sub", "pub", SourceCamera, st.q); err != nil {
			t.Fatal(err)
		}
		if st.layer == 0 {
			n := len(sub.received())
			sent := pub.layers[layerQ].sent.Load()
			waitFor(t, "the publisher sending 25 frames while sub is off", func() bool {
				return pub.layers[layerQ].sent.Load() >= sent+25
			})
			if got := len(sub.received()); got > n+simPackets[layerF]*3 { // what was in flight
				t.Errorf("off: %d packets arrived", got-n)
			}

			continue
		}
		waitLayer(t, sub, st.layer, 20)
		if want[len(want)-1] != st.layer {
			want = append(want, st.layer)
		}
	}
	layers := checkContinuity(t, s, sub)
	// Every switch shows; a step to a layer seen last can have passed through none other.
	if !strings.Contains(layers, string(want[1:])) && layers != string(want) {
		t.Logf("layers %q, steps %q", layers, want)
	}
	for _, w := range want {
		if !strings.ContainsRune(layers, rune(w)) {
			t.Errorf("layer %c never received (got %q)", w, layers)
		}
	}
	t.Logf("layers in order %q; stats %+v", layers, s.Stats().PLIsByCause)
}

// Dynacast: when every subscriber asks low the publisher hears that only q is needed; one asking
// high brings f back. A publisher that obeys and stops encoding h and f still serves everyone.
func TestDynacast(t *testing.T) {
	s := newTestSFU(t)
	pub := newSimPublisher(t, s, "room", "pub")
	a := newSimSubscriber(t, s, "room", "a", "pub")
	b := newSimSubscriber(t, s, "room", "b", "pub")
	setQuality(t, s, "room", "a", "pub", QualityLow)
	setQuality(t, s, "room", "b", "pub", QualityLow)
	last := func() []string {
		sigs := pub.publisherSignals(SignalPublisherLayers)
		if len(sigs) == 0 {
			return nil
		}
		if sigs[len(sigs)-1].Source != SourceCamera {
			t.Errorf("publisherLayers for %q", sigs[len(sigs)-1].Source)
		}

		return sigs[len(sigs)-1].Layers
	}
	waitFor(t, "publisherLayers [q]", func() bool { return slices.Equal(last(), []string{"q"}) })
	pub.applyLayers() // the publisher stops encoding h and f
	waitLayer(t, a, 'q', 20)
	waitLayer(t, b, 'q', 20)

	setQuality(t, s, "room", "b", "pub", QualityHigh)
	waitFor(t, "publisherLayers with f", func() bool { return slices.Contains(last(), "f") })
	pub.applyLayers()
	waitLayer(t, b, 'f', 20)
	if !a.onLayer('q', 10) {
		t.Errorf("a left q: %q", a.lastLayers(10))
	}
	checkContinuity(t, s, a)
	checkContinuity(t, s, b)
	// Reports are at most one a second per source (the timer's slack aside).
	sigs, at := pub.publisherSignalTimes(SignalPublisherLayers)
	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap < dynacastInterval-50*time.Millisecond {
			t.Errorf("publisherLayers %v then %v after %v", sigs[i-1].Layers, sigs[i].Layers, gap)
		}
	}
	t.Logf("publisherLayers: %d signals, last %v", len(sigs), last())
}

// SetVideoQuality refuses what signaling answers bad_request and not_found.
func TestSetVideoQualityErrors(t *testing.T) {
	s := newTestSFU(t)
	pub := newSimPublisher(t, s, "room", "pub")
	newTestClient(t, s, "room", "sub")
	setQuality(t, s, "room", "sub", "pub", QualityHigh) // once pub's camera is there
	_ = pub
	for _, tc := range []struct {
		room, sub, pub string
		src            Source
		q              Quality
		want           error
	}{
		{"room", "sub", "pub", SourceCamera, "ultra", ErrInvalid},
		{"room", "sub", "pub", SourceMicrophone, QualityLow, ErrInvalid},
		{"room", "sub", "pub", SourceScreen, QualityLow, ErrNotFound},
		{"room", "sub", "nobody", SourceCamera, QualityLow, ErrNotFound},
		{"room", "nobody", "pub", SourceCamera, QualityLow, ErrNotFound},
		{"elsewhere", "sub", "pub", SourceCamera, QualityLow, ErrNotFound},
		{"room", "pub", "pub", SourceCamera, QualityLow, ErrNotFound},
		{"room", "sub", "pub", SourceCamera, QualityLow, nil},
	} {
		if err := s.SetVideoQuality(tc.room, tc.sub, tc.pub, tc.src, tc.q); !errors.Is(err, tc.want) {
			t.Errorf("%+v: %v, want %v", tc, err, tc.want)
		}
	}
}

// A simulcast publisher answers the server's NACKs for lost packets with retransmissions on its
// repair (RTX) streams; Pion folds them back into their layer, and a subscriber of the layer
// ends up with every packet.
func TestSimulcastRTX(t *testing.T) {
	s := newTestSFU(t)
	every30 := func(seq uint16) bool { return seq%30 == 0 }
	pub := newSimPublisher(t, s, "room", "pub", clientOptions{sendDropper: every30, ownRepair: true})
	sub := newSimSubscriber(t, s, "room", "sub", "pub")
	setQuality(t, s, "room", "sub", "pub", QualityHigh)
	waitLayer(t, sub, 'f', 20)
	mark := len(sub.received())
	waitFor(t, "300 more packets of f", func() bool { return len(sub.received()) >= mark+300 })
	all := sub.received()
	seen := map[uint16]bool{}
	for _, p := range all {
		seen[p.seq] = true
	}
	// Every sequence number from the window's start to its last but the few whose repair may be
	// on its way arrived, retransmissions included.
	first, last := all[mark].seq, all[len(all)-1].seq
	missing := 0
	for seq := first; int16(last-60-seq) > 0; seq++ {
		if !seen[seq] {
			missing++
		}
	}
	tr := s.room("room", false).tracksOfSource("pub", SourceCamera)[0]
	rtx := tr.layer(layerF).remote.RtxSSRC()
	st := s.Stats()
	t.Logf("missing %d; f's repair SSRC %d (sender's %d, pt %d); resent on RTX: f %d; refused %d", missing, rtx,
		pub.layers[layerF].cap.rtx.Load(), pub.layers[layerF].cap.rtxPT.Load(), pub.layers[layerF].resent.Load(), st.RefusedStreams)
	if missing != 0 {
		t.Errorf("%d packets of f never arrived", missing)
	}
	if rtx == 0 || pub.layers[layerF].resent.Load() == 0 {
		t.Error("no repair stream for layer f")
	}
}

// Streams that claim a simulcast layer already received (by its MID and RID, under new SSRCs)
// are refused before Pion hands them the layer's track: the layer goes on, continuous.
func TestSimulcastLayerTakeoverRefused(t *testing.T) {
	s := newTestSFU(t)
	pub := newSimPublisher(t, s, "room", "pub")
	sub := newSimSubscriber(t, s, "room", "sub", "pub")
	setQuality(t, s, "room", "sub", "pub", QualityHigh)
	waitLayer(t, sub, 'f', 20)
	spray := newSprayTrack(t, "spray")
	spray.rid = "f"
	x, err := pub.pub.AddTransceiverFromTrack(spray, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		t.Fatal(err)
	}
	pub.senders["spray"] = x.Sender()
	pub.sources = map[string]Source{"spray": SourceScreen}
	pub.negotiatePublisher()
	tr := s.room("room", false).tracksOfSource("pub", SourceCamera)[0]
	ssrc := tr.layer(layerF).ssrc.Load()
	refused := s.Stats().RefusedStreams
	for round := 0; s.Stats().RefusedStreams < refused+50; round++ {
		if round >= 5 {
			t.Fatalf("refused %d of 50", s.Stats().RefusedStreams-refused)
		}
		spray.spray(t, 0x70000000, 50, 12, pub.mid)
		for wait := time.Now().Add(2 * time.Second); time.Now().Before(wait) && s.Stats().RefusedStreams < refused+50; {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if got := tr.layer(layerF).ssrc.Load(); got != ssrc {
		t.Errorf("layer f moved from SSRC %d to %d", ssrc, got)
	}
	// The subscriber's allocator may step down while the machine is busy with the spray; it
	// climbs back to f, which still comes from its own SSRC.
	waitLayer(t, sub, 'f', 50)
	checkContinuity(t, s, sub)
}

// H.264 simulcast: the subscriber's stream switches layers at IDR keyframes and stays continuous
// (SSRC, sequence numbers, timestamps), and every payload arrives exactly as the publisher sent
// it: only the RTP header is rewritten.
func TestSimulcastH264(t *testing.T) {
	s := newTestSFU(t)
	newSimPublisherOf(t, s, "room", "pub", webrtc.MimeTypeH264)
	sub := newSimSubscriber(t, s, "room", "sub", "pub")
	sub.testClient.mu.Lock() // what the packet inspector reads under it
	sub.h264 = true
	sub.testClient.mu.Unlock()
	setQuality(t, s, "room", "sub", "pub", QualityLow)
	waitLayer(t, sub, 'q', 20)
	for _, step := range []struct {
		q     Quality
		layer byte
	}{{QualityHigh, 'f'}, {QualityMedium, 'h'}, {QualityLow, 'q'}, {QualityHigh, 'f'}} {
		if err := s.SetVideoQuality("room", "sub", "pub", SourceCamera, step.q); err != nil {
			t.Fatal(err)
		}
		waitLayer(t, sub, step.layer, 20)
	}
	layers := checkStream(t, s, sub, false)
	sub.mu.Lock()
	modified, n := sub.modified, len(sub.pkts)
	sub.mu.Unlock()
	if modified != 0 {
		t.Errorf("%d of %d H.264 payloads arrived changed", modified, n)
	}
	t.Logf("layers in order %q, %d packets", layers, n)
	for _, w := range "qhf" {
		if !strings.ContainsRune(layers, w) {
			t.Errorf("layer %c never received", w)
		}
	}
}
