package meeting_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/wire"
)

// Records do not pile up: an ended meeting's record goes with its audit log a day after the end,
// and an open meeting nobody uses is ended after RecordRetention (found by a later Create), its
// log kept a day more; a meeting in use is never ended for it, and its count starts when it
// empties.
func TestRecordsReleased(t *testing.T) {
	env := newEnv(t)
	r := env.room(0)
	// Ended: the record stays a day (the log with it), then the meeting is unknown.
	r.do(r.host, meeting.EndMeeting{})
	r.clock.Advance(meeting.DefaultAuditRetention - time.Millisecond)
	info, err := r.svc.Info(r.ctx, r.id())
	if err != nil || info.State != wire.StateEnded {
		t.Fatalf("a day after the end: %+v %v", info, err)
	}
	r.clock.Advance(time.Millisecond)
	_, err = r.svc.Info(r.ctx, r.id())
	wantCode(t, err, wire.CodeNotFound)

	// Unused: made and never joined, and another made and used, then emptied later.
	unused, err := r.svc.Create(r.ctx, "Ada")
	if err != nil {
		t.Fatal(err)
	}
	used := r.create("Bob")
	r.clock.Advance(meeting.DefaultRecordRetention / 2)
	bob := r.join(used.MeetingID, "Bob", used.HostKey)
	r.clock.Advance(meeting.DefaultRecordRetention / 2)
	if _, err := r.svc.Create(r.ctx, "Sweeper"); err != nil { // sweeps
		t.Fatal(err)
	}
	info, err = r.svc.Info(r.ctx, unused.MeetingID)
	if err != nil || info.State != wire.StateEnded {
		t.Fatalf("an unused meeting after RecordRetention: %+v %v", info, err)
	}
	if _, err := r.svc.Audit(r.ctx, unused.MeetingID, unused.HostKey); err != nil {
		t.Fatalf("the log of a meeting ended for being unused: %v", err)
	}
	if info, _ := r.svc.Info(r.ctx, used.MeetingID); info.State != wire.StateOpen {
		t.Fatalf("a meeting in use was ended: %+v", info)
	}
	bob.m.Leave()
	r.clock.Advance(meeting.DefaultIdleTimeout) // released from memory: unused from now
	r.clock.Advance(meeting.DefaultRecordRetention - meeting.DefaultIdleTimeout - time.Minute)
	if _, err := r.svc.Create(r.ctx, "Sweeper"); err != nil {
		t.Fatal(err)
	}
	if info, _ := r.svc.Info(r.ctx, used.MeetingID); info.State != wire.StateOpen {
		t.Fatalf("a meeting ended before RecordRetention after it emptied: %+v", info)
	}
	r.clock.Advance(meeting.DefaultAuditRetention)
	_, err = r.svc.Info(r.ctx, unused.MeetingID)
	wantCode(t, err, wire.CodeNotFound)
	if meeting.DefaultRecordRetention < meeting.DefaultAuditRetention {
		t.Errorf("record retention %v below the audit retention", meeting.DefaultRecordRetention)
	}
}
