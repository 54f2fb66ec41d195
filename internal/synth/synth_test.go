package synth

import (
	"math"
	"testing"
	"time"

	"github.com/pion/rtp/codecs"
)

func TestStampRoundTrip(t *testing.T) {
	var a Audio
	p := a.Next()
	if len(p) != opusPayloadSize || p[0] != opusTOC {
		t.Fatalf("opus payload: %d bytes, TOC %#x", len(p), p[0])
	}
	if _, ok := ReadStamp(p); !ok {
		t.Fatal("fresh payload has no stamp room")
	}
	at := time.Unix(1700000000, 123456789)
	if !Stamp(p, at) {
		t.Fatal("Stamp refused a stamped payload")
	}
	got, ok := ReadStamp(p)
	if !ok || got != at.UnixNano() {
		t.Errorf("ReadStamp = %d, %v; want %d", got, ok, at.UnixNano())
	}
	if Stamp([]byte{1, 2, 3}, at) {
		t.Error("Stamp wrote into a payload without room")
	}
	if _, ok := ReadStamp(make([]byte, 40)); ok {
		t.Error("ReadStamp found a stamp in zeros")
	}
}

func frames(t *testing.T, v *Video, n int) (bytes int, keyframes []int, maxLen int, all [][]byte) {
	t.Helper()
	for i := 0; i < n; i++ {
		ps, key := v.Next()
		if key {
			keyframes = append(keyframes, i)
		}
		for _, p := range ps {
			bytes += len(p)
			maxLen = max(maxLen, len(p))
			all = append(all, p)
		}
	}
	return
}

