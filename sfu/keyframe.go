package sfu

import (
	"strings"

	"github.com/pion/webrtc/v4"
)

// keyframeFunc reports whether an RTP payload starts a keyframe. A subscriber that starts, or
// resumes after a pause, gets no video until one arrives, so that it never decodes from a
// reference it does not have.
type keyframeFunc func(payload []byte) bool

// keyframeDetector returns the detector for a codec. For a codec we cannot parse every packet
// counts, so such a stream is never held back forever.
func keyframeDetector(mime string) keyframeFunc {
	switch strings.ToLower(mime) {
	case strings.ToLower(webrtc.MimeTypeVP8):
		return isVP8Keyframe
	case strings.ToLower(webrtc.MimeTypeVP9):
		return isVP9Keyframe
	case strings.ToLower(webrtc.MimeTypeH264):
		return isH264Keyframe
	case strings.ToLower(webrtc.MimeTypeAV1):
		return isAV1Keyframe
	}

	return func([]byte) bool { return true }
}

// isVP8Keyframe parses the VP8 payload descriptor (RFC 7741 section 4.2) and the first byte of the
// VP8 payload header: a keyframe starts in the first partition (S=1, PID=0) with P=0.
func isVP8Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	x, s, pid := p[0]&0x80 != 0, p[0]&0x10 != 0, p[0]&0x07
	if !s || pid != 0 {
		return false
	}
	i := 1
	if x {
		if len(p) <= i {
			return false
		}
		ext := p[i]
		i++
		if ext&0x80 != 0 { // I: picture id, 7 or 15 bits
			if len(p) <= i {
				return false
			}
			if p[i]&0x80 != 0 {
				i++
			}
			i++
		}
		if ext&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if ext&0x30 != 0 { // T or K: TID/Y/KEYIDX
			i++
		}
	}
	if len(p) <= i {
		return false
	}

	return p[i]&0x01 == 0
}

// isVP9Keyframe reads the VP9 payload descriptor: the start of a frame (B) that is not
// inter-picture predicted (P=0), in the base spatial layer when layers are signalled.
func isVP9Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	iBit, pBit, lBit, bBit := p[0]&0x80 != 0, p[0]&0x40 != 0, p[0]&0x20 != 0, p[0]&0x08 != 0
	if pBit || !bBit {
		return false
	}
	if !lBit {
		return true
	}
	i := 1
	if iBit {
		if len(p) <= i {
			return false
		}
		if p[i]&0x80 != 0 {
			i++
		}
		i++
	}
	if len(p) <= i {
		return false
	}

	return (p[i]>>1)&0x07 == 0
}

// isH264Keyframe looks for an IDR slice or SPS in a single NAL unit, a STAP-A aggregate, or the
// first fragment of an FU-A (RFC 6184).
func isH264Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	isKey := func(t byte) bool { return t == 5 || t == 7 }
	switch t := p[0] & 0x1f; {
	case t >= 1 && t <= 23:
		return isKey(t)
	case t == 24: // STAP-A: [size(2) NAL]...
		for i := 1; i+2 < len(p); {
			size := int(p[i])<<8 | int(p[i+1])
			i += 2
			if size == 0 || i >= len(p) {
				return false
			}
			if isKey(p[i] & 0x1f) {
				return true
			}
			i += size
		}
	case t == 28: // FU-A
		return len(p) >= 2 && p[1]&0x80 != 0 && isKey(p[1]&0x1f)
	}

	return false
}

// isAV1Keyframe reads the AV1 aggregation header: N=1 marks the first packet of a new coded video
// sequence, which starts with a keyframe.
func isAV1Keyframe(p []byte) bool {
	return len(p) >= 1 && p[0]&0x08 != 0
}
