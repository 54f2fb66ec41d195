package meeting_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/meeting/meetingtest"
	"github.com/parleyhq/parley/wire"
)

// takeoverStore is the memory store with the takeover state, chat history and audit log kept
// beside it, as Redis keeps them for a cluster (redisstore): two Services on it are two nodes of
// one cluster. Setting fail makes every write fail, as an unreachable Redis does.
type takeoverStore struct {
	meeting.Store
	mu    sync.Mutex
	saved map[string]meeting.Takeover
	chat  map[string][]wire.Chat
	audit map[string][]wire.AuditEntry
	fail  bool
	saves int // snapshots written
	// gate, when set, holds every write until it is closed: a slow store.
	gate chan struct{}
}

func (s *takeoverStore) wait() {
	s.mu.Lock()
	g := s.gate
	s.mu.Unlock()
	if g != nil {
		<-g
	}
}

var errDown = errors.New("store down")

func (s *takeoverStore) SaveTakeover(_ context.Context, id string, t meeting.Takeover) error {
	s.wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errDown
	}
	s.saved[id] = t
	s.saves++
	return nil
}

func (s *takeoverStore) LoadTakeover(_ context.Context, id string) (meeting.Takeover, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.saved[id]
	return t, ok, nil
}

func (s *takeoverStore) AppendHistory(_ context.Context, id string, chat []wire.Chat, audit []wire.AuditEntry, maxAudit int) error {
	s.wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errDown
	}
	s.chat[id] = append(s.chat[id], chat...)
	if n := len(s.chat[id]); n > meeting.ChatHistoryLength {
		s.chat[id] = s.chat[id][n-meeting.ChatHistoryLength:]
	}
	s.audit[id] = append(s.audit[id], audit...)
	if n := len(s.audit[id]); n > maxAudit {
		s.audit[id] = s.audit[id][n-maxAudit:]
	}
	return nil
}

func (s *takeoverStore) LoadHistory(_ context.Context, id string) ([]wire.Chat, []wire.AuditEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.chat[id]), slices.Clone(s.audit[id]), nil
}

func (s *takeoverStore) DropChat(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errDown
	}
	delete(s.chat, id)
	return nil
}

func (s *takeoverStore) setFail(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = on
}

func (s *takeoverStore) snapshot(id string) meeting.Takeover {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saved[id]
}

func newTakeoverStore() *takeoverStore {
	return &takeoverStore{Store: meeting.NewMemoryStore(), saved: map[string]meeting.Takeover{},
		chat: map[string][]wire.Chat{}, audit: map[string][]wire.AuditEntry{}}
}

// node is another Service on the same store and clock: the node that takes a meeting over.
func (e *env) node(opts ...func(*meeting.Config)) *env {
	n := newEnv(e.t, append(opts, func(c *meeting.Config) { c.Store, c.Clock = e.store, e.clock })...)
	n.clock = e.clock
	return n
}

func (e *env) joinAs(meetingID, name, hostKey, browser string) *conn {
	e.t.Helper()
	c := &conn{name: name, sink: meetingtest.NewSink(name, e.trace)}
	m, res, err := e.svc.Join(e.ctx, meeting.JoinRequest{MeetingID: meetingID, Name: name, HostKey: hostKey,
		Joiner: meeting.Joiner{BrowserID: browser}}, c.sink)
	if err != nil {
		e.t.Fatalf("Join(%q): %v", name, err)
	}
	c.m, c.res = m, res
	e.conns = append(e.conns, c)
	return c
}

func withTakeover(c *meeting.Config) { c.Store = newTakeoverStore() }

