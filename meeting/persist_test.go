package meeting_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/meeting/meetingtest"
	"github.com/parleyhq/parley/wire"
)

// flush waits for e's writes of takeover state to land.
func (e *env) flush() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
	defer cancel()
	if err := e.svc.Flush(ctx); err != nil {
		e.t.Fatalf("Flush: %v", err)
	}
}

// actionsOf is the action of each entry, in order.
func actionsOf(log []wire.AuditEntry) []string {
	var actions []string
	for _, en := range log {
		actions = append(actions, en.Action)
	}
	return actions
}

func hasCall(calls []meetingtest.MediaCall, want meetingtest.MediaCall) bool {
	return slices.ContainsFunc(calls, func(c meetingtest.MediaCall) bool { return reflect.DeepEqual(c, want) })
}

func seatOf(t meeting.Takeover, pid string) (meeting.SavedSeat, bool) {
	for _, s := range t.Seats {
		if s.Participant.ID == pid {
			return s, true
		}
	}
	return meeting.SavedSeat{}, false
}

// The takeover state follows the roster, written behind the meeting: every seat with its
// participant state, browser id and token hash, in join order; a participant's own unmute (the
// host allowed it), a hand, a resume and a leave each show in it, and the host's id.
func TestTakeoverSnapshotFollowsTheRoster(t *testing.T) {
	e := newEnv(t, withTakeover, withGrace)
	store := e.store.(*takeoverStore)
	created := e.create("Ada")
	id := created.MeetingID
	host := e.joinAs(id, "Ada", created.HostKey, "browser-ada")
	linus := e.joinAs(id, "Linus", "", "browser-linus")
	bob := e.joinAs(id, "Bob", "", "")
	if err := host.m.Do(e.ctx, meeting.MuteParticipant{ParticipantID: linus.id(), AllowSelfUnmute: true}); err != nil {
		t.Fatal(err)
	}
	// The host's request is written before its answer: no flush needed.
	if s, ok := seatOf(store.snapshot(id), linus.id()); !ok || !s.Participant.MutedByHost || !s.Participant.CanUnmute {
		t.Fatalf("after the host's mute, Linus's saved seat is %+v (%v), want muted by the host, allowed to unmute", s, ok)
	}
	if err := linus.m.Do(e.ctx, meeting.SetMuted{Kind: wire.KindAudio, Muted: false}); err != nil {
		t.Fatal(err)
	}
	if err := linus.m.Do(e.ctx, meeting.SetHandRaised{Raised: true}); err != nil {
		t.Fatal(err)
	}
	bob.m.Leave()
	e.flush()

	snap := store.snapshot(id)
	if snap.HostID != host.id() {
		t.Errorf("saved host id %q, want %q", snap.HostID, host.id())
	}
	var ids []string
	for _, s := range snap.Seats {
		ids = append(ids, s.Participant.ID)
	}
	if want := []string{host.id(), linus.id()}; !slices.Equal(ids, want) {
		t.Fatalf("saved seats %v, want %v (Bob left)", ids, want)
	}
	ls, _ := seatOf(snap, linus.id())
	want := e.svcParticipant(id, linus.id())
	if ls.Participant != want || ls.BrowserID != "browser-linus" || ls.Participant.AudioMuted || !ls.Participant.HandRaised {
		t.Fatalf("Linus saved as %+v, want %+v (his own unmute, his hand), browser-linus", ls, want)
	}
	hs, _ := seatOf(snap, host.id())
	if hs.TokenHash == ([32]byte{}) || hs.Participant.Role != wire.RoleHost {
		t.Fatalf("the host saved as %+v: want the host role and a token hash", hs)
	}

	// A resume gives a fresh token: the saved hash follows it.
	if !linus.m.Disconnect() {
		t.Fatal("Disconnect with a grace: want the seat to live on")
	}
	e.flush()
	before, _ := seatOf(store.snapshot(id), linus.id())
	if !before.Participant.Reconnecting {
		t.Fatalf("Linus while reconnecting saved as %+v", before.Participant)
	}
	if _, err := e.resume(id, linus.res.ResumeToken, "Linus"); err != nil {
		t.Fatal(err)
	}
	e.flush()
	after, _ := seatOf(store.snapshot(id), linus.id())
	if after.TokenHash == before.TokenHash || after.Participant.Reconnecting {
		t.Fatalf("after the resume Linus is saved as %+v: want a new token hash, not reconnecting", after)
	}
}

// svcParticipant is a participant's state as the meeting holds it.
func (e *env) svcParticipant(meetingID, pid string) wire.Participant {
	e.t.Helper()
	snap, ok := e.svc.Snapshot(meetingID)
	if !ok {
		e.t.Fatalf("meeting %s is not live", meetingID)
	}
	for _, p := range snap.Participants {
		if p.ID == pid {
			return p
		}
	}
	e.t.Fatalf("no participant %s", pid)
	return wire.Participant{}
}

