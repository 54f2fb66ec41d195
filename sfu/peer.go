package sfu

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// maxHeldCandidates bounds the candidates kept for a description that has not arrived, so a
// misbehaving client cannot grow memory without limit.
const maxHeldCandidates = 64

// Peer is one participant's media in a room: a publisher connection (the client offers, we
// answer) and a subscriber connection (we offer, the client answers).
type Peer struct {
	s       *SFU
	room    *room
	id      string
	log     *slog.Logger
	send    func(Signal)
	pub     *webrtc.PeerConnection
	sub     *webrtc.PeerConnection
	twccSeq atomic.Uint32 // transport-wide sequence of the subscriber connection

	pubMu    sync.Mutex // serializes the publisher's negotiation
	pubCands []webrtc.ICECandidateInit

	subMu    sync.Mutex // serializes every operation on the subscriber connection
	subCands []webrtc.ICECandidateInit
	downs    map[*upTrack]*downTrack
	inFlight bool // an offer was sent and its answer has not arrived
	dirty    bool // tracks were added or removed since the last offer
	kick     chan struct{}

	sigMu        sync.Mutex // serializes send
	subOfferSent bool
	held         []Signal // subscriber candidates gathered before the first offer went out

	mu     sync.Mutex
	closed bool
	tracks map[*upTrack]struct{}
	wg     sync.WaitGroup // the peer's goroutines

	closing chan struct{}
	done    chan struct{}
}

func newPeer(s *SFU, r *room, id string, send func(Signal)) (*Peer, error) {
	p := &Peer{
		s: s, room: r, id: id, send: send,
		log:     s.log.With("room", r.id, "participant", id),
		downs:   map[*upTrack]*downTrack{},
		kick:    make(chan struct{}, 1),
		tracks:  map[*upTrack]struct{}{},
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
	var err error
	if p.pub, err = s.pubAPI.NewPeerConnection(webrtc.Configuration{}); err != nil {
		return nil, fmt.Errorf("publisher peer connection: %w", err)
	}
	if p.sub, err = s.subAPI.NewPeerConnection(webrtc.Configuration{}); err != nil {
		_ = p.pub.Close()

		return nil, fmt.Errorf("subscriber peer connection: %w", err)
	}
	p.pub.OnTrack(p.onTrack)
	p.pub.OnConnectionStateChange(p.watch(TargetPublisher))
	p.sub.OnConnectionStateChange(p.watch(TargetSubscriber))
	p.sub.OnICECandidate(p.onSubscriberCandidate)
	p.wg.Add(1)
	go p.negotiator()

	return p, nil
}

// watch closes the peer when either connection fails (ICE or DTLS) or is closed by the client.
func (p *Peer) watch(target Target) func(webrtc.PeerConnectionState) {
	return func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateFailed || st == webrtc.PeerConnectionStateClosed {
			if !p.isClosed() {
				p.log.Info("peer connection ended", "target", target, "state", st.String())
			}
			// Not on Pion's callback goroutine: closing takes locks Pion may be waiting on.
			go p.Close()
		}
	}
}

// Done is closed once the peer is closed and its teardown has finished.
func (p *Peer) Done() <-chan struct{} { return p.done }

func (p *Peer) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()

	return p.closed
}

// Close stops forwarding to and from the participant at once, removes its tracks from every
// other participant (renegotiating them), then closes both connections in the background.
// Idempotent.
func (p *Peer) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()

		return
	}
	p.closed = true
	tracks := make([]*upTrack, 0, len(p.tracks))
	for t := range p.tracks {
		tracks = append(tracks, t)
	}
	p.mu.Unlock()
	close(p.closing)
	p.room.removePeer(p)
	for _, t := range tracks {
		t.close()
	}
	p.subMu.Lock()
	downs := p.downs
	p.downs = map[*upTrack]*downTrack{}
	p.subMu.Unlock()
	for _, d := range downs {
		d.up.removeDown(d)
	}
	go func() {
		if err := p.pub.Close(); err != nil {
			p.log.Debug("close publisher connection", "err", err)
		}
		if err := p.sub.Close(); err != nil {
			p.log.Debug("close subscriber connection", "err", err)
		}
		p.wg.Wait()
		close(p.done)
		p.s.peerEnded()
	}()
}

// forgetTrack drops an ended track from the peer's list.
func (p *Peer) forgetTrack(t *upTrack) {
	p.mu.Lock()
	delete(p.tracks, t)
	p.mu.Unlock()
}

// onTrack starts forwarding a track the client began to send.
func (p *Peer) onTrack(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	kind := KindAudio
	if remote.Kind() == webrtc.RTPCodecTypeVideo {
		kind = KindVideo
	}
	gate, ok := p.room.gate(p.id, kind)
	if !ok {
		return
	}
	id := fmt.Sprintf("%s-%d", kind, p.s.trackSeq.Add(1))
	t := newUpTrack(id, p, kind, gate, remote.Codec(), uint32(remote.SSRC()))
	t.remote, t.receiver = remote, recv
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()

		return
	}
	p.tracks[t] = struct{}{}
	p.wg.Add(2)
	p.mu.Unlock()
	p.s.counters.addTrack(t)
	p.log.Debug("track published", "track", id, "codec", remote.Codec().MimeType, "ssrc", remote.SSRC())
	go t.run()
	go t.drainRTCP()
	p.room.addTrack(t)
}

