package meeting_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/wire"
)

// wantPermissions is the protocol's table, written out independently of the package's.
var wantPermissions = map[meeting.RequestKind]struct{ host, participant bool }{
	wire.TypeSetMuted:        {true, true},
	wire.TypeMuteAll:         {true, false},
	wire.TypeMuteParticipant: {true, false},
	wire.TypeAllowUnmute:     {true, false},
	wire.TypeStartTimer:      {true, false},
	wire.TypeCancelTimer:     {true, false},
	wire.TypeKick:            {true, false},
	wire.TypeSetLocked:       {true, false},
	wire.TypeEndMeeting:      {true, false},
	wire.TypeSendChat:        {true, true},
	wire.TypeSetChatAllowed:  {true, false},
	wire.TypeSetHandRaised:   {true, true},
	wire.TypeLowerHand:       {true, false},
	wire.TypeSetLobby:        {true, false},
	wire.TypeAdmit:           {true, false},
	wire.TypeDeny:            {true, false},
	wire.TypeAdmitAll:        {true, false},

	wire.TypeSetScreenShareAllowed: {true, false},
	wire.TypeStopScreenShare:       {true, false},
}

func TestPermissionTable(t *testing.T) {
	kinds := meeting.RequestKinds()
	if len(kinds) != len(wantPermissions) {
		t.Fatalf("RequestKinds() = %v, want the %d kinds of the protocol", kinds, len(wantPermissions))
	}
	for _, k := range kinds {
		want, ok := wantPermissions[k]
		if !ok {
			t.Errorf("kind %q is not in the protocol's table", k)
			continue
		}
		if got := meeting.Allowed(wire.RoleHost, k); got != want.host {
			t.Errorf("Allowed(host, %s) = %t, want %t", k, got, want.host)
		}
		if got := meeting.Allowed(wire.RoleParticipant, k); got != want.participant {
			t.Errorf("Allowed(participant, %s) = %t, want %t", k, got, want.participant)
		}
		if meeting.Allowed("", k) || meeting.Allowed("admin", k) {
			t.Errorf("an unknown role may %s", k)
		}
	}
	for _, k := range []meeting.RequestKind{"", "leave", "join", "setmuted", "MuteAll"} {
		if meeting.Allowed(wire.RoleHost, k) || meeting.Allowed(wire.RoleParticipant, k) {
			t.Errorf("unknown kind %q is allowed", k)
		}
	}
	if !slices.IsSorted(kinds) {
		t.Errorf("RequestKinds() not sorted: %v", kinds)
	}
}

// sampleRequests returns, for every kind, requests with good and bad fields: a refused request
// must be refused whatever its fields. held is the requestId of a join waiting in the lobby, ""
// when none waits.
func sampleRequests(r *room, held string) map[meeting.RequestKind][]meeting.Request {
	p1, p2, host := r.ps[0].id(), r.ps[1].id(), r.host.id()
	if held == "" {
		held = "nobody"
	}
	return map[meeting.RequestKind][]meeting.Request{
		wire.TypeSetMuted: {
			meeting.SetMuted{Kind: wire.KindAudio, Muted: true}, meeting.SetMuted{Kind: wire.KindVideo, Muted: true},
			meeting.SetMuted{Kind: "screen", Muted: true}, meeting.SetMuted{},
		},
		wire.TypeMuteAll: {meeting.MuteAll{AllowSelfUnmute: true}, meeting.MuteAll{AllowSelfUnmute: false}},
		wire.TypeMuteParticipant: {
			meeting.MuteParticipant{ParticipantID: p2}, meeting.MuteParticipant{ParticipantID: p1, AllowSelfUnmute: true},
			meeting.MuteParticipant{ParticipantID: host}, meeting.MuteParticipant{ParticipantID: "nobody"}, meeting.MuteParticipant{},
		},
		wire.TypeAllowUnmute: {
			meeting.AllowUnmute{}, meeting.AllowUnmute{ParticipantID: p1}, meeting.AllowUnmute{ParticipantID: p2},
			meeting.AllowUnmute{ParticipantID: "nobody"},
		},
		wire.TypeStartTimer: {
			meeting.StartTimer{TimerID: "t15"}, meeting.StartTimer{TimerID: "t30"}, meeting.StartTimer{TimerID: "t45"},
			meeting.StartTimer{TimerID: "t99"}, meeting.StartTimer{},
		},
		wire.TypeCancelTimer: {meeting.CancelTimer{}},
		wire.TypeKick: {
			meeting.Kick{ParticipantID: p2}, meeting.Kick{ParticipantID: p1}, meeting.Kick{ParticipantID: host},
			meeting.Kick{ParticipantID: "nobody"}, meeting.Kick{},
		},
		wire.TypeSetLocked:  {meeting.SetLocked{Locked: true}, meeting.SetLocked{Locked: false}},
		wire.TypeEndMeeting: {meeting.EndMeeting{}},
		wire.TypeSendChat: {
			meeting.SendChat{Text: "hello"}, meeting.SendChat{Text: "psst", To: p2}, meeting.SendChat{Text: ""},
			meeting.SendChat{Text: "x", To: "nobody"},
		},
		wire.TypeSetChatAllowed: {meeting.SetChatAllowed{Allowed: false}, meeting.SetChatAllowed{Allowed: true}},
		wire.TypeSetHandRaised:  {meeting.SetHandRaised{Raised: true}, meeting.SetHandRaised{Raised: false}},
		wire.TypeLowerHand: {
			meeting.LowerHand{}, meeting.LowerHand{ParticipantID: p1}, meeting.LowerHand{ParticipantID: host},
			meeting.LowerHand{ParticipantID: "nobody"},
		},
		wire.TypeSetLobby: {meeting.SetLobby{Enabled: false}, meeting.SetLobby{Enabled: true}},
		wire.TypeAdmit:    {meeting.Admit{RequestID: held}, meeting.Admit{RequestID: "nobody"}, meeting.Admit{}},
		wire.TypeDeny:     {meeting.Deny{RequestID: held}, meeting.Deny{RequestID: "nobody"}, meeting.Deny{}},
		wire.TypeAdmitAll: {meeting.AdmitAll{}},
		wire.TypeSetScreenShareAllowed: {
			meeting.SetScreenShareAllowed{Allowed: false}, meeting.SetScreenShareAllowed{Allowed: true},
		},
		wire.TypeStopScreenShare: {
			meeting.StopScreenShare{ParticipantID: p1}, meeting.StopScreenShare{ParticipantID: host},
			meeting.StopScreenShare{ParticipantID: "nobody"}, meeting.StopScreenShare{},
		},
	}
}

