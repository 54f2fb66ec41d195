package meeting_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/meeting/meetingtest"
	"github.com/parleyhq/parley/wire"
)

// TestJoinCheckOrder sets up meetings where several checks would fail at once and expects the
// protocol's order: bad_request, not_found, meeting_ended, forbidden, meeting_locked, meeting_full.
func TestJoinCheckOrder(t *testing.T) {
	const (
		badName = "\u202e"
		unknown = "AAAAAAAAAAAAAAAA"
		wrong   = "wrong-key"
	)
	type setup func(e *env) meeting.Created
	open := func(e *env) meeting.Created { return e.create("Host") }
	ended := func(e *env) meeting.Created {
		c := e.create("Host")
		h := e.join(c.MeetingID, "Host", c.HostKey)
		if err := h.m.Do(e.ctx, meeting.EndMeeting{}); err != nil {
			e.t.Fatal(err)
		}
		return c
	}
	locked := func(e *env) meeting.Created { // host still there
		c := e.create("Host")
		h := e.join(c.MeetingID, "Host", c.HostKey)
		if err := h.m.Do(e.ctx, meeting.SetLocked{Locked: true}); err != nil {
			e.t.Fatal(err)
		}
		return c
	}
	lockedHostAway := func(e *env) meeting.Created {
		c := locked(e)
		e.conns[len(e.conns)-1].m.Leave()
		return c
	}
	fullNoHost := func(e *env) meeting.Created { // MaxParticipants 2
		c := e.create("Host")
		e.join(c.MeetingID, "P1", "")
		e.join(c.MeetingID, "P2", "")
		return c
	}
	fullWithHost := func(e *env) meeting.Created { // MaxParticipants 2
		c := e.create("Host")
		e.join(c.MeetingID, "Host", c.HostKey)
		e.join(c.MeetingID, "P1", "")
		return c
	}
	lockedFull := func(e *env) meeting.Created { // MaxParticipants 2, host there
		c := fullWithHost(e)
		if err := e.conns[0].m.Do(e.ctx, meeting.SetLocked{Locked: true}); err != nil {
			e.t.Fatal(err)
		}
		return c
	}

	tests := []struct {
		name    string
		setup   setup
		id      string // "" = the created meeting
		jname   string
		key     string // "right" = the meeting's hostKey
		want    wire.Code
		wantRol wire.Role
	}{
		{"bad name before not_found", open, unknown, badName, "", wire.CodeBadRequest, ""},
		{"bad name before meeting_ended", ended, "", badName, "right", wire.CodeBadRequest, ""},
		{"bad name before forbidden", open, "", badName, wrong, wire.CodeBadRequest, ""},
		{"bad name before meeting_locked", locked, "", badName, "", wire.CodeBadRequest, ""},
		{"bad name before meeting_full", fullNoHost, "", badName, "", wire.CodeBadRequest, ""},
		{"empty name", open, "", "   ", "", wire.CodeBadRequest, ""},
		{"not_found", open, unknown, "Ann", "", wire.CodeNotFound, ""},
		{"not_found before forbidden", open, unknown, "Ann", wrong, wire.CodeNotFound, ""},
		{"empty meeting id", open, "-", "Ann", "", wire.CodeNotFound, ""},
		{"meeting_ended", ended, "", "Ann", "", wire.CodeMeetingEnded, ""},
		{"meeting_ended before forbidden", ended, "", "Ann", wrong, wire.CodeMeetingEnded, ""},
		{"meeting_ended even with the right key", ended, "", "Ann", "right", wire.CodeMeetingEnded, ""},
		{"forbidden: wrong key", open, "", "Ann", wrong, wire.CodeForbidden, ""},
		{"forbidden before meeting_locked", locked, "", "Ann", wrong, wire.CodeForbidden, ""},
		{"forbidden before meeting_full", fullNoHost, "", "Ann", wrong, wire.CodeForbidden, ""},
		{"meeting_locked", locked, "", "Ann", "", wire.CodeMeetingLocked, ""},
		{"meeting_locked with host away", lockedHostAway, "", "Ann", "", wire.CodeMeetingLocked, ""},
		{"meeting_locked before meeting_full", lockedFull, "", "Ann", "", wire.CodeMeetingLocked, ""},
		{"meeting_full", fullNoHost, "", "Ann", "", wire.CodeMeetingFull, ""},
		{"meeting_full with host there", fullWithHost, "", "Ann", "", wire.CodeMeetingFull, ""},
		{"host key gets past the lock", lockedHostAway, "", "Ann", "right", "", wire.RoleHost},
		{"host key replaces the host even when locked and full", lockedFull, "", "Ann", "right", "", wire.RoleHost},
		{"host key does not make room when full", fullNoHost, "", "Ann", "right", wire.CodeMeetingFull, ""},
		{"no key: participant", open, "", "Ann", "", "", wire.RoleParticipant},
		{"right key: host", open, "", "Ann", "right", "", wire.RoleHost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, maxParticipants(2))
			c := tt.setup(e)
			id := c.MeetingID
			switch tt.id {
			case "":
			case "-":
				id = ""
			default:
				id = tt.id
			}
			key := tt.key
			if key == "right" {
				key = c.HostKey
			}
			e.quiet()
			before, wasLive := e.svc.Snapshot(c.MeetingID)
			got, err := e.tryJoin(id, tt.jname, key)
			if tt.want != "" {
				wantCode(t, err, tt.want)
				e.noEvents()
				e.noMedia()
				after, isLive := e.svc.Snapshot(c.MeetingID)
				if wasLive && !equalSnapshots(before, after) {
					t.Errorf("a failed join changed the meeting:\n%+v\n%+v", before, after)
				}
				if !wasLive && isLive && len(after.Participants) > 0 {
					t.Errorf("a failed join left participants: %+v", after)
				}
				return
			}
			if err != nil {
				t.Fatalf("join: %v", err)
			}
			if got.m.Role() != tt.wantRol || got.res.Self.Role != tt.wantRol {
				t.Errorf("role %q / %q, want %q", got.m.Role(), got.res.Self.Role, tt.wantRol)
			}
		})
	}
}

