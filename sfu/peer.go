package sfu

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/pion/webrtc/v4"
	"golang.org/x/time/rate"
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
	api     *webrtc.API // the publisher connections' (see publisherAPI)
	streams *pubStreams
	pubPC   atomic.Pointer[webrtc.PeerConnection] // replaced only before its first negotiation
	sub     *webrtc.PeerConnection
	twccSeq atomic.Uint32 // transport-wide sequence of the subscriber connection
	bwe     *estimator    // the subscriber connection's downlink
	// resendBudget bounds the bytes resent for the subscriber's NACKs (nack.go).
	resendBudget *rate.Limiter
	alloc        allocator

	// The prober's choice of a downTrack to carry padding, and the padding rate (bytes per
	// second) until probeUntil (monoNow).
	probeHost   atomic.Pointer[downTrack]
	probeRate   atomic.Int64
	probeUntil  atomic.Int64
	probeBursts atomic.Int32

	pubMu    sync.Mutex // serializes the publisher's negotiation
	pubCands []webrtc.ICECandidateInit
	secs     atomic.Pointer[map[string]sectionDecl] // the sending sections of the last offer
	screen   atomic.Pointer[streamScreen]

	subMu      sync.Mutex // serializes every operation on the subscriber connection
	subCands   []webrtc.ICECandidateInit
	downs      map[*upTrack]*downTrack
	downList   atomic.Pointer[[]*downTrack] // downs, for the allocator
	qualities  map[qualityKey]int32         // maximum layer asked per publisher and source
	inFlight   bool                         // an offer was sent and its answer has not arrived
	dirty      bool                         // tracks were added or removed since the last offer
	answered   bool                         // an answer was applied: the next offer renegotiates
	iceRestart bool                         // the next offer restarts ICE (RestartICE)
	kick       chan struct{}
	subUp      atomic.Bool // the subscriber connection's ICE has connected (see negotiate)

	sigMu        sync.Mutex // serializes send; guards send (Rebind)
	subOfferSent bool
	held         []Signal // subscriber candidates gathered before the first offer went out

	mu       sync.Mutex
	closed   bool
	tracks   map[*upTrack]struct{}
	bySource map[Source]*upTrack
	wg       sync.WaitGroup // the peer's goroutines

	closing chan struct{}
	done    chan struct{}

	// Packets Pion's ICE agent dropped from the publisher connection for a full buffer, and
	// when that was last logged (monoNow): see overflowed.
	overflows, overflowLogged atomic.Int64
}

// qualityKey names one published source of one publisher.
type qualityKey struct {
	publisher string
	source    Source
}

func newPeer(s *SFU, r *room, id string, send func(Signal)) (*Peer, error) {
	p := &Peer{
		s: s, room: r, id: id, send: send,
		log:       s.log.With("room", r.id, "participant", id),
		downs:     map[*upTrack]*downTrack{},
		qualities: map[qualityKey]int32{},
		kick:      make(chan struct{}, 1),
		tracks:    map[*upTrack]struct{}{},
		bySource:  map[Source]*upTrack{},
		closing:   make(chan struct{}),
		done:      make(chan struct{}),
	}
	p.bwe = newEstimator(s.counters)
	p.resendBudget = newResendBudget(s.resendRate)
	p.bwe.dropped, p.bwe.log = p.kickAlloc, p.log
	p.alloc.init()
	p.streams = newPubStreams(p)
	p.api = s.apis.publisherAPI(p.streams, refusalLog{next: s.logs, peer: p})
	pub, err := p.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("publisher peer connection: %w", err)
	}
	p.pubPC.Store(pub)
	if p.sub, err = s.apis.sub.NewPeerConnection(webrtc.Configuration{}); err != nil {
		_ = pub.Close()

		return nil, fmt.Errorf("subscriber peer connection: %w", err)
	}
	p.setupPublisher()
	p.sub.OnConnectionStateChange(p.watch(TargetSubscriber))
	p.sub.OnICEConnectionStateChange(p.onSubscriberICE)
	p.sub.OnICECandidate(p.onSubscriberCandidate)
	p.wg.Add(2)
	go p.negotiator()
	go p.allocLoop()

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
	p.downList.Store(nil)
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
	_, had := p.tracks[t]
	delete(p.tracks, t)
	if p.bySource[t.source] == t {
		delete(p.bySource, t.source)
	}
	closed := p.closed
	p.mu.Unlock()
	if had && !closed {
		p.sourcesChanged()
	}
}

// sections returns the sending sections of the last offer, by mid.
func (p *Peer) sections() map[string]sectionDecl {
	if m := p.secs.Load(); m != nil {
		return *m
	}

	return nil
}