// A node that takes a meeting over seats its participants reconnecting, for the resume grace:
// each resumes with its token as the same participant, with its name, role, host mute, its own
// permitted unmute and its hand (and the gates that go with them); the host's token gives the
// host back its role; chat history and the audit log go on from before; a seat nobody resumes
// leaves after the grace as a disconnect.
func TestResumeAfterTakeover(t *testing.T) {
	a := newEnv(t, withTakeover, withGrace)
	created := a.create("Ada")
	id := created.MeetingID
	host := a.joinAs(id, "Ada", created.HostKey, "browser-ada")
	gr := a.joinAs(id, "Grace", "", "browser-grace")
	linus := a.joinAs(id, "Linus", "", "")
	bob := a.joinAs(id, "Bob", "", "browser-bob")
	do := func(c *conn, r meeting.Request) {
		t.Helper()
		if err := c.m.Do(a.ctx, r); err != nil {
			t.Fatalf("%s: %T: %v", c.name, r, err)
		}
	}
	do(host, meeting.MuteParticipant{ParticipantID: gr.id(), AllowSelfUnmute: false})
	do(host, meeting.MuteParticipant{ParticipantID: linus.id(), AllowSelfUnmute: true})
	do(linus, meeting.SetMuted{Kind: wire.KindAudio, Muted: false})
	do(linus, meeting.SetHandRaised{Raised: true})
	do(host, meeting.SendChat{Text: "welcome"})
	do(linus, meeting.SendChat{Text: "thanks"})
	do(linus, meeting.SendChat{Text: "psst", To: host.id()})
	linusBefore := a.svcParticipant(id, linus.id())
	a.flush()

	// Node a dies with its connections; node b takes the meeting over 5 s later.
	b := a.node(withGrace)
	a.clock.Advance(5 * time.Second)
	l2, err := b.resume(id, linus.res.ResumeToken, "Linus")
	if err != nil {
		t.Fatalf("Linus's resume on the node that took over: %v", err)
	}
	if !l2.res.Resumed || l2.id() != linus.id() || l2.res.Self != linusBefore {
		t.Fatalf("Linus resumed as %+v (resumed %v), want %+v", l2.res.Self, l2.res.Resumed, linusBefore)
	}
	if calls := b.media.Take(); !hasCall(calls, gate(id, linus.id(), wire.KindAudio, true)) {
		t.Errorf("Linus's microphone gate was not opened on resume: %v", calls)
	}
	for _, p := range l2.res.Participants {
		if !p.Reconnecting {
			t.Errorf("%s is not reconnecting before resuming: %+v", p.Name, p)
		}
	}
	var texts []string
	for _, m := range l2.res.Chat {
		texts = append(texts, m.Text)
	}
	if want := []string{"welcome", "thanks"}; !slices.Equal(texts, want) {
		t.Errorf("chat history after the takeover %v, want %v", texts, want)
	}

	g2, err := b.resume(id, gr.res.ResumeToken, "Grace")
	if err != nil {
		t.Fatalf("Grace's resume: %v", err)
	}
	if s := g2.res.Self; s.ID != gr.id() || !s.MutedByHost || s.CanUnmute || !s.AudioMuted || s.Name != "Grace" {
		t.Errorf("Grace resumed as %+v: want herself, muted by the host without permission", s)
	}
	if calls := b.media.Take(); !hasCall(calls, gate(id, gr.id(), wire.KindAudio, false)) {
		t.Errorf("Grace's microphone gate was not kept closed on resume: %v", calls)
	}
	if err := g2.m.Do(b.ctx, meeting.SetMuted{Kind: wire.KindAudio, Muted: false}); meeting.CodeOf(err) != wire.CodeForbidden {
		t.Errorf("Grace unmuting herself after the takeover: %v, want forbidden", err)
	}

	h2, err := b.resume(id, host.res.ResumeToken, "Ada")
	if err != nil {
		t.Fatalf("the host's resume: %v", err)
	}
	if h2.id() != host.id() || h2.m.Role() != wire.RoleHost || h2.res.Self.Role != wire.RoleHost {
		t.Fatalf("the host resumed as %+v, role %s", h2.res.Self, h2.m.Role())
	}
	if err := h2.m.Do(b.ctx, meeting.LowerHand{ParticipantID: linus.id()}); err != nil {
		t.Errorf("the resumed host lowering a hand: %v", err)
	}
	if err := l2.m.Do(b.ctx, meeting.SendChat{Text: "after"}); err != nil {
		t.Fatal(err)
	}
	msgs := h2.sink.Take()
	var last wire.Chat
	for _, ev := range msgs {
		if c, ok := ev.(wire.Chat); ok {
			last = c
		}
	}
	if last.Text != "after" || last.MessageID != "4" {
		t.Errorf("the first message after the takeover is %+v, want id 4 (ids go on after the private one)", last)
	}

	// A used token is good once: the old node's tokens are spent.
	if _, err := b.resume(id, linus.res.ResumeToken, "Linus"); meeting.CodeOf(err) != wire.CodeForbidden {
		t.Errorf("a second resume with the same token: %v, want forbidden", err)
	}

	// The audit log goes on from the earlier entries.
	log, err := b.svc.Audit(b.ctx, id, created.HostKey)
	if err != nil {
		t.Fatal(err)
	}
	actions := actionsOf(log)
	if len(actions) < 7 || actions[0] != wire.AuditJoin || !slices.Contains(actions, string(wire.TypeMuteParticipant)) ||
		actions[len(actions)-1] != string(wire.TypeLowerHand) {
		t.Errorf("audit log after the takeover: %v, want the joins and mutes from before, then lowerHand", actions)
	}

	// Bob never comes back: his seat leaves after the grace, as a disconnect.
	b.quiet()
	b.clock.Advance(grace - 5*time.Second - time.Millisecond)
	if evs := h2.sink.Take(); len(evs) != 0 {
		t.Fatalf("before the grace ended the host got %v", fmtEvents(evs))
	}
	b.clock.Advance(5*time.Second + time.Millisecond)
	wantEvents(t, "host", h2.sink.Take(), []wire.Event{wire.ParticipantLeft{ParticipantID: bob.id(), Reason: wire.ReasonDisconnected}})
	if _, err := b.resume(id, bob.res.ResumeToken, "Bob"); meeting.CodeOf(err) != wire.CodeForbidden {
		t.Errorf("Bob's resume after the grace: %v, want forbidden", err)
	}
	// Bob's browser comes back fresh: no host decision about it, a newcomer.
	if s := b.joinAs(id, "Bob", "", "browser-bob").res.Self; s.MutedByHost || s.ID == bob.id() {
		t.Errorf("Bob joining fresh: %+v", s)
	}
}