// A node that loads a meeting another node held takes over what the host decided there: each
// browser's host mute and permission, the running timer (it ends at its deadline, here), the
// lock of the record.
func TestTakeoverKeepsHostDecisions(t *testing.T) {
	a := newEnv(t, withTakeover)
	created := a.create("Ada")
	id := created.MeetingID
	host := a.joinAs(id, "Ada", created.HostKey, "browser-ada")
	grace := a.joinAs(id, "Grace", "", "browser-grace")
	linus := a.joinAs(id, "Linus", "", "browser-linus")
	do := func(r meeting.Request) {
		t.Helper()
		if err := host.m.Do(a.ctx, r); err != nil {
			t.Fatalf("%T: %v", r, err)
		}
	}
	do(meeting.MuteParticipant{ParticipantID: grace.id(), AllowSelfUnmute: false})
	do(meeting.MuteParticipant{ParticipantID: linus.id(), AllowSelfUnmute: true})
	a.clock.Advance(3 * time.Second)
	do(meeting.StartTimer{TimerID: "t30"})
	endsAt := a.clock.Now().Add(30 * time.Second)
	do(meeting.SetLocked{Locked: true})

	// Node a is gone (its sessions with it); node b takes the meeting over 10 s later.
	b := a.node()
	a.clock.Advance(10 * time.Second)
	host2 := b.joinAs(id, "Ada", created.HostKey, "browser-ada")
	if !host2.res.Meeting.Locked {
		t.Error("the lock was lost")
	}
	want := wire.TimerView{TimerID: "t30", Seconds: 30, EndsAt: endsAt.UnixMilli()}
	if host2.res.Timer == nil || *host2.res.Timer != want {
		t.Fatalf("timer after the takeover %+v, want %+v", host2.res.Timer, want)
	}
	if err := host2.m.Do(b.ctx, meeting.SetLocked{Locked: false}); err != nil {
		t.Fatal(err)
	}
	grace2 := b.joinAs(id, "Grace", "", "browser-grace")
	if s := grace2.res.Self; !s.MutedByHost || s.CanUnmute || !s.AudioMuted {
		t.Errorf("Grace after the takeover: %+v, want muted by the host without permission", s)
	}
	linus2 := b.joinAs(id, "Linus", "", "browser-linus")
	if s := linus2.res.Self; !s.MutedByHost || !s.CanUnmute {
		t.Errorf("Linus after the takeover: %+v, want muted by the host, allowed to unmute", s)
	}
	if s := b.joinAs(id, "Mary", "", "browser-mary").res.Self; s.MutedByHost {
		t.Errorf("a newcomer after the takeover: %+v, want not muted", s)
	}
	b.quiet()
	b.clock.Advance(endsAt.Sub(b.clock.Now()) - time.Millisecond)
	b.noEvents()
	b.clock.Advance(time.Millisecond)
	for _, c := range []*conn{host2, grace2, linus2} {
		wantEvents(t, c.name, c.sink.Take(), []wire.Event{wire.TimerEnded{TimerID: "t30"}})
	}
}

// The mute-all policy goes with the meeting: joiners on the node that took it over come in
// muted by the host, until the host allows everyone to unmute; a timer that ended meanwhile
// does not come back.
func TestTakeoverKeepsMuteAll(t *testing.T) {
	a := newEnv(t, withTakeover)
	created := a.create("Ada")
	id := created.MeetingID
	host := a.joinAs(id, "Ada", created.HostKey, "")
	a.joinAs(id, "Grace", "", "")
	if err := host.m.Do(a.ctx, meeting.StartTimer{TimerID: "t15"}); err != nil {
		t.Fatal(err)
	}
	if err := host.m.Do(a.ctx, meeting.MuteAll{AllowSelfUnmute: false}); err != nil {
		t.Fatal(err)
	}
	a.clock.Advance(20 * time.Second)

	b := a.node()
	host2 := b.joinAs(id, "Ada", created.HostKey, "")
	if host2.res.Timer != nil {
		t.Errorf("a timer past its deadline came back: %+v", host2.res.Timer)
	}
	if s := b.joinAs(id, "Linus", "", "").res.Self; !s.MutedByHost || s.CanUnmute {
		t.Errorf("a joiner after the takeover: %+v, want muted by the host (mute all)", s)
	}
	if err := host2.m.Do(b.ctx, meeting.AllowUnmute{}); err != nil {
		t.Fatal(err)
	}
	c := b.node()
	if s := c.joinAs(id, "Mary", "", "").res.Self; s.MutedByHost {
		t.Errorf("after allowUnmute, a joiner on a third node: %+v, want not muted", s)
	}
}
