package meeting_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/meeting/meetingtest"
	"github.com/parleyhq/parley/wire"
)

const grace = 30 * time.Second

func withGrace(c *meeting.Config) { c.ResumeGrace = grace }

// resume joins meetingID with token; name is what the new connection says (the seat keeps its
// own).
func (e *env) resume(meetingID, token, name string) (*conn, error) {
	e.t.Helper()
	c := &conn{name: name, sink: meetingtest.NewSink(name+" (resumed)", e.trace)}
	m, res, err := e.svc.Join(e.ctx, meeting.JoinRequest{MeetingID: meetingID, Name: name, ResumeToken: token}, c.sink)
	if err != nil {
		return nil, err
	}
	c.m, c.res = m, res
	e.conns = append(e.conns, c)
	return c, nil
}

func reconnecting(p wire.Participant, on bool) wire.Participant {
	p.Reconnecting = on
	return p
}

func TestResumeKeepsTheSeatAndItsState(t *testing.T) {
	e := newEnv(t, withGrace)
	r := e.room(2)
	p := r.ps[0]
	r.do(r.host, meeting.MuteParticipant{ParticipantID: p.id()})
	r.do(p, meeting.SetHandRaised{Raised: true})
	e.quiet()
	before := r.participant(p.id())
	token := p.res.ResumeToken
	if len(token) < 22 {
		t.Fatalf("resume token %q: want at least 128 bits", token)
	}

	if !p.m.Disconnect() {
		t.Fatal("Disconnect with a grace period: want the seat to live on")
	}
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{updated(reconnecting(before, true))})
	wantEvents(t, "P2", r.ps[1].sink.Take(), []wire.Event{updated(reconnecting(before, true))})
	wantCalls(t, e.media.Take(), nil) // the media stays for the gap

	e.clock.Advance(grace - time.Second)
	back, err := e.resume(r.id(), token, "Another Name")
	if err != nil {
		t.Fatalf("resume within the grace: %v", err)
	}
	if !back.res.Resumed || back.res.Self != before || back.m.ParticipantID() != p.id() {
		t.Fatalf("resumed as %+v (resumed %t), want %+v", back.res.Self, back.res.Resumed, before)
	}
	if back.res.ResumeToken == "" || back.res.ResumeToken == token {
		t.Fatalf("resume token after a resume: %q, want a fresh one", back.res.ResumeToken)
	}
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{updated(before)})
	wantEvents(t, "P2", r.ps[1].sink.Take(), []wire.Event{updated(before)})
	if f, _ := e.media.Forwarding(r.id(), p.id(), wire.SourceMicrophone); f {
		t.Fatal("a host-muted participant's audio is forwarded after its resume")
	}
	wantCode(t, back.m.Do(e.ctx, meeting.SetMuted{Kind: wire.KindAudio, Muted: false}), wire.CodeForbidden)

	// The old token is used up; the grace timer of the gap is gone with it.
	if _, err := e.resume(r.id(), token, "P1"); meeting.CodeOf(err) != wire.CodeForbidden {
		t.Fatalf("resume with a used token: %v, want forbidden", err)
	}
	e.clock.Advance(2 * grace)
	if n := len(r.snapshot().Participants); n != 3 {
		t.Fatalf("%d participants after the old grace ran out, want 3", n)
	}
	entries, err := e.svc.Audit(e.ctx, r.id(), r.created.HostKey)
	if err != nil {
		t.Fatal(err)
	}
	joins := 0
	for _, en := range entries {
		if en.Action == wire.AuditDisconnect || en.Action == wire.AuditLeave {
			t.Errorf("audit entry %+v: a drop and a resume are no leave or disconnect", en)
		}
		if en.Action == wire.AuditJoin && en.By == p.id() {
			joins++
		}
	}
	if joins != 1 {
		t.Errorf("%d join entries of the participant, want 1 (a resume is no join)", joins)
	}
}

