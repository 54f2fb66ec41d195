package meeting_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/wire"
)

// TestAuditLogsEveryHostActionAndEveryJoinAndLeave runs each host request, joins, leaves and a
// disconnect, and reads back the log: oldest first, each entry with its time, action, author and
// target, names as they were at the time (the host rejoins under another name, the removed
// participant is gone).
func TestAuditLogsEveryHostActionAndEveryJoinAndLeave(t *testing.T) {
	e := newEnv(t)
	c := e.create("Ada")
	host := e.join(c.MeetingID, "Ada", c.HostKey)
	grace := e.join(c.MeetingID, "Grace", "")
	linus := e.join(c.MeetingID, "Linus", "")
	r := &room{env: e, created: c, host: host, ps: []*conn{grace, linus}}
	step := func() { e.clock.Advance(time.Second) }

	step()
	r.do(host, meeting.MuteAll{AllowSelfUnmute: true})
	r.do(host, meeting.MuteParticipant{ParticipantID: grace.id()})
	r.do(host, meeting.AllowUnmute{ParticipantID: grace.id()})
	r.do(host, meeting.AllowUnmute{})
	r.do(host, meeting.StartTimer{TimerID: "t30"})
	r.do(host, meeting.CancelTimer{})
	r.do(host, meeting.SetLocked{Locked: true})
	r.do(host, meeting.SetLocked{Locked: false})
	r.do(host, meeting.SetChatAllowed{Allowed: false})
	r.do(grace, meeting.SetHandRaised{Raised: true}) // a participant's own request: not logged
	r.do(host, meeting.LowerHand{ParticipantID: grace.id()})
	r.do(host, meeting.LowerHand{})
	step()
	// Refused requests are not logged.
	_ = host.m.Do(r.ctx, meeting.Kick{ParticipantID: "nobody"})
	_ = grace.m.Do(r.ctx, meeting.MuteAll{})
	r.do(host, meeting.Kick{ParticipantID: linus.id()})
	step()
	r.do(host, meeting.SetLobby{Enabled: true})
	ken, bo, cy := r.hold("Ken"), r.hold("Bo"), r.hold("Cy")
	r.do(host, meeting.Admit{RequestID: ken.h.RequestID()})
	kenID := e.admitted(ken).id()
	r.do(host, meeting.Deny{RequestID: bo.h.RequestID()})
	dee := r.hold("Dee")
	r.do(host, meeting.AdmitAll{})
	cyID, deeID := e.admitted(cy).id(), e.admitted(dee).id()
	eve := r.hold("Eve")
	r.do(host, meeting.SetLobby{Enabled: false})
	eveConn := e.admitted(eve)
	eveID := eveConn.id()
	step()
	// The host comes back under another name; its earlier entries keep the old one.
	host2 := e.join(c.MeetingID, "Ada Lovelace", c.HostKey)
	grace.m.Leave()
	eveConn.m.Disconnect()
	r.do(host2, meeting.EndMeeting{})

	at := func(s int) int64 { return t0.Add(time.Duration(s) * time.Second).UnixMilli() }
	hid := host.id()
	by := func(action string, s int, detail map[string]any) wire.AuditEntry {
		return wire.AuditEntry{At: at(s), Action: action, By: hid, ByName: "Ada", Detail: detail}
	}
	on := func(e wire.AuditEntry, id, name string) wire.AuditEntry { e.Target, e.TargetName = id, name; return e }
	joinOf := func(id, name string, s int) wire.AuditEntry {
		return wire.AuditEntry{At: at(s), Action: "join", By: id, ByName: name}
	}
	admitted := func(pairs ...string) map[string]any {
		list := []map[string]any{}
		for i := 0; i < len(pairs); i += 2 {
			list = append(list, map[string]any{"participantId": pairs[i], "name": pairs[i+1]})
		}
		return map[string]any{"admitted": list}
	}
	want := []wire.AuditEntry{
		joinOf(hid, "Ada", 0), joinOf(grace.id(), "Grace", 0), joinOf(linus.id(), "Linus", 0),
		by("muteAll", 1, map[string]any{"allowSelfUnmute": true}),
		on(by("muteParticipant", 1, map[string]any{"allowSelfUnmute": false}), grace.id(), "Grace"),
		on(by("allowUnmute", 1, nil), grace.id(), "Grace"),
		by("allowUnmute", 1, nil),
		by("startTimer", 1, map[string]any{"timerId": "t30"}),
		by("cancelTimer", 1, nil),
		by("setLocked", 1, map[string]any{"locked": true}),
		by("setLocked", 1, map[string]any{"locked": false}),
		by("setChatAllowed", 1, map[string]any{"allowed": false}),
		on(by("lowerHand", 1, nil), grace.id(), "Grace"),
		by("lowerHand", 1, nil),
		on(by("kick", 2, nil), linus.id(), "Linus"),
		by("setLobby", 3, map[string]any{"enabled": true}),
		on(by("admit", 3, nil), kenID, "Ken"), joinOf(kenID, "Ken", 3),
		func() wire.AuditEntry {
			d := by("deny", 3, map[string]any{"requestId": bo.h.RequestID()})
			d.TargetName = "Bo"
			return d
		}(),
		by("admitAll", 3, admitted(cyID, "Cy", deeID, "Dee")), joinOf(cyID, "Cy", 3), joinOf(deeID, "Dee", 3),
		func() wire.AuditEntry {
			d := by("setLobby", 3, admitted(eveID, "Eve"))
			d.Detail["enabled"] = false
			return d
		}(), joinOf(eveID, "Eve", 3),
		joinOf(hid, "Ada Lovelace", 4),
		{At: at(4), Action: "leave", By: grace.id(), ByName: "Grace"},
		{At: at(4), Action: "disconnect", By: eveID, ByName: "Eve"},
		{At: at(4), Action: "endMeeting", By: hid, ByName: "Ada Lovelace"},
	}
	got := r.auditEntries()
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d:\n%s", len(got), len(want), fmtEntries(got))
	}
	for i := range want {
		if !equalJSON(got[i], want[i]) {
			t.Errorf("entry %d\n  %+v\nwant\n  %+v", i, got[i], want[i])
		}
	}
}

