package meeting_test

import (
	"strings"
	"testing"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/meeting/meetingtest"
	"github.com/parleyhq/parley/wire"
)

// gatesCloseBeforeEvents checks, in the shared trace, that every media call came before the first
// event delivery: no client hears of a mute while the audio still flows.
func gatesCloseBeforeEvents(t *testing.T, trace []string) {
	t.Helper()
	firstEvent := len(trace)
	for i, e := range trace {
		if strings.HasPrefix(e, "event ") {
			firstEvent = i
			break
		}
	}
	for i, e := range trace {
		if strings.HasPrefix(e, "media ") && i > firstEvent {
			t.Fatalf("media call %q after event %q:\n%s", e, trace[firstEvent], strings.Join(trace, "\n"))
		}
	}
}

func TestMuteAll(t *testing.T) {
	for _, allow := range []bool{true, false} {
		t.Run(map[bool]string{true: "allowSelfUnmute", false: "locked"}[allow], func(t *testing.T) {
			r := newEnv(t).room(3)
			p1, p2, p3 := r.ps[0], r.ps[1], r.ps[2]
			r.do(p2, meeting.SetMuted{Kind: wire.KindAudio, Muted: true})
			r.do(p3, meeting.SetMuted{Kind: wire.KindVideo, Muted: true})
			r.quiet()

			r.do(r.host, meeting.MuteAll{AllowSelfUnmute: allow})

			muted := func(c *conn, videoMuted bool) wire.Participant {
				return wire.Participant{ID: c.id(), Name: c.name, Role: wire.RoleParticipant, AudioMuted: true, VideoMuted: videoMuted, MutedByHost: true, CanUnmute: allow}
			}
			u1, u2, u3 := updated(muted(p1, false)), updated(muted(p2, false)), updated(muted(p3, true))
			mb := wire.MutedByHost{AllowSelfUnmute: allow}
			wantEvents(t, "host", r.host.sink.Take(), []wire.Event{u1, u2, u3})
			wantEvents(t, "P1", p1.sink.Take(), []wire.Event{mb, u1, u2, u3})
			wantEvents(t, "P2", p2.sink.Take(), []wire.Event{u1, mb, u2, u3})
			wantEvents(t, "P3", p3.sink.Take(), []wire.Event{u1, u2, mb, u3})
			// One call for every gate, so the media side waits once for the packets in flight.
			// A host's mute silences the screen's audio too.
			wantCalls(t, r.media.Take(), []meetingtest.MediaCall{{Op: "SetForwardingMany", MeetingID: r.id(), Gates: []meeting.Gate{
				{ParticipantID: p1.id(), Source: wire.SourceMicrophone}, {ParticipantID: p1.id(), Source: wire.SourceScreenAudio},
				{ParticipantID: p2.id(), Source: wire.SourceMicrophone}, {ParticipantID: p2.id(), Source: wire.SourceScreenAudio},
				{ParticipantID: p3.id(), Source: wire.SourceMicrophone}, {ParticipantID: p3.id(), Source: wire.SourceScreenAudio},
			}}})
			gatesCloseBeforeEvents(t, r.trace.Entries())
			snap := r.snapshot()
			if snap.MuteLocked == allow {
				t.Errorf("MuteLocked = %t, want %t", snap.MuteLocked, !allow)
			}
			if h := snap.Participants[0]; h.AudioMuted || h.MutedByHost || !h.CanUnmute {
				t.Errorf("the host was muted: %+v", h)
			}
			for _, c := range r.ps {
				if fwd, _ := r.media.Forwarding(r.id(), c.id(), wire.SourceMicrophone); fwd {
					t.Errorf("%s's audio still forwarded", c.name)
				}
			}

			// Again: nobody's state changes, so no participantUpdated; each is told again.
			r.quiet()
			r.do(r.host, meeting.MuteAll{AllowSelfUnmute: allow})
			wantEvents(t, "host", r.host.sink.Take(), nil)
			for _, c := range r.ps {
				wantEvents(t, c.name, c.sink.Take(), []wire.Event{mb})
			}
		})
	}
}