// The host joining with the hostKey after a takeover takes its saved seat back (the same
// participantId), as on one node.
func TestHostKeyAfterTakeover(t *testing.T) {
	a := newEnv(t, withTakeover, withGrace)
	created := a.create("Ada")
	id := created.MeetingID
	host := a.joinAs(id, "Ada", created.HostKey, "")
	a.joinAs(id, "Grace", "", "")
	a.flush()
	b := a.node(withGrace)
	h2 := b.joinAs(id, "Ada", created.HostKey, "")
	if h2.id() != host.id() || h2.res.Self.Role != wire.RoleHost || h2.res.Self.Reconnecting {
		t.Fatalf("the host after the takeover: %+v, want %s, host, connected", h2.res.Self, host.id())
	}
	if len(h2.res.Participants) != 1 || !h2.res.Participants[0].Reconnecting {
		t.Fatalf("participants after the takeover: %+v, want Grace reconnecting", h2.res.Participants)
	}
}

// A failing store neither fails nor stalls the meeting: the host's requests are answered, the
// failure counted; once the store is back, the newest state is written (on the retry timer, or
// the next change), the history appended in order.
func TestSaveFailureDoesNotStopTheMeeting(t *testing.T) {
	e := newEnv(t, withTakeover, withGrace)
	store := e.store.(*takeoverStore)
	created := e.create("Ada")
	id := created.MeetingID
	host := e.joinAs(id, "Ada", created.HostKey, "")
	e.flush()
	store.setFail(true)
	grace := e.joinAs(id, "Grace", "", "")
	e.flush()
	start := time.Now()
	if err := host.m.Do(e.ctx, meeting.MuteParticipant{ParticipantID: grace.id()}); err != nil {
		t.Fatalf("a host request with the store down: %v", err)
	}
	if err := host.m.Do(e.ctx, meeting.SendChat{Text: "still here"}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 400*time.Millisecond {
		t.Errorf("requests with the store down took %v: the meeting waited for it", d)
	}
	e.flush()
	if n := e.svc.Stats().StateSaveFailures; n == 0 {
		t.Error("no failed write counted")
	}
	if _, ok := seatOf(store.snapshot(id), grace.id()); ok {
		t.Fatal("the store that was down holds Grace")
	}

	store.setFail(false)
	e.clock.Advance(2 * time.Second) // the retry
	e.flush()
	s, ok := seatOf(store.snapshot(id), grace.id())
	if !ok || !s.Participant.MutedByHost {
		t.Fatalf("after the store came back Grace is saved as %+v (%v), want muted by the host", s, ok)
	}
	chat, audit, _ := store.LoadHistory(e.ctx, id)
	if len(chat) != 1 || chat[0].Text != "still here" {
		t.Errorf("chat after the store came back: %+v", chat)
	}
	actions := actionsOf(audit)
	if want := []string{wire.AuditJoin, wire.AuditJoin, string(wire.TypeMuteParticipant)}; !slices.Equal(actions, want) {
		t.Errorf("audit after the store came back: %v, want %v", actions, want)
	}
}

// A slow store holds no participant up: their requests are answered while a write hangs, and
// their changes coalesce behind it; Flush (a node shutting down) waits until the newest state
// has been written.
func TestSlowStoreAndFlush(t *testing.T) {
	e := newEnv(t, withTakeover, withGrace)
	store := e.store.(*takeoverStore)
	created := e.create("Ada")
	id := created.MeetingID
	e.joinAs(id, "Ada", created.HostKey, "")
	grace := e.joinAs(id, "Grace", "", "")
	e.flush()
	gate := make(chan struct{})
	store.mu.Lock()
	store.gate, store.saves = gate, 0
	store.mu.Unlock()

	for i := range 10 {
		if err := grace.m.Do(e.ctx, meeting.SetHandRaised{Raised: i%2 == 0}); err != nil {
			t.Fatal(err)
		}
	}
	linus := e.joinAs(id, "Linus", "", "")
	if err := linus.m.Do(e.ctx, meeting.SendChat{Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	flushed := make(chan error, 1)
	ctx, cancel := context.WithTimeout(e.ctx, await.Limit) // a Flush that never returns fails the test
	defer cancel()
	go func() { flushed <- e.svc.Flush(ctx) }()
	select {
	case err := <-flushed:
		t.Fatalf("Flush returned (%v) while the store held every write", err)
	default:
	}
	close(gate)
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	snap := store.snapshot(id)
	g, _ := seatOf(snap, grace.id())
	if _, ok := seatOf(snap, linus.id()); !ok || g.Participant.HandRaised {
		t.Fatalf("after Flush the store holds %+v: want Linus in, Grace's hand down (the last change)", snap.Seats)
	}
	store.mu.Lock()
	saves := store.saves
	store.mu.Unlock()
	if saves > 3 {
		t.Errorf("%d snapshots written for 12 changes behind one slow write: want them coalesced", saves)
	}
	if chat, _, _ := store.LoadHistory(e.ctx, id); len(chat) != 1 {
		t.Errorf("chat after Flush: %+v", chat)
	}
}

// A meeting that leaves memory (idle) takes its chat history with it, as on one node; its
// audit log stays.
func TestReleaseDropsChat(t *testing.T) {
	e := newEnv(t, withTakeover)
	store := e.store.(*takeoverStore)
	created := e.create("Ada")
	id := created.MeetingID
	host := e.joinAs(id, "Ada", created.HostKey, "")
	if err := host.m.Do(e.ctx, meeting.SendChat{Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	host.m.Leave()
	e.clock.Advance(meeting.DefaultIdleTimeout)
	e.flush()
	if e.svc.LiveMeetings() != 0 {
		t.Fatal("the idle meeting is still live")
	}
	chat, audit, _ := store.LoadHistory(e.ctx, id)
	if len(chat) != 0 || len(audit) != 2 {
		t.Fatalf("after the release: chat %+v, %d audit entries; want no chat, the join and the leave", chat, len(audit))
	}
	if s := e.joinAs(id, "Ada", created.HostKey, "").res; len(s.Chat) != 0 {
		t.Fatalf("the meeting loaded anew has chat %+v", s.Chat)
	}
}

// BenchmarkHandWithTakeoverStore is a hand going up and down in a meeting whose store keeps
// the takeover state: each change hands the saver a snapshot of the roster under the meeting's
// lock (the writes themselves coalesce behind it); beside the same without such a store.
func BenchmarkHandWithTakeoverStore(b *testing.B) {
	for _, n := range []int{100, 500} {
		for _, kept := range []bool{false, true} {
			b.Run(fmt.Sprintf("participants=%d/takeover=%v", n, kept), func(b *testing.B) {
				cfg := meeting.Config{Clock: meetingtest.NewClock(t0), MaxParticipants: n + 10}
				if kept {
					cfg.Store = newTakeoverStore()
				}
				svc := meeting.NewService(cfg)
				ctx := context.Background()
				c, err := svc.Create(ctx, "Host")
				if err != nil {
					b.Fatal(err)
				}
				var p *meeting.Member
				for i := range n {
					if p, _, err = svc.Join(ctx, meeting.JoinRequest{MeetingID: c.MeetingID, Name: fmt.Sprintf("P%d", i),
						Joiner: meeting.Joiner{BrowserID: fmt.Sprintf("b%d", i)}}, discard{}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if err := p.Do(ctx, meeting.SetHandRaised{Raised: i&1 == 0}); err != nil {
						b.Fatal(err)
					}
					i++
				}
				b.StopTimer()
				_ = svc.Flush(ctx)
			})
		}
	}
}
