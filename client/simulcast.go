package client

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley/internal/synth"
	"github.com/parleyhq/parley/wire"
)

// A simulcast camera is sent as browsers send one with three sendEncodings: one RTP stream per
// layer (RIDs q, h, f: a quarter, half and full resolution), each with its own SSRC, sequence
// numbers and timestamp base, and the MID and RID header extensions on every packet, from which
// the server tells the layers apart. Each payload's stamp carries its layer's RID
// (synth.StampLayer), so a receiver knows which layer each forwarded packet came from. Like a
// browser obeying encodings[i].active, the publisher stops sending the layers a publisherLayers
// event leaves out, and starts a layer it takes back with a keyframe.

// simulcastShare is each layer's share of PublishOptions.VideoBitrate, and its picture size.
var simulcastLayers = [...]struct {
	rid           string
	share         float64
	width, height int
}{
	{"q", 0.1, 320, 180},
	{"h", 1.0 / 3, 640, 360},
	{"f", 1, 1280, 720},
}

// pubLayer is one encoding of a simulcast camera.
type pubLayer struct {
	rid    string
	track  *webrtc.TrackLocalStaticRTP
	gen    *synth.Video
	pkt    rtp.Packet // reused: its sequence number goes on, its header carries MID and RID
	tsOff  uint32     // its timestamp base against the frame clock
	active atomic.Bool

	packets   atomic.Uint64
	keyframes atomic.Uint64
}

// LayerSent counts what a simulcast publisher sent of one layer.
type LayerSent struct {
	Packets   uint64
	Keyframes uint64
	// Active is false while the server's latest publisherLayers left the layer out (and the
	// publisher obeys it).
	Active bool
}

// newSimulcastLayers makes the generators of a simulcast camera from the options.
func newSimulcastLayers(opts PublishOptions) ([]*pubLayer, error) {
	total := opts.VideoBitrate
	if total == 0 {
		total = synth.DefaultVideoBitrate
	}
	layers := make([]*pubLayer, 0, len(simulcastLayers))
	for _, sl := range simulcastLayers {
		gen, err := synth.NewVideo(synth.VideoConfig{
			Codec: opts.VideoCodec, Bitrate: max(30_000, int(float64(total)*sl.share)), FPS: opts.FPS,
			KeyframeInterval: opts.KeyframeInterval, Width: sl.width, Height: sl.height, Layer: sl.rid,
		})
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", sl.rid, err)
		}
		l := &pubLayer{rid: sl.rid, gen: gen, tsOff: rand.Uint32(),
			pkt: rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(rand.Uint32())}}}
		l.active.Store(true)
		layers = append(layers, l)
	}
	return layers, nil
}

// addSimulcast adds the camera as one send-only transceiver with an encoding per layer, lowest
// first (the order of a=simulcast:send).
func (p *publisher) addSimulcast(codec webrtc.RTPCodecCapability, streamID string) error {
	var sender *webrtc.RTPSender
	for _, l := range p.layers {
		t, err := webrtc.NewTrackLocalStaticRTP(codec, Video, streamID, webrtc.WithRTPStreamID(l.rid))
		if err != nil {
			return fmt.Errorf("video layer %s: %w", l.rid, err)
		}
		l.track = t
		if sender == nil {
			tr, err := p.peer.pc.AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
			if err != nil {
				return fmt.Errorf("add simulcast video: %w", err)
			}
			sender = tr.Sender()
		} else if err := sender.AddEncoding(t); err != nil {
			return fmt.Errorf("add simulcast layer %s: %w", l.rid, err)
		}
	}
	p.videoSender = sender
	for _, l := range p.layers {
		p.c.spawn(func() { p.readLayerRTCP(sender, l) })
	}
	return nil
}

// readLayerRTCP reads one layer's RTCP: a PLI or FIR asks that layer for a keyframe.
func (p *publisher) readLayerRTCP(sender *webrtc.RTPSender, l *pubLayer) {
	for {
		pkts, _, err := sender.ReadSimulcastRTCP(l.rid)
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				p.keyRequests.Add(1)
				l.gen.RequestKeyframe()
			}
		}
	}
}

