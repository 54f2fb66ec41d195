package meeting_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/meeting/meetingtest"
	"github.com/parleyhq/parley/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestConcurrentMeetings runs several meetings at once, each with a host using its powers,
// participants toggling their mute state, others leaving, rejoining and being kicked, readers
// polling, and the clock moving, all concurrently (run it with -race). Then it checks that every
// member who stayed saw the same events in the same order, that no member heard anything after
// a terminal event, and that the final state, the last events and the media gates agree.
func TestConcurrentMeetings(t *testing.T) {
	const (
		meetings = 4
		stayers  = 6
		churners = 4
		rounds   = 60
	)
	e := newEnv(t)
	var wg sync.WaitGroup
	type churnLog struct {
		mu    sync.Mutex
		conns []*conn
	}
	type world struct {
		r     *room
		churn *churnLog
	}
	worlds := make([]world, meetings)
	for i := range worlds {
		worlds[i] = world{r: e.room(stayers + churners), churn: &churnLog{}}
	}
	e.quiet()

	joinRetry := func(r *room, name string) *conn {
		for {
			c := &conn{name: name, sink: meetingtest.NewSink(name, nil)}
			m, res, err := e.svc.Join(context.Background(), meeting.JoinRequest{MeetingID: r.id(), Name: name}, c.sink)
			if err == nil {
				c.m, c.res = m, res
				return c
			}
			if code := meeting.CodeOf(err); code != wire.CodeMeetingLocked && code != wire.CodeMeetingFull {
				t.Errorf("rejoin %s: %v", name, err)
				return nil
			}
		}
	}
	allowed := func(err error, codes ...wire.Code) {
		if err == nil {
			return
		}
		for _, c := range codes {
			if meeting.CodeOf(err) == c {
				return
			}
		}
		t.Errorf("unexpected error: %v", err)
	}

	for wi, w := range worlds {
		r := w.r
		ctx := context.Background()
		wg.Add(1)
		go func() { // the host
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(wi), 1))
			for range rounds {
				var req meeting.Request
				switch rng.IntN(7) {
				case 0:
					req = meeting.MuteAll{AllowSelfUnmute: rng.IntN(2) == 0}
				case 1:
					req = meeting.AllowUnmute{}
				case 2:
					req = meeting.MuteParticipant{ParticipantID: r.ps[rng.IntN(stayers)].id(), AllowSelfUnmute: rng.IntN(2) == 0}
				case 3:
					req = meeting.StartTimer{TimerID: []string{"t15", "t30", "t45"}[rng.IntN(3)]}
				case 4:
					req = meeting.CancelTimer{}
				case 5:
					req = meeting.SetLocked{Locked: rng.IntN(3) == 0}
				case 6:
					w.churn.mu.Lock()
					var target string
					if n := len(w.churn.conns); n > 0 {
						target = w.churn.conns[rng.IntN(n)].id()
					}
					w.churn.mu.Unlock()
					if target == "" {
						continue
					}
					allowed(r.host.m.Do(ctx, meeting.Kick{ParticipantID: target}), wire.CodeNotFound)
					continue
				}
				allowed(r.host.m.Do(ctx, req))
			}
			// A churner retries its join while the meeting is locked: leave it open at the end, or a
			// host that happened to lock it last would keep that churner waiting for ever.
			allowed(r.host.m.Do(ctx, meeting.SetLocked{Locked: false}))
		}()
		for si := range stayers {
			p := r.ps[si]
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(wi), uint64(si+10)))
				for range rounds {
					kind := []wire.Kind{wire.KindAudio, wire.KindVideo}[rng.IntN(2)]
					allowed(p.m.Do(ctx, meeting.SetMuted{Kind: kind, Muted: rng.IntN(2) == 0}), wire.CodeForbidden)
				}
			}()
		}
		for ci := range churners {
			first := r.ps[stayers+ci]
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(wi), uint64(ci+100)))
				c := first
				w.churn.mu.Lock()
				w.churn.conns = append(w.churn.conns, c)
				w.churn.mu.Unlock()
				for i := range rounds / 3 {
					allowed(c.m.Do(ctx, meeting.SetMuted{Kind: wire.KindVideo, Muted: rng.IntN(2) == 0}), wire.CodeNotFound)
					if rng.IntN(2) == 0 {
						c.m.Leave()
					} else {
						c.m.Disconnect()
					}
					c = joinRetry(r, fmt.Sprintf("C%d-%d", ci, i))
					if c == nil {
						return
					}
					w.churn.mu.Lock()
					w.churn.conns = append(w.churn.conns, c)
					w.churn.mu.Unlock()
				}
			}()
		}
		wg.Add(1)
		go func() { // readers
			defer wg.Done()
			for range rounds {
				if _, err := e.svc.Info(ctx, r.id()); err != nil {
					t.Errorf("info: %v", err)
				}
				if s, ok := e.svc.Snapshot(r.id()); ok {
					for _, p := range s.Participants {
						checkInvariants(t, p)
					}
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // time moves, so timers fire amid everything else
		defer wg.Done()
		for range rounds {
			e.clock.Advance(time.Second)
		}
	}()
	wg.Wait()

	for _, w := range worlds {
		r := w.r
		// Everyone who stayed saw one order of the meeting's broadcast events.
		witnesses := append([]*conn{r.host}, r.ps[:stayers]...)
		var ref []wire.Event
		for i, c := range witnesses {
			seq := broadcastOnly(c.sink.Events())
			if i == 0 {
				ref = seq
				continue
			}
			if !reflect.DeepEqual(seq, ref) {
				t.Fatalf("%s saw a different order of events than the host (%d vs %d events)", c.name, len(seq), len(ref))
			}
		}
		if len(ref) == 0 {
			t.Fatal("no events at all: the test did nothing")
		}
		// Nothing after a terminal event.
		w.churn.mu.Lock()
		for _, c := range w.churn.conns {
			evs := c.sink.Events()
			for i, ev := range evs {
				if meeting.Terminal(ev) && i != len(evs)-1 {
					t.Errorf("%s got %s after %s", c.name, fmtEvents(evs[i+1:]), ev.EventType())
				}
			}
		}
		w.churn.mu.Unlock()
		// The final state is the last one the host was told of, and the gates follow it.
		snap := r.snapshot()
		last := lastKnown(r.host.sink.Events())
		for _, p := range snap.Participants {
			checkInvariants(t, p)
			if p.ID == r.host.id() {
				continue
			}
			if got, ok := last[p.ID]; !ok || got != p {
				t.Errorf("host's last word on %s is %+v, state is %+v", p.Name, got, p)
			}
			if fwd, _ := e.media.Forwarding(r.id(), p.ID, wire.SourceMicrophone); fwd == p.AudioMuted {
				t.Errorf("%s: audio gate forward=%t with audioMuted=%t", p.Name, fwd, p.AudioMuted)
			}
			if fwd, _ := e.media.Forwarding(r.id(), p.ID, wire.SourceCamera); fwd == p.VideoMuted {
				t.Errorf("%s: video gate forward=%t with videoMuted=%t", p.Name, fwd, p.VideoMuted)
			}
		}
		if info, _ := e.svc.Info(context.Background(), r.id()); info.ParticipantCount != len(snap.Participants) {
			t.Errorf("participantCount %d, snapshot has %d", info.ParticipantCount, len(snap.Participants))
		}
	}
	for _, w := range worlds {
		w.r.do(w.r.host, meeting.EndMeeting{})
	}
	// What is left to run is each meeting's audit log release, a day later.
	if e.svc.LiveMeetings() != 0 || e.clock.Pending() != len(worlds) {
		t.Errorf("after ending all: %d live meetings, %d timers", e.svc.LiveMeetings(), e.clock.Pending())
	}
}

// broadcastOnly drops the events sent to one participant only.
func broadcastOnly(evs []wire.Event) []wire.Event {
	var out []wire.Event
	for _, ev := range evs {
		switch ev.(type) {
		case wire.MutedByHost, wire.UnmuteAllowed:
			continue
		}
		out = append(out, ev)
	}
	return out
}

// lastKnown returns, per participant, the last state an event stream carried.
func lastKnown(evs []wire.Event) map[string]wire.Participant {
	last := make(map[string]wire.Participant)
	for _, ev := range evs {
		switch ev := ev.(type) {
		case wire.ParticipantJoined:
			last[ev.Participant.ID] = ev.Participant
		case wire.ParticipantUpdated:
			last[ev.Participant.ID] = ev.Participant
		case wire.ParticipantLeft:
			delete(last, ev.ParticipantID)
		}
	}
	return last
}

// TestConcurrentHostReplacement races host rejoins (each replacing the last) with host
// requests and participant requests; exactly one host connection survives.
func TestConcurrentHostReplacement(t *testing.T) {
	e := newEnv(t)
	r := e.room(3)
	var mu sync.Mutex
	hosts := []*conn{r.host}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				c := &conn{name: fmt.Sprintf("H%d-%d", g, i), sink: meetingtest.NewSink("h", nil)}
				m, _, err := e.svc.Join(context.Background(), meeting.JoinRequest{MeetingID: r.id(), Name: c.name, HostKey: r.created.HostKey}, c.sink)
				if err != nil {
					t.Errorf("host rejoin: %v", err)
					return
				}
				c.m = m
				mu.Lock()
				hosts = append(hosts, c)
				mu.Unlock()
				if err := m.Do(context.Background(), meeting.MuteAll{AllowSelfUnmute: true}); err != nil && meeting.CodeOf(err) != wire.CodeNotFound {
					t.Errorf("muteAll: %v", err)
				}
			}
		}()
	}
	for _, p := range r.ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				_ = p.m.Do(context.Background(), meeting.SetMuted{Kind: wire.KindAudio, Muted: i%2 == 0})
			}
		}()
	}
	wg.Wait()
	alive := 0
	for _, h := range hosts {
		if h.m.ParticipantID() != r.host.id() {
			t.Fatalf("a host connection got id %s, want %s", h.m.ParticipantID(), r.host.id())
		}
		types := h.sink.Types()
		replaced := len(types) > 0 && types[len(types)-1] == "replaced"
		for i, ty := range types {
			if ty == "replaced" && i != len(types)-1 {
				t.Fatalf("events after replaced: %v", types[i:])
			}
		}
		if !replaced {
			alive++
		}
	}
	if alive != 1 {
		t.Fatalf("%d host connections alive, want exactly 1", alive)
	}
	if n := len(r.snapshot().Participants); n != 4 {
		t.Fatalf("%d participants, want 4", n)
	}
}