// TestParticipantCannotUseHostPowers walks the permission table: every host-only request from a
// participant is forbidden and changes nothing at all (no event, no media call, same state, same
// record), in a meeting with a running timer, a participant muted by the host, a raised hand and
// a join waiting in the lobby, so that any request that slipped through would show.
func TestParticipantCannotUseHostPowers(t *testing.T) {
	r := newEnv(t).room(2)
	for _, k := range meeting.RequestKinds() {
		if len(sampleRequests(r, "")[k]) == 0 {
			t.Fatalf("no sample requests for %q", k)
		}
	}
	r.do(r.host, meeting.StartTimer{TimerID: "t45"})
	r.do(r.host, meeting.MuteParticipant{ParticipantID: r.ps[1].id()})
	r.do(r.ps[0], meeting.SetHandRaised{Raised: true})
	r.do(r.host, meeting.SetLobby{Enabled: true})
	held := r.hold("Waiting")
	r.quiet()
	pendingTimers := r.clock.Pending()
	logged := len(r.auditEntries())

	for kind, reqs := range sampleRequests(r, held.h.RequestID()) {
		if meeting.Allowed(wire.RoleParticipant, kind) {
			continue
		}
		for _, req := range reqs {
			if req.RequestKind() != kind {
				t.Fatalf("%T.RequestKind() = %q, want %q", req, req.RequestKind(), kind)
			}
			for _, caller := range r.ps {
				snap, rec := r.snapshot(), r.record()
				err := caller.m.Do(r.ctx, req)
				wantCode(t, err, wire.CodeForbidden)
				r.noEvents()
				r.noMedia()
				if after := r.snapshot(); !equalSnapshots(snap, after) {
					t.Fatalf("%s %+v by %s changed the meeting:\n%+v\n%+v", kind, req, caller.name, snap, after)
				}
				if after := r.record(); !reflect.DeepEqual(after, rec) {
					t.Fatalf("%s %+v changed the record", kind, req)
				}
				if r.clock.Pending() != pendingTimers {
					t.Fatalf("%s %+v changed the pending timers", kind, req)
				}
				if n := len(r.auditEntries()); n != logged {
					t.Fatalf("%s %+v by %s was written to the audit log", kind, req, caller.name)
				}
			}
		}
	}
}

// TestHostIsNeverForbidden runs every sample request as the host, each in a fresh meeting: none
// is refused for want of permission (some are bad_request or not_found for their fields).
func TestHostIsNeverForbidden(t *testing.T) {
	kinds := meeting.RequestKinds()
	for _, kind := range kinds {
		n := len(sampleRequests(newEnv(t).room(2), "")[kind])
		for i := range n {
			r := newEnv(t).room(2)
			req := sampleRequests(r, "")[kind][i]
			if err := r.host.m.Do(r.ctx, req); meeting.CodeOf(err) == wire.CodeForbidden {
				t.Errorf("host %s %+v: %v", kind, req, err)
			}
		}
	}
}

func TestNilRequest(t *testing.T) {
	r := newEnv(t).room(1)
	wantCode(t, r.host.m.Do(r.ctx, nil), wire.CodeBadRequest)
	r.noEvents()
	r.noMedia()
}