func TestJoinResult(t *testing.T) {
	e := newEnv(t)
	c := e.create("Host")
	host := e.join(c.MeetingID, "  Host ", c.HostKey)
	wantSelf := wire.Participant{ID: host.id(), Name: "Host", Role: wire.RoleHost, CanUnmute: true}
	if host.res.Self != wantSelf {
		t.Errorf("host Self %+v, want %+v", host.res.Self, wantSelf)
	}
	if host.m.MeetingID() != c.MeetingID || host.m.ParticipantID() != host.res.Self.ID {
		t.Error("member ids do not match the join result")
	}
	if len(host.res.Participants) != 0 || host.res.Participants == nil {
		t.Errorf("first joiner sees %v, want an empty, non-nil list", host.res.Participants)
	}
	if host.res.Meeting != (wire.MeetingView{MeetingID: c.MeetingID, State: wire.StateOpen, ChatAllowed: true, ScreenShareAllowed: true}) {
		t.Errorf("meeting %+v", host.res.Meeting)
	}
	wantTimers := []wire.TimerView{{TimerID: "t15", Seconds: 15}, {TimerID: "t30", Seconds: 30}, {TimerID: "t45", Seconds: 45}}
	if !equalJSON(host.res.Timers, wantTimers) || host.res.Timer != nil {
		t.Errorf("timers %+v timer %+v", host.res.Timers, host.res.Timer)
	}
	host.res.Timers[0].Seconds = 1 // a caller's copy must not change the catalogue

	bo := e.join(c.MeetingID, "Bo", "")
	cy := e.join(c.MeetingID, "Cy", "")
	wantBo := wire.Participant{ID: bo.id(), Name: "Bo", Role: wire.RoleParticipant, CanUnmute: true}
	wantCy := wire.Participant{ID: cy.id(), Name: "Cy", Role: wire.RoleParticipant, CanUnmute: true}
	if cy.res.Self != wantCy {
		t.Errorf("Cy Self %+v", cy.res.Self)
	}
	if !equalJSON(cy.res.Participants, []wire.Participant{wantSelf, wantBo}) {
		t.Errorf("Cy sees %+v, want the host and Bo in join order", cy.res.Participants)
	}
	if !equalJSON(cy.res.Timers, wantTimers) {
		t.Errorf("timers %+v", cy.res.Timers)
	}
	ids := map[string]bool{host.id(): true, bo.id(): true, cy.id(): true}
	if len(ids) != 3 {
		t.Error("participant ids repeat")
	}
	// Others hear of each join; the joiner hears nothing of its own.
	wantEvents(t, "host", host.sink.Events(), []wire.Event{wire.ParticipantJoined{Participant: wantBo}, wire.ParticipantJoined{Participant: wantCy}})
	wantEvents(t, "Bo", bo.sink.Events(), []wire.Event{wire.ParticipantJoined{Participant: wantCy}})
	wantEvents(t, "Cy", cy.sink.Events(), nil)
	// Media learns each joiner's gates (open) before Join returns.
	wantCalls(t, e.media.Calls(), []meetingtest.MediaCall{
		gate(c.MeetingID, host.id(), wire.KindAudio, true), gate(c.MeetingID, host.id(), wire.KindVideo, true),
		gate(c.MeetingID, bo.id(), wire.KindAudio, true), gate(c.MeetingID, bo.id(), wire.KindVideo, true),
		gate(c.MeetingID, cy.id(), wire.KindAudio, true), gate(c.MeetingID, cy.id(), wire.KindVideo, true),
	})
}

