package meeting_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/meeting/meetingtest"
	"github.com/parleyhq/parley/wire"
)

var t0 = time.Date(2025, 11, 27, 10, 0, 0, 0, time.UTC)

// env is one Service with a fake clock, a recording Media and one Trace shared by everything.
type env struct {
	t     testing.TB
	ctx   context.Context
	svc   *meeting.Service
	clock *meetingtest.Clock
	media *meetingtest.Media
	trace *meetingtest.Trace
	store meeting.Store
	conns []*conn
}

// conn is one joined connection and what it has been told.
type conn struct {
	name string
	m    *meeting.Member
	sink *meetingtest.Sink
	res  meeting.JoinResult
}

func (c *conn) id() string { return c.m.ParticipantID() }

func newEnv(t testing.TB, opts ...func(*meeting.Config)) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), clock: meetingtest.NewClock(t0), trace: &meetingtest.Trace{}, store: meeting.NewMemoryStore()}
	e.media = meetingtest.NewMedia(e.trace)
	cfg := meeting.Config{Clock: e.clock, Media: e.media, Store: e.store}
	for _, o := range opts {
		o(&cfg)
	}
	e.store = cfg.Store
	e.svc = meeting.NewService(cfg)
	return e
}

func maxParticipants(n int) func(*meeting.Config) {
	return func(c *meeting.Config) { c.MaxParticipants = n }
}

func (e *env) create(hostName string) meeting.Created {
	e.t.Helper()
	c, err := e.svc.Create(e.ctx, hostName)
	if err != nil {
		e.t.Fatalf("Create(%q): %v", hostName, err)
	}
	return c
}

func (e *env) tryJoin(meetingID, name, hostKey string) (*conn, error) {
	c := &conn{name: name, sink: meetingtest.NewSink(name, e.trace)}
	m, res, err := e.svc.Join(e.ctx, meeting.JoinRequest{MeetingID: meetingID, Name: name, HostKey: hostKey}, c.sink)
	if err != nil {
		if m != nil {
			e.t.Fatalf("Join(%q) returned a member with error %v", name, err)
		}
		return nil, err
	}
	c.m, c.res = m, res
	e.conns = append(e.conns, c)
	return c, nil
}

func (e *env) join(meetingID, name, hostKey string) *conn {
	e.t.Helper()
	c, err := e.tryJoin(meetingID, name, hostKey)
	if err != nil {
		e.t.Fatalf("Join(%q): %v", name, err)
	}
	return c
}

// quiet forgets every recorded event, media call and trace entry so far.
func (e *env) quiet() {
	for _, c := range e.conns {
		c.sink.Take()
	}
	e.media.Take()
	e.trace.Reset()
}

// room is an open meeting with its host and n participants joined, recorders quiet.
type room struct {
	*env
	created meeting.Created
	host    *conn
	ps      []*conn
}

func (e *env) room(n int) *room {
	e.t.Helper()
	r := &room{env: e, created: e.create("Host")}
	r.host = e.join(r.created.MeetingID, "Host", r.created.HostKey)
	for i := range n {
		r.ps = append(r.ps, e.join(r.created.MeetingID, fmt.Sprintf("P%d", i+1), ""))
	}
	e.quiet()
	return r
}

func (r *room) id() string { return r.created.MeetingID }

// everyone returns the host and the participants still in the room.
func (r *room) everyone() []*conn { return append([]*conn{r.host}, r.ps...) }

func (r *room) snapshot() meeting.Snapshot {
	r.t.Helper()
	s, ok := r.svc.Snapshot(r.id())
	if !ok {
		r.t.Fatalf("meeting %s is not live", r.id())
	}
	return s
}

// participant returns the participant's current state from the meeting's snapshot.
func (r *room) participant(pid string) wire.Participant {
	r.t.Helper()
	for _, p := range r.snapshot().Participants {
		if p.ID == pid {
			return p
		}
	}
	r.t.Fatalf("participant %s is not in the meeting", pid)
	return wire.Participant{}
}

func (r *room) do(c *conn, req meeting.Request) {
	r.t.Helper()
	if err := c.m.Do(r.ctx, req); err != nil {
		r.t.Fatalf("%s: Do(%T%+v): %v", c.name, req, req, err)
	}
}

func (r *room) record() meeting.Record {
	r.t.Helper()
	rec, err := r.store.Get(r.ctx, r.id())
	if err != nil {
		r.t.Fatalf("store.Get: %v", err)
	}
	return rec
}

func wantCode(t testing.TB, err error, want wire.Code) {
	t.Helper()
	if got := meeting.CodeOf(err); got != want {
		t.Fatalf("error code = %q (err %v), want %q", got, err, want)
	}
	if err != nil {
		var me *meeting.Error
		if !errors.As(err, &me) || me.Message == "" {
			t.Fatalf("error %v has no user-facing message", err)
		}
	}
}

func wantEvents(t testing.TB, who string, got, want []wire.Event) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s got events\n  %s\nwant\n  %s", who, fmtEvents(got), fmtEvents(want))
	}
}

func fmtEvents(evs []wire.Event) string {
	s := make([]string, len(evs))
	for i, ev := range evs {
		s[i] = fmt.Sprintf("%s%+v", ev.EventType(), ev)
	}
	return fmt.Sprint(s)
}

func wantCalls(t testing.TB, got, want []meetingtest.MediaCall) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("media calls\n  %v\nwant\n  %v", got, want)
	}
}

// noEvents fails if any connection of the env has been told anything.
func (e *env) noEvents() {
	e.t.Helper()
	for _, c := range e.conns {
		if evs := c.sink.Events(); len(evs) > 0 {
			e.t.Fatalf("%s got events %s, want none", c.name, fmtEvents(evs))
		}
	}
}

func (e *env) noMedia() {
	e.t.Helper()
	if calls := e.media.Calls(); len(calls) > 0 {
		e.t.Fatalf("media calls %v, want none", calls)
	}
}

// gate is the call that sets the microphone's (audio) or the camera's (video) gate.
func gate(meetingID, pid string, kind wire.Kind, forward bool) meetingtest.MediaCall {
	src := wire.SourceMicrophone
	if kind == wire.KindVideo {
		src = wire.SourceCamera
	}
	return meetingtest.MediaCall{Op: "SetForwarding", MeetingID: meetingID, ParticipantID: pid, Source: src, Forward: forward}
}

// sourceGate is the call that sets the gate of one source.
func sourceGate(meetingID, pid string, src wire.Source, forward bool) meetingtest.MediaCall {
	return meetingtest.MediaCall{Op: "SetForwarding", MeetingID: meetingID, ParticipantID: pid, Source: src, Forward: forward}
}

func updated(p wire.Participant) wire.Event { return wire.ParticipantUpdated{Participant: p} }

func equalSnapshots(a, b meeting.Snapshot) bool { return reflect.DeepEqual(a, b) }

// equalJSON compares values as signaling would send them.
func equalJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}
