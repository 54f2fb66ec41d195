package sfu

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleyhq/parley/internal/lograte"
	"github.com/parleyhq/parley/internal/pionlog"
	"github.com/parleyhq/parley/sfu/udpbatch"
)

// Kind is the kind of a published track.
type Kind string

// The kinds of track.
const (
	KindAudio Kind = "audio"
	KindVideo Kind = "video"
)

// Target names one of a participant's two peer connections.
type Target string

// The two peer connections of a participant.
const (
	TargetPublisher  Target = "publisher"  // the client sends; the client offers
	TargetSubscriber Target = "subscriber" // the server sends; the server offers
)

// ErrBadSDP marks a client mistake in what it sent (unparsable or rejected SDP or candidate,
// answer with no offer pending, unknown target). Signaling answers it with bad_request; any other
// error is internal.
var ErrBadSDP = errors.New("sfu: bad session description")

// ErrClosed is returned by a closed Peer or SFU.
var ErrClosed = errors.New("sfu: closed")

// ErrNotFound is a request about a room, participant or published source the sfu does not have
// (signaling answers not_found).
var ErrNotFound = errors.New("sfu: not found")

// ErrInvalid is a request with a value outside its type's range (signaling answers bad_request).
var ErrInvalid = errors.New("sfu: invalid argument")

// Config configures New.
type Config struct {
	// UDPPort is the one UDP port all media goes through (ICE UDP mux); 0 picks a free one.
	UDPPort int
	// PublicIPs are announced instead of local host addresses, for servers behind NAT.
	PublicIPs []string
	// LoopbackOnly keeps media on 127.0.0.1 (tests, load runs, -loopback-only).
	LoopbackOnly bool
	// Logger receives the sfu's and Pion's logs; nil discards them.
	Logger *slog.Logger
	// Registerer gets the sfu's metrics; nil means no metrics.
	Registerer prometheus.Registerer
	// ActiveSpeakers is told who speaks in a room now, loudest first, when that changes, at
	// most every ActiveSpeakerInterval per room (speakers.go). It is called from one goroutine
	// of the sfu holding no sfu lock; it must not block for long. Nil: no detection.
	ActiveSpeakers func(roomID string, participantIDs []string)
	// BatchWrites queues the media sockets' writes and sends them in batches (sendmmsg, UDP GSO)
	// from one goroutine per socket instead of one sendto per datagram on the writer's goroutine
	// (package udpbatch; docs/benchmarks.md, "Batched writes").
	BatchWrites bool
	// ResendBytesPerSecond bounds what one subscriber's NACKs can make the server resend, all its
	// tracks together (default DefaultResendBytesPerSecond; nack.go).
	ResendBytesPerSecond int
	// AllowPrivateCandidates lets clients name loopback, private and link-local addresses (and
	// names) as their ICE candidates; always so with LoopbackOnly (candidates.go).
	AllowPrivateCandidates bool
	// Repeats limits and counts the log lines a remote party can provoke per datagram (STUN
	// without USERNAME, RTCP for unknown SSRCs); nil makes a private one. Its counter is the
	// caller's to register.
	Repeats *lograte.Limiter
	// NoICETCP keeps media on UDP only. By default the media port's TCP twin (the same port
	// number) takes ICE over TCP from clients whose network blocks UDP (icetcp.go).
	NoICETCP bool
}

// The types of Signal.
const (
	SignalOffer     = "offer"     // a subscriber offer (SDP)
	SignalCandidate = "candidate" // a subscriber ICE candidate (Candidate)
	// SignalPublisherLayers tells a publisher which simulcast layers of one of its sources some
	// subscriber needs now (Source, Layers: RIDs, lowest first); it may stop encoding the others.
	// Sent when the set changes, at most once a second per source, for simulcast sources only.
	SignalPublisherLayers = "publisherLayers"
	// SignalSources tells which sources the server now receives from the participant as tracks
	// (Sources), whenever that changes.
	SignalSources = "sources"
)

