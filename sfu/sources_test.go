package sfu

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// pumpedTrack is an extra track of a test publisher with its own media clock: Opus every 20 ms,
// or a VP8 frame every 40 ms with a keyframe every 10 frames.
type pumpedTrack struct {
	tr   *webrtc.TrackLocalStaticRTP
	sent atomic.Int64
}

// addPumpedTrack adds a send-only track with local id to c's publisher (negotiated with c's
// next offer) and starts sending on it.
func addPumpedTrack(t *testing.T, c *testClient, kind Kind, id string) *pumpedTrack {
	t.Helper()

	return addPumpedVideo(t, c, kind, id, 1, 500)
}

// addPumpedVideo is addPumpedTrack with frames of parts packets of size bytes.
func addPumpedVideo(t *testing.T, c *testClient, kind Kind, id string, parts, size int) *pumpedTrack {
	t.Helper()
	capability := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
	if kind == KindVideo {
		capability = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
	}
	tr, err := webrtc.NewTrackLocalStaticRTP(capability, id, "client-stream-"+c.id)
	if err != nil {
		t.Fatal(err)
	}
	x, err := c.pub.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		t.Fatal(err)
	}
	c.senders[id] = x.Sender()
	c.wg.Add(2)
	go c.readSenderRTCP(x.Sender())
	pt := &pumpedTrack{tr: tr}
	go func() {
		defer c.wg.Done()
		step := 20 * time.Millisecond
		if kind == KindVideo {
			step = 40 * time.Millisecond
		}
		tick := time.NewTicker(step)
		defer tick.Stop()
		seq, ts := uint16(7000), uint32(9000)
		for n := 0; ; n++ {
			select {
			case <-c.stop:
				return
			case <-tick.C:
			}
			if kind == KindAudio {
				seq++
				ts += 960
				p := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, Marker: true}, Payload: []byte{0x78, 1, 2, 3}}
				if err := tr.WriteRTP(p); err == nil {
					pt.sent.Add(1)
				}

				continue
			}
			ts += 3600
			for k := range parts {
				seq++
				p := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, Marker: k == parts-1},
					Payload: vp8Payload(uint16(n), k == 0, n%10 == 0, size)}
				if err := tr.WriteRTP(p); err == nil {
					pt.sent.Add(1)
				}
			}
		}
	}()

	return pt
}

// trackIDs lists the ids of the live tracks c receives from stream.
func (c *testClient) trackIDs(stream string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, rt := range c.tracks {
		if rt.stream == stream && !rt.ended {
			out = append(out, rt.id)
		}
	}
	slices.Sort(out)

	return out
}

// packetsOf counts what c received on stream's track id.
func (c *testClient) packetsOf(stream, id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, rt := range c.tracks {
		if rt.stream == stream && rt.id == id {
			n += rt.packets
		}
	}

	return n
}

