package meeting

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/parleyhq/parley/wire"
)

// MaxAuditEntries bounds a meeting's audit log: beyond it the oldest entries go.
const MaxAuditEntries = 10_000

// DefaultAuditRetention is how long a meeting's audit log is kept after the meeting ends.
const DefaultAuditRetention = 24 * time.Hour

// auditLog is one meeting's audit log: every host request carried out and every join, leave and
// disconnect, oldest first, at most max entries. It lives in the Service, not in the live meeting,
// because it outlives the meeting's memory (an idle meeting is released; an ended one keeps its
// log for the retention time). Entries are added under the meeting's lock; its own lock lets the
// HTTP side read it without taking the meeting's.
type auditLog struct {
	mu       sync.Mutex
	max      int
	entries  []wire.AuditEntry // a ring; first is the oldest
	first    int
	released bool // the meeting ended and its release is scheduled
}

func newAuditLog(max int) *auditLog { return &auditLog{max: max} }

func (l *auditLog) add(e wire.AuditEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) < l.max {
		l.entries = append(l.entries, e)
		return
	}
	l.entries[l.first] = e
	l.first = (l.first + 1) % len(l.entries)
}

// fill adds entries to a log that has none (a meeting taken over: its log as its store kept
// it); a log with entries of its own is left as it is. An empty ring starts at 0, so the tail
// goes in as it is.
func (l *auditLog) fill(entries []wire.AuditEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) == 0 {
		l.entries = append(l.entries, capTail(entries, l.max)...)
	}
}

// list returns the entries, oldest first (never nil).
func (l *auditLog) list() []wire.AuditEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]wire.AuditEntry, 0, len(l.entries))
	out = append(out, l.entries[l.first:]...)
	return append(out, l.entries[:l.first]...)
}

// auditOf returns the meeting's log, making it if there is none yet.
func (s *Service) auditOf(meetingID string) *auditLog {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.audits[meetingID]
	if l == nil {
		l = newAuditLog(s.maxAudit)
		s.audits[meetingID] = l
	}
	return l
}

// retainAudit keeps an ended meeting's log for the retention time, then lets it go with the
// meeting's record. The caller may hold the meeting's lock (lock order: meeting, service).
func (s *Service) retainAudit(meetingID string, l *auditLog) {
	l.mu.Lock()
	already := l.released
	l.released = true
	l.mu.Unlock()
	if already {
		return
	}
	s.forgetUnused(meetingID)
	s.clock.AfterFunc(s.auditRetention, func() {
		s.mu.Lock()
		if s.audits[meetingID] == l {
			delete(s.audits, meetingID)
		}
		s.mu.Unlock()
		s.forgetRecord(meetingID) // the record goes with its log (retention.go)
	})
}

// Audit returns a meeting's audit log, oldest first, to the bearer of its hostKey, compared in
// constant time. An unknown meeting is an *Error with wire.CodeNotFound, a missing or wrong key
// wire.CodeForbidden; an ended meeting whose log is no longer kept is wire.CodeNotFound.
func (s *Service) Audit(ctx context.Context, meetingID, hostKey string) ([]wire.AuditEntry, error) {
	rec, err := s.store.Get(ctx, meetingID)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	if !hostKeyMatches(hostKey, rec.HostKeyHash) || hostKey == "" {
		return nil, newError(wire.CodeForbidden, "only the host may read the meeting log: present the meeting's host key")
	}
	s.mu.Lock()
	l := s.audits[meetingID]
	s.mu.Unlock()
	if l == nil {
		if hs, ok := s.store.(HistoryStore); ok {
			// The meeting is not live here (a cluster: taken over, not joined since): its log
			// as the store keeps it.
			_, entries, err := hs.LoadHistory(ctx, meetingID)
			if err != nil {
				return nil, fmt.Errorf("audit: %w", err)
			}
			if len(entries) > 0 {
				return entries, nil
			}
		}
		if rec.State == wire.StateEnded {
			return nil, newError(wire.CodeNotFound, "the meeting log is kept for %s after the meeting ends; it is gone", s.auditRetention)
		}
		return []wire.AuditEntry{}, nil
	}
	return l.list(), nil
}

// auditNote is what a host request's entry says beyond its action and author: whom it concerned
// and details. Requests naming a participant get their target filled in before they run (the
// name as it was); the rest say what they did as they run (admit, deny, admitAll).
type auditNote struct {
	target, targetName string
	detail             map[string]any
}

func (n *auditNote) set(key string, v any) {
	if n.detail == nil {
		n.detail = make(map[string]any)
	}
	n.detail[key] = v
}

// entry starts an audit entry by p, now.
func (lm *liveMeeting) entry(action string, p wire.Participant) wire.AuditEntry {
	return wire.AuditEntry{At: lm.svc.clock.Now().UnixMilli(), Action: action, By: p.ID, ByName: p.Name}
}

// logged adds an entry to the meeting's audit log, and to its store's copy if it keeps one.
func (lm *liveMeeting) logged(e wire.AuditEntry) {
	lm.audit.add(e)
	if lm.saver != nil {
		lm.saver.addAudit(e)
	}
}

// audited is the one place a request is written to the audit log: a host request that was
// carried out, by the host as it was when it asked, then what the request caused (joins of the
// admitted).
func (lm *liveMeeting) audited(r Request, by wire.Participant, a *action) {
	e := lm.entry(string(r.RequestKind()), by)
	e.Target, e.TargetName, e.Detail = a.note.target, a.note.targetName, a.note.detail
	lm.logged(e)
	for _, then := range a.then {
		// Stamped with the request's time: made while it ran, a consequence would otherwise read
		// up to a millisecond older than its cause, and the log is oldest first.
		then.At = e.At
		lm.logged(then)
	}
}

// noteBefore fills in what an entry can say before the request runs: the participant it names,
// by its name at that moment (a removed participant's seat is gone after), and its fields.
func (lm *liveMeeting) noteBefore(r Request) auditNote {
	var n auditNote
	if t, ok := r.(targeted); ok && t.targetParticipant() != "" {
		n.target = t.targetParticipant()
		if s := lm.byID[n.target]; s != nil {
			n.targetName = s.p.Name
		}
	}
	if d, ok := r.(interface{ auditDetail() map[string]any }); ok {
		n.detail = d.auditDetail()
	}
	return n
}

// What the host's requests tell the audit log about themselves.

// The participant a request names is its targetParticipant (lifecycle.go), as in the log.

func (r LowerHand) targetParticipant() string { return r.ParticipantID }

func (r MuteAll) auditDetail() map[string]any {
	return map[string]any{"allowSelfUnmute": r.AllowSelfUnmute}
}

func (r MuteParticipant) auditDetail() map[string]any {
	return map[string]any{"allowSelfUnmute": r.AllowSelfUnmute}
}
func (r Kick) auditDetail() map[string]any {
	if !r.Ban {
		return nil
	}
	return map[string]any{"ban": true}
}

func (r StartTimer) auditDetail() map[string]any     { return map[string]any{"timerId": r.TimerID} }
func (r SetLocked) auditDetail() map[string]any      { return map[string]any{"locked": r.Locked} }
func (r SetChatAllowed) auditDetail() map[string]any { return map[string]any{"allowed": r.Allowed} }
func (r SetLobby) auditDetail() map[string]any       { return map[string]any{"enabled": r.Enabled} }

func (r SetScreenShareAllowed) auditDetail() map[string]any {
	return map[string]any{"allowed": r.Allowed}
}
