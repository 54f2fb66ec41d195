package sfu

import (
	"fmt"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// transportCCURI is the RTP header extension carrying transport-wide sequence numbers (TWCC).
const transportCCURI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

// videoFeedback is the RTCP feedback every video codec is registered with: retransmission
// requests, keyframe requests (PLI and FIR), and bandwidth feedback for later congestion control.
func videoFeedback() []webrtc.RTCPFeedback {
	return []webrtc.RTCPFeedback{
		{Type: webrtc.TypeRTCPFBNACK},
		{Type: webrtc.TypeRTCPFBNACK, Parameter: "pli"},
		{Type: webrtc.TypeRTCPFBCCM, Parameter: "fir"},
		{Type: webrtc.TypeRTCPFBGoogREMB},
		{Type: webrtc.TypeRTCPFBTransportCC},
	}
}

// supportedCodecs lists what publishers may send and subscribers receive. Both peer connections of
// a participant use the same list, so anything a publisher negotiates can be offered to every
// subscriber. Subscribers get no RTX: retransmissions go on the media SSRC, answered from one
// cache per layer.
func supportedCodecs() []webrtc.RTPCodecParameters {
	h264 := func(pt webrtc.PayloadType, profile string) webrtc.RTPCodecParameters {
		return webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{
				MimeType:     webrtc.MimeTypeH264,
				ClockRate:    90000,
				SDPFmtpLine:  "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + profile,
				RTCPFeedback: videoFeedback(),
			},
			PayloadType: pt,
		}
	}

	return []webrtc.RTPCodecParameters{
		{
			RTPCodecCapability: webrtc.RTPCodecCapability{
				MimeType:     webrtc.MimeTypeOpus,
				ClockRate:    48000,
				Channels:     2,
				SDPFmtpLine:  "minptime=10;useinbandfec=1",
				RTCPFeedback: []webrtc.RTCPFeedback{{Type: webrtc.TypeRTCPFBTransportCC}},
			},
			PayloadType: 111,
		},
		{
			RTPCodecCapability: webrtc.RTPCodecCapability{
				MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFeedback(),
			},
			PayloadType: 96,
		},
		{
			RTPCodecCapability: webrtc.RTPCodecCapability{
				MimeType: webrtc.MimeTypeVP9, ClockRate: 90000, SDPFmtpLine: "profile-id=0",
				RTCPFeedback: videoFeedback(),
			},
			PayloadType: 98,
		},
		h264(102, "42001f"),
		h264(106, "42e01f"),
		h264(108, "4d001f"),
		h264(112, "64001f"),
		{
			RTPCodecCapability: webrtc.RTPCodecCapability{
				MimeType: webrtc.MimeTypeAV1, ClockRate: 90000, RTCPFeedback: videoFeedback(),
			},
			PayloadType: 45,
		},
	}
}

// rtxPayloadTypes pairs each video payload type with the one its retransmissions (RTX, RFC 4588)
// use on publisher connections.
var rtxPayloadTypes = map[webrtc.PayloadType]webrtc.PayloadType{96: 97, 98: 99, 102: 103, 106: 107, 108: 109, 112: 113, 45: 46}

