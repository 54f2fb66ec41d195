package client

import (
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley/internal/synth"
	"github.com/parleyhq/parley/wire"
)

// A screen share is published as the web client publishes one: a further video section (and an
// audio one for the screen's sound) named in the offer's sources by its mid. Its frames are the
// camera's generator's (a test counts packets, not pictures). The microphone's packets carry
// the audio level extension (RFC 6464) with the level SetAudioLevel set, silence by default, from
// which the server tells who speaks.

// screenShare is the publisher's screen tracks and the microphone's level.
type screenShare struct {
	video, audio   *webrtc.TrackLocalStaticRTP
	videoTR        *webrtc.RTPTransceiver
	audioTR        *webrtc.RTPTransceiver
	micSender      *webrtc.RTPSender
	send           atomic.Bool
	packets        atomic.Uint64
	audioPackets   atomic.Uint64
	level          atomic.Uint32 // the microphone's level in -dBov (0 loudest, 127 silence)
	levelID        atomic.Uint32 // the negotiated extension id, 0 before
	mu             sync.Mutex    // the packets' headers, written from the sending goroutine
	videoPkt, aPkt rtp.Packet
	agen           synth.Audio
}

func (s *screenShare) init() {
	s.send.Store(true)
	s.level.Store(127)
	s.videoPkt.Header = rtp.Header{Version: 2, SequenceNumber: uint16(rand.Uint32())}
	s.aPkt.Header = rtp.Header{Version: 2, SequenceNumber: uint16(rand.Uint32())}
}

// addScreen adds the screen's tracks the options ask for.
func (p *publisher) addScreen(streamID string, opts PublishOptions) error {
	s := &p.screen
	if opts.Screen {
		codec := vp8Codec
		if p.gen.Config().Codec == synth.H264 {
			codec = h264Codec
		}
		t, err := webrtc.NewTrackLocalStaticRTP(codec, string(wire.SourceScreen), streamID)
		if err != nil {
			return err
		}
		if s.videoTR, err = p.addTrack(t, true); err != nil {
			return err
		}
		s.video = t
	}
	if opts.ScreenAudio {
		t, err := webrtc.NewTrackLocalStaticRTP(opusCodec, string(wire.SourceScreenAudio), streamID)
		if err != nil {
			return err
		}
		if s.audioTR, err = p.addTrack(t, false); err != nil {
			return err
		}
		s.audio = t
	}
	return nil
}

// sources names the screen's sections by mid for the offer (the microphone and camera take the
// defaults); nil without a screen. Call it after the offer was set as the local description.
func (s *screenShare) sources() map[string]wire.Source {
	m := map[string]wire.Source{}
	if s.videoTR != nil {
		m[s.videoTR.Mid()] = wire.SourceScreen
	}
	if s.audioTR != nil {
		m[s.audioTR.Mid()] = wire.SourceScreenAudio
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// negotiated learns the audio level extension's id from the answer.
func (s *screenShare) negotiated() {
	if s.micSender == nil {
		return
	}
	for _, e := range s.micSender.GetParameters().HeaderExtensions {
		if e.URI == sdp.AudioLevelURI && e.ID > 0 && e.ID < 15 {
			s.levelID.Store(uint32(e.ID))
		}
	}
}

// stampLevel puts the microphone's level on an audio packet.
func (s *screenShare) stampLevel(pkt *rtp.Packet) {
	id := s.levelID.Load()
	if id == 0 {
		return
	}
	level := byte(s.level.Load())
	voice := byte(0)
	if level < 127 {
		voice = 0x80
	}
	if err := pkt.SetExtension(uint8(id), []byte{voice | level}); err != nil {
		return
	}
}

// sending reports whether the screen's video is to be sent now.
func (s *screenShare) sending() bool { return s.video != nil && s.send.Load() }

// writeScreen sends a frame's payloads on the screen track.
func (p *publisher) writeScreen(payloads [][]byte, ts uint32) {
	s := &p.screen
	s.mu.Lock()
	defer s.mu.Unlock()
	pkt := &s.videoPkt
	pkt.Timestamp = ts
	for i, payload := range payloads {
		pkt.Payload = payload
		pkt.Marker = i == len(payloads)-1
		synth.Stamp(payload, time.Now())
		if err := s.video.WriteRTP(pkt); err != nil {
			p.c.log.Debug("screen write", "err", err)
		}
		pkt.SequenceNumber++
	}
	s.packets.Add(uint64(len(payloads)))
}

// writeScreenAudio sends one Opus packet of the screen's sound.
func (p *publisher) writeScreenAudio(ts uint32) {
	s := &p.screen
	if s.audio == nil || !s.send.Load() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pkt := &s.aPkt
	pkt.Timestamp = ts
	pkt.Payload = s.agen.Next()
	synth.Stamp(pkt.Payload, time.Now())
	if err := s.audio.WriteRTP(pkt); err != nil {
		p.c.log.Debug("screen audio write", "err", err)
	}
	pkt.SequenceNumber++
	s.audioPackets.Add(1)
}

// SetAudioLevel sets the level the microphone's packets carry from now on, in -dBov: 0 is the
// loudest, 127 silence (the default).
func (c *Client) SetAudioLevel(level int) error {
	if level < 0 || level > 127 {
		return errors.New("set audio level: want 0 to 127 (-dBov)")
	}
	c.pubMu.Lock()
	pub := c.pub
	c.pubMu.Unlock()
	if pub == nil {
		return errors.New("set audio level: not publishing")
	}
	pub.screen.level.Store(uint32(level))
	return nil
}

// SetScreenSending starts or stops sending the screen share's tracks, whatever the server
// says: a client whose share the host stopped that keeps sending shows that the server drops it.
func (c *Client) SetScreenSending(on bool) error {
	c.pubMu.Lock()
	pub := c.pub
	c.pubMu.Unlock()
	if pub == nil {
		return errors.New("set screen sending: not publishing")
	}
	pub.screen.send.Store(on)
	return nil
}