// TestSystemClockTimer runs a meeting on the real clock: the timer's goroutine-backed callback is
// stopped by endMeeting, and goleak (TestMain) checks nothing is left running.
func TestSystemClockTimer(t *testing.T) {
	svc := meeting.NewService(meeting.Config{})
	ctx := context.Background()
	c, err := svc.Create(ctx, "Host")
	if err != nil {
		t.Fatal(err)
	}
	sink := meetingtest.NewSink("host", nil)
	h, _, err := svc.Join(ctx, meeting.JoinRequest{MeetingID: c.MeetingID, Name: "Host", HostKey: c.HostKey}, sink)
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if err := h.Do(ctx, meeting.StartTimer{TimerID: "t15"}); err != nil {
		t.Fatal(err)
	}
	ev, ok := sink.Events()[0].(wire.TimerStarted)
	if !ok {
		t.Fatalf("events %v", sink.Types())
	}
	if endsAt := time.UnixMilli(ev.EndsAt); endsAt.Before(before.Add(15*time.Second).Truncate(time.Millisecond)) || endsAt.After(time.Now().Add(15*time.Second)) {
		t.Errorf("endsAt %v is not 15 s from now", endsAt)
	}
	if err := h.Do(ctx, meeting.MuteAll{}); err != nil { // no Media configured: no effect, no crash
		t.Fatal(err)
	}
	if err := h.Do(ctx, meeting.EndMeeting{}); err != nil {
		t.Fatal(err)
	}

	fired := make(chan struct{})
	meeting.SystemClock().AfterFunc(time.Millisecond, func() { close(fired) })
	select {
	case <-fired:
	case <-time.After(10 * time.Second):
		t.Fatal("SystemClock().AfterFunc did not fire")
	}
	s := meeting.SystemClock().AfterFunc(time.Hour, func() { t.Error("a stopped timer fired") })
	if !s.Stop() {
		t.Error("Stop of a pending real timer returned false")
	}
}

