package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley/internal/synth"
	"github.com/parleyhq/parley/wire"
)

// PublishOptions choose what Publish sends. Zero fields take synth's defaults (VP8, 1.5 Mbit/s,
// 30 fps, a keyframe every 2.5 s).
type PublishOptions struct {
	Audio, Video     bool
	VideoCodec       synth.Codec
	VideoBitrate     int
	FPS              int
	KeyframeInterval time.Duration
	// Simulcast sends the camera as three layers (RIDs q, h, f at a tenth, a third and all of
	// VideoBitrate), as a browser with three sendEncodings does (simulcast.go).
	Simulcast bool
	// IgnorePublisherLayers keeps every simulcast layer going whatever publisherLayers says
	// (by default the publisher obeys it, as the web client does).
	IgnorePublisherLayers bool
	// Screen also sends a screen share (a second video track, the offer's source "screen",
	// carrying the camera's frames) and ScreenAudio its audio (a second Opus track, source
	// "screenAudio"); see screen.go. Not with Simulcast.
	Screen, ScreenAudio bool
}

// PublishStats counts what the publisher sent.
type PublishStats struct {
	AudioPackets uint64
	VideoPackets uint64
	// ScreenPackets and ScreenAudioPackets count what was sent of the screen share.
	ScreenPackets, ScreenAudioPackets uint64
	VideoFrames                       uint64
	Keyframes                         uint64
	// KeyframeRequests counts PLIs and FIRs received from the server.
	KeyframeRequests uint64
	// Layers counts each simulcast layer by RID; nil without simulcast.
	Layers map[string]LayerSent
}

// publisher is the peer connection that sends this client's media.
type publisher struct {
	c     *Client
	peer  *peer
	audio *webrtc.TrackLocalStaticRTP
	video *webrtc.TrackLocalStaticRTP
	gen   *synth.Video
	// layers are the simulcast camera's encodings, lowest first (nil without simulcast); gen is
	// the full layer's generator then.
	layers       []*pubLayer
	videoSender  *webrtc.RTPSender
	ignoreLayers bool
	screen       screenShare // screen.go

	sendAudio, sendVideo atomic.Bool
	audioPackets         atomic.Uint64
	videoPackets         atomic.Uint64
	videoFrames          atomic.Uint64
	keyframes            atomic.Uint64
	keyRequests          atomic.Uint64

	connected chan struct{}
	failed    chan struct{}
	stateOnce sync.Once
	failOnce  sync.Once
}

// Publish creates the publisher connection with an Opus and/or a video track, makes the offer,
// applies the server's answer and waits until the connection is up; media then flows on the
// client's goroutines until Close. Each packet's payload ends with its send time (package
// synth). A client publishes once.
func (c *Client) Publish(ctx context.Context, opts PublishOptions) error {
	if !opts.Audio && !opts.Video && !opts.Screen && !opts.ScreenAudio {
		return errors.New("publish: neither audio nor video")
	}
	if opts.Simulcast && (opts.Screen || opts.ScreenAudio) {
		return errors.New("publish: a screen share beside a simulcast camera is not supported")
	}
	var gen *synth.Video
	var layers []*pubLayer
	if opts.Video && opts.Simulcast {
		var err error
		if layers, err = newSimulcastLayers(opts); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		gen = layers[len(layers)-1].gen
	} else if opts.Video || opts.Screen {
		var err error
		gen, err = synth.NewVideo(synth.VideoConfig{
			Codec: opts.VideoCodec, Bitrate: opts.VideoBitrate, FPS: opts.FPS, KeyframeInterval: opts.KeyframeInterval,
		})
		if err != nil {
			return fmt.Errorf("publish: %w", err)
		}
	}
	api, err := c.newAPI(func(m *webrtc.MediaEngine) error {
		if layers != nil { // the server routes the layers by MID and RID
			if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
				return err
			}
		}
		// The microphone's level on every packet (RFC 6464), for the server's active speakers.
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
			return err
		}
		return registerPublishCodecs(m, gen)
	})
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	p, err := newPeer(c, wire.TargetPublisher, api)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	pub := &publisher{c: c, peer: p, gen: gen, layers: layers, ignoreLayers: opts.IgnorePublisherLayers,
		connected: make(chan struct{}), failed: make(chan struct{})}
	pub.sendAudio.Store(true)
	pub.sendVideo.Store(true)
	pub.screen.init()
	c.pubMu.Lock()
	if c.pub != nil || c.ctx.Err() != nil {
		c.pubMu.Unlock()
		_ = p.pc.Close()
		return errors.New("publish: already publishing or closed")
	}
	c.pub = pub
	c.pubMu.Unlock()
	// From here on Close closes the connection.
	if err := pub.start(ctx, opts); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	return nil
}

var (
	opusCodec = webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: synth.OpusClockRate, Channels: 2,
		SDPFmtpLine: "minptime=10;useinbandfec=1",
	}
	videoFeedback = []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	vp8Codec      = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: synth.VideoClockRate, RTCPFeedback: videoFeedback}
	h264Codec     = webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeH264, ClockRate: synth.VideoClockRate, RTCPFeedback: videoFeedback,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
	}
)