func TestJoinWithoutSinkIsRefused(t *testing.T) {
	e := newEnv(t)
	c := e.create("Host")
	_, _, err := e.svc.Join(e.ctx, meeting.JoinRequest{MeetingID: c.MeetingID, Name: "A"}, nil)
	wantCode(t, err, wire.CodeInternal)
}

func TestHostReplacement(t *testing.T) {
	r := newEnv(t).room(2)
	// The host mutes its video first: the new connection must keep that.
	r.do(r.host, meeting.SetMuted{Kind: wire.KindVideo, Muted: true})
	r.quiet()
	old := r.host
	nu := r.join(r.id(), "Host on phone", r.created.HostKey)

	if nu.id() != old.id() {
		t.Fatalf("new host connection got participantId %q, want the host's %q", nu.id(), old.id())
	}
	want := wire.Participant{ID: old.id(), Name: "Host on phone", Role: wire.RoleHost, VideoMuted: true, CanUnmute: true}
	if nu.res.Self != want {
		t.Errorf("Self %+v, want %+v", nu.res.Self, want)
	}
	if len(nu.res.Participants) != 2 {
		t.Errorf("new connection sees %d others, want 2", len(nu.res.Participants))
	}
	wantEvents(t, "old host", old.sink.Events(), []wire.Event{wire.Replaced{}})
	wantEvents(t, "new host", nu.sink.Events(), nil)
	for _, p := range r.ps {
		wantEvents(t, p.name, p.sink.Events(), []wire.Event{updated(want)})
	}
	// No RemoveParticipant: the new connection publishes under the same id. Its gates are restated.
	wantCalls(t, r.media.Calls(), []meetingtest.MediaCall{
		gate(r.id(), old.id(), wire.KindAudio, true), gate(r.id(), old.id(), wire.KindVideo, false),
	})
	if info, _ := r.svc.Info(r.ctx, r.id()); info.ParticipantCount != 3 {
		t.Errorf("participantCount %d, want 3", info.ParticipantCount)
	}

	// The old connection is gone: it changes nothing, and leaving is a no-op.
	r.quiet()
	wantCode(t, old.m.Do(r.ctx, meeting.SetLocked{Locked: true}), wire.CodeNotFound)
	old.m.Leave()
	old.m.Disconnect()
	r.noEvents()
	r.noMedia()
	if old.m.Role() != wire.RoleHost {
		t.Error("an old member forgot its role")
	}
	// The new one holds the host's powers.
	r.do(nu, meeting.SetLocked{Locked: true})
	if !r.snapshot().Meeting.Locked {
		t.Error("the new host connection could not lock the meeting")
	}
}

