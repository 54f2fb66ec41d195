package meeting

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/parleyhq/parley/wire"
)

// DefaultMaxParticipants is the meeting size used when Config.MaxParticipants is not set.
const DefaultMaxParticipants = 100

// DefaultIdleTimeout is how long an open meeting nobody is in keeps its in-memory state (the
// host's participantId, the mute lock, a running timer) before it is released.
const DefaultIdleTimeout = 10 * time.Minute

// Config configures a Service. Zero fields take their defaults.
type Config struct {
	MaxParticipants int          // default DefaultMaxParticipants; the host counts
	Clock           Clock        // default SystemClock()
	Media           Media        // nil: no media effects
	Store           Store        // default NewMemoryStore()
	Logger          *slog.Logger // default: discard
	// IdleTimeout is how long a meeting nobody is in stays in memory; default DefaultIdleTimeout.
	IdleTimeout time.Duration
	// LogNames puts participants' names in the info lines of joins (lifecycle.go); without it
	// they are known in the log by participantId only.
	LogNames bool
	// LobbyTimeout is how long a join waits in the lobby; default DefaultLobbyTimeout.
	LobbyTimeout time.Duration
	// AuditRetention is how long an ended meeting's audit log is kept; default
	// DefaultAuditRetention.
	AuditRetention time.Duration
	// RecordRetention is how long an open meeting nobody uses is kept before it is ended (its
	// records then go AuditRetention later); default DefaultRecordRetention (retention.go).
	RecordRetention time.Duration
	// MaxAuditEntries bounds each meeting's audit log; default MaxAuditEntries.
	MaxAuditEntries int
	// ChatRate and ChatBurst limit each participant's chat messages; defaults DefaultChatRate
	// and DefaultChatBurst.
	ChatRate  rate.Limit
	ChatBurst int
	// ResumeGrace is how long a participant whose connection went away without a leave is
	// kept, reconnecting, for a resume (resume.go); zero or less: not at all, it leaves at once
	// (the server's default is DefaultResumeGrace).
	ResumeGrace time.Duration
	// BanAddresses makes a ban (kick with ban) refuse the banned participant's address too, not
	// only its browser: stronger against bots, but one address is often a whole office.
	BanAddresses bool
}

// Service holds every live meeting of this node. Each live meeting has its own lock; the
// service's lock guards only the map of live meetings, so meetings never contend with each other.
type Service struct {
	maxParticipants int
	clock           Clock
	media           Media
	store           Store
	log             *slog.Logger
	idleTimeout     time.Duration
	logNames        bool
	lobbyTimeout    time.Duration
	auditRetention  time.Duration
	recordRetention time.Duration
	maxAudit        int
	chatRate        rate.Limit
	chatBurst       int
	resumeGrace     time.Duration
	banAddresses    bool

	stats serviceStats

	saving      inflight    // writers of takeover state running (persist.go)
	saveFailing atomic.Bool // the last write of takeover state failed

	mu     sync.Mutex
	live   map[string]*liveMeeting
	audits map[string]*auditLog // every meeting's audit log, kept beyond its memory
	// unused holds when each meeting nobody uses became so, swept for RecordRetention by
	// Create, last at swept (retention.go).
	unused map[string]time.Time
	swept  time.Time
}

