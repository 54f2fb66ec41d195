package meeting

import (
	"time"

	"github.com/parleyhq/parley/wire"
)

// A meeting's life in the log, at info level: one line when it is created, when someone joins
// or leaves, for each host action, and when it ends (or is released from memory, empty). That is
// what an operator reads to know what the server did; everything else is debug. Participants
// are named by participantId; their names are personal data and are logged only with
// Config.LogNames.

func (s *Service) logCreated(c Created) {
	attrs := []any{"meetingId", c.MeetingID}
	if s.logNames {
		attrs = append(attrs, "hostName", c.HostName)
	}
	s.log.Info("meeting created", attrs...)
}

// logJoined logs s's join and keeps the meeting's peak; the caller holds lm.mu.
func (lm *liveMeeting) logJoined(s *seat) {
	s.joinedAt = lm.svc.clock.Now()
	lm.peak = max(lm.peak, len(lm.seats))
	attrs := []any{"meetingId", lm.id, "participantId", s.p.ID, "role", s.p.Role, "participants", len(lm.seats)}
	if lm.svc.logNames {
		attrs = append(attrs, "name", s.p.Name)
	}
	lm.svc.log.Info("participant joined", attrs...)
}

// logLeft logs that s left, and how long it stayed; the caller holds lm.mu.
func (lm *liveMeeting) logLeft(s *seat, reason wire.LeaveReason) {
	lm.svc.log.Info("participant left", "meetingId", lm.id, "participantId", s.p.ID, "reason", reason,
		"stayedSeconds", lm.since(s.joinedAt), "participants", len(lm.seats))
}

// logHostAction logs a host request that was carried out; the caller holds lm.mu.
func (lm *liveMeeting) logHostAction(host string, r Request) {
	attrs := []any{"meetingId", lm.id, "participantId", host, "action", string(r.RequestKind())}
	if t, ok := r.(targeted); ok {
		attrs = append(attrs, "target", t.targetParticipant())
	}
	lm.svc.log.Info("host action", attrs...)
}

// logEnded logs the end of the meeting for everyone; the caller holds lm.mu.
func (lm *liveMeeting) logEnded() {
	lm.svc.log.Info("meeting ended", "meetingId", lm.id, "durationSeconds", lm.since(lm.rec.CreatedAt),
		"peakParticipants", lm.peak)
}

// logReleased logs that an empty meeting left memory (it stays open: a later join brings it
// back); the caller holds lm.mu.
func (lm *liveMeeting) logReleased() {
	lm.svc.log.Info("meeting released from memory after being empty", "meetingId", lm.id,
		"durationSeconds", lm.since(lm.rec.CreatedAt), "peakParticipants", lm.peak, "idleSeconds", int64(lm.svc.idleTimeout/time.Second))
}

// since is the time from t to now in whole seconds: a log line's precision, and a number both
// to a reader and to a JSON log's consumer.
func (lm *liveMeeting) since(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return int64(lm.svc.clock.Now().Sub(t).Round(time.Second) / time.Second)
}

// targeted is a host request about one participant: the host-action line names them.
type targeted interface{ targetParticipant() string }

func (r Kick) targetParticipant() string            { return r.ParticipantID }
func (r MuteParticipant) targetParticipant() string { return r.ParticipantID }
func (r AllowUnmute) targetParticipant() string     { return r.ParticipantID }
func (r StopScreenShare) targetParticipant() string { return r.ParticipantID }