func TestMuteAllWithOnlyTheHost(t *testing.T) {
	r := newEnv(t).room(0)
	r.do(r.host, meeting.MuteAll{AllowSelfUnmute: false})
	r.noEvents()
	r.noMedia()
	if !r.snapshot().MuteLocked {
		t.Error("the mute lock must hold for later joiners")
	}
}

func TestMuteAllChangesPermission(t *testing.T) {
	r := newEnv(t).room(1)
	p := r.ps[0]
	r.do(r.host, meeting.MuteAll{AllowSelfUnmute: true})
	r.quiet()
	r.do(r.host, meeting.MuteAll{AllowSelfUnmute: false})
	want := wire.Participant{ID: p.id(), Name: p.name, Role: wire.RoleParticipant, AudioMuted: true, MutedByHost: true, CanUnmute: false}
	wantEvents(t, "P1", p.sink.Take(), []wire.Event{wire.MutedByHost{}, updated(want)})
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{updated(want)})
	wantCode(t, p.m.Do(r.ctx, meeting.SetMuted{Kind: wire.KindAudio}), wire.CodeForbidden)
}

func TestMuteLockAndJoins(t *testing.T) {
	tests := []struct {
		name         string
		steps        []meeting.Request // by the host
		joinerMuted  bool
		wantMuteLock bool
	}{
		{"no mute", nil, false, false},
		{"muteAll without self-unmute", []meeting.Request{meeting.MuteAll{}}, true, true},
		{"muteAll with self-unmute", []meeting.Request{meeting.MuteAll{AllowSelfUnmute: true}}, false, false},
		{"lock lifted by allowUnmute for everyone", []meeting.Request{meeting.MuteAll{}, meeting.AllowUnmute{}}, false, false},
		{"lock replaced by muteAll with self-unmute", []meeting.Request{meeting.MuteAll{}, meeting.MuteAll{AllowSelfUnmute: true}}, false, false},
		{"lock back after self-unmute muteAll", []meeting.Request{meeting.MuteAll{AllowSelfUnmute: true}, meeting.MuteAll{}}, true, true},
		{"allowUnmute for one keeps the lock", []meeting.Request{meeting.MuteAll{}, meeting.AllowUnmute{ParticipantID: "P1"}}, true, true},
		{"muteParticipant sets no lock", []meeting.Request{meeting.MuteParticipant{ParticipantID: "P1"}}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newEnv(t).room(1)
			for _, s := range tt.steps {
				switch s := s.(type) {
				case meeting.AllowUnmute:
					if s.ParticipantID == "P1" {
						s.ParticipantID = r.ps[0].id()
					}
					r.do(r.host, s)
				case meeting.MuteParticipant:
					s.ParticipantID = r.ps[0].id()
					r.do(r.host, s)
				default:
					r.do(r.host, s)
				}
			}
			if got := r.snapshot().MuteLocked; got != tt.wantMuteLock {
				t.Errorf("MuteLocked = %t, want %t", got, tt.wantMuteLock)
			}
			r.quiet()
			j := r.join(r.id(), "Joiner", "")
			want := wire.Participant{ID: j.id(), Name: "Joiner", Role: wire.RoleParticipant, CanUnmute: true}
			if tt.joinerMuted {
				want.AudioMuted, want.MutedByHost, want.CanUnmute = true, true, false
			}
			if j.res.Self != want {
				t.Fatalf("joiner %+v, want %+v", j.res.Self, want)
			}
			if fwd, _ := r.media.Forwarding(r.id(), j.id(), wire.SourceMicrophone); fwd == tt.joinerMuted {
				t.Errorf("joiner's audio gate forward=%t, want %t", fwd, !tt.joinerMuted)
			}
			wantEvents(t, "host", r.host.sink.Take(), []wire.Event{wire.ParticipantJoined{Participant: want}})
		})
	}
}