// NewService returns a Service with cfg's defaults filled in.
func NewService(cfg Config) *Service {
	s := &Service{
		maxParticipants: cfg.MaxParticipants,
		clock:           cfg.Clock,
		media:           cfg.Media,
		store:           cfg.Store,
		log:             cfg.Logger,
		idleTimeout:     cfg.IdleTimeout,
		logNames:        cfg.LogNames,
		lobbyTimeout:    cmp.Or(cfg.LobbyTimeout, DefaultLobbyTimeout),
		auditRetention:  cmp.Or(cfg.AuditRetention, DefaultAuditRetention),
		recordRetention: cmp.Or(cfg.RecordRetention, DefaultRecordRetention),
		unused:          make(map[string]time.Time),
		maxAudit:        cmp.Or(cfg.MaxAuditEntries, MaxAuditEntries),
		chatRate:        cmp.Or(cfg.ChatRate, DefaultChatRate),
		chatBurst:       cmp.Or(cfg.ChatBurst, DefaultChatBurst),
		resumeGrace:     cfg.ResumeGrace,
		banAddresses:    cfg.BanAddresses,
		live:            make(map[string]*liveMeeting),
		audits:          make(map[string]*auditLog),
	}
	if s.maxParticipants <= 0 {
		s.maxParticipants = DefaultMaxParticipants
	}
	if s.clock == nil {
		s.clock = SystemClock()
	}
	if s.media == nil {
		s.media = noMedia{}
	}
	if s.store == nil {
		s.store = NewMemoryStore()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.idleTimeout <= 0 {
		s.idleTimeout = DefaultIdleTimeout
	}
	return s
}

// Created is the result of Create. HostKey is the secret that makes its bearer the host; it is
// returned only here and must never be logged.
type Created struct {
	MeetingID string
	HostKey   string
	HostName  string // the validated, trimmed name
}

// Create makes a new open meeting for the host named hostName.
func (s *Service) Create(ctx context.Context, hostName string) (Created, error) {
	name, err := ValidateName(hostName)
	if err != nil {
		return Created{}, err
	}
	c := Created{MeetingID: newMeetingID(), HostKey: newHostKey(), HostName: name}
	rec := Record{
		ID:          c.MeetingID,
		HostKeyHash: HashHostKey(c.HostKey),
		HostName:    name,
		CreatedAt:   s.clock.Now(),
		State:       wire.StateOpen,
	}
	if err := s.store.Create(ctx, rec); err != nil {
		return Created{}, fmt.Errorf("create meeting: %w", err)
	}
	s.auditOf(c.MeetingID)
	s.markUnused(c.MeetingID)
	s.logCreated(c)
	s.sweepUnused(ctx)
	return c, nil
}

// Info returns the meeting's public summary, or an *Error with wire.CodeNotFound.
func (s *Service) Info(ctx context.Context, meetingID string) (wire.MeetingInfo, error) {
	rec, err := s.store.Get(ctx, meetingID)
	if err != nil {
		return wire.MeetingInfo{}, fmt.Errorf("meeting info: %w", err)
	}
	info := wire.MeetingInfo{MeetingID: rec.ID, State: rec.State, Locked: rec.Locked, ChatAllowed: !rec.ChatDisabled, Lobby: rec.Lobby,
		ScreenShareAllowed: !rec.ScreenShareDisabled}
	if rec.State == wire.StateEnded {
		return info, nil
	}
	s.mu.Lock()
	lm := s.live[meetingID]
	s.mu.Unlock()
	if lm == nil {
		return info, nil
	}
	lm.mu.Lock()
	defer lm.mu.Unlock()
	if lm.ended {
		info.State = wire.StateEnded
		return info, nil
	}
	if lm.loaded && !lm.released {
		info.Locked = lm.rec.Locked
		info.ChatAllowed, info.Lobby = !lm.rec.ChatDisabled, lm.rec.Lobby
		info.ScreenShareAllowed = !lm.rec.ScreenShareDisabled
		info.ParticipantCount = len(lm.seats)
	}
	return info, nil
}

// JoinRequest is a join: HostKey "" means none was presented, ResumeToken "" likewise.
type JoinRequest struct {
	MeetingID   string
	Name        string
	HostKey     string
	ResumeToken string
	// Joiner is the browser id and address the join came with (decisions.go).
	Joiner Joiner
}

// JoinResult is what the joiner is told, the protocol's "joined".
type JoinResult struct {
	Self         wire.Participant   // the joiner: its participantId, role and mute state
	Meeting      wire.MeetingView   // the meeting as it is now
	Participants []wire.Participant // everyone else already there, in join order
	Timer        *wire.TimerView    // the running timer, or nil
	Timers       []wire.TimerView   // the timers the host may start (no EndsAt)
	Chat         []wire.Chat        // the last public chat messages, oldest first
	Lobby        []wire.LobbyEntry  // the held joins, for the host only (nil for others)
	// Held is the join the lobby holds, when it does: then there is no Member yet, and the
	// join's outcome comes through Held.
	Held *Held
	// ResumeToken is the joiner's fresh resume token (resume.go); Resumed says that this join
	// took back an earlier participant's seat.
	ResumeToken string
	Resumed     bool
}

// Join adds a connection to a meeting. Its checks run in the protocol's order: bad_request (name),
// not_found, meeting_ended, forbidden (a hostKey present but wrong), meeting_locked (only without
// the right hostKey), meeting_full. Rate limits are signaling's.
//
// Everyone else gets wire.ParticipantJoined; the joiner's sink gets nothing for its own join. A
// join with the right hostKey while the host is connected replaces the host's old connection
// (see PROTOCOL.md): the old member's sink gets wire.Replaced, the others
// wire.ParticipantUpdated, and the new member keeps the participantId and mute state. Before Join
// returns, Media has been told the joiner's gate for each kind.
//
// While the meeting's lobby is on, a join without the right hostKey that passes every check is
// held instead (after meeting_locked and meeting_full: a locked or full meeting refuses rather
// than holds): Join returns no Member and JoinResult.Held, whose outcome the host decides (see
// Held); only the host is told (wire.LobbyUpdated).
func (s *Service) Join(ctx context.Context, req JoinRequest, sink Sink) (*Member, JoinResult, error) {
	name, err := ValidateName(req.Name)
	if err != nil {
		return nil, JoinResult{}, err
	}
	if sink == nil {
		return nil, JoinResult{}, newError(wire.CodeInternal, "join without an event sink")
	}
	for {
		lm := s.acquire(req.MeetingID)
		m, res, retry, err := lm.join(ctx, req, name, sink)
		if retry {
			// The meeting was released between lookup and lock; the next lookup loads it anew.
			continue
		}
		return m, res, err
	}
}

// acquire returns the live meeting for id, making an empty, unloaded one if there is none.
// It never holds the service lock while taking a meeting's lock.
func (s *Service) acquire(id string) *liveMeeting {
	s.mu.Lock()
	defer s.mu.Unlock()
	lm := s.live[id]
	if lm == nil {
		lm = &liveMeeting{svc: s, id: id, byID: make(map[string]*seat)}
		s.live[id] = lm
	}
	return lm
}

// forget drops lm from the map of live meetings. The caller holds lm.mu (lock order: a meeting's
// lock, then the service's).
func (s *Service) forget(lm *liveMeeting) {
	s.mu.Lock()
	if s.live[lm.id] == lm {
		delete(s.live, lm.id)
	}
	s.mu.Unlock()
}

// LiveMeetings returns how many meetings this node holds in memory (for metrics and tests).
func (s *Service) LiveMeetings() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live)
}