// registerMedia puts the supported codecs and the TWCC header extension into m. A publisher's
// connection also takes RTX for video (a publisher answers our NACKs on a repair stream, which
// Pion folds back into the track) and the header extensions that name a packet's section and
// simulcast layer (MID, RID, repaired RID), so that Pion routes streams by what the offer
// declared instead of guessing from the payload type, and audio the speaker's level (RFC 6464,
// speakers.go).
func registerMedia(m *webrtc.MediaEngine, publisher bool) error {
	for _, c := range supportedCodecs() {
		kind := webrtc.RTPCodecTypeVideo
		if strings.HasPrefix(strings.ToLower(c.MimeType), "audio/") {
			kind = webrtc.RTPCodecTypeAudio
		}
		if err := m.RegisterCodec(c, kind); err != nil {
			return err
		}
		if rtx, ok := rtxPayloadTypes[c.PayloadType]; ok && publisher {
			err := m.RegisterCodec(webrtc.RTPCodecParameters{
				RTPCodecCapability: webrtc.RTPCodecCapability{
					MimeType: webrtc.MimeTypeRTX, ClockRate: c.ClockRate, SDPFmtpLine: fmt.Sprintf("apt=%d", c.PayloadType),
				},
				PayloadType: rtx,
			}, webrtc.RTPCodecTypeVideo)
			if err != nil {
				return err
			}
		}
	}
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		uris := []string{transportCCURI}
		if publisher {
			uris = append(uris, sdp.SDESMidURI)
			if kind == webrtc.RTPCodecTypeVideo {
				uris = append(uris, sdp.SDESRTPStreamIDURI, sdp.SDESRepairRTPStreamIDURI)
			} else {
				uris = append(uris, sdp.AudioLevelURI) // RFC 6464, for the active speakers
			}
		}
		for _, uri := range uris {
			if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, kind); err != nil {
				return err
			}
		}
	}

	return nil
}

// codecIs reports whether a MIME type names the codec want.
func codecIs(mime, want string) bool { return strings.EqualFold(mime, want) }

// registerSubscriberExtensions adds the MID header extension to the subscriber connections'
// offers. BUNDLE wants it negotiated (RFC 8843, section 9) and our packets need not carry it:
// every track's SSRC is declared. What matters is the receiver's side: with MID negotiated it
// routes by MID or declared SSRC and drops the rest, where without it Pion (and any receiver that
// demultiplexes by payload type) takes a packet of an undeclared SSRC for the first m-section
// with its payload type. After a track is removed, its last packets may arrive after the offer
// that removed it; that first m-section may be the removed track's own, now without SSRC or
// msid, and the packets became a new track with an empty id.
func registerSubscriberExtensions(m *webrtc.MediaEngine) error {
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.SDESMidURI}, kind); err != nil {
			return err
		}
	}

	return nil
}

// fmtpParams parses an a=fmtp parameter list into lower-case keys.
func fmtpParams(line string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(line, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		if k != "" {
			out[strings.ToLower(k)] = strings.ToLower(v)
		}
	}

	return out
}

// codecMatches reports whether c can carry a stream published as want without transcoding. H.264
// must agree on packetization mode and profile (the level may differ); VP9 on its profile.
func codecMatches(c, want webrtc.RTPCodecCapability) bool {
	if !strings.EqualFold(c.MimeType, want.MimeType) || c.ClockRate != want.ClockRate {
		return false
	}
	a, b := fmtpParams(c.SDPFmtpLine), fmtpParams(want.SDPFmtpLine)
	switch strings.ToLower(want.MimeType) {
	case strings.ToLower(webrtc.MimeTypeH264):
		pa, pb := a["profile-level-id"], b["profile-level-id"]
		if len(pa) >= 4 && len(pb) >= 4 {
			pa, pb = pa[:4], pb[:4]
		}
		modeA, modeB := a["packetization-mode"], b["packetization-mode"]
		if modeA == "" {
			modeA = "0"
		}
		if modeB == "" {
			modeB = "0"
		}

		return pa == pb && modeA == modeB
	case strings.ToLower(webrtc.MimeTypeVP9):
		pa, pb := a["profile-id"], b["profile-id"]
		if pa == "" {
			pa = "0"
		}
		if pb == "" {
			pb = "0"
		}

		return pa == pb
	}

	return true
}

// findCodec returns the first codec of list that can carry want.
func findCodec(list []webrtc.RTPCodecParameters, want webrtc.RTPCodecCapability) (webrtc.RTPCodecParameters, bool) {
	for _, c := range list {
		if codecMatches(c.RTPCodecCapability, want) {
			return c, true
		}
	}

	return webrtc.RTPCodecParameters{}, false
}