// Signal is something the sfu needs sent to a client over signaling.
type Signal struct {
	Type      string // one of the Signal* constants
	Target    Target
	SDP       string                   // for "offer"
	Candidate *webrtc.ICECandidateInit // for "candidate"; Candidate.Candidate == "" marks the end
	Source    Source                   // for "publisherLayers"
	Layers    []string                 // for "publisherLayers"
	Sources   []Source                 // for "sources"
}

// SFU is the media server: rooms of participants whose tracks it forwards to each other.
type SFU struct {
	log        *slog.Logger
	logs       logging.LoggerFactory
	mux        ice.UDPMux
	tcpMux     *ice.TCPMuxDefault // nil with Config.NoICETCP
	port       int
	publicIPs  []string
	apis       *pionAPIs
	codecs     []webrtc.RTPCodecParameters
	counters   *counters
	registerer prometheus.Registerer
	collector  prometheus.Collector
	trackSeq   atomic.Uint64
	livePeers  atomic.Int64
	writes     *udpbatch.Group // nil unless cfg.BatchWrites
	maxRefused int             // maxRefusedStreams; tests lower it
	resendRate int             // Config.ResendBytesPerSecond, defaulted
	dryRuns    atomic.Int64    // offers tried on a scratch connection (dryRunOffer), for tests
	// allowPrivate is Config.AllowPrivateCandidates or LoopbackOnly; relay is the server's own
	// TURN relay, whose candidates pass (candidates.go).
	allowPrivate bool
	relay        atomic.Pointer[relayAddr]

	speakerStop chan struct{}  // closed by Close: the speaker goroutine ends
	speakerWG   sync.WaitGroup // the speaker goroutine

	mu     sync.Mutex
	closed bool
	rooms  map[string]*room
	peers  sync.WaitGroup // every Peer until its teardown has finished
}

// New opens the media port and returns a running SFU.
func New(cfg Config) (*SFU, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	repeats := cfg.Repeats
	if repeats == nil {
		repeats = lograte.New(0) // counted, but not exported
	}
	lf := slogFactory{log: log, faults: pionlog.NewFaults(), repeats: repeats}
	var writes *udpbatch.Group
	if cfg.BatchWrites {
		writes = &udpbatch.Group{}
	}
	mux, tcpMux, port, err := openMedia(cfg, lf, writes)
	if err != nil {
		return nil, err
	}
	closeMedia := func() {
		_ = mux.Close()
		if tcpMux != nil {
			_ = tcpMux.Close()
		}
	}
	var iceTCP ice.TCPMux // nil, not a nil *TCPMuxDefault, when there is none
	if tcpMux != nil {
		iceTCP = tcpMux
	}
	se, err := newSettingEngine(cfg, mux, iceTCP, lf)
	if err != nil {
		closeMedia()

		return nil, err
	}
	apis, err := newAPIs(se, lf)
	if err != nil {
		closeMedia()

		return nil, err
	}
	s := &SFU{
		log: log, logs: lf, mux: mux, tcpMux: tcpMux, port: port, publicIPs: cfg.PublicIPs, apis: apis, codecs: supportedCodecs(),
		counters: newCounters(), rooms: map[string]*room{}, writes: writes, maxRefused: maxRefusedStreams,
		resendRate: cfg.ResendBytesPerSecond, speakerStop: make(chan struct{}),
		allowPrivate: cfg.AllowPrivateCandidates || cfg.LoopbackOnly,
	}
	if s.resendRate <= 0 {
		s.resendRate = DefaultResendBytesPerSecond
	}
	if cfg.Registerer != nil {
		c := collectors{newCollector(s), lf.faults}
		if writes != nil {
			c = append(c, udpbatch.NewCollector("parley_sfu", writes))
		}
		if err := cfg.Registerer.Register(c); err != nil {
			closeMedia()

			return nil, fmt.Errorf("register sfu metrics: %w", err)
		}
		s.registerer, s.collector = cfg.Registerer, c
	}
	if cfg.ActiveSpeakers != nil {
		s.speakerWG.Add(1)
		go s.speakerLoop(cfg.ActiveSpeakers)
	}
	log.Info("sfu listening", "udpPort", port, "iceTCP", tcpMux != nil, "loopbackOnly", cfg.LoopbackOnly)

	return s, nil
}

