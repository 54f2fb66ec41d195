package synth

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/pion/rtp/codecs"
)

// Codec is a video codec the generator can frame.
type Codec string

// The video codecs.
const (
	VP8  Codec = "VP8"
	H264 Codec = "H264"
)

// VideoClockRate is the RTP clock of every video codec.
const VideoClockRate = 90000

// Defaults of VideoConfig.
const (
	DefaultVideoBitrate     = 1_500_000
	DefaultFPS              = 30
	DefaultKeyframeInterval = 2500 * time.Millisecond
	DefaultMTU              = 1200
)

// keyframeWeight is how many times larger than a delta frame a keyframe is; real encoders at
// these rates produce keyframes 3 to 6 times the average frame.
const keyframeWeight = 4

// VideoConfig describes the video to make. Zero fields take the defaults above.
type VideoConfig struct {
	Codec            Codec
	Bitrate          int // bits per second of payload
	FPS              int
	KeyframeInterval time.Duration
	MTU              int // the largest payload, stamp included
	Width, Height    int // written into VP8 keyframe headers; default 640x360
	// Layer is the RID of the simulcast layer these frames are ("q", "h" or "f"), written into
	// every stamp (StampLayer); "" for a stream of its own.
	Layer string
}

// Video makes the frames of one video track. Next is for one goroutine; RequestKeyframe may be
// called from any.
type Video struct {
	cfg          VideoConfig
	framesPerKey int
	keySize      int
	deltaSize    int
	frame        int // frames since the last keyframe; -1 forces one
	forceKey     atomic.Bool
	vp8          codecs.VP8Payloader
	h264         codecs.H264Payloader
	frameBuf     []byte
	noiseOff     int
	tag          byte // the stamps' tag: stampTag or the layer's RID
}

// NewVideo checks cfg and fills its defaults.
func NewVideo(cfg VideoConfig) (*Video, error) {
	if cfg.Codec == "" {
		cfg.Codec = VP8
	}
	if cfg.Codec != VP8 && cfg.Codec != H264 {
		return nil, fmt.Errorf("video codec %q: want VP8 or H264", cfg.Codec)
	}
	if cfg.Bitrate == 0 {
		cfg.Bitrate = DefaultVideoBitrate
	}
	if cfg.FPS == 0 {
		cfg.FPS = DefaultFPS
	}
	if cfg.KeyframeInterval == 0 {
		cfg.KeyframeInterval = DefaultKeyframeInterval
	}
	if cfg.MTU == 0 {
		cfg.MTU = DefaultMTU
	}
	if cfg.Width == 0 || cfg.Height == 0 {
		cfg.Width, cfg.Height = 640, 360
	}
	switch {
	case cfg.Bitrate < 10_000 || cfg.Bitrate > 100_000_000:
		return nil, fmt.Errorf("video bitrate %d: want 10 kbit/s to 100 Mbit/s", cfg.Bitrate)
	case cfg.FPS < 1 || cfg.FPS > 120:
		return nil, fmt.Errorf("video frame rate %d: want 1 to 120", cfg.FPS)
	case cfg.KeyframeInterval < 100*time.Millisecond:
		return nil, fmt.Errorf("keyframe interval %v: want at least 100ms", cfg.KeyframeInterval)
	case cfg.MTU < 200 || cfg.MTU > 1400:
		return nil, fmt.Errorf("MTU %d: want 200 to 1400", cfg.MTU)
	case cfg.Layer != "" && cfg.Layer != "q" && cfg.Layer != "h" && cfg.Layer != "f":
		return nil, fmt.Errorf("layer %q: want q, h or f", cfg.Layer)
	}
	v := &Video{cfg: cfg, frame: -1, tag: stampTag}
	if cfg.Layer != "" {
		v.tag = cfg.Layer[0]
	}
	v.vp8.EnablePictureID = true
	v.framesPerKey = max(1, int(math.Round(cfg.KeyframeInterval.Seconds()*float64(cfg.FPS))))
	perInterval := float64(cfg.Bitrate) / 8 * float64(v.framesPerKey) / float64(cfg.FPS)
	v.deltaSize = max(16, int(perInterval/float64(v.framesPerKey-1+keyframeWeight)))
	v.keySize = keyframeWeight * v.deltaSize
	return v, nil
}

// Config is the configuration in use, defaults filled.
func (v *Video) Config() VideoConfig { return v.cfg }

// FrameInterval is the time between frames.
func (v *Video) FrameInterval() time.Duration { return time.Second / time.Duration(v.cfg.FPS) }

// TimestampStep is the RTP timestamp increase per frame.
func (v *Video) TimestampStep() uint32 { return uint32(VideoClockRate / v.cfg.FPS) }

// RequestKeyframe makes the next frame a keyframe (a receiver sent a PLI or FIR).
func (v *Video) RequestKeyframe() { v.forceKey.Store(true) }

