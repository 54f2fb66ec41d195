package meeting_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/wire"
)

// lobbyRoom is a room of n participants with the lobby on, recorders quiet.
func lobbyRoom(t *testing.T, n int, opts ...func(*meeting.Config)) *room {
	t.Helper()
	r := newEnv(t, opts...).room(n)
	r.do(r.host, meeting.SetLobby{Enabled: true})
	r.quiet()
	return r
}

func waiting(hcs ...*heldConn) wire.LobbyUpdated {
	u := wire.LobbyUpdated{Waiting: []wire.LobbyEntry{}}
	for _, hc := range hcs {
		u.Waiting = append(u.Waiting, wire.LobbyEntry{RequestID: hc.h.RequestID(), Name: hc.name, Since: t0.UnixMilli()})
	}
	return u
}

func TestSetLobby(t *testing.T) {
	r := newEnv(t).room(1)
	r.do(r.host, meeting.SetLobby{Enabled: false}) // no change
	r.noEvents()
	r.do(r.host, meeting.SetLobby{Enabled: true})
	on := wire.MeetingUpdated{Meeting: wire.MeetingView{MeetingID: r.id(), State: wire.StateOpen, ChatAllowed: true, ScreenShareAllowed: true, Lobby: true}}
	for _, c := range r.everyone() {
		wantEvents(t, c.name, c.sink.Take(), []wire.Event{on})
	}
	if !r.record().Lobby {
		t.Error("the lobby is not in the stored record")
	}
	if info, _ := r.svc.Info(r.ctx, r.id()); !info.Lobby {
		t.Error("info does not say the lobby is on")
	}
	r.do(r.host, meeting.SetLobby{Enabled: true})
	r.noEvents()
}

func TestLobbyHoldsJoinsWithoutTheHostKey(t *testing.T) {
	r := lobbyRoom(t, 1)
	before := r.snapshot()
	grace := r.hold("Grace")
	// The host is told; nobody else is, and the held client hears nothing from the meeting.
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{waiting(grace)})
	r.noEvents()
	if evs := grace.sink.Events(); len(evs) != 0 {
		t.Fatalf("the held client got %s", fmtEvents(evs))
	}
	r.noMedia()
	if !grace.pending() {
		t.Fatal("the held join was answered")
	}
	// Held clients are not participants.
	after := r.snapshot()
	if len(after.Participants) != len(before.Participants) || len(after.Lobby) != 1 {
		t.Fatalf("snapshot %+v", after)
	}
	if info, _ := r.svc.Info(r.ctx, r.id()); info.ParticipantCount != 2 {
		t.Fatalf("participantCount %d, want 2", info.ParticipantCount)
	}
	// Events of the meeting do not reach it.
	r.do(r.ps[0], meeting.SendChat{Text: "hi"})
	r.do(r.host, meeting.StartTimer{TimerID: "t15"})
	if evs := grace.sink.Events(); len(evs) != 0 {
		t.Fatalf("the held client got %s", fmtEvents(evs))
	}

	// The host's key is never held; the host's joined lists who waits.
	again := r.join(r.id(), "Host again", r.created.HostKey)
	if got := again.res.Lobby; len(got) != 1 || got[0].RequestID != grace.h.RequestID() || got[0].Name != "Grace" || got[0].Since != t0.UnixMilli() {
		t.Fatalf("host's joined lobby %+v", got)
	}
	if r.ps[0].res.Lobby != nil {
		t.Errorf("a participant's joined has a lobby: %+v", r.ps[0].res.Lobby)
	}
}

func TestHostJoinedCarriesAnEmptyLobby(t *testing.T) {
	r := newEnv(t).room(0)
	if r.host.res.Lobby == nil || len(r.host.res.Lobby) != 0 {
		t.Fatalf("host's joined lobby %#v, want empty, not absent", r.host.res.Lobby)
	}
}

