package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley/internal/rtpstats"
	"github.com/parleyhq/parley/internal/synth"
	"github.com/parleyhq/parley/wire"
)

// Media kinds, as in setMuted and as webrtc.RTPCodecType.String gives them.
const (
	Audio = "audio"
	Video = "video"
)

// TrackKey names a received stream: its publisher (the MediaStream id), kind and, for a screen
// share, its source.
type TrackKey struct {
	StreamID string // the publishing participant's id
	Kind     string // Audio or Video
	// Source is "screen" or "screenAudio" for a screen share's tracks (their track id), empty
	// for the microphone and the camera.
	Source string
}

// keyOf is the key of a track whose id is trackID.
func keyOf(streamID, kind, trackID string) TrackKey {
	k := TrackKey{StreamID: streamID, Kind: kind}
	if trackID == string(wire.SourceScreen) || trackID == string(wire.SourceScreenAudio) {
		k.Source = trackID
	}
	return k
}

// SourceKey is the key of a participant's track of one source (microphone, camera, screen,
// screenAudio).
func SourceKey(participantID string, src wire.Source) TrackKey {
	kind := Audio
	if src.Video() {
		kind = Video
	}
	return keyOf(participantID, kind, string(src))
}

// TrackInfo describes a remote track being received.
type TrackInfo struct {
	TrackKey
	TrackID string
	Codec   string // MIME type, e.g. video/VP8
	SSRC    uint32
	Started time.Time
}

// subscriber is the peer connection on which the server sends everyone else's media.
type subscriber struct {
	c    *Client
	peer *peer

	mu      sync.Mutex
	tracks  map[TrackKey]*remoteTrack // current tracks
	streams map[TrackKey]*rtpstats.Stream
	layers  map[TrackKey]*layerTracker // video streams only
	changed chan struct{}              // closed and replaced when tracks change
}

type remoteTrack struct {
	info TrackInfo
}

func newSubscriber(c *Client) (*subscriber, error) {
	api, err := c.newAPI(func(m *webrtc.MediaEngine) error { return m.RegisterDefaultCodecs() })
	if err != nil {
		return nil, fmt.Errorf("subscriber: %w", err)
	}
	p, err := newPeer(c, wire.TargetSubscriber, api)
	if err != nil {
		return nil, err
	}
	s := &subscriber{
		c:       c,
		peer:    p,
		tracks:  map[TrackKey]*remoteTrack{},
		streams: map[TrackKey]*rtpstats.Stream{},
		layers:  map[TrackKey]*layerTracker{},
		changed: make(chan struct{}),
	}
	p.pc.OnTrack(s.onTrack)
	return s, nil
}

// answerOf answers one of the server's subscriber offers.
func (s *subscriber) answerOffer(sdp string) error {
	if err := s.peer.setRemote(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return err
	}
	answer, err := s.peer.pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("subscriber: create answer: %w", err)
	}
	if err := s.peer.pc.SetLocalDescription(answer); err != nil {
		return fmt.Errorf("subscriber: set local answer: %w", err)
	}
	err = s.c.requestAsync(s.c.ctx, wire.TypeAnswer, wire.Answer{Target: wire.TargetSubscriber, SDP: answer.SDP})
	if err != nil {
		return fmt.Errorf("subscriber: send answer: %w", err)
	}
	s.peer.descriptionSent()
	return nil
}

func (s *subscriber) close() {
	if err := s.peer.pc.GracefulClose(); err != nil {
		s.c.log.Debug("subscriber close", "err", err)
	}
}

// onTrack reads one remote track until it ends, on Pion's goroutine for it.
func (s *subscriber) onTrack(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	if !s.c.enter() {
		return
	}
	defer s.c.wg.Done()
	key := keyOf(tr.StreamID(), tr.Kind().String(), tr.ID())
	t := &remoteTrack{info: TrackInfo{
		TrackKey: key, TrackID: tr.ID(), Codec: tr.Codec().MimeType, SSRC: uint32(tr.SSRC()), Started: time.Now(),
	}}
	stream, layers := s.begin(key, t)
	defer s.end(key, t)
	codec := codecOf(t.info.Codec)
	buf := make([]byte, 1600)
	var h rtp.Header
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			if errors.Is(err, io.ErrShortBuffer) {
				continue
			}
			return
		}
		now := time.Now()
		hl, err := h.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		payload := buf[hl:n]
		if h.Padding && len(payload) > 0 {
			payload = payload[:max(0, len(payload)-int(payload[len(payload)-1]))]
		}
		sentAt, _ := synth.ReadStamp(payload)
		stream.Observe(rtpstats.Packet{
			Seq:       h.SequenceNumber,
			Timestamp: h.Timestamp,
			Size:      n,
			SentAt:    sentAt,
			Keyframe:  codec != "" && synth.IsKeyframe(codec, payload),
		}, now)
		if layers != nil {
			layers.observe(&h, payload, codec)
		}
		if s.c.firstPkt.Load() == 0 {
			s.c.firstPkt.CompareAndSwap(0, now.UnixNano())
		}
	}
}

func codecOf(mime string) synth.Codec {
	switch strings.ToLower(mime) {
	case strings.ToLower(webrtc.MimeTypeVP8):
		return synth.VP8
	case strings.ToLower(webrtc.MimeTypeH264):
		return synth.H264
	}
	return ""
}

