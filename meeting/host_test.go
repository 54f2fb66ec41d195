package meeting_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/meeting/meetingtest"
	"github.com/parleyhq/parley/wire"
)

func TestKick(t *testing.T) {
	r := newEnv(t).room(3)
	target := r.ps[1]
	r.do(r.host, meeting.Kick{ParticipantID: target.id()})

	wantEvents(t, "target", target.sink.Take(), []wire.Event{wire.Kicked{}})
	left := wire.ParticipantLeft{ParticipantID: target.id(), Reason: wire.ReasonKicked}
	for _, c := range []*conn{r.host, r.ps[0], r.ps[2]} {
		wantEvents(t, c.name, c.sink.Take(), []wire.Event{left})
	}
	wantCalls(t, r.media.Take(), []meetingtest.MediaCall{{Op: "RemoveParticipant", MeetingID: r.id(), ParticipantID: target.id()}})
	// Media drops the participant before anyone is told.
	gatesCloseBeforeEvents(t, r.trace.Entries())
	if n := len(r.snapshot().Participants); n != 3 {
		t.Errorf("%d participants after kick, want 3", n)
	}

	// The kicked member is gone: nothing it does counts.
	r.quiet()
	wantCode(t, target.m.Do(r.ctx, meeting.SetMuted{Kind: wire.KindAudio, Muted: true}), wire.CodeNotFound)
	target.m.Leave()
	target.m.Disconnect()
	r.noEvents()
	r.noMedia()
	// Kicking it again: not in the meeting.
	wantCode(t, r.host.m.Do(r.ctx, meeting.Kick{ParticipantID: target.id()}), wire.CodeNotFound)
}

func TestKickRefusals(t *testing.T) {
	r := newEnv(t).room(1)
	for _, tt := range []struct {
		pid  string
		code wire.Code
	}{
		{r.host.id(), wire.CodeBadRequest},
		{"nobody", wire.CodeNotFound},
		{"", wire.CodeBadRequest},
	} {
		snap := r.snapshot()
		wantCode(t, r.host.m.Do(r.ctx, meeting.Kick{ParticipantID: tt.pid}), tt.code)
		r.noEvents()
		r.noMedia()
		if !equalSnapshots(snap, r.snapshot()) {
			t.Errorf("kick %q changed the meeting", tt.pid)
		}
	}
}

func TestSetLocked(t *testing.T) {
	r := newEnv(t).room(1)
	// No change: no event.
	r.do(r.host, meeting.SetLocked{Locked: false})
	r.noEvents()

	r.do(r.host, meeting.SetLocked{Locked: true})
	lockedView := wire.MeetingUpdated{Meeting: wire.MeetingView{MeetingID: r.id(), State: wire.StateOpen, Locked: true, ChatAllowed: true, ScreenShareAllowed: true}}
	for _, c := range r.everyone() {
		wantEvents(t, c.name, c.sink.Take(), []wire.Event{lockedView})
	}
	r.noMedia()
	if !r.record().Locked {
		t.Error("the lock is not in the stored record")
	}
	r.do(r.host, meeting.SetLocked{Locked: true})
	r.noEvents()

	_, err := r.tryJoin(r.id(), "Outsider", "")
	wantCode(t, err, wire.CodeMeetingLocked)
	r.noEvents()
	// The host gets in (a second connection replaces the first).
	h := r.join(r.id(), "Host", r.created.HostKey)
	if !h.res.Meeting.Locked {
		t.Error("joined view does not show the lock")
	}
	r.quiet()

	r.do(h, meeting.SetLocked{Locked: false})
	unlocked := wire.MeetingUpdated{Meeting: wire.MeetingView{MeetingID: r.id(), State: wire.StateOpen, ChatAllowed: true, ScreenShareAllowed: true}}
	wantEvents(t, "host", h.sink.Take(), []wire.Event{unlocked})
	wantEvents(t, "P1", r.ps[0].sink.Take(), []wire.Event{unlocked})
	if r.record().Locked {
		t.Error("the unlock is not in the stored record")
	}
	r.join(r.id(), "Outsider", "")
}