// validateSDP rejects what is not SDP at all before Pion sees it.
func validateSDP(s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("%w: empty", ErrBadSDP)
	}
	var d sdp.SessionDescription
	if err := d.UnmarshalString(s); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSDP, err)
	}

	return nil
}

// setRemote applies a client's description; anything Pion rejects in it is the client's mistake.
// A panic in the SDP handling is turned into that error too: bad input must not take the server
// down.
func setRemote(pc *webrtc.PeerConnection, desc webrtc.SessionDescription) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: rejected: %v", ErrBadSDP, r)
		}
	}()
	if err := pc.SetRemoteDescription(desc); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSDP, err)
	}

	return nil
}

// Offer applies the client's publisher offer and returns our answer. It may be called again at
// any time (tracks added or removed). The answer carries all our candidates: with one UDP port
// gathering is immediate, and the client gets them in the same message.
func (p *Peer) Offer(ctx context.Context, offer string) (string, error) {
	if err := validateSDP(offer); err != nil {
		return "", fmt.Errorf("publisher offer: %w", err)
	}
	p.pubMu.Lock()
	defer p.pubMu.Unlock()
	if p.isClosed() {
		return "", ErrClosed
	}
	if err := setRemote(p.pub, webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("publisher offer: %w", err)
	}
	p.addHeld(p.pub, &p.pubCands)
	answer, err := p.pub.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("publisher answer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(p.pub)
	if err := p.pub.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("publisher answer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("publisher candidates: %w", ctx.Err())
	case <-p.closing:
		return "", ErrClosed
	}

	return p.pub.LocalDescription().SDP, nil
}

// Answer applies the client's answer to our last subscriber offer.
func (p *Peer) Answer(answer string) error {
	if err := validateSDP(answer); err != nil {
		return fmt.Errorf("subscriber answer: %w", err)
	}
	p.subMu.Lock()
	defer p.subMu.Unlock()
	if p.isClosed() {
		return ErrClosed
	}
	if !p.inFlight {
		return fmt.Errorf("%w: subscriber answer without a pending offer", ErrBadSDP)
	}
	if err := setRemote(p.sub, webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return fmt.Errorf("subscriber answer: %w", err)
	}
	p.inFlight = false
	p.addHeld(p.sub, &p.subCands)
	if p.dirty {
		p.kickNegotiation()
	}

	return nil
}

// AddCandidate adds a client's trickled candidate; it is kept until the description it belongs to
// is set. An empty candidate (end of candidates) needs nothing from us.
func (p *Peer) AddCandidate(target Target, c webrtc.ICECandidateInit) error {
	var (
		mu   *sync.Mutex
		pc   *webrtc.PeerConnection
		held *[]webrtc.ICECandidateInit
	)
	switch target {
	case TargetPublisher:
		mu, pc, held = &p.pubMu, p.pub, &p.pubCands
	case TargetSubscriber:
		mu, pc, held = &p.subMu, p.sub, &p.subCands
	default:
		return fmt.Errorf("%w: unknown target %q", ErrBadSDP, target)
	}
	if c.Candidate == "" {
		return nil
	}
	mu.Lock()
	defer mu.Unlock()
	if p.isClosed() {
		return ErrClosed
	}
	if pc.RemoteDescription() == nil {
		if len(*held) >= maxHeldCandidates {
			return fmt.Errorf("%w: too many %s candidates before the description", ErrBadSDP, target)
		}
		*held = append(*held, c)

		return nil
	}
	if err := pc.AddICECandidate(c); err != nil {
		return fmt.Errorf("%w: %s candidate: %w", ErrBadSDP, target, err)
	}

	return nil
}

// addHeld adds the candidates kept until now; callers hold the connection's mutex.
func (p *Peer) addHeld(pc *webrtc.PeerConnection, held *[]webrtc.ICECandidateInit) {
	for _, c := range *held {
		if err := pc.AddICECandidate(c); err != nil {
			p.log.Debug("held candidate rejected", "err", err)
		}
	}
	*held = nil
}

// signal sends s to the client, serially per peer, and never after the peer closed.
func (p *Peer) signal(s Signal) {
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	if p.isClosed() {
		return
	}
	if s.Type == "candidate" && !p.subOfferSent {
		p.held = append(p.held, s) // a candidate must not reach the client before its offer

		return
	}
	p.send(s)
	if s.Type == "offer" && !p.subOfferSent {
		p.subOfferSent = true
		for _, h := range p.held {
			p.send(h)
		}
		p.held = nil
	}
}

// onSubscriberCandidate trickles our subscriber candidates; nil is the end of gathering.
func (p *Peer) onSubscriberCandidate(c *webrtc.ICECandidate) {
	init := webrtc.ICECandidateInit{}
	if c != nil {
		init = c.ToJSON()
	}
	p.signal(Signal{Type: "candidate", Target: TargetSubscriber, Candidate: &init})
}