func TestMuteParticipant(t *testing.T) {
	r := newEnv(t).room(2)
	p1, p2 := r.ps[0], r.ps[1]
	r.do(r.host, meeting.MuteParticipant{ParticipantID: p1.id()})
	want := wire.Participant{ID: p1.id(), Name: p1.name, Role: wire.RoleParticipant, AudioMuted: true, MutedByHost: true}
	wantEvents(t, "P1", p1.sink.Take(), []wire.Event{wire.MutedByHost{}, updated(want)})
	wantEvents(t, "P2", p2.sink.Take(), []wire.Event{updated(want)})
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{updated(want)})
	// The host's mute closes the screen's audio as well as the microphone, in one call.
	wantCalls(t, r.media.Take(), []meetingtest.MediaCall{{Op: "SetForwardingMany", MeetingID: r.id(), Gates: []meeting.Gate{
		{ParticipantID: p1.id(), Source: wire.SourceMicrophone}, {ParticipantID: p1.id(), Source: wire.SourceScreenAudio},
	}}})
	gatesCloseBeforeEvents(t, r.trace.Entries())
	if r.participant(p2.id()).AudioMuted {
		t.Error("muting P1 muted P2")
	}

	// Same again: told again, no update. With permission now: canUnmute changes.
	r.quiet()
	r.do(r.host, meeting.MuteParticipant{ParticipantID: p1.id()})
	wantEvents(t, "P1", p1.sink.Take(), []wire.Event{wire.MutedByHost{}})
	r.noEvents()
	r.do(r.host, meeting.MuteParticipant{ParticipantID: p1.id(), AllowSelfUnmute: true})
	want.CanUnmute = true
	wantEvents(t, "P1", p1.sink.Take(), []wire.Event{wire.MutedByHost{AllowSelfUnmute: true}, updated(want)})
	wantEvents(t, "P2", p2.sink.Take(), []wire.Event{updated(want)})

	// Refusals change nothing.
	for _, tt := range []struct {
		req  meeting.MuteParticipant
		code wire.Code
	}{
		{meeting.MuteParticipant{ParticipantID: r.host.id()}, wire.CodeBadRequest},
		{meeting.MuteParticipant{ParticipantID: r.host.id(), AllowSelfUnmute: true}, wire.CodeBadRequest},
		{meeting.MuteParticipant{ParticipantID: "nobody"}, wire.CodeNotFound},
		{meeting.MuteParticipant{}, wire.CodeBadRequest},
	} {
		r.quiet()
		snap := r.snapshot()
		wantCode(t, r.host.m.Do(r.ctx, tt.req), tt.code)
		r.noEvents()
		r.noMedia()
		if !equalSnapshots(snap, r.snapshot()) {
			t.Errorf("%+v changed the meeting", tt.req)
		}
	}
}

func TestMuteParticipantWhoLeft(t *testing.T) {
	r := newEnv(t).room(2)
	gone := r.ps[0]
	gone.m.Leave()
	r.quiet()
	wantCode(t, r.host.m.Do(r.ctx, meeting.MuteParticipant{ParticipantID: gone.id()}), wire.CodeNotFound)
	wantCode(t, r.host.m.Do(r.ctx, meeting.AllowUnmute{ParticipantID: gone.id()}), wire.CodeNotFound)
	wantCode(t, r.host.m.Do(r.ctx, meeting.Kick{ParticipantID: gone.id()}), wire.CodeNotFound)
	r.noEvents()
	r.noMedia()
}

