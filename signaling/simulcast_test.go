package signaling_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/internal/node/nodetest"
	"github.com/parleyhq/parley/wire"
)

// simulcastPublisher joins as the host and publishes audio and a three-layer camera whose
// payloads name their layer.
func (e *env) simulcastPublisher(t *testing.T, m wire.Created) *client.Client {
	t.Helper()
	ada := e.member(t, m.MeetingID, "Ada", m.HostKey, false)
	ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
	defer cancel()
	// Modest rates keep five clients and the server within two cores under -race.
	err := ada.Publish(ctx, client.PublishOptions{Audio: true, Video: true, Simulcast: true, VideoBitrate: 900_000, FPS: 15})
	if err != nil {
		t.Fatalf("publish simulcast: %v", err)
	}
	return ada
}

// setQuality asks c's quality of pub's camera, once the server has the camera.
func setQuality(t *testing.T, c, pub *client.Client, q wire.Quality) {
	t.Helper()
	var err error
	await.Until(t, fmt.Sprintf("%s setting %s", c.Joined().Self.Name, q), func() bool {
		ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
		defer cancel()
		err = c.SetVideoQuality(ctx, pub.ParticipantID(), wire.SourceCamera, q)
		return client.ErrorCode(err) != string(wire.CodeNotFound) // until the camera is there
	})
	if err != nil {
		t.Fatalf("%s: setVideoQuality %s: %v", c.Joined().Self.Name, q, err)
	}
}

// waitLayer waits until c's latest packets of pub's camera are of layer rid, n of them since.
func waitLayer(t *testing.T, c, pub *client.Client, rid string, n uint64) client.LayerCounts {
	t.Helper()
	from := c.Layers(pub.ParticipantID()).Packets[rid]
	var lc client.LayerCounts
	await.Until(t, fmt.Sprintf("%s on layer %s", c.Joined().Self.Name, rid), func() bool {
		lc = c.Layers(pub.ParticipantID())
		return lc.Current == rid && lc.Packets[rid] >= from+n
	})
	return lc
}

// checkContinuity checks what c received of pub's camera across every switch and pause: one
// track, a keyframe first on every layer, timestamps and VP8 picture ids that run on, and no
// sequence gap but for the packets the server shed.
func checkContinuity(t *testing.T, e *env, c, pub *client.Client) client.LayerCounts {
	t.Helper()
	who := c.Joined().Self.Name
	lc := c.Layers(pub.ParticipantID())
	rx := c.Received(pub.ParticipantID(), client.Video)
	if lc.SSRCs != 1 || rx.Tracks != 1 {
		t.Errorf("%s: the camera came on %d SSRCs, %d tracks", who, lc.SSRCs, rx.Tracks)
	}
	if lc.SwitchesOffKeyframe != 0 {
		t.Errorf("%s: %d of %d layer switches did not start on a keyframe", who, lc.SwitchesOffKeyframe, lc.Switches)
	}
	if lc.TimestampBackwards != 0 || lc.PictureIDJumps != 0 {
		t.Errorf("%s: timestamps went back %d times, picture ids jumped %d times", who, lc.TimestampBackwards, lc.PictureIDJumps)
	}
	if shed := e.shed(); rx.Gaps > shed {
		t.Errorf("%s: %d sequence gaps with %d packets shed by the server (late %d)", who, rx.Gaps, shed, rx.Late)
	}
	return lc
}

// rids lists the layers of lc with packets, in order.
func rids(lc client.LayerCounts) []string {
	var out []string
	for _, rid := range wire.LayerRIDs {
		if lc.Packets[rid] > 0 {
			out = append(out, rid)
		}
	}
	return out
}