// UDPPort is the port media actually uses.
func (s *SFU) UDPPort() int { return s.port }

// Close closes every room and peer and the media port; when it returns every goroutine of the
// sfu has ended.
func (s *SFU) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()

		return nil
	}
	s.closed = true
	rooms := s.rooms
	s.rooms = nil
	s.mu.Unlock()
	close(s.speakerStop)
	s.speakerWG.Wait()
	for _, r := range rooms {
		r.close()
	}
	s.peers.Wait()
	if s.registerer != nil {
		s.registerer.Unregister(s.collector)
	}
	if s.tcpMux != nil {
		if err := s.tcpMux.Close(); err != nil {
			return fmt.Errorf("close ice tcp mux: %w", err)
		}
	}
	if err := s.mux.Close(); err != nil {
		return fmt.Errorf("close udp mux: %w", err)
	}

	return nil
}

// room returns the room with id, creating it when create is set; nil once the SFU is closed or
// when it does not exist and create is false.
func (s *SFU) room(id string, create bool) *room {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	r := s.rooms[id]
	if r == nil && create {
		r = newRoom(s, id)
		s.rooms[id] = r
	}

	return r
}

// Participants is how many participants the sfu serves now (a node's load in a cluster).
func (s *SFU) Participants() int { return int(s.livePeers.Load()) }

// population counts rooms and live peers for Stats.
func (s *SFU) population() (rooms, peers int) {
	s.mu.Lock()
	rooms = len(s.rooms)
	s.mu.Unlock()

	return rooms, int(s.livePeers.Load())
}

// Join creates the participant's two peer connections in a room (created on first use). A peer
// already there for participantID (a host reconnecting) is closed and replaced. send is called
// from sfu goroutines, serially per peer, and must not block.
func (s *SFU) Join(roomID, participantID string, send func(Signal)) (*Peer, error) {
	if roomID == "" || participantID == "" || send == nil {
		return nil, errors.New("sfu: join needs a room id, a participant id and a send function")
	}
	for {
		r := s.room(roomID, true)
		if r == nil {
			return nil, ErrClosed
		}
		if !s.addPeer() {
			return nil, ErrClosed
		}
		p, err := newPeer(s, r, participantID, send)
		if err != nil {
			s.peerEnded()

			return nil, err
		}
		old, ok := r.setPeer(p)
		if !ok { // the room was closed meanwhile; the next round makes a new one
			p.Close()

			continue
		}
		if old != nil {
			old.Close()
		}
		for _, t := range r.tracksExcept(participantID) {
			p.subscribe(t)
		}

		return p, nil
	}
}

func (s *SFU) addPeer() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.peers.Add(1)
	s.livePeers.Add(1)

	return true
}

func (s *SFU) peerEnded() {
	s.livePeers.Add(-1)
	s.peers.Done()
}

// RequestKeyframe asks the participant's video publishers for a keyframe (rate limited).
func (s *SFU) RequestKeyframe(roomID, participantID string) {
	if r := s.room(roomID, false); r != nil {
		for _, t := range r.tracksOf(participantID, KindVideo) {
			t.requestKeyframes(pliRequest)
		}
	}
}

// RemoveParticipant closes the participant's peer (its tracks leave every subscriber) and
// forgets its gates.
func (s *SFU) RemoveParticipant(roomID, participantID string) {
	if r := s.room(roomID, false); r != nil {
		if p := r.forget(participantID); p != nil {
			p.Close()
		}
	}
}

// CloseRoom closes every peer of the room and forgets the room.
func (s *SFU) CloseRoom(roomID string) {
	s.mu.Lock()
	r := s.rooms[roomID]
	delete(s.rooms, roomID)
	s.mu.Unlock()
	if r != nil {
		r.close()
	}
}