// tagLayers puts the MID and RID header extensions the answer negotiated on every layer's
// packets; the server routes the layers by them.
func (p *publisher) tagLayers() error {
	var mid string
	for _, tr := range p.peer.pc.GetTransceivers() {
		if tr.Sender() == p.videoSender {
			mid = tr.Mid()
		}
	}
	var midID, ridID int
	for _, e := range p.videoSender.GetParameters().HeaderExtensions {
		switch e.URI {
		case sdp.SDESMidURI:
			midID = e.ID
		case sdp.SDESRTPStreamIDURI:
			ridID = e.ID
		}
	}
	if mid == "" || midID == 0 || ridID == 0 {
		return fmt.Errorf("simulcast: the answer negotiated no MID and RID header extensions (mid %q)", mid)
	}
	for _, l := range p.layers {
		if err := l.pkt.SetExtension(uint8(midID), []byte(mid)); err != nil {
			return fmt.Errorf("simulcast: MID extension: %w", err)
		}
		if err := l.pkt.SetExtension(uint8(ridID), []byte(l.rid)); err != nil {
			return fmt.Errorf("simulcast: RID extension: %w", err)
		}
	}
	return nil
}

// writeLayers sends one frame on every active layer; ts is the frame's time on the frame clock.
func (p *publisher) writeLayers(ts uint32) {
	for _, l := range p.layers {
		if !l.active.Load() {
			continue
		}
		payloads, key := l.gen.Next()
		l.pkt.Timestamp = ts + l.tsOff
		for i, payload := range payloads {
			l.pkt.Payload = payload
			l.pkt.Marker = i == len(payloads)-1
			synth.Stamp(payload, time.Now())
			if err := l.track.WriteRTP(&l.pkt); err != nil {
				p.c.log.Debug("video layer write", "rid", l.rid, "err", err)
			}
			l.pkt.SequenceNumber++
		}
		l.packets.Add(uint64(len(payloads)))
		p.videoPackets.Add(uint64(len(payloads)))
		if key {
			l.keyframes.Add(1)
			p.keyframes.Add(1)
		}
	}
	p.videoFrames.Add(1)
}

// applyLayers obeys a publisherLayers event for the camera: the layers it lists are sent, the
// others not; a layer taken back starts with a keyframe.
func (p *publisher) applyLayers(ev wire.PublisherLayers) {
	if ev.Source != wire.SourceCamera || p.layers == nil || p.ignoreLayers {
		return
	}
	for _, l := range p.layers {
		on := slices.Contains(ev.Active, l.rid)
		if was := l.active.Swap(on); on && !was {
			l.gen.RequestKeyframe()
		}
	}
}

// onPublisherLayers hands a publisherLayers event to the publisher (the read loop).
func (c *Client) onPublisherLayers(m Message) {
	var ev wire.PublisherLayers
	if err := m.Decode(&ev); err != nil {
		c.log.Warn("publisherLayers not applied", "err", err)
		return
	}
	c.pubMu.Lock()
	pub := c.pub
	c.pubMu.Unlock()
	if pub != nil {
		pub.applyLayers(ev)
	}
}

// layerStats is PublishStats.Layers.
func (p *publisher) layerStats() map[string]LayerSent {
	if p.layers == nil {
		return nil
	}
	m := make(map[string]LayerSent, len(p.layers))
	for _, l := range p.layers {
		m[l.rid] = LayerSent{Packets: l.packets.Load(), Keyframes: l.keyframes.Load(), Active: l.active.Load()}
	}
	return m
}

// SetVideoQuality asks the server for a quality of one participant's camera or screen on this
// client's subscriber connection, and waits for the answer (a *ProtocolError: bad_request or
// not_found).
func (c *Client) SetVideoQuality(ctx context.Context, participantID string, source wire.Source, q wire.Quality) error {
	_, err := c.Request(ctx, wire.TypeSetVideoQuality, wire.SetVideoQuality{ParticipantID: &participantID, Source: source, Quality: q})
	if err != nil {
		return fmt.Errorf("set video quality of %s's %s to %s: %w", participantID, source, q, err)
	}
	return nil
}