func TestVideoBitrateKeyframesAndMTU(t *testing.T) {
	for _, codec := range []Codec{VP8, H264} {
		t.Run(string(codec), func(t *testing.T) {
			v, err := NewVideo(VideoConfig{Codec: codec, KeyframeInterval: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			// 10 s at 30 fps.
			bytes, keys, maxLen, _ := frames(t, v, 300)
			bitrate := float64(bytes*8) / 10
			if math.Abs(bitrate-DefaultVideoBitrate)/DefaultVideoBitrate > 0.05 {
				t.Errorf("bitrate %.0f bit/s, want 1.5 Mbit/s within 5%%", bitrate)
			}
			if want := []int{0, 60, 120, 180, 240}; len(keys) != len(want) || keys[0] != 0 || keys[1] != 60 {
				t.Errorf("keyframes at frames %v, want %v", keys, want)
			}
			if maxLen > DefaultMTU {
				t.Errorf("a payload of %d bytes exceeds the MTU %d", maxLen, DefaultMTU)
			}
		})
	}
}

func TestVideoForcedKeyframeRestartsInterval(t *testing.T) {
	v, err := NewVideo(VideoConfig{})
	if err != nil {
		t.Fatal(err)
	}
	frames(t, v, 10)
	v.RequestKeyframe()
	if _, key := v.Next(); !key {
		t.Fatal("frame after RequestKeyframe is not a keyframe")
	}
	if _, key := v.Next(); key {
		t.Fatal("the keyframe request was served twice")
	}
}

func TestVP8PayloadsAreWellFormed(t *testing.T) {
	v, err := NewVideo(VideoConfig{Codec: VP8, Width: 1280, Height: 720})
	if err != nil {
		t.Fatal(err)
	}
	ps, key := v.Next()
	if !key || len(ps) < 2 {
		t.Fatalf("first frame: key %v, %d packets", key, len(ps))
	}
	var pictureID uint16
	for i, p := range ps {
		var d codecs.VP8Packet
		if _, err := d.Unmarshal(p); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if (d.S == 1) != (i == 0) || d.I != 1 {
			t.Errorf("packet %d: S=%d I=%d", i, d.S, d.I)
		}
		if i == 0 {
			pictureID = d.PictureID
			f := d.Payload
			if f[0]&1 != 0 || f[3] != 0x9d || f[4] != 0x01 || f[5] != 0x2a {
				t.Errorf("keyframe header % x", f[:10])
			}
			if w, h := int(f[6])|int(f[7])<<8, int(f[8])|int(f[9])<<8; w != 1280 || h != 720 {
				t.Errorf("dimensions %dx%d", w, h)
			}
		} else if d.PictureID != pictureID {
			t.Errorf("packet %d: picture id %d, want %d", i, d.PictureID, pictureID)
		}
		if !Stamped(p) {
			t.Errorf("packet %d has no stamp", i)
		}
		if IsKeyframe(VP8, p) != (i == 0) {
			t.Errorf("packet %d: IsKeyframe = %v", i, i != 0)
		}
	}
	next, key := v.Next()
	if key || IsKeyframe(VP8, next[0]) {
		t.Error("second frame taken for a keyframe")
	}
	var d codecs.VP8Packet
	if _, err := d.Unmarshal(next[0]); err != nil || d.PictureID != pictureID+1 {
		t.Errorf("second frame picture id %d (%v), want %d", d.PictureID, err, pictureID+1)
	}
}

func TestH264PayloadsAreWellFormed(t *testing.T) {
	v, err := NewVideo(VideoConfig{Codec: H264})
	if err != nil {
		t.Fatal(err)
	}
	ps, key := v.Next()
	if !key {
		t.Fatal("first frame is not a keyframe")
	}
	// STAP-A with SPS and PPS, then the IDR slice in FU-A fragments.
	if ps[0][0]&0x1f != h264STAPA || ps[0][3]&0x1f != h264SPS || Stamped(ps[0]) {
		t.Fatalf("first packet % x: want an unstamped STAP-A starting with the SPS", ps[0][:4])
	}
	if !IsKeyframe(H264, ps[0]) || !IsKeyframe(H264, ps[1]) {
		t.Error("keyframe packets not recognised")
	}
	for i, p := range ps[1:] {
		if p[0]&0x1f != h264FUA || p[1]&0x1f != h264IDR {
			t.Errorf("packet %d: % x, want an FU-A of an IDR slice", i+1, p[:2])
		}
		if start := p[1]&0x80 != 0; start != (i == 0) {
			t.Errorf("packet %d: start bit %v", i+1, start)
		}
		if !Stamped(p) {
			t.Errorf("packet %d has no stamp", i+1)
		}
	}
	next, _ := v.Next()
	if IsKeyframe(H264, next[0]) || next[0][1]&0x1f != h264NonIDR {
		t.Errorf("delta frame % x taken for a keyframe or mistyped", next[0][:2])
	}
}

func TestNewVideoRejectsBadConfig(t *testing.T) {
	for _, cfg := range []VideoConfig{
		{Codec: "VP9"}, {Bitrate: 10}, {FPS: 500}, {KeyframeInterval: time.Millisecond}, {MTU: 5000}, {Layer: "x"},
	} {
		if _, err := NewVideo(cfg); err == nil {
			t.Errorf("NewVideo(%+v) accepted", cfg)
		}
	}
}

// A simulcast layer's payloads carry its RID in their stamps, and keep their send time there;
// other payloads carry none.
func TestStampLayer(t *testing.T) {
	for _, rid := range []string{"q", "h", "f"} {
		v, err := NewVideo(VideoConfig{Layer: rid})
		if err != nil {
			t.Fatal(err)
		}
		ps, _ := v.Next()
		for i, p := range ps {
			at := time.Unix(1700000000, int64(i))
			if !Stamp(p, at) {
				t.Fatalf("%s: packet %d has no stamp", rid, i)
			}
			if got := StampLayer(p); got != rid {
				t.Errorf("%s: packet %d: StampLayer = %q", rid, i, got)
			}
			if sent, ok := ReadStamp(p); !ok || sent != at.UnixNano() {
				t.Errorf("%s: packet %d: ReadStamp = %d, %v", rid, i, sent, ok)
			}
		}
	}
	plain, err := NewVideo(VideoConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := plain.Next()
	var a Audio
	for _, p := range [][]byte{ps[0], a.Next(), make([]byte, 40)} {
		if got := StampLayer(p); got != "" {
			t.Errorf("StampLayer = %q for a payload of no layer", got)
		}
	}
}