// onTrack starts receiving a stream the client began to send, as a track or a layer of one, if
// its offer declared it; anything else is refused.
func (p *Peer) onTrack(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	ssrc := uint32(remote.SSRC())
	decl, layer, ok := p.declaredFor(remote, recv)
	if !ok {
		// A stream claiming a declared section's MID takes the section's track in Pion: the
		// track's reader then reads the refused stream, fails and ends the track.
		p.orphan(remote)
		p.refuse(ssrc)

		return
	}
	gate, ok := p.room.gate(p.id, decl.source)
	if !ok {
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()

		return
	}
	t, old := p.bySource[decl.source], (*upTrack)(nil)
	created := false
	if t == nil || t.mid != decl.mid || t.isClosed() {
		if t != nil && t.mid != decl.mid {
			old = t // the source moved to another section
		}
		id := fmt.Sprintf("%s-%d", decl.source, p.s.trackSeq.Add(1))
		t = newUpTrack(id, p, decl, gate, remote.Codec())
		p.bySource[decl.source] = t
		p.tracks[t] = struct{}{}
		created = true
	}
	if l := t.layer(layer); l != nil && l.remote == remote {
		// Pion moved a track to another SSRC of the same section (the reader follows it).
		p.mu.Unlock()
		if old := l.arrival.Swap(p.streams.accept(ssrc)); old != nil {
			old.kill() // nothing reads the old stream any more
		}

		return
	}
	l := newUpLayer(t, layer, remote.RID(), ssrc)
	l.remote, l.receiver = remote, recv
	if !t.addLayer(l) {
		p.mu.Unlock()
		p.refuse(ssrc)

		return
	}
	l.arrival.Store(p.streams.accept(ssrc))
	p.wg.Add(2)
	p.mu.Unlock()
	if old != nil {
		old.close()
	}
	if created {
		p.s.counters.addTrack(t)
	}
	p.log.Debug("stream published", "track", t.id, "source", t.source, "rid", remote.RID(),
		"codec", remote.Codec().MimeType, "ssrc", ssrc)
	go l.run()
	go t.drainRTCP(l)
	if created {
		p.room.addTrack(t)
		p.sourcesChanged()
	}
}

// sourcesChanged tells the client which sources the server receives from it.
func (p *Peer) sourcesChanged() {
	p.signal(Signal{Type: SignalSources, Target: TargetPublisher, Sources: p.PublishedSources()})
}

// PublishedSources lists the sources the participant's publisher connection carries as tracks.
func (p *Peer) PublishedSources() []Source {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Source
	for _, src := range allSources {
		if t := p.bySource[src]; t != nil {
			out = append(out, src)
		}
	}

	return out
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
	s.dryRuns.Add(1)
	pc, err := s.apis.scratch.NewPeerConnection(webrtc.Configuration{})
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

// Offer applies the client's publisher offer with the default sources (its first sending audio
// section is the microphone, its first sending video section the camera) and returns our answer.
func (p *Peer) Offer(ctx context.Context, offer string) (string, error) {
	return p.OfferSources(ctx, offer, nil)
}

// OfferSources applies the client's publisher offer and returns our answer. sources names the
// sending sections by mid; a sending section it does not name is the microphone (the first
// audio one) or the camera (the first video one). An offer whose sections and sources do not fit
// is refused with a *SourcesError (an ErrBadSDP) and changes nothing. It may be called again at
// any time (tracks added or removed; a section whose track is being forwarded keeps its source).
// The answer carries all our candidates: with one UDP port gathering is immediate, and the
// client gets them in the same message.
func (p *Peer) OfferSources(ctx context.Context, offer string, sources map[string]Source) (string, error) {
	parsed, err := parseOffer(offer) // the cheap checks, before a scratch connection
	if err != nil {
		return "", fmt.Errorf("publisher offer: %w", err)
	}
	secs, err := sectionsOf(parsed, sources)
	if err != nil {
		return "", fmt.Errorf("publisher offer: %w", err)
	}
	desc := webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: p.s.filterCandidates(offer)}
	if err := p.s.dryRunOffer(desc); err != nil {
		return "", fmt.Errorf("publisher offer: %w", err)
	}
	p.pubMu.Lock()
	defer p.pubMu.Unlock()
	if p.isClosed() {
		return "", ErrClosed
	}
	if err := p.checkMoves(secs); err != nil {
		return "", fmt.Errorf("publisher offer: %w", err)
	}
	prev := p.secs.Swap(&secs) // before Pion sees the offer: its streams may start at once
	if err := setRemote(p.pub(), desc); err != nil {
		p.secs.Store(prev)
		if p.isClosed() {
			return "", ErrClosed
		}
		p.recoverPublisher()

		return "", fmt.Errorf("publisher offer: %w", err)
	}
	p.dropUndeclared(secs)
	p.updateScreen()
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

// checkMoves refuses an offer that gives a section being received another source: its stream
// would go on under the old one (Pion announces a section's stream once).
func (p *Peer) checkMoves(secs map[string]sectionDecl) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for src, t := range p.bySource {
		if d, ok := secs[t.mid]; ok && d.source != src {
			return &SourcesError{Mid: t.mid, Reason: fmt.Sprintf("carries %s; it cannot become %s", src, d.source)}
		}
	}

	return nil
}

// dropUndeclared ends the tracks of sections that stopped sending.
func (p *Peer) dropUndeclared(secs map[string]sectionDecl) {
	p.mu.Lock()
	var gone []*upTrack
	for _, t := range p.bySource {
		if _, ok := secs[t.mid]; !ok {
			gone = append(gone, t)
		}
	}
	p.mu.Unlock()
	for _, t := range gone {
		t.close()
	}
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
	fresh, err := p.api.NewPeerConnection(webrtc.Configuration{})
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
	if err := setRemote(p.sub, webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: p.s.filterCandidates(answer)}); err != nil {
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
	if c.Candidate == "" || !p.s.candidateAllowed(c.Candidate) {
		return nil // the end of candidates needs nothing; a refused one is dropped (candidates.go)
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