func (s *subscriber) begin(key TrackKey, t *remoteTrack) (*rtpstats.Stream, *layerTracker) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.streams[key]
	if st == nil {
		st = &rtpstats.Stream{}
		s.streams[key] = st
	}
	st.StartTrack()
	var lt *layerTracker
	if key.Kind == Video && key.Source == "" {
		if lt = s.layers[key]; lt == nil {
			lt = newLayerTracker()
			s.layers[key] = lt
		}
		lt.newTrack()
	}
	s.tracks[key] = t
	s.notify()
	return st, lt
}

func (s *subscriber) end(key TrackKey, t *remoteTrack) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// A newer track may already have taken the key.
	if s.tracks[key] == t {
		delete(s.tracks, key)
		s.notify()
	}
}

func (s *subscriber) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *subscriber) snapshot() (map[TrackKey]TrackInfo, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[TrackKey]TrackInfo, len(s.tracks))
	for k, t := range s.tracks {
		m[k] = t.info
	}
	return m, s.changed
}

// Tracks returns the remote tracks being received now, by publisher and kind. A track leaves
// the map when it ends (the server's renegotiation removed it, or the connection closed).
func (c *Client) Tracks() map[TrackKey]TrackInfo {
	m, _ := c.sub.snapshot()
	return m
}

// WaitTracks waits until cond holds for the current remote tracks (see Tracks).
func (c *Client) WaitTracks(ctx context.Context, cond func(map[TrackKey]TrackInfo) bool) error {
	for {
		m, changed := c.sub.snapshot()
		if cond(m) {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("wait for tracks (have %d): %w", len(m), ctx.Err())
		}
	}
}

// Received returns the counts of what arrived from participantID's kind (Audio or Video: the
// microphone or the camera) so far, over every track that carried it; zero counts when nothing
// did.
func (c *Client) Received(participantID, kind string) rtpstats.Counts {
	c.sub.mu.Lock()
	st := c.sub.streams[TrackKey{StreamID: participantID, Kind: kind}]
	c.sub.mu.Unlock()
	if st == nil {
		return rtpstats.Counts{}
	}
	return st.Counts()
}

// Layers returns what arrived of participantID's camera, layer by layer (see LayerCounts);
// zero counts when nothing did.
func (c *Client) Layers(participantID string) LayerCounts {
	c.sub.mu.Lock()
	lt := c.sub.layers[TrackKey{StreamID: participantID, Kind: Video}]
	c.sub.mu.Unlock()
	if lt == nil {
		return LayerCounts{Packets: map[string]uint64{}}
	}
	return lt.counts()
}

// pollInterval paces WaitReceived: per-packet wake-ups would cost more than they help.
const pollInterval = 10 * time.Millisecond

// ReceivedSource returns the counts of what arrived of one of participantID's sources.
func (c *Client) ReceivedSource(participantID string, src wire.Source) rtpstats.Counts {
	key := SourceKey(participantID, src)
	c.sub.mu.Lock()
	st := c.sub.streams[key]
	c.sub.mu.Unlock()
	if st == nil {
		return rtpstats.Counts{}
	}
	return st.Counts()
}

// WaitReceivedSource waits until cond holds for ReceivedSource(participantID, src), and returns
// those counts.
func (c *Client) WaitReceivedSource(ctx context.Context, participantID string, src wire.Source, cond func(rtpstats.Counts) bool) (rtpstats.Counts, error) {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		counts := c.ReceivedSource(participantID, src)
		if cond(counts) {
			return counts, nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return counts, fmt.Errorf("wait for %s of %s (have %d packets): %w", src, participantID, counts.Packets, ctx.Err())
		}
	}
}

// WaitReceived waits until cond holds for Received(participantID, kind), and returns those
// counts.
func (c *Client) WaitReceived(ctx context.Context, participantID, kind string, cond func(rtpstats.Counts) bool) (rtpstats.Counts, error) {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		counts := c.Received(participantID, kind)
		if cond(counts) {
			return counts, nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return counts, fmt.Errorf("wait for %s of %s (have %d packets): %w", kind, participantID, counts.Packets, ctx.Err())
		}
	}
}

// Totals sums what arrived from everyone, for load reports.
func (c *Client) Totals() rtpstats.Totals {
	var t rtpstats.Totals
	c.AddTotals(&t)
	return t
}

// AddTotals adds what arrived from everyone to t (no copy of the delay histogram).
func (c *Client) AddTotals(t *rtpstats.Totals) { c.addTotals("", t) }

// AddKindTotals adds what arrived of one kind (Audio or Video) from everyone to t.
func (c *Client) AddKindTotals(kind string, t *rtpstats.Totals) { c.addTotals(kind, t) }

func (c *Client) addTotals(kind string, t *rtpstats.Totals) {
	c.sub.mu.Lock()
	streams := make([]*rtpstats.Stream, 0, len(c.sub.streams))
	for k, st := range c.sub.streams {
		if kind == "" || k.Kind == kind {
			streams = append(streams, st)
		}
	}
	c.sub.mu.Unlock()
	for _, st := range streams {
		st.AddTo(t)
	}
}

// SubscriberConnection exposes the subscriber peer connection (for state and stats).
func (c *Client) SubscriberConnection() *webrtc.PeerConnection { return c.sub.peer.pc }