// registerPublishCodecs offers exactly the codecs the tracks send, so the answer cannot pick
// another one.
func registerPublishCodecs(m *webrtc.MediaEngine, gen *synth.Video) error {
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opusCodec, PayloadType: 111}, webrtc.RTPCodecTypeAudio); err != nil {
		return err
	}
	video := vp8Codec
	if gen != nil && gen.Config().Codec == synth.H264 {
		video = h264Codec
	}
	return m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: video, PayloadType: 96}, webrtc.RTPCodecTypeVideo)
}

func (p *publisher) start(ctx context.Context, opts PublishOptions) error {
	c := p.c
	pc := p.peer.pc
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			p.stateOnce.Do(func() { close(p.connected) })
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			p.failOnce.Do(func() { close(p.failed) })
		}
	})
	streamID := c.ParticipantID()
	if opts.Audio {
		t, err := webrtc.NewTrackLocalStaticRTP(opusCodec, Audio, streamID)
		if err != nil {
			return fmt.Errorf("audio track: %w", err)
		}
		tr, err := p.addTrack(t, false)
		if err != nil {
			return err
		}
		p.audio, p.screen.micSender = t, tr.Sender()
	}
	if opts.Video {
		if err := p.addVideo(streamID); err != nil {
			return err
		}
	}
	if err := p.addScreen(streamID, opts); err != nil {
		return err
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("create offer: %w", err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("set local offer: %w", err)
	}
	o := wire.Offer{Target: wire.TargetPublisher, SDP: offer.SDP, Sources: p.screen.sources()}
	raw, err := c.request(ctx, wire.TypeOffer, o, p.peer.descriptionSent)
	if err != nil {
		return err
	}
	var answer wire.SessionDescription
	if err := json.Unmarshal(raw, &answer); err != nil || answer.SDP == "" {
		return fmt.Errorf("the offer was answered with %s", raw)
	}
	if err := p.peer.setRemote(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer.SDP}); err != nil {
		return err
	}
	p.screen.negotiated()
	if p.layers != nil {
		if err := p.tagLayers(); err != nil {
			return err
		}
	}
	if !c.spawn(p.sendMedia) {
		return c.closedErr()
	}
	select {
	case <-p.connected:
		return nil
	case <-p.failed:
		return errors.New("the publisher connection failed")
	case <-ctx.Done():
		return fmt.Errorf("waiting for the publisher connection: %w", ctx.Err())
	}
}

// addVideo adds the camera: one track, or a simulcast encoding per layer.
func (p *publisher) addVideo(streamID string) error {
	codec := vp8Codec
	if p.gen.Config().Codec == synth.H264 {
		codec = h264Codec
	}
	if p.layers != nil {
		return p.addSimulcast(codec, streamID)
	}
	t, err := webrtc.NewTrackLocalStaticRTP(codec, Video, streamID)
	if err != nil {
		return fmt.Errorf("video track: %w", err)
	}
	if _, err := p.addTrack(t, true); err != nil {
		return err
	}
	p.video = t
	return nil
}

// addTrack adds a send-only transceiver for t and reads its RTCP (the interceptors see NACKs
// only when it is read; PLIs and FIRs ask for a keyframe).
func (p *publisher) addTrack(t *webrtc.TrackLocalStaticRTP, video bool) (*webrtc.RTPTransceiver, error) {
	tr, err := p.peer.pc.AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return nil, fmt.Errorf("add %s track: %w", t.Kind(), err)
	}
	sender := tr.Sender()
	p.c.spawn(func() { p.readRTCP(sender, video) })
	return tr, nil
}

func (p *publisher) readRTCP(sender *webrtc.RTPSender, video bool) {
	buf := make([]byte, 1500)
	for {
		n, _, err := sender.Read(buf)
		if err != nil {
			return
		}
		if !video {
			continue
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, pkt := range pkts {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				p.keyRequests.Add(1)
				p.gen.RequestKeyframe()
			}
		}
	}
}

// maxLag is how far the sender may fall behind its clock before it skips ahead instead of
// catching up with a burst.
const maxLag = 200 * time.Millisecond

