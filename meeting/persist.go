package meeting

import (
	"context"
	"sync"
	"time"

	"github.com/parleyhq/parley/wire"
)

// Persisting a live meeting for a takeover. The node that owns a meeting keeps its live state
// in memory and is the authority on it; a store that keeps takeover state (TakeoverStore, and
// HistoryStore for chat and the audit log) gets a copy written behind it, so that the node
// that takes the meeting over when this one dies can rebuild it (takeover.go).
//
// One saver per live meeting does the writing, never under the meeting's lock: the meeting
// hands it the newest snapshot (each newer one replaces an older one not yet written: writes
// coalesce) and the chat messages and audit entries to append, in order. A host request waits
// for its snapshot to be written before its answer (Member.Do), unless the store is failing;
// every other change (a join, a hand, a participant's own unmute, a resume token) is written
// behind. A failing store is logged once, counted, retried on the next change or a timer, and
// never fails nor stalls the meeting. Service.Flush waits for every write in flight, for a
// clean shutdown.

// HistoryStore is a Store that also keeps each live meeting's public chat history (at most
// ChatHistoryLength messages) and its audit log (at most the Service's MaxAuditEntries),
// appended as they grow. The Service writes to it only if the store is a TakeoverStore too.
type HistoryStore interface {
	// AppendHistory appends chat messages and audit entries, oldest first, keeping the last
	// ChatHistoryLength messages and the last maxAudit entries. It writes nothing for a
	// meeting the store does not hold.
	AppendHistory(ctx context.Context, meetingID string, chat []wire.Chat, audit []wire.AuditEntry, maxAudit int) error
	// LoadHistory returns the kept chat messages and audit entries, oldest first.
	LoadHistory(ctx context.Context, meetingID string) (chat []wire.Chat, audit []wire.AuditEntry, err error)
	// DropChat forgets the meeting's chat history (the meeting left this node's memory: a
	// meeting loaded anew starts without, as on one node).
	DropChat(ctx context.Context, meetingID string) error
}

// saveRetry is how long a saver whose last write failed waits before it tries again, when no
// change of the meeting makes it try sooner.
const saveRetry = 2 * time.Second

// saver writes one live meeting's takeover state and history behind it. Its fields are
// guarded by mu, which is taken under the meeting's lock and never the other way round.
type saver struct {
	svc *Service
	id  string
	ts  TakeoverStore
	hs  HistoryStore // nil: the store keeps no history

	mu       sync.Mutex
	running  bool // a goroutine of run is writing
	snap     *Takeover
	seq      uint64 // the last snapshot queued
	written  uint64 // the last snapshot written (or dropped with the meeting)
	wrote    chan struct{}
	chat     []wire.Chat
	audit    []wire.AuditEntry
	dropChat bool
	failing  bool // the last write failed
	final    bool // the meeting left memory: no retry timer
	retry    Stopper
	// stale: the meeting changed while a write was in flight and left its snapshot for later
	// (deferSnapshot); the writer asks for one (resnap) when it is done.
	stale  bool
	resnap func()
}

// newSaver returns lm's saver, nil when the store keeps no takeover state.
func (svc *Service) newSaver(lm *liveMeeting) *saver {
	ts, ok := svc.store.(TakeoverStore)
	if !ok {
		return nil
	}
	hs, _ := svc.store.(HistoryStore)
	return &saver{svc: svc, id: lm.id, ts: ts, hs: hs, wrote: make(chan struct{}), resnap: func() {
		lm.mu.Lock()
		lm.saveBehind()
		lm.unlock()
	}}
}

// deferSnapshot reports whether a write is in flight; if so, the meeting need not make a
// snapshot now: the writer asks for one when it is done. A burst of changes costs one snapshot
// per write, not one per change.
func (s *saver) deferSnapshot() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		s.stale = true
	}
	return s.running
}

// queue hands the saver a snapshot to write and returns its sequence number.
func (s *saver) queue(t Takeover) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	s.snap = &t
	s.kick()
	return s.seq
}

// addChat queues a public chat message for appending.
func (s *saver) addChat(m wire.Chat) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hs == nil {
		return
	}
	s.chat = capTail(append(s.chat, m), ChatHistoryLength)
	s.kick()
}

// addAudit queues an audit entry for appending.
func (s *saver) addAudit(e wire.AuditEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hs == nil {
		return
	}
	s.audit = capTail(append(s.audit, e), s.svc.maxAudit)
	s.kick()
}

// released queues what goes with the meeting's leaving memory: its chat history.
func (s *saver) released() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.final = true
	if s.retry != nil {
		s.retry.Stop()
		s.retry = nil
	}
	if s.hs != nil {
		s.chat, s.dropChat = nil, true
		s.kick()
	}
}

// capTail keeps the last n elements of xs (a store that has been failing for long keeps only
// what it would keep anyway).
func capTail[T any](xs []T, n int) []T {
	if len(xs) <= n {
		return xs
	}
	return append(xs[:0:0], xs[len(xs)-n:]...)
}