func TestAdmit(t *testing.T) {
	r := lobbyRoom(t, 1)
	grace, linus := r.hold("Grace"), r.hold("Linus")
	r.quiet()
	r.do(r.host, meeting.Admit{RequestID: grace.h.RequestID()})
	g := r.admitted(grace)
	if g.res.Self.Name != "Grace" || g.res.Self.Role != wire.RoleParticipant || len(g.res.Participants) != 2 {
		t.Fatalf("admitted with %+v", g.res)
	}
	joined := wire.ParticipantJoined{Participant: g.res.Self}
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{joined, waiting(linus)})
	wantEvents(t, "P1", r.ps[0].sink.Take(), []wire.Event{joined})
	if len(r.snapshot().Participants) != 3 || !linus.pending() {
		t.Fatalf("snapshot %+v", r.snapshot())
	}
	// The admitted member is one like any other.
	r.do(g, meeting.SendChat{Text: "thanks"})
	r.quiet()

	for _, id := range []string{grace.h.RequestID(), "nobody", ""} {
		wantCode(t, r.host.m.Do(r.ctx, meeting.Admit{RequestID: id}), wire.CodeNotFound)
		wantCode(t, r.host.m.Do(r.ctx, meeting.Deny{RequestID: id}), wire.CodeNotFound)
	}
	r.noEvents()
}

func TestDeny(t *testing.T) {
	r := lobbyRoom(t, 1)
	grace := r.hold("Grace")
	r.quiet()
	r.do(r.host, meeting.Deny{RequestID: grace.h.RequestID()})
	m, _, err := grace.decided(t)
	if m != nil {
		t.Fatal("a denied join became a member")
	}
	wantCode(t, err, wire.CodeDenied)
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{waiting()})
	r.noEvents()
	if len(r.snapshot().Participants) != 2 {
		t.Fatal("the denied join is in the meeting")
	}
}

func TestLobbyTimeout(t *testing.T) {
	r := lobbyRoom(t, 1)
	grace := r.hold("Grace")
	r.clock.Advance(time.Minute)
	linus := r.hold("Linus")
	r.quiet()
	r.clock.Advance(meeting.DefaultLobbyTimeout - time.Minute - time.Millisecond)
	if !grace.pending() {
		t.Fatal("timed out early")
	}
	r.clock.Advance(time.Millisecond)
	_, _, err := grace.decided(t)
	wantCode(t, err, wire.CodeLobbyTimeout)
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{wire.LobbyUpdated{Waiting: []wire.LobbyEntry{
		{RequestID: linus.h.RequestID(), Name: "Linus", Since: t0.Add(time.Minute).UnixMilli()},
	}}})
	r.clock.Advance(time.Minute)
	wantCode(t, func() error { _, _, err := linus.decided(t); return err }(), wire.CodeLobbyTimeout)
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{waiting()})
	r.noEvents()
}

func TestLobbyTimeoutIsConfigured(t *testing.T) {
	r := lobbyRoom(t, 0, func(c *meeting.Config) { c.LobbyTimeout = time.Second })
	grace := r.hold("Grace")
	r.clock.Advance(time.Second)
	_, _, err := grace.decided(t)
	wantCode(t, err, wire.CodeLobbyTimeout)
}

func TestHeldClientLeaves(t *testing.T) {
	r := lobbyRoom(t, 1)
	grace := r.hold("Grace")
	r.quiet()
	grace.h.Leave()
	if grace.pending() {
		t.Fatal("a held join that left is still waiting")
	}
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{waiting()})
	wantCode(t, r.host.m.Do(r.ctx, meeting.Admit{RequestID: grace.h.RequestID()}), wire.CodeNotFound)
	grace.h.Leave() // again: nothing
	r.noEvents()
	if r.clock.Pending() != 0 {
		t.Errorf("%d timers pending: the lobby timeout was not stopped", r.clock.Pending())
	}
	// Leaving after being admitted does not undo the admission.
	linus := r.hold("Linus")
	r.do(r.host, meeting.Admit{RequestID: linus.h.RequestID()})
	r.quiet()
	linus.h.Leave()
	r.noEvents()
	if len(r.snapshot().Participants) != 3 {
		t.Fatal("Leave after admission removed the member")
	}
}

func TestLockIsCheckedBeforeTheLobby(t *testing.T) {
	r := lobbyRoom(t, 1)
	grace := r.hold("Grace")
	r.do(r.host, meeting.SetLocked{Locked: true})
	r.quiet()
	// A locked meeting refuses rather than holds.
	_, err := r.tryJoin(r.id(), "Linus", "")
	wantCode(t, err, wire.CodeMeetingLocked)
	r.noEvents()
	// Locking leaves those waiting to the host's decision.
	if !grace.pending() {
		t.Fatal("locking answered the held join")
	}
	r.do(r.host, meeting.Admit{RequestID: grace.h.RequestID()})
	r.admitted(grace)
}