func TestHostRejoinKeepsParticipantID(t *testing.T) {
	r := newEnv(t).room(1)
	hostID := r.host.id()
	r.host.m.Disconnect()
	wantEvents(t, "P1", r.ps[0].sink.Take(), []wire.Event{wire.ParticipantLeft{ParticipantID: hostID, Reason: wire.ReasonDisconnected}})
	if info, _ := r.svc.Info(r.ctx, r.id()); info.State != wire.StateOpen || info.ParticipantCount != 1 {
		t.Fatalf("after the host left: %+v, want open with 1", info)
	}
	back := r.join(r.id(), "Host again", r.created.HostKey)
	if back.id() != hostID {
		t.Errorf("returning host got %q, want its old id %q", back.id(), hostID)
	}
	want := wire.Participant{ID: hostID, Name: "Host again", Role: wire.RoleHost, CanUnmute: true}
	wantEvents(t, "P1", r.ps[0].sink.Events(), []wire.Event{wire.ParticipantJoined{Participant: want}})
	// Participants never get the host's id.
	for range 20 {
		if p := r.join(r.id(), "X", ""); p.id() == hostID {
			t.Fatal("a participant got the host's id")
		}
	}
}

func TestHostLeavingDoesNotEndTheMeeting(t *testing.T) {
	r := newEnv(t).room(2)
	r.host.m.Leave()
	for _, p := range r.ps {
		wantEvents(t, p.name, p.sink.Take(), []wire.Event{wire.ParticipantLeft{ParticipantID: r.host.id(), Reason: wire.ReasonLeft}})
	}
	wantCalls(t, r.media.Take(), []meetingtest.MediaCall{{Op: "RemoveParticipant", MeetingID: r.id(), ParticipantID: r.host.id()}})
	r.do(r.ps[0], meeting.SetMuted{Kind: wire.KindAudio, Muted: true})
	if s := r.snapshot(); s.Meeting.State != wire.StateOpen || len(s.Participants) != 2 {
		t.Errorf("snapshot %+v", s)
	}
	if late := r.join(r.id(), "Late", ""); late == nil {
		t.Fatal("cannot join a meeting whose host left")
	}
}

func TestLeaveAndDisconnect(t *testing.T) {
	for _, tt := range []struct {
		name   string
		leave  func(*meeting.Member)
		reason wire.LeaveReason
	}{
		{"leave", (*meeting.Member).Leave, wire.ReasonLeft},
		{"disconnect", func(m *meeting.Member) { m.Disconnect() }, wire.ReasonDisconnected},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newEnv(t).room(2)
			p := r.ps[0]
			tt.leave(p.m)
			left := wire.ParticipantLeft{ParticipantID: p.id(), Reason: tt.reason}
			wantEvents(t, "host", r.host.sink.Take(), []wire.Event{left})
			wantEvents(t, "P2", r.ps[1].sink.Take(), []wire.Event{left})
			wantEvents(t, "leaver", p.sink.Take(), nil)
			wantCalls(t, r.media.Take(), []meetingtest.MediaCall{{Op: "RemoveParticipant", MeetingID: r.id(), ParticipantID: p.id()}})
			// Idempotent, and the member is gone.
			p.m.Leave()
			p.m.Disconnect()
			wantCode(t, p.m.Do(r.ctx, meeting.SetMuted{Kind: wire.KindAudio, Muted: true}), wire.CodeNotFound)
			r.noEvents()
			r.noMedia()
			if n := len(r.snapshot().Participants); n != 2 {
				t.Errorf("%d participants left, want 2", n)
			}
		})
	}
}

func TestJoinGatesUnderMuteLock(t *testing.T) {
	r := newEnv(t).room(0)
	r.do(r.host, meeting.MuteAll{AllowSelfUnmute: false})
	r.quiet()
	p := r.join(r.id(), "Late", "")
	want := wire.Participant{ID: p.id(), Name: "Late", Role: wire.RoleParticipant, AudioMuted: true, MutedByHost: true}
	if p.res.Self != want {
		t.Errorf("joined under the mute lock as %+v, want %+v", p.res.Self, want)
	}
	wantCalls(t, r.media.Take(), []meetingtest.MediaCall{
		gate(r.id(), p.id(), wire.KindAudio, false), gate(r.id(), p.id(), wire.KindVideo, true),
		sourceGate(r.id(), p.id(), wire.SourceScreenAudio, false), // muted by the host: its screen's audio too
	})
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{wire.ParticipantJoined{Participant: want}})
	wantCode(t, p.m.Do(r.ctx, meeting.SetMuted{Kind: wire.KindAudio, Muted: false}), wire.CodeForbidden)
	// The host itself is never muted by the lock.
	h2 := r.join(r.id(), "Host", r.created.HostKey)
	if h2.res.Self.AudioMuted || h2.res.Self.MutedByHost {
		t.Errorf("host replaced under the mute lock: %+v", h2.res.Self)
	}
}