// TestSimulcastQualities: subscribers asking low, medium, high and off get q, at most h, at
// most f and no video, each as one continuous stream; one subscriber goes through every quality
// and back, switching on keyframes; dynacast reaches the publisher over the wire, which stops
// the layers nobody needs and takes f back when someone asks high again. setVideoQuality's
// errors, joined.protocol and the layer metrics are checked on the way.
func TestSimulcastQualities(t *testing.T) {
	e := newEnv(t)
	m := e.create("Ada")
	ada := e.simulcastPublisher(t, m)
	if p := ada.Joined().Protocol; p != "1.1" {
		t.Errorf("joined.protocol = %q, want 1.1", p)
	}
	subs := map[wire.Quality]*client.Client{}
	for _, q := range []wire.Quality{wire.QualityLow, wire.QualityMedium, wire.QualityHigh, wire.QualityOff} {
		subs[q] = e.member(t, m.MeetingID, string(q), "", false)
		setQuality(t, subs[q], ada, q)
	}
	want := map[wire.Quality]string{wire.QualityLow: "q", wire.QualityMedium: "h", wire.QualityHigh: "f"}
	for q, rid := range want {
		waitLayer(t, subs[q], ada, rid, 20)
	}

	// From here on nobody gets a layer above the one it asked for, and off gets nothing.
	before := map[wire.Quality]client.LayerCounts{}
	for q, c := range subs {
		before[q] = c.Layers(ada.ParticipantID())
	}
	offVideo := subs[wire.QualityOff].Received(ada.ParticipantID(), client.Video).Packets
	offAudio := subs[wire.QualityOff].Received(ada.ParticipantID(), client.Audio).Packets
	grows(t, subs[wire.QualityHigh], ada, client.Video, 100)
	grows(t, subs[wire.QualityOff], ada, client.Audio, 20)
	for q, rid := range want {
		after := subs[q].Layers(ada.ParticipantID())
		for _, above := range wire.LayerRIDs[slices.Index(wire.LayerRIDs[:], rid)+1:] {
			if n := after.Packets[above] - before[q].Packets[above]; n != 0 {
				t.Errorf("%s received %d packets of layer %s", q, n, above)
			}
		}
		t.Logf("%s: layers %v, switches %d", q, after.Packets, after.Switches)
	}
	if got := subs[wire.QualityOff].Received(ada.ParticipantID(), client.Video).Packets; got != offVideo {
		t.Errorf("off received %d video packets", got-offVideo)
	}
	if got := subs[wire.QualityOff].Received(ada.ParticipantID(), client.Audio).Packets; got <= offAudio {
		t.Error("off receives no audio either")
	}
	for q := range want {
		checkContinuity(t, e, subs[q], ada)
	}

	// One subscriber through every quality and back.
	grace := subs[wire.QualityHigh]
	for _, step := range []struct {
		q   wire.Quality
		rid string
	}{{wire.QualityLow, "q"}, {wire.QualityMedium, "h"}, {wire.QualityOff, ""}, {wire.QualityHigh, "f"}, {wire.QualityLow, "q"}} {
		setQuality(t, grace, ada, step.q)
		if step.rid != "" {
			waitLayer(t, grace, ada, step.rid, 15)
			continue
		}
		// off: while the publisher sends 20 frames, nothing but what was in flight arrives.
		n := grace.Received(ada.ParticipantID(), client.Video).Packets
		frames := ada.PublishStats().VideoFrames
		await.Until(t, "20 frames sent while off", func() bool { return ada.PublishStats().VideoFrames >= frames+20 })
		if got := grace.Received(ada.ParticipantID(), client.Video).Packets; got > n+10 {
			t.Errorf("off: %d video packets arrived", got-n)
		}
	}
	lc := checkContinuity(t, e, grace, ada)
	if lc.Switches < 4 || len(rids(lc)) != 3 {
		t.Errorf("grace switched %d times, got layers %v", lc.Switches, lc.Packets)
	}

	// Dynacast: everyone on low (grace is already), so the publisher needs to send q only; it
	// stops h and f.
	setQuality(t, subs[wire.QualityMedium], ada, wire.QualityLow)
	setQuality(t, subs[wire.QualityHigh], ada, wire.QualityLow)
	layersEvent := func(want func([]string) bool) {
		t.Helper()
		waitEvent(t, ada, "publisherLayers", func(msg client.Message) bool {
			var ev wire.PublisherLayers
			return msg.Decode(&ev) == nil && ev.Source == wire.SourceCamera && want(ev.Active)
		})
	}
	layersEvent(func(active []string) bool { return slices.Equal(active, []string{"q"}) })
	await.Until(t, "the publisher stopping h and f", func() bool {
		l := ada.PublishStats().Layers
		return l["q"].Active && !l["h"].Active && !l["f"].Active
	})
	frames := ada.PublishStats().VideoFrames // a frame being sent as the event came may finish
	await.Until(t, "two more frames", func() bool { return ada.PublishStats().VideoFrames >= frames+2 })
	stopped := ada.PublishStats().Layers
	for _, c := range []*client.Client{subs[wire.QualityLow], subs[wire.QualityMedium], grace} {
		waitLayer(t, c, ada, "q", 20)
	}
	if l := ada.PublishStats().Layers; l["h"].Packets != stopped["h"].Packets || l["f"].Packets != stopped["f"].Packets {
		t.Errorf("the publisher sent h or f after stopping them: %+v then %+v", stopped, l)
	}
	// Someone asks high: f comes back, and reaches it.
	setQuality(t, grace, ada, wire.QualityHigh)
	layersEvent(func(active []string) bool { return slices.Contains(active, "f") })
	waitLayer(t, grace, ada, "f", 20)
	for _, c := range []*client.Client{subs[wire.QualityLow], subs[wire.QualityMedium], grace} {
		checkContinuity(t, e, c, ada)
	}

	// What signaling answers for requests it cannot serve.
	low := subs[wire.QualityLow]
	id := func(s string) *string { return &s }
	for _, bad := range []struct {
		what string
		body wire.SetVideoQuality
		code wire.Code
	}{
		{"an unknown participant", wire.SetVideoQuality{ParticipantID: id("nobody"), Source: wire.SourceCamera, Quality: wire.QualityLow}, wire.CodeNotFound},
		{"a source not published", wire.SetVideoQuality{ParticipantID: id(ada.ParticipantID()), Source: wire.SourceScreen, Quality: wire.QualityLow}, wire.CodeNotFound},
		{"one's own camera", wire.SetVideoQuality{ParticipantID: id(low.ParticipantID()), Source: wire.SourceCamera, Quality: wire.QualityLow}, wire.CodeNotFound},
		{"the microphone", wire.SetVideoQuality{ParticipantID: id(ada.ParticipantID()), Source: wire.SourceMicrophone, Quality: wire.QualityLow}, wire.CodeBadRequest},
		{"an unknown quality", wire.SetVideoQuality{ParticipantID: id(ada.ParticipantID()), Source: wire.SourceCamera, Quality: "ultra"}, wire.CodeBadRequest},
	} {
		t.Logf("setVideoQuality for %s", bad.what)
		requestError(t, low, wire.TypeSetVideoQuality, bad.body, string(bad.code))
	}

	// The layer metrics are on the node's /metrics.
	_, body := e.get("/metrics")
	for _, rid := range wire.LayerRIDs {
		re := regexp.MustCompile(`parley_sfu_layer_packets_forwarded_total\{layer="` + rid + `"\} (\d+)`)
		if m := re.FindSubmatch(body); m == nil {
			t.Errorf("no forwarded packets of layer %s in the metrics", rid)
		} else if n, _ := strconv.Atoi(string(m[1])); n == 0 {
			t.Errorf("metrics: 0 packets of layer %s forwarded", rid)
		}
	}
	for _, name := range []string{"parley_sfu_layer_switches_total", "parley_sfu_subscriber_bandwidth_estimate_bits_per_second_bucket", `parley_sfu_plis_sent_total{cause="switch"}`} {
		if !regexp.MustCompile(regexp.QuoteMeta(name)).Match(body) {
			t.Errorf("metrics lack %s", name)
		}
	}
	nodetest.Drops(t, e.media.Stats())
}

// TestOfferSources: an offer's sources are the media server's to judge; one it refuses is a
// bad_request and changes nothing.
func TestOfferSources(t *testing.T) {
	e := newEnv(t)
	m := e.create("Ada")
	ada := e.member(t, m.MeetingID, "Ada", m.HostKey, false)
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, sources := range []map[string]wire.Source{
		{"0": wire.SourceCamera},     // a video source on an audio section
		{"0": "webcam"},              // no source at all (the wire refuses it)
		{"7": wire.SourceMicrophone}, // a section the offer does not have
	} {
		requestError(t, ada, wire.TypeOffer, wire.Offer{Target: wire.TargetPublisher, SDP: offer.SDP, Sources: sources}, string(wire.CodeBadRequest))
	}
	request(t, ada, wire.TypeOffer, wire.Offer{Target: wire.TargetPublisher, SDP: offer.SDP, Sources: map[string]wire.Source{"0": wire.SourceMicrophone}})
}