func TestLobbyOffAdmitsEveryone(t *testing.T) {
	r := lobbyRoom(t, 1)
	grace, linus := r.hold("Grace"), r.hold("Linus")
	r.quiet()
	r.do(r.host, meeting.SetLobby{Enabled: false})
	g, l := r.admitted(grace), r.admitted(linus)
	off := wire.MeetingUpdated{Meeting: wire.MeetingView{MeetingID: r.id(), State: wire.StateOpen, ChatAllowed: true, ScreenShareAllowed: true}}
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{
		off, wire.ParticipantJoined{Participant: g.res.Self}, wire.ParticipantJoined{Participant: l.res.Self}, waiting(),
	})
	if len(l.res.Participants) != 3 {
		t.Fatalf("Linus was admitted seeing %d others, want 3", len(l.res.Participants))
	}
	if !l.res.Meeting.ChatAllowed || l.res.Meeting.Lobby {
		t.Fatalf("Linus was admitted with meeting %+v", l.res.Meeting)
	}
	// And joins go straight in again.
	r.join(r.id(), "Ken", "")
}

func TestAdmitIntoAFullMeeting(t *testing.T) {
	r := lobbyRoom(t, 1, maxParticipants(3))
	a, b, c := r.hold("A"), r.hold("B"), r.hold("C")
	r.quiet()
	// Room for one: the first admitted, the others wait on.
	r.do(r.host, meeting.AdmitAll{})
	r.admitted(a)
	if !b.pending() || !c.pending() {
		t.Fatal("a join past the meeting's size was answered")
	}
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{wire.ParticipantJoined{Participant: r.participant(r.conns[len(r.conns)-1].id())}, waiting(b, c)})
	r.quiet()
	wantCode(t, r.host.m.Do(r.ctx, meeting.Admit{RequestID: b.h.RequestID()}), wire.CodeMeetingFull)
	r.noEvents()
	if !b.pending() {
		t.Fatal("a refused admission answered the join")
	}
	// A full meeting refuses a join rather than holding it.
	_, err := r.tryJoin(r.id(), "D", "")
	wantCode(t, err, wire.CodeMeetingFull)
	// With the lobby off, those who do not fit are refused as a join would be.
	r.do(r.host, meeting.SetLobby{Enabled: false})
	for _, hc := range []*heldConn{b, c} {
		_, _, err := hc.decided(t)
		wantCode(t, err, wire.CodeMeetingFull)
	}
}

func TestMeetingEndAnswersTheLobby(t *testing.T) {
	r := lobbyRoom(t, 1)
	grace := r.hold("Grace")
	r.do(r.host, meeting.EndMeeting{})
	_, _, err := grace.decided(t)
	wantCode(t, err, wire.CodeMeetingEnded)
	grace.h.Leave() // nothing left to leave
}

// TestKickedParticipantWaitsAndStaysOut: a kicked participant who comes back by the link while
// the lobby is on waits, and stays out when denied.
func TestKickedParticipantWaitsAndStaysOut(t *testing.T) {
	r := newEnv(t).room(2)
	r.do(r.host, meeting.SetLobby{Enabled: true})
	r.do(r.host, meeting.Kick{ParticipantID: r.ps[1].id()})
	r.quiet()
	back := r.hold("P2")
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{waiting(back)})
	r.do(r.host, meeting.Deny{RequestID: back.h.RequestID()})
	_, _, err := back.decided(t)
	wantCode(t, err, wire.CodeDenied)
	for _, p := range r.snapshot().Participants {
		if p.Name == "P2" {
			t.Fatal("the denied participant is in the meeting")
		}
	}
}

// TestWaitingKeepsTheMeetingInMemory: a meeting nobody is in but someone waits to enter is not
// idle; it is once the wait ends.
func TestWaitingKeepsTheMeetingInMemory(t *testing.T) {
	r := lobbyRoom(t, 0, func(c *meeting.Config) { c.LobbyTimeout = time.Hour })
	r.host.m.Leave()
	grace := r.hold("Grace")
	r.clock.Advance(meeting.DefaultIdleTimeout + time.Minute)
	if r.svc.LiveMeetings() != 1 {
		t.Fatal("the meeting was released while someone waited")
	}
	if !grace.pending() {
		t.Fatalf("the held join was answered: %v", func() error { _, _, err := grace.h.Outcome(); return err }())
	}
	grace.h.Leave()
	r.clock.Advance(meeting.DefaultIdleTimeout)
	if r.svc.LiveMeetings() != 0 {
		t.Fatal("the meeting stayed in memory after the wait ended")
	}
}
