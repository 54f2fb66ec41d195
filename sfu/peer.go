package sfu

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

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
	pubPC   atomic.Pointer[webrtc.PeerConnection] // replaced only before its first negotiation
	sub     *webrtc.PeerConnection
	twccSeq atomic.Uint32 // transport-wide sequence of the subscriber connection

	pubMu    sync.Mutex // serializes the publisher's negotiation
	pubCands []webrtc.ICECandidateInit

	subMu    sync.Mutex // serializes every operation on the subscriber connection
	subCands []webrtc.ICECandidateInit
	downs    map[*upTrack]*downTrack
	inFlight bool // an offer was sent and its answer has not arrived
	dirty    bool // tracks were added or removed since the last offer
	answered bool // an answer was applied: the next offer renegotiates
	kick     chan struct{}
	subUp    atomic.Bool // the subscriber connection's ICE has connected (see negotiate)

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
	pub, err := s.pubAPI.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("publisher peer connection: %w", err)
	}
	p.pubPC.Store(pub)
	if p.sub, err = s.subAPI.NewPeerConnection(webrtc.Configuration{}); err != nil {
		_ = pub.Close()

		return nil, fmt.Errorf("subscriber peer connection: %w", err)
	}
	p.setupPublisher()
	p.sub.OnConnectionStateChange(p.watch(TargetSubscriber))
	p.sub.OnICEConnectionStateChange(p.onSubscriberICE)
	p.sub.OnICECandidate(p.onSubscriberCandidate)
	p.wg.Add(1)
	go p.negotiator()

	return p, nil
}

// pub is the publisher connection.
func (p *Peer) pub() *webrtc.PeerConnection { return p.pubPC.Load() }

// setupPublisher installs the publisher connection's handlers.
func (p *Peer) setupPublisher() {
	pub := p.pub()
	watch := p.watch(TargetPublisher)
	pub.OnTrack(p.onTrack)
	pub.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if p.pub() == pub { // a replaced publisher connection closing is not the peer ending
			watch(st)
		}
	})
}

// watch closes the peer when either connection fails (ICE or DTLS) or is closed by the client.
func (p *Peer) watch(target Target) func(webrtc.PeerConnectionState) {
	return func(st webrtc.PeerConnectionState) {
		if (st != webrtc.PeerConnectionStateFailed && st != webrtc.PeerConnectionStateClosed) || p.isClosed() {
			return
		}
		// A client closing its connection is a leave; a failure (ICE or DTLS) is worth an info line.
		level := slog.LevelDebug
		if st == webrtc.PeerConnectionStateFailed {
			level = slog.LevelInfo
		}
		p.log.Log(context.Background(), level, "peer connection ended", "target", target, "state", st.String())
		// Not on Pion's callback goroutine: closing takes locks Pion may be waiting on.
		go p.Close()
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
		if err := p.pub().Close(); err != nil {
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
	t.arrival = p.s.arrivals.lookup(uint32(remote.SSRC()))
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

// dryRunOffer applies a client's offer to a scratch publisher connection first. Pion changes the
// signaling state before it has checked a description and cannot roll back, so an offer that
// fails there would otherwise leave the real connection refusing every later offer.
func (s *SFU) dryRunOffer(desc webrtc.SessionDescription) error {
	pc, err := s.pubAPI.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return fmt.Errorf("scratch connection: %w", err)
	}
	defer func() { _ = pc.Close() }()
	if err := setRemote(pc, desc); err != nil {
		return err
	}
	if _, err := pc.CreateAnswer(nil); err != nil {
		return fmt.Errorf("%w: cannot be answered: %w", ErrBadSDP, err)
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
	desc := webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}
	if err := p.s.dryRunOffer(desc); err != nil {
		return "", fmt.Errorf("publisher offer: %w", err)
	}
	p.pubMu.Lock()
	defer p.pubMu.Unlock()
	if p.isClosed() {
		return "", ErrClosed
	}
	if err := setRemote(p.pub(), desc); err != nil {
		if p.isClosed() {
			return "", ErrClosed
		}
		p.recoverPublisher()

		return "", fmt.Errorf("publisher offer: %w", err)
	}
	p.addHeld(p.pub(), &p.pubCands)
	gathered := webrtc.GatheringCompletePromise(p.pub())
	answer, err := p.pub().CreateAnswer(nil)
	if err == nil {
		err = p.pub().SetLocalDescription(answer)
	}
	if err != nil {
		if p.isClosed() {
			return "", ErrClosed
		}
		// Pion accepted the offer but cannot answer it: the offer is at fault.
		p.recoverPublisher()

		return "", fmt.Errorf("%w: publisher offer cannot be answered: %w", ErrBadSDP, err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("publisher candidates: %w", ctx.Err())
	case <-p.closing:
		return "", ErrClosed
	}

	return p.pub().LocalDescription().SDP, nil
}

// recoverPublisher runs after an offer we could not answer. Pion changes the signaling state
// before it finishes checking a description and cannot roll back, so a publisher connection left
// waiting for our answer would refuse every later offer. One that never completed a negotiation
// carries nothing yet and is replaced by a fresh one; one that did is closed with the peer (the
// client broke its own media). Callers hold pubMu.
func (p *Peer) recoverPublisher() {
	if p.pub().SignalingState() == webrtc.SignalingStateStable {
		return
	}
	if p.pub().CurrentRemoteDescription() != nil {
		p.log.Warn("publisher renegotiation left the connection unusable; closing the peer")
		go p.Close()

		return
	}
	fresh, err := p.s.pubAPI.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		p.log.Error("replace publisher connection", "err", err)
		go p.Close()

		return
	}
	old := p.pub()
	p.pubPC.Store(fresh)
	p.setupPublisher()
	p.pubCands = nil
	if err := old.Close(); err != nil {
		p.log.Debug("close broken publisher connection", "err", err)
	}
	if p.isClosed() { // Close may have taken the old connection to close
		_ = fresh.Close()
	}
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
		if p.isClosed() {
			return ErrClosed
		}
		if p.sub.SignalingState() == webrtc.SignalingStateStable {
			// Pion took the answer and failed later: what it applied is uncertain, so offer again
			// (the client answers that one) rather than wait for an answer that cannot be applied.
			p.inFlight = false
			p.markDirty()
		}

		return fmt.Errorf("subscriber answer: %w", err)
	}
	p.inFlight = false
	p.answered = true
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
		pc   func() *webrtc.PeerConnection
		held *[]webrtc.ICECandidateInit
	)
	switch target {
	case TargetPublisher:
		mu, pc, held = &p.pubMu, p.pub, &p.pubCands
	case TargetSubscriber:
		mu, pc, held = &p.subMu, func() *webrtc.PeerConnection { return p.sub }, &p.subCands
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
	if pc().RemoteDescription() == nil {
		if len(*held) >= maxHeldCandidates {
			return fmt.Errorf("%w: too many %s candidates before the description", ErrBadSDP, target)
		}
		*held = append(*held, c)

		return nil
	}
	if err := pc().AddICECandidate(c); err != nil {
		if p.isClosed() {
			return ErrClosed
		}

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