func TestUnknownMeetingLeavesNothingBehind(t *testing.T) {
	e := newEnv(t)
	for range 5 {
		_, err := e.tryJoin("does-not-exist", "A", "")
		wantCode(t, err, wire.CodeNotFound)
	}
	if n := e.svc.LiveMeetings(); n != 0 {
		t.Errorf("%d live meetings after joins to unknown ids", n)
	}
	if n := e.clock.Pending(); n != 0 {
		t.Errorf("%d timers pending", n)
	}
}

func TestIdleMeetingIsReleased(t *testing.T) {
	e := newEnv(t, func(c *meeting.Config) { c.IdleTimeout = time.Minute })
	r := e.room(1)
	r.do(r.host, meeting.SetLocked{Locked: true})
	r.do(r.host, meeting.MuteAll{AllowSelfUnmute: false})
	r.do(r.host, meeting.StartTimer{TimerID: "t45"})
	hostID := r.host.id()
	r.ps[0].m.Leave()
	r.host.m.Disconnect()
	if e.svc.LiveMeetings() != 1 {
		t.Fatal("meeting released before the idle timeout")
	}
	e.clock.Advance(59 * time.Second)
	// A return within the timeout finds everything as it was.
	back := e.join(r.id(), "Host", r.created.HostKey)
	if back.id() != hostID || back.res.Timer != nil || !back.res.Meeting.Locked {
		t.Fatalf("returning host: id %q (want %q), timer %+v, meeting %+v", back.id(), hostID, back.res.Timer, back.res.Meeting)
	}
	if s := r.snapshot(); !s.MuteLocked {
		t.Error("the mute lock was lost before the idle timeout")
	}
	back.m.Leave()
	e.media.Take()
	e.clock.Advance(time.Minute - time.Millisecond)
	if e.svc.LiveMeetings() != 1 {
		t.Fatal("released early")
	}
	e.noMedia()
	e.clock.Advance(time.Millisecond)
	if e.svc.LiveMeetings() != 0 {
		t.Fatal("not released after the idle timeout")
	}
	// Its media is freed with it (the sfu's room), not only when a meeting ends.
	wantCalls(t, e.media.Take(), []meetingtest.MediaCall{{Op: "ReleaseMeeting", MeetingID: r.id()}})
	if e.clock.Pending() != 0 {
		t.Errorf("%d timers still pending after release", e.clock.Pending())
	}
	if _, ok := e.svc.Snapshot(r.id()); ok {
		t.Error("snapshot of a released meeting")
	}
	// The record survives: the lock holds, the meeting opens again.
	info, err := e.svc.Info(e.ctx, r.id())
	if err != nil || info != (wire.MeetingInfo{MeetingID: r.id(), State: wire.StateOpen, Locked: true, ChatAllowed: true, ScreenShareAllowed: true}) {
		t.Fatalf("info after release: %+v, %v", info, err)
	}
	_, err = e.tryJoin(r.id(), "P", "")
	wantCode(t, err, wire.CodeMeetingLocked)
	h := e.join(r.id(), "Host", r.created.HostKey)
	if h.res.Self.Role != wire.RoleHost || !h.res.Meeting.Locked {
		t.Errorf("rejoin after release: %+v", h.res)
	}
	// A failed join to an empty meeting schedules its release too.
	h.m.Leave()
	e.clock.Advance(time.Minute)
	_, err = e.tryJoin(r.id(), "P", "")
	wantCode(t, err, wire.CodeMeetingLocked)
	if e.svc.LiveMeetings() != 1 {
		t.Fatal("want the meeting loaded by the failed join")
	}
	e.clock.Advance(time.Minute)
	if e.svc.LiveMeetings() != 0 {
		t.Fatal("a failed join left an empty meeting in memory")
	}
}