func TestAllowUnmute(t *testing.T) {
	r := newEnv(t).room(4)
	p1, p2, p3, p4 := r.ps[0], r.ps[1], r.ps[2], r.ps[3]
	r.do(r.host, meeting.MuteAll{}) // everyone muted without permission, mute lock on
	r.do(r.host, meeting.AllowUnmute{ParticipantID: p3.id()})
	r.do(p3, meeting.SetMuted{Kind: wire.KindAudio}) // P3 unmuted itself
	r.do(r.host, meeting.MuteParticipant{ParticipantID: p4.id(), AllowSelfUnmute: true})
	r.quiet()

	// One participant: only it is told; the lock stays.
	r.do(r.host, meeting.AllowUnmute{ParticipantID: p1.id()})
	want1 := wire.Participant{ID: p1.id(), Name: p1.name, Role: wire.RoleParticipant, AudioMuted: true, MutedByHost: true, CanUnmute: true}
	wantEvents(t, "P1", p1.sink.Take(), []wire.Event{wire.UnmuteAllowed{}, updated(want1)})
	wantEvents(t, "P2", p2.sink.Take(), []wire.Event{updated(want1)})
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{updated(want1)})
	if !r.snapshot().MuteLocked {
		t.Error("allowUnmute for one lifted the meeting's mute lock")
	}
	// The gate stays closed until the participant unmutes itself.
	r.noMedia()
	if fwd, _ := r.media.Forwarding(r.id(), p1.id(), wire.SourceMicrophone); fwd {
		t.Error("allowUnmute opened the audio gate")
	}

	// Again, or for someone already allowed, or for the host: nothing.
	r.quiet()
	for _, pid := range []string{p1.id(), p3.id(), p4.id(), r.host.id()} {
		r.do(r.host, meeting.AllowUnmute{ParticipantID: pid})
	}
	r.noEvents()
	r.noMedia()

	// Everyone: only P2 was still held; the lock lifts.
	r.do(r.host, meeting.AllowUnmute{})
	want2 := wire.Participant{ID: p2.id(), Name: p2.name, Role: wire.RoleParticipant, AudioMuted: true, MutedByHost: true, CanUnmute: true}
	wantEvents(t, "P2", p2.sink.Take(), []wire.Event{wire.UnmuteAllowed{}, updated(want2)})
	for _, c := range []*conn{r.host, p1, p3, p4} {
		wantEvents(t, c.name, c.sink.Take(), []wire.Event{updated(want2)})
	}
	r.noMedia()
	if r.snapshot().MuteLocked {
		t.Error("allowUnmute for everyone kept the mute lock")
	}
	wantCode(t, r.host.m.Do(r.ctx, meeting.AllowUnmute{ParticipantID: "nobody"}), wire.CodeNotFound)
}

func TestAllowUnmuteEveryoneTellsEachHeldParticipant(t *testing.T) {
	r := newEnv(t).room(3)
	r.do(r.host, meeting.MuteAll{})
	r.quiet()
	r.do(r.host, meeting.AllowUnmute{})
	var ups []wire.Event
	for _, c := range r.ps {
		ups = append(ups, updated(wire.Participant{ID: c.id(), Name: c.name, Role: wire.RoleParticipant, AudioMuted: true, MutedByHost: true, CanUnmute: true}))
	}
	wantEvents(t, "host", r.host.sink.Take(), ups)
	for i, c := range r.ps {
		want := append([]wire.Event{}, ups[:i]...)
		want = append(want, wire.UnmuteAllowed{})
		want = append(want, ups[i:]...)
		wantEvents(t, c.name, c.sink.Take(), want)
	}
}