// TestFromWire: every kind of the table is the type of a protocol message, and each decoded
// message becomes the domain request with its fields; the messages the domain does not carry
// out are not turned into requests.
func TestFromWire(t *testing.T) {
	cases := map[meeting.RequestKind]struct {
		msg  string
		want meeting.Request
	}{
		wire.TypeSetMuted:        {`{"type":"setMuted","kind":"video","muted":true}`, meeting.SetMuted{Kind: wire.KindVideo, Muted: true}},
		wire.TypeMuteAll:         {`{"type":"muteAll","allowSelfUnmute":true}`, meeting.MuteAll{AllowSelfUnmute: true}},
		wire.TypeMuteParticipant: {`{"type":"muteParticipant","participantId":"p","allowSelfUnmute":false}`, meeting.MuteParticipant{ParticipantID: "p"}},
		wire.TypeAllowUnmute:     {`{"type":"allowUnmute","participantId":"p"}`, meeting.AllowUnmute{ParticipantID: "p"}},
		wire.TypeStartTimer:      {`{"type":"startTimer","timerId":"t30"}`, meeting.StartTimer{TimerID: "t30"}},
		wire.TypeCancelTimer:     {`{"type":"cancelTimer"}`, meeting.CancelTimer{}},
		wire.TypeKick:            {`{"type":"kick","participantId":"p"}`, meeting.Kick{ParticipantID: "p"}},
		wire.TypeSetLocked:       {`{"type":"setLocked","locked":true}`, meeting.SetLocked{Locked: true}},
		wire.TypeEndMeeting:      {`{"type":"endMeeting"}`, meeting.EndMeeting{}},
		wire.TypeSendChat:        {`{"type":"sendChat","text":" hi\n","to":"p"}`, meeting.SendChat{Text: " hi\n", To: "p"}},
		wire.TypeSetChatAllowed:  {`{"type":"setChatAllowed","allowed":false}`, meeting.SetChatAllowed{}},
		wire.TypeSetHandRaised:   {`{"type":"setHandRaised","raised":true}`, meeting.SetHandRaised{Raised: true}},
		wire.TypeLowerHand:       {`{"type":"lowerHand","participantId":"p"}`, meeting.LowerHand{ParticipantID: "p"}},
		wire.TypeSetLobby:        {`{"type":"setLobby","enabled":true}`, meeting.SetLobby{Enabled: true}},
		wire.TypeAdmit:           {`{"type":"admit","requestId":"r"}`, meeting.Admit{RequestID: "r"}},
		wire.TypeDeny:            {`{"type":"deny","requestId":"r"}`, meeting.Deny{RequestID: "r"}},
		wire.TypeAdmitAll:        {`{"type":"admitAll"}`, meeting.AdmitAll{}},

		wire.TypeSetScreenShareAllowed: {`{"type":"setScreenShareAllowed","allowed":true}`, meeting.SetScreenShareAllowed{Allowed: true}},
		wire.TypeStopScreenShare:       {`{"type":"stopScreenShare","participantId":"p"}`, meeting.StopScreenShare{ParticipantID: "p"}},
	}
	for _, kind := range meeting.RequestKinds() {
		tc, ok := cases[kind]
		if !ok {
			t.Errorf("no case for %q", kind)
			continue
		}
		d, err := wire.Decode([]byte(tc.msg))
		if err != nil {
			t.Fatalf("%s: %v", tc.msg, err)
		}
		got, ok := meeting.FromWire(d.Request)
		if !ok || got != tc.want || got.RequestKind() != kind {
			t.Errorf("FromWire(%s) = %#v, %t; want %#v", tc.msg, got, ok, tc.want)
		}
	}
	if len(cases) != len(meeting.RequestKinds()) {
		t.Errorf("the table has %d kinds, the cases %d", len(meeting.RequestKinds()), len(cases))
	}
	d, err := wire.Decode([]byte(`{"type":"leave"}`))
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := meeting.FromWire(d.Request); ok {
		t.Errorf("leave became the domain request %#v", r)
	}
	p, _ := wire.Decode([]byte(`{"type":"allowUnmute"}`))
	if r, _ := meeting.FromWire(p.Request); r != (meeting.AllowUnmute{}) {
		t.Errorf("allowUnmute without participantId = %#v, want everyone", r)
	}
	for msg, want := range map[string]meeting.Request{
		`{"type":"lowerHand"}`:                      meeting.LowerHand{},
		`{"type":"lowerHand","participantId":null}`: meeting.LowerHand{},
		`{"type":"sendChat","text":"x","to":null}`:  meeting.SendChat{Text: "x"},
	} {
		d, err := wire.Decode([]byte(msg))
		if err != nil {
			t.Fatalf("%s: %v", msg, err)
		}
		if r, _ := meeting.FromWire(d.Request); r != want {
			t.Errorf("FromWire(%s) = %#v, want %#v", msg, r, want)
		}
	}
}