// Next returns the payloads of the next frame, in order, and whether it is a keyframe. Each
// payload is freshly allocated (a NACK responder may keep it); stamped ones have room for
// their stamp.
func (v *Video) Next() (payloads [][]byte, keyframe bool) {
	keyframe = v.frame < 0 || v.frame >= v.framesPerKey-1 || v.forceKey.Swap(false)
	if keyframe {
		v.frame = 0
	} else {
		v.frame++
	}
	size := v.deltaSize
	if keyframe {
		size = v.keySize
	}
	mtu := uint16(v.cfg.MTU - StampSize)
	if v.cfg.Codec == H264 {
		payloads = v.h264.Payload(mtu, v.h264Frame(size, keyframe))
	} else {
		payloads = v.vp8.Payload(mtu, v.vp8Frame(size, keyframe))
	}
	for i, p := range payloads {
		if v.cfg.Codec == H264 && len(p) > 0 && p[0]&0x1f == h264STAPA {
			continue // its length-prefixed NAL units must end where the packet does
		}
		payloads[i] = appendStampRoom(p, v.tag)
	}
	v.noiseOff += size
	return payloads, keyframe
}

// vp8Frame is a frame as a VP8 encoder emits it (RFC 6386 section 9.1): the 3-byte frame tag,
// then for keyframes the start code and dimensions; the rest is noise.
func (v *Video) vp8Frame(size int, keyframe bool) []byte {
	b := v.frameBuf[:0]
	var tag uint32
	if !keyframe {
		tag |= 1 // inter frame
	}
	tag |= 1 << 4 // show_frame
	tag |= uint32(min(size/3, 1<<19-1)) << 5
	b = append(b, byte(tag), byte(tag>>8), byte(tag>>16))
	if keyframe {
		b = append(b, 0x9d, 0x01, 0x2a)
		b = binary.LittleEndian.AppendUint16(b, uint16(v.cfg.Width&0x3fff))
		b = binary.LittleEndian.AppendUint16(b, uint16(v.cfg.Height&0x3fff))
	}
	b = fill(b, max(0, size-len(b)), v.noiseOff)
	v.frameBuf = b
	return b
}

// H264 NAL unit types used here.
const (
	h264NonIDR = 1
	h264IDR    = 5
	h264SPS    = 7
	h264PPS    = 8
	h264STAPA  = 24
	h264FUA    = 28
)

// Parameter sets of a constrained-baseline stream (profile-level-id 42e01f), as the access unit
// of a keyframe starts with them.
var (
	h264SPSUnit = []byte{0x67, 0x42, 0xe0, 0x1f, 0x8c, 0x8d, 0x40, 0x50, 0x17, 0xfc, 0xb0, 0x0f, 0x08, 0x84, 0x6a}
	h264PPSUnit = []byte{0x68, 0xce, 0x3c, 0x80}
	startCode   = []byte{0, 0, 0, 1}
)

// h264Frame is one access unit in Annex B: SPS, PPS and an IDR slice for a keyframe, one
// non-IDR slice otherwise.
func (v *Video) h264Frame(size int, keyframe bool) []byte {
	b := v.frameBuf[:0]
	if keyframe {
		b = append(b, startCode...)
		b = append(b, h264SPSUnit...)
		b = append(b, startCode...)
		b = append(b, h264PPSUnit...)
		b = append(b, startCode...)
		b = append(b, 0x65) // nal_ref_idc 3, IDR slice
	} else {
		b = append(b, startCode...)
		b = append(b, 0x41) // nal_ref_idc 2, non-IDR slice
	}
	b = fill(b, max(0, size-len(b)), v.noiseOff)
	v.frameBuf = b
	return b
}

// IsKeyframe reports whether an RTP payload of codec starts a keyframe: for VP8 the first packet
// of a key frame (RFC 7741), for H264 a packet holding or starting an SPS or IDR slice.
func IsKeyframe(codec Codec, payload []byte) bool {
	switch codec {
	case VP8:
		var p codecs.VP8Packet
		if _, err := p.Unmarshal(payload); err != nil {
			return false
		}
		return p.S == 1 && p.PID == 0 && len(p.Payload) > 0 && p.Payload[0]&1 == 0
	case H264:
		return h264Keyframe(payload)
	}
	return false
}

func h264Keyframe(p []byte) bool {
	if len(p) < 2 {
		return false
	}
	switch t := p[0] & 0x1f; t {
	case h264IDR, h264SPS:
		return true
	case h264STAPA:
		// First aggregated unit: 2-byte size, then its NAL header.
		return len(p) > 3 && (p[3]&0x1f == h264SPS || p[3]&0x1f == h264IDR)
	case h264FUA:
		return p[1]&0x80 != 0 && p[1]&0x1f == h264IDR
	}
	return false
}