// A publisher with microphone, camera, screen and screen audio: subscribers receive four tracks
// whose ids are the source names. Closing the screen's gate stops every screen packet while the
// camera flows on; closing the audio gates stops the microphone and the screen's audio.
func TestSourcesAreTrackIDs(t *testing.T) {
	s := newTestSFU(t)
	a := newTestClient(t, s, "room", "a")
	b := newTestClient(t, s, "room", "b")
	a.sources = map[string]Source{"mic": SourceMicrophone, "cam": SourceCamera, "screen": SourceScreen, "screen-audio": SourceScreenAudio}
	screen := addPumpedTrack(t, a, KindVideo, "screen")
	screenAudio := addPumpedTrack(t, a, KindAudio, "screen-audio")
	a.publish(true, true)
	want := []string{"camera", "microphone", "screen", "screenAudio"}
	waitFor(t, "b receiving a's four sources", func() bool {
		if !slices.Equal(b.trackIDs("a"), want) {
			return false
		}
		for _, id := range want {
			if b.packetsOf("a", id) < 5 {
				return false
			}
		}

		return true
	})
	if got := a.peer.PublishedSources(); !slices.Equal(got, []Source{SourceMicrophone, SourceCamera, SourceScreen, SourceScreenAudio}) {
		t.Errorf("published sources %v", got)
	}
	if sigs := a.publisherSignals(SignalSources); len(sigs) == 0 || len(sigs[len(sigs)-1].Sources) != 4 {
		t.Errorf("sources signals %+v", sigs)
	}

	// Stop the screen share: not one more screen packet, the camera goes on.
	s.SetSourceForwarding("room", "a", SourceScreen, false)
	gated := b.packetsOf("a", "screen")
	sent, cam := screen.sent.Load(), b.packetsOf("a", "camera")
	waitFor(t, "a's screen sending 25 more frames, b receiving more camera", func() bool {
		return screen.sent.Load() >= sent+25 && b.packetsOf("a", "camera") >= cam+25
	})
	if got := b.packetsOf("a", "screen"); got != gated {
		t.Errorf("screen packets while its gate was closed: %d -> %d", gated, got)
	}
	s.SetSourceForwarding("room", "a", SourceScreen, true)
	waitFor(t, "the screen resuming", func() bool { return b.packetsOf("a", "screen") >= gated+10 })

	// The audio kind's gates: microphone and screen audio both stop; video does not.
	s.SetForwarding("room", "a", KindAudio, false)
	mic, sa := b.packetsOf("a", "microphone"), b.packetsOf("a", "screenAudio")
	sent, cam = screenAudio.sent.Load(), b.packetsOf("a", "camera")
	waitFor(t, "50 more screen audio packets sent, more camera received", func() bool {
		return screenAudio.sent.Load() >= sent+50 && b.packetsOf("a", "camera") >= cam+25
	})
	if b.packetsOf("a", "microphone") != mic || b.packetsOf("a", "screenAudio") != sa {
		t.Errorf("audio while gated: microphone %d -> %d, screen audio %d -> %d", mic,
			b.packetsOf("a", "microphone"), sa, b.packetsOf("a", "screenAudio"))
	}
	s.SetForwarding("room", "a", KindAudio, true)
	waitFor(t, "audio resuming", func() bool {
		return b.packetsOf("a", "microphone") >= mic+10 && b.packetsOf("a", "screenAudio") >= sa+10
	})
}

// scratchOffer makes a publisher offer with the given sections (a for audio, v for video) from a
// connection that never connects.
func scratchOffer(t *testing.T, kinds string) (offer string, mids []string) {
	t.Helper()
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pc.Close() }()
	for i, k := range kinds {
		kind := webrtc.RTPCodecTypeAudio
		if k == 'v' {
			kind = webrtc.RTPCodecTypeVideo
		}
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatalf("section %d: %v", i, err)
		}
	}
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	for _, x := range pc.GetTransceivers() {
		mids = append(mids, x.Mid())
	}

	return pc.LocalDescription().SDP, mids
}

// Offers whose sections and sources break the rules are refused with a SourcesError (a bad
// request) and change nothing; the same peer then takes a good offer.
func TestOfferSourcesValidation(t *testing.T) {
	s := newTestSFU(t)
	p, err := s.Join("room", "a", func(Signal) {})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	avv, m := scratchOffer(t, "avv")
	audio, video1, video2 := m[0], m[1], m[2]
	simulcastAudio := strings.Replace(avv, "a=mid:"+audio+"\r\n", "a=mid:"+audio+"\r\na=rid:q send\r\na=simulcast:send q\r\n", 1)
	badRID := strings.Replace(avv, "a=mid:"+video1+"\r\n", "a=mid:"+video1+"\r\na=rid:x send\r\na=rid:f send\r\na=simulcast:send x;f\r\n", 1)
	for _, tc := range []struct {
		name    string
		offer   string
		sources map[string]Source
	}{
		{"further section without a source", avv, nil},
		{"unknown source", avv, map[string]Source{video2: "slides"}},
		{"source of the other kind", avv, map[string]Source{audio: SourceCamera, video2: SourceScreen}},
		{"two sections, one source", avv, map[string]Source{video1: SourceScreen, video2: SourceScreen}},
		{"default taken by a named section", avv, map[string]Source{video2: SourceCamera}},
		{"no such section", avv, map[string]Source{video2: SourceScreen, "77": SourceScreenAudio}},
		{"simulcast audio", simulcastAudio, map[string]Source{video2: SourceScreen}},
		{"unknown RID", badRID, map[string]Source{video2: SourceScreen}},
	} {
		_, err := p.OfferSources(ctx, tc.offer, tc.sources)
		var se *SourcesError
		if !errors.As(err, &se) || !errors.Is(err, ErrBadSDP) {
			t.Errorf("%s: %v, want a SourcesError", tc.name, err)
		}
		if st := p.pub().SignalingState(); st != webrtc.SignalingStateStable {
			t.Errorf("%s left the publisher %s", tc.name, st)
		}
	}
	if _, err := p.OfferSources(ctx, avv, map[string]Source{video2: SourceScreen}); err != nil {
		t.Fatalf("good offer: %v", err)
	}
	secs := p.sections()
	if secs[audio].source != SourceMicrophone || secs[video1].source != SourceCamera || secs[video2].source != SourceScreen {
		t.Errorf("sections %+v", secs)
	}
}