// TestSetMuted walks setMuted from several starting states.
func TestSetMuted(t *testing.T) {
	type state struct{ audio, video, byHost, canUnmute bool }
	tests := []struct {
		name     string
		prepare  func(r *room, p *conn) // by the host or p
		caller   string                 // "p" or "host"
		req      meeting.SetMuted
		code     wire.Code
		want     state // the caller's state afterwards
		changed  bool
		media    func(id, pid string) []meetingtest.MediaCall
		keyframe bool
	}{
		{name: "mute audio", req: meeting.SetMuted{Kind: wire.KindAudio, Muted: true},
			want: state{audio: true, canUnmute: true}, changed: true,
			media: oneGate(wire.KindAudio, false)},
		{name: "unmute audio that is not muted", req: meeting.SetMuted{Kind: wire.KindAudio, Muted: false},
			want: state{canUnmute: true}},
		{name: "mute audio twice", prepare: selfMute(wire.KindAudio), req: meeting.SetMuted{Kind: wire.KindAudio, Muted: true},
			want: state{audio: true, canUnmute: true}},
		{name: "unmute own audio", prepare: selfMute(wire.KindAudio), req: meeting.SetMuted{Kind: wire.KindAudio},
			want: state{canUnmute: true}, changed: true,
			media: oneGate(wire.KindAudio, true)},
		{name: "mute video", req: meeting.SetMuted{Kind: wire.KindVideo, Muted: true},
			want: state{video: true, canUnmute: true}, changed: true,
			media: oneGate(wire.KindVideo, false)},
		{name: "unmute video asks for a keyframe", prepare: selfMute(wire.KindVideo), req: meeting.SetMuted{Kind: wire.KindVideo},
			want: state{canUnmute: true}, changed: true,
			media: func(id, pid string) []meetingtest.MediaCall {
				return []meetingtest.MediaCall{gate(id, pid, wire.KindVideo, true), {Op: "RequestKeyframe", MeetingID: id, ParticipantID: pid}}
			}},
		{name: "unmute video that is not muted", req: meeting.SetMuted{Kind: wire.KindVideo}, want: state{canUnmute: true}},
		{name: "unmute audio muted by host without permission", prepare: hostMutes(false), req: meeting.SetMuted{Kind: wire.KindAudio},
			code: wire.CodeForbidden, want: state{audio: true, byHost: true}},
		{name: "mute audio muted by host: no change", prepare: hostMutes(false), req: meeting.SetMuted{Kind: wire.KindAudio, Muted: true},
			want: state{audio: true, byHost: true}},
		{name: "video works while muted by host", prepare: hostMutes(false), req: meeting.SetMuted{Kind: wire.KindVideo, Muted: true},
			want: state{audio: true, video: true, byHost: true}, changed: true,
			media: oneGate(wire.KindVideo, false)},
		{name: "unmute muted by host with permission clears mutedByHost", prepare: hostMutes(true), req: meeting.SetMuted{Kind: wire.KindAudio},
			want: state{canUnmute: true}, changed: true,
			media: hostMuteEnds},
		{name: "unmute after allowUnmute", prepare: func(r *room, p *conn) {
			hostMutes(false)(r, p)
			r.do(r.host, meeting.AllowUnmute{ParticipantID: p.id()})
		}, req: meeting.SetMuted{Kind: wire.KindAudio}, want: state{canUnmute: true}, changed: true,
			media: hostMuteEnds},
		{name: "unmute after muteAll then allowUnmute for everyone", prepare: func(r *room, p *conn) {
			r.do(r.host, meeting.MuteAll{})
			r.do(r.host, meeting.AllowUnmute{})
		}, req: meeting.SetMuted{Kind: wire.KindAudio}, want: state{canUnmute: true}, changed: true,
			media: hostMuteEnds},
		{name: "unknown kind", req: meeting.SetMuted{Kind: "screen", Muted: true}, code: wire.CodeBadRequest, want: state{canUnmute: true}},
		{name: "empty kind", req: meeting.SetMuted{}, code: wire.CodeBadRequest, want: state{canUnmute: true}},
		{name: "host mutes itself", caller: "host", req: meeting.SetMuted{Kind: wire.KindAudio, Muted: true},
			want: state{audio: true, canUnmute: true}, changed: true,
			media: oneGate(wire.KindAudio, false)},
		{name: "host unmutes after muteAll (the host is never muted by it)", caller: "host", prepare: func(r *room, p *conn) {
			r.do(r.host, meeting.SetMuted{Kind: wire.KindAudio, Muted: true})
			r.do(r.host, meeting.MuteAll{})
		}, req: meeting.SetMuted{Kind: wire.KindAudio}, want: state{canUnmute: true}, changed: true,
			media: oneGate(wire.KindAudio, true)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newEnv(t).room(2)
			p := r.ps[0]
			if tt.prepare != nil {
				tt.prepare(r, p)
			}
			caller := p
			if tt.caller == "host" {
				caller = r.host
			}
			r.quiet()
			before := r.participant(caller.id())
			err := caller.m.Do(r.ctx, tt.req)
			wantCode(t, err, tt.code)

			got := r.participant(caller.id())
			want := before
			want.AudioMuted, want.VideoMuted, want.MutedByHost, want.CanUnmute = tt.want.audio, tt.want.video, tt.want.byHost, tt.want.canUnmute
			if got != want {
				t.Fatalf("state %+v, want %+v", got, want)
			}
			checkInvariants(t, got)
			var wantEv []wire.Event
			if tt.changed {
				wantEv = []wire.Event{updated(want)}
			}
			for _, c := range r.everyone() {
				wantEvents(t, c.name, c.sink.Take(), wantEv)
			}
			var wantMedia []meetingtest.MediaCall
			if tt.media != nil {
				wantMedia = tt.media(r.id(), caller.id())
			}
			wantCalls(t, r.media.Take(), wantMedia)
			// The gate follows the mute state exactly.
			for _, k := range []wire.Kind{wire.KindAudio, wire.KindVideo} {
				muted := map[wire.Kind]bool{wire.KindAudio: got.AudioMuted, wire.KindVideo: got.VideoMuted}[k]
				src := map[wire.Kind]wire.Source{wire.KindAudio: wire.SourceMicrophone, wire.KindVideo: wire.SourceCamera}[k]
				if fwd, _ := r.media.Forwarding(r.id(), caller.id(), src); fwd == muted {
					t.Errorf("%s gate forward=%t while muted=%t", k, fwd, muted)
				}
			}
		})
	}
}