func TestSetLockedStoreFailureChangesNothing(t *testing.T) {
	store := &failingStore{Store: meeting.NewMemoryStore()}
	e := newEnv(t, func(c *meeting.Config) { c.Store = store })
	r := e.room(1)
	store.failUpdate = true
	wantCodeInternalWrapping(t, r.host.m.Do(r.ctx, meeting.SetLocked{Locked: true}))
	r.noEvents()
	if r.snapshot().Meeting.Locked {
		t.Error("locked in memory though the store refused")
	}
	wantCodeInternalWrapping(t, r.host.m.Do(r.ctx, meeting.EndMeeting{}))
	r.noEvents()
	r.noMedia()
	if r.snapshot().Meeting.State != wire.StateOpen {
		t.Error("ended in memory though the store refused")
	}
	store.failUpdate = false
	r.do(r.host, meeting.EndMeeting{})
}

func TestEndMeeting(t *testing.T) {
	r := newEnv(t).room(3)
	r.do(r.host, meeting.StartTimer{TimerID: "t30"})
	r.do(r.host, meeting.SetLocked{Locked: true})
	r.quiet()

	r.do(r.host, meeting.EndMeeting{})
	for _, c := range r.everyone() {
		wantEvents(t, c.name, c.sink.Take(), []wire.Event{wire.MeetingEnded{}})
	}
	wantCalls(t, r.media.Take(), []meetingtest.MediaCall{{Op: "ReleaseMeeting", MeetingID: r.id()}})
	gatesCloseBeforeEvents(t, r.trace.Entries())

	// Tombstone: the record says ended, the live state is gone, and the timer with it.
	if rec := r.record(); rec.State != wire.StateEnded || !rec.Locked {
		t.Errorf("record %+v", rec)
	}
	if r.svc.LiveMeetings() != 0 {
		t.Error("the ended meeting is still in memory")
	}
	if _, ok := r.svc.Snapshot(r.id()); ok {
		t.Error("snapshot of an ended meeting")
	}
	// Only the audit log's release, a day later (audit_test.go), is left to run.
	if r.clock.Pending() != 1 {
		t.Errorf("%d timers pending after the end, want the audit log's retention only", r.clock.Pending())
	}
	info, err := r.svc.Info(r.ctx, r.id())
	if err != nil || info != (wire.MeetingInfo{MeetingID: r.id(), State: wire.StateEnded, Locked: true, ChatAllowed: true, ScreenShareAllowed: true}) {
		t.Errorf("info %+v, %v", info, err)
	}

	// Every member is gone: requests say the meeting ended, leaving does nothing.
	for _, c := range r.everyone() {
		wantCode(t, c.m.Do(r.ctx, meeting.SetMuted{Kind: wire.KindAudio, Muted: true}), wire.CodeMeetingEnded)
		wantCode(t, c.m.Do(r.ctx, meeting.EndMeeting{}), wire.CodeMeetingEnded)
		c.m.Leave()
		c.m.Disconnect()
	}
	r.clock.Advance(time.Hour)
	r.noEvents()
	r.noMedia()

	// Nobody gets back in, the host neither; and nothing is kept in memory for trying.
	for _, key := range []string{"", r.created.HostKey, "wrong"} {
		_, err := r.tryJoin(r.id(), "Again", key)
		wantCode(t, err, wire.CodeMeetingEnded)
	}
	if r.svc.LiveMeetings() != 0 {
		t.Error("joins to an ended meeting left it in memory")
	}
}

func TestEndMeetingLeavesOtherMeetingsAlone(t *testing.T) {
	e := newEnv(t)
	a, b := e.room(1), e.room(1)
	b.do(b.host, meeting.StartTimer{TimerID: "t15"})
	e.quiet()
	a.do(a.host, meeting.EndMeeting{})
	wantEvents(t, "b host", b.host.sink.Events(), nil)
	b.do(b.ps[0], meeting.SetMuted{Kind: wire.KindVideo, Muted: true})
	e.clock.Advance(15 * time.Second)
	if got := b.host.sink.Types(); len(got) != 2 || got[1] != "timerEnded" {
		t.Errorf("meeting b after a ended: %v", got)
	}
	if e.svc.LiveMeetings() != 1 {
		t.Errorf("%d live meetings, want 1", e.svc.LiveMeetings())
	}
}

func TestTerminalEvents(t *testing.T) {
	for _, ev := range []wire.Event{wire.Kicked{}, wire.MeetingEnded{}, wire.Replaced{}} {
		if !meeting.Terminal(ev) {
			t.Errorf("%s is not terminal", ev.EventType())
		}
	}
	for _, ev := range []wire.Event{wire.ParticipantLeft{}, wire.TimerEnded{}, wire.MutedByHost{}} {
		if meeting.Terminal(ev) {
			t.Errorf("%s is terminal", ev.EventType())
		}
	}
}
