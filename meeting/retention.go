package meeting

import (
	"context"
	"time"

	"github.com/parleyhq/parley/wire"
)

// How long a meeting's records last. An ended meeting's record and audit log are kept for
// Config.AuditRetention (at least 24 hours, as the protocol promises the host), then deleted: the
// meeting is unknown from then on (not_found). An open meeting nobody uses (nobody in it, nobody
// waiting, since Config.RecordRetention) is ended then, as if its host had ended it, and its
// records go the same way AuditRetention later. So every record the server keeps is bounded in
// time, and the host's log outlives the meeting by the promised day either way.

// DefaultRecordRetention is how long an open meeting nobody uses is kept before it is ended.
const DefaultRecordRetention = 30 * 24 * time.Hour

// RecordDeleter is a Store that can delete a meeting's record. A Store without it keeps records
// (a Redis store may expire them itself).
type RecordDeleter interface {
	// Delete removes the record; a missing record is no error.
	Delete(ctx context.Context, id string) error
}

func (s *memoryStore) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.records, id)
	return nil
}

// storeTimeout bounds the store calls a retention timer makes.
const storeTimeout = 10 * time.Second

// sweepEvery is how often Create looks for unused meetings to end, and sweepMax how many it
// ends at most at a time. Records only grow by Create, so sweeping there bounds them without a
// timer per meeting.
const (
	sweepEvery = time.Minute
	sweepMax   = 100
)

// markUnused starts the count of RecordRetention for a meeting nobody uses now: made and not
// joined yet, or released from memory for being empty. The caller may hold the meeting's lock
// (lock order: meeting, service).
func (s *Service) markUnused(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unused[id] = s.clock.Now()
}

// forgetUnused drops a meeting from the count (it ended). The caller may hold the meeting's lock.
func (s *Service) forgetUnused(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.unused, id)
}

// sweepUnused ends the meetings nobody has used for RecordRetention, at most sweepMax of them
// and at most once per sweepEvery. A meeting in memory is in use: its next release from memory
// starts the count anew.
func (s *Service) sweepUnused(ctx context.Context) {
	now := s.clock.Now()
	s.mu.Lock()
	if now.Sub(s.swept) < sweepEvery {
		s.mu.Unlock()
		return
	}
	s.swept = now
	var due []string
	for id, since := range s.unused {
		if len(due) == sweepMax {
			break
		}
		if _, inUse := s.live[id]; !inUse && now.Sub(since) >= s.recordRetention {
			due = append(due, id)
			delete(s.unused, id)
		}
	}
	s.mu.Unlock()
	for _, id := range due {
		s.expire(ctx, id)
	}
}

// expire ends an unused meeting and keeps its log (and so its record) for AuditRetention.
func (s *Service) expire(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	rec, err := s.store.Get(ctx, id)
	if err != nil {
		return // gone already
	}
	if rec.State != wire.StateEnded {
		rec.State = wire.StateEnded
		if err := s.store.Update(ctx, rec); err != nil {
			s.log.Warn("could not end an unused meeting", "meetingId", id, "err", err)
			return
		}
		s.log.Info("meeting ended after being unused", "meetingId", id,
			"unusedHours", int64(s.recordRetention/time.Hour))
	}
	s.retainAudit(id, s.auditOf(id))
}

// forgetRecord deletes an ended meeting's record once its audit log has gone.
func (s *Service) forgetRecord(id string) {
	d, ok := s.store.(RecordDeleter)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := d.Delete(ctx, id); err != nil {
		s.log.Warn("could not delete an ended meeting's record", "meetingId", id, "err", err)
	}
}
