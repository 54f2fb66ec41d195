package meeting

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/parleyhq/parley/wire"
)

// Record is the durable part of a meeting. Live participants are not in it: they stay in memory
// on the node that owns the meeting.
type Record struct {
	ID          string
	HostKeyHash [32]byte // SHA-256 of the hostKey; the key itself is never stored
	HostName    string
	CreatedAt   time.Time
	State       wire.State
	Locked      bool
	// Lobby holds joins without the hostKey for the host's decision.
	Lobby bool
	// ChatDisabled stops chat for everyone but the host (the protocol's chatAllowed, negated
	// so that the zero record allows chat).
	ChatDisabled bool
	// BannedBrowsers are the browsers the host banned (kick with ban), as BrowserHash values:
	// durable, so that a ban holds for the meeting's life, past its release from memory.
	BannedBrowsers []string
	// ScreenShareDisabled lets only the host share a screen (the protocol's
	// screenShareAllowed, negated so that the zero record allows sharing).
	ScreenShareDisabled bool
}

// clone returns r with its own copy of every slice, so that no caller shares a stored one.
func (r Record) clone() Record {
	r.BannedBrowsers = slices.Clone(r.BannedBrowsers)
	return r
}

// Store keeps meeting records: in memory by default, in Redis for several nodes.
type Store interface {
	// Create adds a new record; it fails if the id exists.
	Create(ctx context.Context, r Record) error
	// Get returns the record, or an *Error with wire.CodeNotFound when there is none.
	Get(ctx context.Context, id string) (Record, error)
	// Update replaces an existing record, or fails with wire.CodeNotFound.
	Update(ctx context.Context, r Record) error
}

type memoryStore struct {
	mu      sync.Mutex
	records map[string]Record
}

// NewMemoryStore returns a Store that keeps records in this process's memory.
func NewMemoryStore() Store { return &memoryStore{records: make(map[string]Record)} }

func (s *memoryStore) Create(_ context.Context, r Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.records[r.ID]; ok {
		return newError(wire.CodeInternal, "meeting %q already exists", r.ID)
	}
	s.records[r.ID] = r.clone()
	return nil
}

func (s *memoryStore) Get(_ context.Context, id string) (Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[id]
	if !ok {
		return Record{}, errMeetingNotFound()
	}
	return r.clone(), nil
}

func (s *memoryStore) Update(_ context.Context, r Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.records[r.ID]; !ok {
		return errMeetingNotFound()
	}
	s.records[r.ID] = r.clone()
	return nil
}