// sendMedia paces both tracks on one goroutine: audio every 20 ms, video every frame.
func (p *publisher) sendMedia() {
	select {
	case <-p.connected:
	case <-p.failed:
		return
	case <-p.c.ctx.Done():
		return
	}
	var (
		audioGen   synth.Audio
		audioPkt   = rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(rand.Uint32()), Timestamp: rand.Uint32()}}
		videoPkt   = rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(rand.Uint32()), Timestamp: rand.Uint32()}}
		start      = time.Now()
		audioNext  = start
		videoNext  = start
		frameEvery time.Duration
		videoStep  uint32
	)
	video := p.video != nil || p.layers != nil || p.screen.video != nil
	if video {
		frameEvery, videoStep = p.gen.FrameInterval(), p.gen.TimestampStep()
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
		case <-p.c.ctx.Done():
			return
		case <-p.failed:
			return
		}
		now := time.Now()
		next := now.Add(time.Hour)
		if p.audio != nil || p.screen.audio != nil {
			for !now.Before(audioNext) {
				if now.Sub(audioNext) > maxLag {
					skipped := now.Sub(audioNext) / synth.OpusPacketInterval
					audioNext = audioNext.Add(skipped * synth.OpusPacketInterval)
					audioPkt.Timestamp += uint32(skipped) * synth.OpusTimestampStep
				}
				if p.sendAudio.Load() {
					p.writeAudio(&audioPkt, &audioGen)
				}
				p.writeScreenAudio(audioPkt.Timestamp)
				audioPkt.Timestamp += synth.OpusTimestampStep
				audioNext = audioNext.Add(synth.OpusPacketInterval)
			}
			next = audioNext
		}
		if video {
			for !now.Before(videoNext) {
				if now.Sub(videoNext) > maxLag {
					skipped := now.Sub(videoNext) / frameEvery
					videoNext = videoNext.Add(skipped * frameEvery)
					videoPkt.Timestamp += uint32(skipped) * videoStep
				}
				switch {
				case p.layers != nil:
					if p.sendVideo.Load() {
						p.writeLayers(videoPkt.Timestamp)
					}
				default:
					p.writeFrame(&videoPkt)
				}
				videoPkt.Timestamp += videoStep
				videoNext = videoNext.Add(frameEvery)
			}
			if videoNext.Before(next) {
				next = videoNext
			}
		}
		timer.Reset(time.Until(next))
	}
}

func (p *publisher) writeAudio(pkt *rtp.Packet, gen *synth.Audio) {
	if p.audio == nil {
		return
	}
	pkt.Payload = gen.Next()
	synth.Stamp(pkt.Payload, time.Now())
	p.screen.stampLevel(pkt)
	if err := p.audio.WriteRTP(pkt); err != nil {
		p.c.log.Debug("audio write", "err", err)
	}
	pkt.SequenceNumber++
	p.audioPackets.Add(1)
}

// writeFrame sends the next frame on the camera and on the screen, each while it is sending.
func (p *publisher) writeFrame(pkt *rtp.Packet) {
	camera := p.video != nil && p.sendVideo.Load()
	screen := p.screen.sending()
	if !camera && !screen {
		return
	}
	payloads, key := p.gen.Next()
	for i, payload := range payloads {
		pkt.Payload = payload
		pkt.Marker = i == len(payloads)-1
		synth.Stamp(payload, time.Now())
		if camera {
			if err := p.video.WriteRTP(pkt); err != nil {
				p.c.log.Debug("video write", "err", err)
			}
		}
		pkt.SequenceNumber++
	}
	if screen {
		p.writeScreen(payloads, pkt.Timestamp)
	}
	if !camera {
		return
	}
	p.videoPackets.Add(uint64(len(payloads)))
	p.videoFrames.Add(1)
	if key {
		p.keyframes.Add(1)
	}
}

func (p *publisher) close() {
	if err := p.peer.pc.GracefulClose(); err != nil {
		p.c.log.Debug("publisher close", "err", err)
	}
}

// SetSending starts or stops sending kind (Audio or Video) on the publisher connection. It is
// independent of the protocol's mute state: a client muted by the host that keeps sending
// shows that the server, not the client, stops the media.
func (c *Client) SetSending(kind string, on bool) error {
	c.pubMu.Lock()
	pub := c.pub
	c.pubMu.Unlock()
	if pub == nil {
		return errors.New("set sending: not publishing")
	}
	switch kind {
	case Audio:
		pub.sendAudio.Store(on)
	case Video:
		pub.sendVideo.Store(on)
	default:
		return fmt.Errorf("set sending: kind %q: want audio or video", kind)
	}
	return nil
}

// PublishStats returns what the publisher has sent so far (zero when not publishing).
func (c *Client) PublishStats() PublishStats {
	c.pubMu.Lock()
	pub := c.pub
	c.pubMu.Unlock()
	if pub == nil {
		return PublishStats{}
	}
	return PublishStats{
		AudioPackets:       pub.audioPackets.Load(),
		VideoPackets:       pub.videoPackets.Load(),
		ScreenPackets:      pub.screen.packets.Load(),
		ScreenAudioPackets: pub.screen.audioPackets.Load(),
		VideoFrames:        pub.videoFrames.Load(),
		Keyframes:          pub.keyframes.Load(),
		KeyframeRequests:   pub.keyRequests.Load(),
		Layers:             pub.layerStats(),
	}
}

// PublisherConnection exposes the publisher peer connection, nil before Publish.
func (c *Client) PublisherConnection() *webrtc.PeerConnection {
	c.pubMu.Lock()
	defer c.pubMu.Unlock()
	if c.pub == nil {
		return nil
	}
	return c.pub.peer.pc
}
