package sfu

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

func TestKeyframeDetection(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    keyframeFunc
		p    []byte
		want bool
	}{
		{"vp8 key, extended descriptor", isVP8Keyframe, vp8Payload(300, true, true, 20), true},
		{"vp8 inter", isVP8Keyframe, vp8Payload(300, true, false, 20), false},
		{"vp8 continuation", isVP8Keyframe, vp8Payload(300, false, true, 20), false},
		{"vp8 key, short descriptor", isVP8Keyframe, []byte{0x10, 0x00, 0x00, 0x00}, true},
		{"vp8 key, 7-bit picture id, tl0 and tid", isVP8Keyframe, []byte{0x90, 0xe0, 0x05, 0x01, 0x02, 0x00}, true},
		{"vp8 truncated", isVP8Keyframe, []byte{0x90, 0x80}, false},
		{"vp8 empty", isVP8Keyframe, nil, false},
		{"h264 idr", isH264Keyframe, []byte{0x65, 0x88}, true},
		{"h264 sps", isH264Keyframe, []byte{0x67, 0x42}, true},
		{"h264 non-idr", isH264Keyframe, []byte{0x41, 0x9a}, false},
		{"h264 stap-a with sps", isH264Keyframe, []byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce}, true},
		{"h264 stap-a without", isH264Keyframe, []byte{0x78, 0x00, 0x02, 0x41, 0x42}, false},
		{"h264 fu-a idr start", isH264Keyframe, []byte{0x7c, 0x85, 0x00}, true},
		{"h264 fu-a idr middle", isH264Keyframe, []byte{0x7c, 0x05, 0x00}, false},
		{"vp9 key", isVP9Keyframe, []byte{0x08, 0x00}, true},
		{"vp9 inter", isVP9Keyframe, []byte{0x48, 0x00}, false},
		{"vp9 key upper spatial layer", isVP9Keyframe, []byte{0xa8, 0x05, 0x02}, false},
		{"vp9 key base layer", isVP9Keyframe, []byte{0xa8, 0x05, 0x00}, true},
		{"av1 new sequence", isAV1Keyframe, []byte{0x08}, true},
		{"av1 other", isAV1Keyframe, []byte{0x10}, false},
	} {
		if got := tc.f(tc.p); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if !keyframeDetector("video/unknown")([]byte{1}) {
		t.Error("an unknown codec must never wait for a keyframe")
	}
}

func TestPacketCache(t *testing.T) {
	c := newPacketCache(4)
	buf := make([]byte, maxPacketSize)
	c.store(10, []byte{1, 2, 3}, 77)
	if n, at := c.get(10, buf); n != 3 || buf[2] != 3 || at != 77 {
		t.Fatalf("get 10: %d %v arrived %d", n, buf[:n], at)
	}
	if n, _ := c.get(11, buf); n != 0 {
		t.Fatal("got a packet never stored")
	}
	c.store(14, []byte{9}, 78) // same slot as 10: evicts it
	if n10, _ := c.get(10, buf); n10 != 0 {
		t.Fatal("eviction")
	}
	if n14, at := c.get(14, buf); n14 != 1 || at != 78 {
		t.Fatalf("get 14: %d arrived %d", n14, at)
	}
	c.store(15, make([]byte, maxPacketSize+1), 79)
	if n, _ := c.get(15, buf); n != 0 {
		t.Fatal("stored an oversized packet")
	}
}