// A section being received keeps its source: an offer that renames it is refused, and the
// track goes on.
func TestLiveSectionKeepsItsSource(t *testing.T) {
	s := newTestSFU(t)
	a := newTestClient(t, s, "room", "a")
	b := newTestClient(t, s, "room", "b")
	a.publish(false, true)
	waitFor(t, "b receiving a's camera", func() bool { return b.packetsOf("a", "camera") >= 10 })
	offer, err := a.pub.CreateOffer(nil) // not applied at the client: the server refuses it
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.peer.OfferSources(context.Background(), offer.SDP, map[string]Source{a.pub.GetTransceivers()[0].Mid(): SourceScreen})
	var se *SourcesError
	if !errors.As(err, &se) {
		t.Fatalf("renaming a live section: %v, want a SourcesError", err)
	}
	n := b.packetsOf("a", "camera")
	waitFor(t, "the camera going on", func() bool { return b.packetsOf("a", "camera") >= n+10 })
}

// A single-layer camera above the first estimate of a new subscriber's downlink starts all the
// same: nothing smaller can be sent, so the allocator probes (over the audio, the one track
// forwarded) until the link is known to carry it.
func TestLargeSingleLayerStarts(t *testing.T) {
	s := newTestSFU(t)
	a := newTestClient(t, s, "room", "a")
	b := newTestClient(t, s, "room", "b")
	addPumpedVideo(t, a, KindVideo, "cam", 6, 1100) // ~1.4 Mbit/s
	a.publish(true, false)
	waitFor(t, "b receiving a's camera", func() bool { return b.packetsOf("a", "camera") >= 50 })
	if st := s.Stats(); st.Probes["success"] == 0 || st.PaddingPackets == 0 {
		t.Errorf("the camera (above initialEstimate) started without a probe: %v", st.Probes)
	}
	rt, _ := b.track("a", KindVideo)
	if !rt.firstKey {
		t.Error("the camera did not start with a keyframe")
	}
}

// A bundled section offered with port 0 and a=bundle-only (Firefox offers every section after
// the first so) sends; a section with port 0 alone is rejected and does not.
func TestBundleOnlySectionSends(t *testing.T) {
	av, m := scratchOffer(t, "av")
	audio, video := m[0], m[1]
	portZero := func(sdp string) string {
		i := strings.Index(sdp, "m=video ")
		j := i + strings.Index(sdp[i:], " UDP/")
		return sdp[:i] + "m=video 0" + sdp[j:]
	}
	bundleOnly := strings.Replace(portZero(av), "a=mid:"+video+"\r\n", "a=mid:"+video+"\r\na=bundle-only\r\n", 1)
	secs, err := offerSections(bundleOnly, nil)
	if err != nil || secs[video].source != SourceCamera || secs[audio].source != SourceMicrophone {
		t.Errorf("bundle-only video: %+v, %v", secs, err)
	}
	secs, err = offerSections(portZero(av), nil)
	if _, ok := secs[video]; err != nil || ok {
		t.Errorf("rejected video: %+v, %v", secs, err)
	}
}