// TestJoinRacesIdleRelease joins an empty meeting at the moment its idle release fires: in
// either order the join succeeds into the one live copy of the meeting, with its record intact.
func TestJoinRacesIdleRelease(t *testing.T) {
	e := newEnv(t, func(c *meeting.Config) { c.IdleTimeout = time.Second })
	r := e.room(0)
	r.do(r.host, meeting.SetLocked{Locked: true})
	r.host.m.Leave()
	for i := range 200 {
		var wg sync.WaitGroup
		var joined *conn
		wg.Add(2)
		go func() { defer wg.Done(); e.clock.Advance(time.Second) }()
		go func() {
			defer wg.Done()
			c := &conn{name: "Host", sink: meetingtest.NewSink("host", nil)}
			m, _, err := e.svc.Join(context.Background(), meeting.JoinRequest{MeetingID: r.id(), Name: "Host", HostKey: r.created.HostKey}, c.sink)
			if err != nil {
				t.Errorf("round %d: join: %v", i, err)
				return
			}
			c.m = m
			joined = c
		}()
		wg.Wait()
		if joined == nil {
			t.FailNow()
		}
		s, ok := e.svc.Snapshot(r.id())
		if !ok || len(s.Participants) != 1 || s.Participants[0].ID != joined.m.ParticipantID() || !s.Meeting.Locked {
			t.Fatalf("round %d: snapshot %+v (live %t)", i, s, ok)
		}
		if n := e.svc.LiveMeetings(); n != 1 {
			t.Fatalf("round %d: %d live copies", i, n)
		}
		// The release frees the media before a new copy can be joined, never the new copy's.
		if _, known := e.media.Forwarding(r.id(), joined.m.ParticipantID(), wire.SourceMicrophone); !known {
			t.Fatalf("round %d: the joiner's gate was freed by the release it raced", i)
		}
		joined.m.Leave()
	}
}