// checkInvariants checks the protocol's rules on one participant's state: canUnmute is false
// only while muted by the host, and muted by the host means the audio is muted.
func checkInvariants(t testing.TB, p wire.Participant) {
	t.Helper()
	if !p.CanUnmute && !p.MutedByHost {
		t.Fatalf("canUnmute false without mutedByHost: %+v", p)
	}
	if p.MutedByHost && !p.AudioMuted {
		t.Fatalf("mutedByHost with audio not muted: %+v", p)
	}
	if p.Role == wire.RoleHost && (p.MutedByHost || !p.CanUnmute) {
		t.Fatalf("the host is muted by the host: %+v", p)
	}
}

// hostMuteEnds is what a permitted unmute after the host's mute opens: the microphone, and the
// screen's audio that the host's mute had closed too.
func hostMuteEnds(id, pid string) []meetingtest.MediaCall {
	return []meetingtest.MediaCall{gate(id, pid, wire.KindAudio, true), sourceGate(id, pid, wire.SourceScreenAudio, true)}
}

func oneGate(k wire.Kind, forward bool) func(id, pid string) []meetingtest.MediaCall {
	return func(id, pid string) []meetingtest.MediaCall {
		return []meetingtest.MediaCall{gate(id, pid, k, forward)}
	}
}

func selfMute(k wire.Kind) func(*room, *conn) {
	return func(r *room, p *conn) { r.do(p, meeting.SetMuted{Kind: k, Muted: true}) }
}

func hostMutes(allow bool) func(*room, *conn) {
	return func(r *room, p *conn) {
		r.do(r.host, meeting.MuteParticipant{ParticipantID: p.id(), AllowSelfUnmute: allow})
	}
}

// TestServerEnforcedMuteFlow follows one participant through the protocol's story: muted by the
// host, its client's unmute refused, allowed, unmuted; the gate is open exactly when it should be.
func TestServerEnforcedMuteFlow(t *testing.T) {
	r := newEnv(t).room(1)
	p := r.ps[0]
	forwarded := func() bool {
		fwd, known := r.media.Forwarding(r.id(), p.id(), wire.SourceMicrophone)
		if !known {
			t.Fatal("no gate state for the participant")
		}
		return fwd
	}
	if !forwarded() {
		t.Fatal("a fresh participant's audio is not forwarded")
	}
	r.do(r.host, meeting.MuteAll{})
	if forwarded() {
		t.Fatal("forwarded after muteAll")
	}
	wantCode(t, p.m.Do(r.ctx, meeting.SetMuted{Kind: wire.KindAudio}), wire.CodeForbidden)
	if forwarded() {
		t.Fatal("forwarded after a refused unmute")
	}
	r.do(r.host, meeting.AllowUnmute{})
	if forwarded() {
		t.Fatal("forwarded after allowUnmute, before the participant unmuted")
	}
	r.do(p, meeting.SetMuted{Kind: wire.KindAudio})
	if !forwarded() {
		t.Fatal("not forwarded after a permitted unmute")
	}
	if got := r.participant(p.id()); got.AudioMuted || got.MutedByHost || !got.CanUnmute {
		t.Fatalf("after unmute: %+v", got)
	}
}
