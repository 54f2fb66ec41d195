package meeting_test

import (
	"slices"
	"testing"

	"github.com/parleyhq/parley/meeting"
)

// wantPermissions is the protocol's table, written out independently of the package's.
var wantPermissions = map[meeting.RequestKind]struct{ host, participant bool }{
	meeting.RequestSetMuted:        {true, true},
	meeting.RequestMuteAll:         {true, false},
	meeting.RequestMuteParticipant: {true, false},
	meeting.RequestAllowUnmute:     {true, false},
	meeting.RequestStartTimer:      {true, false},
	meeting.RequestCancelTimer:     {true, false},
	meeting.RequestKick:            {true, false},
	meeting.RequestSetLocked:       {true, false},
	meeting.RequestEndMeeting:      {true, false},
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
		if got := meeting.Allowed(meeting.RoleHost, k); got != want.host {
			t.Errorf("Allowed(host, %s) = %t, want %t", k, got, want.host)
		}
		if got := meeting.Allowed(meeting.RoleParticipant, k); got != want.participant {
			t.Errorf("Allowed(participant, %s) = %t, want %t", k, got, want.participant)
		}
		if meeting.Allowed("", k) || meeting.Allowed("admin", k) {
			t.Errorf("an unknown role may %s", k)
		}
	}
	for _, k := range []meeting.RequestKind{"", "leave", "join", "setmuted", "MuteAll"} {
		if meeting.Allowed(meeting.RoleHost, k) || meeting.Allowed(meeting.RoleParticipant, k) {
			t.Errorf("unknown kind %q is allowed", k)
		}
	}
	if !slices.IsSorted(kinds) {
		t.Errorf("RequestKinds() not sorted: %v", kinds)
	}
}

// sampleRequests returns, for every kind, requests with good and bad fields: a refused request
// must be refused whatever its fields.
func sampleRequests(r *room) map[meeting.RequestKind][]meeting.Request {
	p1, p2, host := r.ps[0].id(), r.ps[1].id(), r.host.id()
	return map[meeting.RequestKind][]meeting.Request{
		meeting.RequestSetMuted: {
			meeting.SetMuted{Kind: meeting.KindAudio, Muted: true}, meeting.SetMuted{Kind: meeting.KindVideo, Muted: true},
			meeting.SetMuted{Kind: "screen", Muted: true}, meeting.SetMuted{},
		},
		meeting.RequestMuteAll: {meeting.MuteAll{AllowSelfUnmute: true}, meeting.MuteAll{AllowSelfUnmute: false}},
		meeting.RequestMuteParticipant: {
			meeting.MuteParticipant{ParticipantID: p2}, meeting.MuteParticipant{ParticipantID: p1, AllowSelfUnmute: true},
			meeting.MuteParticipant{ParticipantID: host}, meeting.MuteParticipant{ParticipantID: "nobody"}, meeting.MuteParticipant{},
		},
		meeting.RequestAllowUnmute: {
			meeting.AllowUnmute{}, meeting.AllowUnmute{ParticipantID: p1}, meeting.AllowUnmute{ParticipantID: p2},
			meeting.AllowUnmute{ParticipantID: "nobody"},
		},
		meeting.RequestStartTimer: {
			meeting.StartTimer{TimerID: "t15"}, meeting.StartTimer{TimerID: "t30"}, meeting.StartTimer{TimerID: "t45"},
			meeting.StartTimer{TimerID: "t99"}, meeting.StartTimer{},
		},
		meeting.RequestCancelTimer: {meeting.CancelTimer{}},
		meeting.RequestKick: {
			meeting.Kick{ParticipantID: p2}, meeting.Kick{ParticipantID: p1}, meeting.Kick{ParticipantID: host},
			meeting.Kick{ParticipantID: "nobody"}, meeting.Kick{},
		},
		meeting.RequestSetLocked:  {meeting.SetLocked{Locked: true}, meeting.SetLocked{Locked: false}},
		meeting.RequestEndMeeting: {meeting.EndMeeting{}},
	}
}

// TestParticipantCannotUseHostPowers walks the permission table: every host-only request from a
// participant is forbidden and changes nothing at all (no event, no media call, same state, same
// record), in a meeting with a running timer and a participant muted by the host, so that any
// request that slipped through would show.
func TestParticipantCannotUseHostPowers(t *testing.T) {
	r := newEnv(t).room(2)
	for _, k := range meeting.RequestKinds() {
		if len(sampleRequests(r)[k]) == 0 {
			t.Fatalf("no sample requests for %q", k)
		}
	}
	r.do(r.host, meeting.StartTimer{TimerID: "t45"})
	r.do(r.host, meeting.MuteParticipant{ParticipantID: r.ps[1].id()})
	r.quiet()
	pendingTimers := r.clock.Pending()

	for kind, reqs := range sampleRequests(r) {
		if meeting.Allowed(meeting.RoleParticipant, kind) {
			continue
		}
		for _, req := range reqs {
			if req.RequestKind() != kind {
				t.Fatalf("%T.RequestKind() = %q, want %q", req, req.RequestKind(), kind)
			}
			for _, caller := range r.ps {
				snap, rec := r.snapshot(), r.record()
				err := caller.m.Do(r.ctx, req)
				wantCode(t, err, meeting.CodeForbidden)
				r.noEvents()
				r.noMedia()
				if after := r.snapshot(); !equalSnapshots(snap, after) {
					t.Fatalf("%s %+v by %s changed the meeting:\n%+v\n%+v", kind, req, caller.name, snap, after)
				}
				if after := r.record(); after != rec {
					t.Fatalf("%s %+v changed the record", kind, req)
				}
				if r.clock.Pending() != pendingTimers {
					t.Fatalf("%s %+v changed the pending timers", kind, req)
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
		n := len(sampleRequests(newEnv(t).room(2))[kind])
		for i := range n {
			r := newEnv(t).room(2)
			req := sampleRequests(r)[kind][i]
			if err := r.host.m.Do(r.ctx, req); meeting.CodeOf(err) == meeting.CodeForbidden {
				t.Errorf("host %s %+v: %v", kind, req, err)
			}
		}
	}
}

func TestNilRequest(t *testing.T) {
	r := newEnv(t).room(1)
	wantCode(t, r.host.m.Do(r.ctx, nil), meeting.CodeBadRequest)
	r.noEvents()
	r.noMedia()
}