func TestCodecMatching(t *testing.T) {
	h264 := func(fmtp string) webrtc.RTPCodecCapability {
		return webrtc.RTPCodecCapability{MimeType: "video/h264", ClockRate: 90000, SDPFmtpLine: fmtp}
	}
	for _, tc := range []struct {
		a, b webrtc.RTPCodecCapability
		want bool
	}{
		{h264("packetization-mode=1;profile-level-id=42e01f"), h264("profile-level-id=42e034;packetization-mode=1"), true},
		{h264("packetization-mode=1;profile-level-id=42e01f"), h264("packetization-mode=0;profile-level-id=42e01f"), false},
		{h264("packetization-mode=1;profile-level-id=42e01f"), h264("packetization-mode=1;profile-level-id=64001f"), false},
		{webrtc.RTPCodecCapability{MimeType: "video/VP8", ClockRate: 90000}, webrtc.RTPCodecCapability{MimeType: "video/vp8", ClockRate: 90000}, true},
		{webrtc.RTPCodecCapability{MimeType: "video/VP9", ClockRate: 90000, SDPFmtpLine: "profile-id=2"}, webrtc.RTPCodecCapability{MimeType: "video/VP9", ClockRate: 90000}, false},
		{webrtc.RTPCodecCapability{MimeType: "video/VP8", ClockRate: 90000}, webrtc.RTPCodecCapability{MimeType: "video/VP9", ClockRate: 90000}, false},
	} {
		if got := codecMatches(tc.a, tc.b); got != tc.want {
			t.Errorf("%v ~ %v: %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
	for _, c := range supportedCodecs() {
		if _, ok := findCodec(supportedCodecs(), c.RTPCodecCapability); !ok {
			t.Errorf("%s does not match itself", c.MimeType)
		}
	}
}

// The metrics are exported through a Registerer and follow the forwarding counters.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := New(Config{LoopbackOnly: true, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	a := newTestClient(t, s, "room", "a")
	b := newTestClient(t, s, "room", "b")
	a.publish(true, true)
	b.waitReceiving(t, 20, a)
	s.SetForwarding("room", "a", KindAudio, false)
	audio := a.audioSent.Load()
	waitFor(t, "muted drops", func() bool { return a.audioSent.Load() > audio+5 && s.Stats().PacketsDropped["muted"] > 0 })

	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range fams {
		seen[f.GetName()] = true
		if f.GetName() == "parley_sfu_published_tracks" && f.GetMetric()[0].GetGauge().GetValue() != 2 {
			t.Errorf("published tracks %v, want 2", f.GetMetric()[0].GetGauge().GetValue())
		}
		if f.GetName() == "parley_sfu_packets_dropped_total" {
			for _, m := range f.GetMetric() {
				if m.GetLabel()[0].GetValue() == "muted" && m.GetCounter().GetValue() == 0 {
					t.Error("muted drops not exported")
				}
			}
		}
	}
	for _, name := range []string{"parley_sfu_rooms", "parley_sfu_peers", "parley_sfu_packets_forwarded_total",
		"parley_sfu_bytes_forwarded_total", "parley_sfu_packets_dropped_total", "parley_sfu_nacks_received_total",
		"parley_sfu_nacks_answered_total", "parley_sfu_plis_sent_total", "parley_sfu_layer_packets_forwarded_total",
		"parley_sfu_layer_switches_total", "parley_sfu_refused_streams_total", "parley_sfu_stream_restarts_total",
		"parley_sfu_padding_packets_total", "parley_sfu_bandwidth_probes_total",
		"parley_sfu_subscriber_bandwidth_estimate_bits_per_second"} {
		if !seen[name] {
			t.Errorf("metric %s missing", name)
		}
	}
}

// Config: a fixed port is used, PublicIPs replace the host address in our candidates, and the
// all-interfaces mux (no client ever connects to it here) opens and closes.
func TestConfig(t *testing.T) {
	probe, err := New(Config{LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	port := probe.UDPPort()
	if err := probe.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{LoopbackOnly: true, UDPPort: port, PublicIPs: []string{"203.0.113.7"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	if s.UDPPort() != port {
		t.Errorf("port %d, want %d", s.UDPPort(), port)
	}
	p, err := s.Join("room", "a", func(Signal) {})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pc.Close() }()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := p.Offer(context.Background(), offer.SDP)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("203.0.113.7 %d typ host", port)
	if !strings.Contains(answer, want) || strings.Contains(answer, "127.0.0.1") {
		t.Errorf("answer candidates do not announce %q only:\n%s", want, answer)
	}

	all, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if all.UDPPort() == 0 {
		t.Error("no port picked")
	}
	if err := all.Close(); err != nil {
		t.Error(err)
	}
}