func fmtEntries(es []wire.AuditEntry) string {
	s := ""
	for _, e := range es {
		s += e.Action + " " + e.ByName + " " + e.TargetName + "\n"
	}
	return s
}

func TestAuditAuthorization(t *testing.T) {
	r := newEnv(t).room(1)
	for _, key := range []string{"", "wrong", r.created.HostKey + "x", r.created.HostKey[1:]} {
		_, err := r.svc.Audit(r.ctx, r.id(), key)
		wantCode(t, err, wire.CodeForbidden)
	}
	_, err := r.svc.Audit(r.ctx, "nosuchmeeting", r.created.HostKey)
	wantCode(t, err, wire.CodeNotFound)
	// Another meeting's key opens only that meeting's log.
	other := r.create("Bob")
	_, err = r.svc.Audit(r.ctx, r.id(), other.HostKey)
	wantCode(t, err, wire.CodeForbidden)
	// A meeting nobody has joined yet has an empty log.
	entries, err := r.svc.Audit(r.ctx, other.MeetingID, other.HostKey)
	if err != nil || entries == nil || len(entries) != 0 {
		t.Fatalf("fresh meeting's log: %#v, %v", entries, err)
	}
}

func TestAuditIsBounded(t *testing.T) {
	r := newEnv(t, func(c *meeting.Config) { c.MaxAuditEntries = 5 }).room(0)
	for i := range 8 {
		r.clock.Advance(time.Second)
		r.do(r.host, meeting.SetLocked{Locked: i%2 == 0})
	}
	got := r.auditEntries()
	if len(got) != 5 {
		t.Fatalf("%d entries, want the last 5", len(got))
	}
	for i, e := range got {
		if want := t0.Add(time.Duration(i+4) * time.Second).UnixMilli(); e.At != want || e.Action != "setLocked" {
			t.Fatalf("entry %d: %+v, want setLocked at %d (the newest five, oldest first)", i, e, want)
		}
	}
	if meeting.MaxAuditEntries != 10_000 {
		t.Errorf("the default bound is %d, want 10 000", meeting.MaxAuditEntries)
	}
}

// TestAuditKeptAfterTheEnd: the log outlives the meeting's memory: past the idle release, and for
// the retention time after the meeting ends; then it is released.
func TestAuditKeptAfterTheEnd(t *testing.T) {
	r := newEnv(t).room(1)
	r.host.m.Leave()
	r.ps[0].m.Leave()
	r.clock.Advance(meeting.DefaultIdleTimeout)
	if r.svc.LiveMeetings() != 0 {
		t.Fatal("not released")
	}
	if n := len(r.auditEntries()); n != 4 {
		t.Fatalf("%d entries after the idle release, want 4", n)
	}
	host := r.join(r.id(), "Host", r.created.HostKey)
	r.do(host, meeting.EndMeeting{})
	before := r.auditEntries()
	r.clock.Advance(meeting.DefaultAuditRetention - time.Millisecond)
	if got := r.auditEntries(); !reflect.DeepEqual(got, before) || got[len(got)-1].Action != "endMeeting" {
		t.Fatalf("the log changed or went before the retention time: %+v", got)
	}
	if meeting.DefaultAuditRetention < 24*time.Hour {
		t.Fatalf("retention %s, want at least 24 h", meeting.DefaultAuditRetention)
	}
	r.clock.Advance(time.Millisecond)
	_, err := r.svc.Audit(r.ctx, r.id(), r.created.HostKey)
	wantCode(t, err, wire.CodeNotFound)
	// The meeting's record went with its log (retention.go): the meeting is unknown now, to
	// any key.
	_, err = r.svc.Audit(r.ctx, r.id(), "wrong")
	wantCode(t, err, wire.CodeNotFound)
	if r.clock.Pending() != 0 {
		t.Errorf("%d timers pending", r.clock.Pending())
	}
}