// Snapshot is a consistent read of a live meeting's state, for diagnostics and tests.
type Snapshot struct {
	Meeting      wire.MeetingView
	Participants []wire.Participant // connected participants, in join order
	Timer        *wire.TimerView    // the running timer, or nil
	MuteLocked   bool               // joiners come in muted by the host
	Lobby        []wire.LobbyEntry  // the joins held in the lobby, in order
}

// Snapshot returns the live meeting's state; ok is false when the meeting is not live on this
// node (unknown, ended, idle and released, or never joined here).
func (s *Service) Snapshot(meetingID string) (snap Snapshot, ok bool) {
	s.mu.Lock()
	lm := s.live[meetingID]
	s.mu.Unlock()
	if lm == nil {
		return Snapshot{}, false
	}
	lm.mu.Lock()
	defer lm.mu.Unlock()
	if !lm.loaded || lm.released {
		return Snapshot{}, false
	}
	snap = Snapshot{Meeting: lm.view(), MuteLocked: lm.muteLock, Participants: make([]wire.Participant, len(lm.seats)), Lobby: lm.lobby.view()}
	for i, st := range lm.seats {
		snap.Participants[i] = st.p
	}
	if lm.timer != nil {
		tv := lm.timer.view()
		snap.Timer = &tv
	}
	return snap, true
}