// kick starts a writer unless one runs (it takes the newest state when it loops); s.mu held.
func (s *saver) kick() {
	if s.running {
		return
	}
	s.running = true
	s.svc.saving.add()
	go s.run()
}

// wait waits for the snapshot seq to be written, at most takeoverTimeout or ctx; it does not
// wait on a store whose last write failed (the meeting goes on; the write is retried).
func (s *saver) wait(ctx context.Context, seq uint64) {
	t := time.NewTimer(takeoverTimeout)
	defer t.Stop()
	for {
		s.mu.Lock()
		done, failing, wrote := s.written >= seq, s.failing, s.wrote
		s.mu.Unlock()
		if done || failing {
			return
		}
		select {
		case <-wrote:
		case <-t.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// run writes until nothing is left to write: history first (in order), then the newest
// snapshot.
func (s *saver) run() {
	defer s.svc.saving.done()
	for {
		s.mu.Lock()
		snap, seq, chat, audit, drop := s.snap, s.seq, s.chat, s.audit, s.dropChat
		if snap == nil && len(chat) == 0 && len(audit) == 0 && !drop {
			s.running = false
			stale := s.stale
			s.stale = false
			s.mu.Unlock()
			if stale {
				// Not under s.mu, and no longer the writer: a host request holding the
				// meeting's lock starts a writer of its own meanwhile.
				s.resnap()
			}
			return
		}
		s.snap, s.chat, s.audit, s.dropChat = nil, nil, nil, false
		s.mu.Unlock()

		err := s.write(snap, chat, audit, drop)

		s.mu.Lock()
		if err != nil {
			s.failed(err, snap, chat, audit, drop)
			s.running = false
			s.mu.Unlock()
			return
		}
		if s.failing {
			s.failing = false
			s.svc.saveRecovered()
		}
		if snap != nil {
			s.written = seq
			close(s.wrote)
			s.wrote = make(chan struct{})
		}
		s.mu.Unlock()
	}
}

// failed puts back what was not written (behind nothing newer for a snapshot, before what
// came meanwhile for the history), counts and logs the failure, and arranges a retry; s.mu held.
func (s *saver) failed(err error, snap *Takeover, chat []wire.Chat, audit []wire.AuditEntry, drop bool) {
	if s.snap == nil {
		s.snap = snap
	}
	if !drop {
		s.chat = capTail(append(chat, s.chat...), ChatHistoryLength)
	}
	s.audit = capTail(append(audit, s.audit...), s.svc.maxAudit)
	s.dropChat = s.dropChat || drop
	s.failing = true
	close(s.wrote) // a host request waiting for this write goes on
	s.wrote = make(chan struct{})
	s.svc.saveFailed(s.id, err)
	if s.final {
		// The meeting left memory: what is left goes with the next Flush or nowhere.
		s.snap, s.chat, s.audit, s.dropChat = nil, nil, nil, false
		s.written = s.seq
		return
	}
	if s.retry == nil {
		s.retry = s.svc.clock.AfterFunc(saveRetry, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.retry = nil
			s.kick()
		})
	}
}

// saveTimeout bounds one round of writes.
const saveTimeout = 5 * time.Second

func (s *saver) write(snap *Takeover, chat []wire.Chat, audit []wire.AuditEntry, drop bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), saveTimeout)
	defer cancel()
	if s.hs != nil && (len(chat) > 0 || len(audit) > 0) {
		if err := s.hs.AppendHistory(ctx, s.id, chat, audit, s.svc.maxAudit); err != nil {
			return err
		}
	}
	if snap != nil {
		if err := s.ts.SaveTakeover(ctx, s.id, *snap); err != nil {
			return err
		}
	}
	if drop {
		return s.hs.DropChat(ctx, s.id)
	}
	return nil
}

// saveFailed counts a failed write and logs the first of a run of them.
func (svc *Service) saveFailed(meetingID string, err error) {
	svc.stats.stateSaveFailures.Add(1)
	if svc.saveFailing.CompareAndSwap(false, true) {
		svc.log.Warn("could not save meetings' state for a takeover; retrying (meetings go on)", "meetingId", meetingID, "err", err)
	}
}

// saveRecovered logs the end of a run of failed writes.
func (svc *Service) saveRecovered() {
	if svc.saveFailing.CompareAndSwap(true, false) {
		svc.log.Info("saving meetings' state for a takeover works again")
	}
}

// Flush waits until the state of every meeting has been written to a store that keeps it
// (TakeoverStore, HistoryStore), or ctx ends: a node that shuts down calls it before it lets
// its store go, so that the node taking its meetings over loses nothing.
func (svc *Service) Flush(ctx context.Context) error {
	return svc.saving.wait(ctx)
}

// inflight counts running writers and tells when there are none.
type inflight struct {
	mu   sync.Mutex
	n    int
	idle chan struct{}
}

func (f *inflight) add() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		f.idle = make(chan struct{})
	}
	f.n++
}

func (f *inflight) done() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.n == 0 {
		close(f.idle)
	}
}

func (f *inflight) wait(ctx context.Context) error {
	f.mu.Lock()
	if f.n == 0 {
		f.mu.Unlock()
		return nil
	}
	idle := f.idle
	f.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