func TestResumeGraceEndsInADisconnect(t *testing.T) {
	e := newEnv(t, withGrace)
	r := e.room(1)
	p := r.ps[0]
	token := p.res.ResumeToken
	p.m.Disconnect()
	e.quiet()
	e.clock.Advance(grace)
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{wire.ParticipantLeft{ParticipantID: p.id(), Reason: wire.ReasonDisconnected}})
	wantCalls(t, e.media.Take(), []meetingtest.MediaCall{{Op: "RemoveParticipant", MeetingID: r.id(), ParticipantID: p.id()}})
	if _, err := e.resume(r.id(), token, "P1"); meeting.CodeOf(err) != wire.CodeForbidden {
		t.Fatalf("resume after the grace: %v, want forbidden", err)
	}
	entries, err := e.svc.Audit(e.ctx, r.id(), r.created.HostKey)
	if err != nil {
		t.Fatal(err)
	}
	if last := entries[len(entries)-1]; last.Action != wire.AuditDisconnect || last.Target != p.id() && last.By != p.id() {
		t.Fatalf("last audit entry %+v, want the disconnect", last)
	}
}

func TestResumeRefused(t *testing.T) {
	t.Run("kicked", func(t *testing.T) {
		e := newEnv(t, withGrace)
		r := e.room(1)
		p := r.ps[0]
		p.m.Disconnect()
		r.do(r.host, meeting.Kick{ParticipantID: p.id()})
		if _, err := e.resume(r.id(), p.res.ResumeToken, "P1"); meeting.CodeOf(err) != wire.CodeForbidden {
			t.Fatalf("resume after a kick: %v, want forbidden", err)
		}
	})
	t.Run("wrong token", func(t *testing.T) {
		e := newEnv(t, withGrace)
		r := e.room(1)
		if _, err := e.resume(r.id(), "not-a-token", "P1"); meeting.CodeOf(err) != wire.CodeForbidden {
			t.Fatalf("resume with a wrong token: %v, want forbidden", err)
		}
	})
	t.Run("ended", func(t *testing.T) {
		e := newEnv(t, withGrace)
		r := e.room(1)
		p := r.ps[0]
		p.m.Disconnect()
		r.do(r.host, meeting.EndMeeting{})
		if _, err := e.resume(r.id(), p.res.ResumeToken, "P1"); meeting.CodeOf(err) != wire.CodeMeetingEnded {
			t.Fatalf("resume into an ended meeting: %v, want meeting_ended", err)
		}
		e.quiet()
		e.clock.Advance(2 * grace) // the grace timer went with the meeting
		e.noEvents()
		wantCalls(t, e.media.Take(), nil)
	})
	t.Run("another meeting", func(t *testing.T) {
		e := newEnv(t, withGrace)
		r1, r2 := e.room(1), e.room(0)
		if _, err := e.resume(r2.id(), r1.ps[0].res.ResumeToken, "P1"); meeting.CodeOf(err) != wire.CodeForbidden {
			t.Fatalf("resume in another meeting: %v, want forbidden", err)
		}
	})
}

func TestResumeReplacesALiveConnection(t *testing.T) {
	e := newEnv(t, withGrace)
	r := e.room(1)
	p := r.ps[0]
	r.do(r.host, meeting.SetLocked{Locked: true})
	e.quiet()
	back, err := e.resume(r.id(), p.res.ResumeToken, "P1")
	if err != nil {
		t.Fatalf("resume while the old connection lives, into a locked meeting: %v", err)
	}
	wantEvents(t, "old connection", p.sink.Take(), []wire.Event{wire.Replaced{}})
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{updated(back.res.Self)})
	if p.m.Disconnect() != true {
		t.Fatal("the replaced connection's Disconnect: want the seat to live on (with the new connection)")
	}
	e.noEvents()
	wantCode(t, p.m.Do(e.ctx, meeting.SetHandRaised{Raised: true}), wire.CodeNotFound)
	r.do(back, meeting.SetHandRaised{Raised: true})
}

func TestWithoutGraceADisconnectLeaves(t *testing.T) {
	e := newEnv(t)
	r := e.room(1)
	p := r.ps[0]
	if p.m.Disconnect() {
		t.Fatal("Disconnect without a grace period: want the seat gone")
	}
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{wire.ParticipantLeft{ParticipantID: p.id(), Reason: wire.ReasonDisconnected}})
}

func TestHostRejoinWithKeyEndsReconnecting(t *testing.T) {
	e := newEnv(t, withGrace)
	r := e.room(1)
	r.host.m.Disconnect()
	e.quiet()
	h := e.join(r.id(), "Host", r.created.HostKey)
	if h.id() != r.host.id() || h.res.Self.Reconnecting {
		t.Fatalf("host back with its key: %+v", h.res.Self)
	}
	e.clock.Advance(2 * grace)
	if n := len(r.snapshot().Participants); n != 2 {
		t.Fatalf("%d participants after the grace, want 2", n)
	}
}
