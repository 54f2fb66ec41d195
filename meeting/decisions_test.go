package meeting_test

import (
	"testing"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/meeting/meetingtest"
	"github.com/parleyhq/parley/wire"
)

// joinFrom joins meetingID as name from a browser and address.
func (e *env) joinFrom(meetingID, name string, j meeting.Joiner) (*conn, meeting.JoinResult, error) {
	e.t.Helper()
	c := &conn{name: name, sink: meetingtest.NewSink(name, e.trace)}
	m, res, err := e.svc.Join(e.ctx, meeting.JoinRequest{MeetingID: meetingID, Name: name, Joiner: j}, c.sink)
	if err != nil || m == nil {
		return nil, res, err
	}
	c.m, c.res = m, res
	e.conns = append(e.conns, c)
	return c, res, nil
}

func (e *env) mustJoinFrom(meetingID, name string, j meeting.Joiner) *conn {
	e.t.Helper()
	c, res, err := e.joinFrom(meetingID, name, j)
	if err != nil || c == nil {
		e.t.Fatalf("join %s: %v (held %t)", name, err, res.Held != nil)
	}
	return c
}

var (
	browserA = meeting.Joiner{BrowserID: "browser-a", Address: "192.0.2.1"}
	browserB = meeting.Joiner{BrowserID: "browser-b", Address: "192.0.2.2"}
)

// TestHostMuteSticksToTheBrowser: the attack of issue 9 (leave and rejoin to escape a host mute)
// and its second-tab variant.
func TestHostMuteSticksToTheBrowser(t *testing.T) {
	e := newEnv(t)
	r := e.room(0)
	p := e.mustJoinFrom(r.id(), "Mallory", browserA)
	r.do(r.host, meeting.MuteParticipant{ParticipantID: p.id()})

	// A second tab of the same browser is muted as well.
	tab := e.mustJoinFrom(r.id(), "Mallory", browserA)
	if s := tab.res.Self; !s.MutedByHost || s.CanUnmute || !s.AudioMuted {
		t.Fatalf("second tab from the muted browser: %+v, want muted by the host", s)
	}
	tab.m.Leave()

	p.m.Leave()
	again := e.mustJoinFrom(r.id(), "Mallory", browserA)
	if s := again.res.Self; !s.MutedByHost || s.CanUnmute || !s.AudioMuted {
		t.Fatalf("rejoined from the muted browser: %+v, want muted by the host", s)
	}
	if f, known := e.media.Forwarding(r.id(), again.id(), wire.SourceMicrophone); !known || f {
		t.Fatal("the rejoined participant's audio gate is open")
	}
	wantCode(t, again.m.Do(e.ctx, meeting.SetMuted{Kind: wire.KindAudio, Muted: false}), wire.CodeForbidden)
	other := e.mustJoinFrom(r.id(), "Bob", browserB)
	if other.res.Self.MutedByHost {
		t.Fatal("another browser came in muted by the host")
	}

	// Once the host lifts it, it is lifted for good.
	r.do(r.host, meeting.AllowUnmute{ParticipantID: again.id()})
	r.do(again, meeting.SetMuted{Kind: wire.KindAudio, Muted: false})
	again.m.Leave()
	if back := e.mustJoinFrom(r.id(), "Mallory", browserA); back.res.Self.MutedByHost {
		t.Fatalf("rejoined after the host allowed unmuting: %+v", back.res.Self)
	}
}

// TestRemovalSticksToTheBrowser: a removed participant's fresh join from the same browser waits
// for the host, even with the lobby off; the host may let it in.
func TestRemovalSticksToTheBrowser(t *testing.T) {
	e := newEnv(t)
	r := e.room(0)
	p := e.mustJoinFrom(r.id(), "Mallory", browserA)
	r.do(r.host, meeting.Kick{ParticipantID: p.id()})
	e.quiet()
	_, res, err := e.joinFrom(r.id(), "Mallory", browserA)
	if err != nil || res.Held == nil {
		t.Fatalf("rejoin after removal: %v, held %t: want held for the host", err, res.Held != nil)
	}
	if types := r.host.sink.Types(); len(types) != 1 || types[0] != "lobbyUpdated" {
		t.Fatalf("host told %v, want lobbyUpdated", types)
	}
	if n := len(r.snapshot().Participants); n != 1 {
		t.Fatalf("%d participants, want the host alone", n)
	}
	e.mustJoinFrom(r.id(), "Bob", browserB) // others are not held
	r.do(r.host, meeting.Admit{RequestID: res.Held.RequestID()})
	if _, _, err := res.Held.Outcome(); err != nil {
		t.Fatalf("admitted: %v", err)
	}
}

// TestBan: kick with ban refuses the browser (and, with BanAddresses, the address) for the
// meeting's life; the attack of issue 9 (kicked bots rejoining at once) fails.
func TestBan(t *testing.T) {
	for _, byAddress := range []bool{false, true} {
		e := newEnv(t, func(c *meeting.Config) { c.BanAddresses = byAddress })
		r := e.room(0)
		p := e.mustJoinFrom(r.id(), "Bot", browserA)
		r.do(r.host, meeting.Kick{ParticipantID: p.id(), Ban: true})
		if _, _, err := e.joinFrom(r.id(), "Bot", browserA); meeting.CodeOf(err) != wire.CodeForbidden {
			t.Fatalf("banned browser joins again: %v, want forbidden", err)
		}
		sameAddress := meeting.Joiner{BrowserID: "fresh-profile", Address: browserA.Address}
		_, _, err := e.joinFrom(r.id(), "Bot", sameAddress)
		if byAddress && meeting.CodeOf(err) != wire.CodeForbidden {
			t.Fatalf("banned address with a new browser id: %v, want forbidden", err)
		}
		if !byAddress && err != nil {
			t.Fatalf("a new browser from the address, without address bans: %v", err)
		}
		e.mustJoinFrom(r.id(), "Bob", browserB)
		// The host itself is never refused.
		e.join(r.id(), "Host", r.created.HostKey)
		entries, err := e.svc.Audit(e.ctx, r.id(), r.created.HostKey)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, en := range entries {
			if en.Action == wire.TypeKick && en.Detail["ban"] == true {
				found = true
			}
		}
		if !found {
			t.Fatalf("no kick with ban in the audit log: %+v", entries)
		}
	}
}

// TestBanOutlivesTheMeetingsMemory: a meeting released from memory after everyone left keeps
// its bans (they are in its durable record).
func TestBanOutlivesTheMeetingsMemory(t *testing.T) {
	e := newEnv(t)
	r := e.room(0)
	p := e.mustJoinFrom(r.id(), "Bot", browserA)
	r.do(r.host, meeting.Kick{ParticipantID: p.id(), Ban: true})
	r.host.m.Leave()
	e.clock.Advance(meeting.DefaultIdleTimeout)
	if e.svc.LiveMeetings() != 0 {
		t.Fatal("the empty meeting was not released")
	}
	if _, _, err := e.joinFrom(r.id(), "Bot", browserA); meeting.CodeOf(err) != wire.CodeForbidden {
		t.Fatalf("banned browser after the meeting's release: %v, want forbidden", err)
	}
	if rec := r.record(); len(rec.BannedBrowsers) != 1 || rec.BannedBrowsers[0] == browserA.BrowserID {
		t.Fatalf("stored bans %v: want one, hashed", rec.BannedBrowsers)
	}
}
