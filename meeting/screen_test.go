package meeting_test

import (
	"testing"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/meeting/meetingtest"
	"github.com/parleyhq/parley/wire"
)

var screenSources = []wire.Source{wire.SourceMicrophone, wire.SourceScreen, wire.SourceScreenAudio}

// share makes c a sharer as signaling would: its offer with a screen is taken, and the media
// server then receives the screen.
func (r *room) share(c *conn) {
	r.t.Helper()
	if err := c.m.MayOffer(screenSources); err != nil {
		r.t.Fatalf("%s: MayOffer: %v", c.name, err)
	}
	c.m.Offered(screenSources)
	c.m.Published(screenSources)
}

func sharingP(p wire.Participant) wire.Participant {
	p.ScreenSharing = true
	return p
}

// TestScreenShareStarts: a share starts once its screen arrives, and everyone is told.
func TestScreenShareStarts(t *testing.T) {
	r := newEnv(t).room(1)
	p1 := r.ps[0]
	p1.m.Offered(screenSources)
	r.noEvents() // offered, not yet received: nobody shares yet
	p1.m.Published(screenSources)
	want := wire.Participant{ID: p1.id(), Name: p1.name, Role: wire.RoleParticipant, CanUnmute: true, ScreenSharing: true}
	for _, c := range r.everyone() {
		wantEvents(t, c.name, c.sink.Take(), []wire.Event{updated(want)})
	}
	r.noMedia() // its gates were open all along
	if st := r.svc.Stats(); st.ScreenSharesStarted != 1 {
		t.Errorf("stats %+v", st)
	}
	// The screen ends (the sharer stopped it): sharing ends, told to everyone.
	p1.m.Published([]wire.Source{wire.SourceMicrophone})
	want.ScreenSharing = false
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{updated(want)})
	if st := r.svc.Stats(); st.ScreenSharesStoppedSelf != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestStopScreenShare: the host's stop closes both screen gates before anyone is told; the
// sharer gets screenShareStopped; everyone sees screenSharing false; a new offer with a screen
// opens them again. Without a share running it is ok and says nothing; the microphone and camera
// are not touched.
func TestStopScreenShare(t *testing.T) {
	r := newEnv(t).room(2)
	p1, p2 := r.ps[0], r.ps[1]
	r.share(p1)
	r.quiet()
	r.media.Take()

	r.do(r.host, meeting.StopScreenShare{ParticipantID: p1.id()})
	wantCalls(t, r.media.Take(), []meetingtest.MediaCall{{Op: "SetForwardingMany", MeetingID: r.id(), Gates: []meeting.Gate{
		{ParticipantID: p1.id(), Source: wire.SourceScreen}, {ParticipantID: p1.id(), Source: wire.SourceScreenAudio},
	}}})
	gatesCloseBeforeEvents(t, r.trace.Entries())
	stopped := wire.Participant{ID: p1.id(), Name: p1.name, Role: wire.RoleParticipant, CanUnmute: true}
	wantEvents(t, "P1", p1.sink.Take(), []wire.Event{wire.ScreenShareStopped{}, updated(stopped)})
	wantEvents(t, "P2", p2.sink.Take(), []wire.Event{updated(stopped)})
	for _, src := range []wire.Source{wire.SourceMicrophone, wire.SourceCamera} {
		if fwd, known := r.media.Forwarding(r.id(), p1.id(), src); !fwd || !known {
			t.Errorf("the %s gate was touched: %t %t", src, fwd, known)
		}
	}

	// Nothing running: ok, nothing said, nothing done.
	r.quiet()
	r.do(r.host, meeting.StopScreenShare{ParticipantID: p1.id()})
	r.do(r.host, meeting.StopScreenShare{ParticipantID: p2.id()})
	r.noEvents()
	r.noMedia()
	wantCode(t, r.host.m.Do(r.ctx, meeting.StopScreenShare{ParticipantID: "nobody"}), wire.CodeNotFound)
	wantCode(t, p2.m.Do(r.ctx, meeting.StopScreenShare{ParticipantID: p1.id()}), wire.CodeForbidden)

	// The client keeps its old offer on a renegotiation without the screen: still stopped.
	p1.m.Offered([]wire.Source{wire.SourceMicrophone})
	r.noMedia()
	// Sharing again: a new offer with a screen opens the gates; the screen still arrives.
	p1.m.Offered(screenSources)
	wantCalls(t, r.media.Take(), []meetingtest.MediaCall{{Op: "SetForwardingMany", MeetingID: r.id(), Gates: []meeting.Gate{
		{ParticipantID: p1.id(), Source: wire.SourceScreen, Forward: true}, {ParticipantID: p1.id(), Source: wire.SourceScreenAudio, Forward: true},
	}}})
	wantEvents(t, "P2", p2.sink.Take(), []wire.Event{updated(sharingP(stopped))})
	if st := r.svc.Stats(); st.ScreenSharesStoppedHost != 1 || st.ScreenSharesStarted != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestScreenShareAllowed: turned off, every participant's screen gates close (a running share is
// stopped and its sharer told), an offer with a screen from anyone but the host is forbidden, a
// joiner comes in with its screen gates closed; the host still shares. Turned on again, the
// gates of those not stopped open. The record keeps it; both changes are meetingUpdated.
func TestScreenShareAllowed(t *testing.T) {
	r := newEnv(t).room(2)
	p1, p2 := r.ps[0], r.ps[1]
	r.share(p1)
	r.quiet()
	r.media.Take()

	r.do(r.host, meeting.SetScreenShareAllowed{Allowed: false})
	wantCalls(t, r.media.Take(), []meetingtest.MediaCall{{Op: "SetForwardingMany", MeetingID: r.id(), Gates: []meeting.Gate{
		{ParticipantID: p1.id(), Source: wire.SourceScreen}, {ParticipantID: p1.id(), Source: wire.SourceScreenAudio},
		{ParticipantID: p2.id(), Source: wire.SourceScreen}, {ParticipantID: p2.id(), Source: wire.SourceScreenAudio},
	}}})
	gatesCloseBeforeEvents(t, r.trace.Entries())
	off := wire.MeetingUpdated{Meeting: wire.MeetingView{MeetingID: r.id(), State: wire.StateOpen, ChatAllowed: true}}
	stopped := wire.Participant{ID: p1.id(), Name: p1.name, Role: wire.RoleParticipant, CanUnmute: true}
	wantEvents(t, "P1", p1.sink.Take(), []wire.Event{off, wire.ScreenShareStopped{}, updated(stopped)})
	wantEvents(t, "P2", p2.sink.Take(), []wire.Event{off, updated(stopped)})
	if !r.record().ScreenShareDisabled {
		t.Error("the record allows sharing")
	}
	wantCode(t, p2.m.MayOffer(screenSources), wire.CodeForbidden)
	wantCode(t, p2.m.MayOffer([]wire.Source{wire.SourceScreenAudio}), wire.CodeForbidden)
	if err := p2.m.MayOffer([]wire.Source{wire.SourceMicrophone, wire.SourceCamera}); err != nil {
		t.Errorf("a camera offer while sharing is off: %v", err)
	}
	r.share(r.host)
	if !r.participant(r.host.id()).ScreenSharing {
		t.Error("the host cannot share while sharing is off for the others")
	}
	// Again: no change, no event.
	r.quiet()
	r.media.Take()
	r.do(r.host, meeting.SetScreenShareAllowed{Allowed: false})
	r.noEvents()
	r.noMedia()
	late := r.join(r.id(), "Late", "")
	if fwd, known := r.media.Forwarding(r.id(), late.id(), wire.SourceScreen); fwd || !known {
		t.Errorf("a joiner's screen gate while sharing is off: %t %t", fwd, known)
	}

	r.quiet()
	r.media.Take()
	r.do(r.host, meeting.SetScreenShareAllowed{Allowed: true})
	// P1 was stopped (it shares again with a new offer); the others may share at once.
	wantCalls(t, r.media.Take(), []meetingtest.MediaCall{{Op: "SetForwardingMany", MeetingID: r.id(), Gates: []meeting.Gate{
		{ParticipantID: p2.id(), Source: wire.SourceScreen, Forward: true}, {ParticipantID: p2.id(), Source: wire.SourceScreenAudio, Forward: true},
		{ParticipantID: late.id(), Source: wire.SourceScreen, Forward: true}, {ParticipantID: late.id(), Source: wire.SourceScreenAudio, Forward: true},
	}}})
	if fwd, _ := r.media.Forwarding(r.id(), p1.id(), wire.SourceScreen); fwd {
		t.Error("the stopped share came back without a new offer")
	}
	if snap := r.snapshot(); !snap.Meeting.ScreenShareAllowed {
		t.Error("snapshot says sharing is off")
	}
}

// TestHostMuteGatesScreenAudio: the host's mute closes the screen's audio with the microphone
// (the screen's picture goes on); the participant's own mute closes only the microphone.
func TestHostMuteGatesScreenAudio(t *testing.T) {
	r := newEnv(t).room(1)
	p1 := r.ps[0]
	r.share(p1)
	r.quiet()
	r.media.Take()
	r.do(p1, meeting.SetMuted{Kind: wire.KindAudio, Muted: true})
	wantCalls(t, r.media.Take(), []meetingtest.MediaCall{gate(r.id(), p1.id(), wire.KindAudio, false)})
	r.do(p1, meeting.SetMuted{Kind: wire.KindAudio, Muted: false})
	r.media.Take()
	r.do(r.host, meeting.MuteParticipant{ParticipantID: p1.id(), AllowSelfUnmute: true})
	for src, want := range map[wire.Source]bool{wire.SourceMicrophone: false, wire.SourceScreenAudio: false, wire.SourceScreen: true} {
		// A gate never set is open: Media's gates start so.
		if fwd, known := r.media.Forwarding(r.id(), p1.id(), src); (fwd || !known) != want {
			t.Errorf("after the host's mute, %s forwarded = %t", src, fwd)
		}
	}
	if !r.participant(p1.id()).ScreenSharing {
		t.Error("the host's mute stopped the screen share")
	}
}

// TestActiveSpeakers: the media server's list goes to everyone when it changes, without the
// muted and those not in the meeting; a joiner is told the list of the moment.
func TestActiveSpeakers(t *testing.T) {
	r := newEnv(t).room(2)
	p1, p2 := r.ps[0], r.ps[1]
	r.svc.SetActiveSpeakers(r.id(), []string{p2.id(), "gone", p1.id()})
	ev := wire.ActiveSpeakers{Speakers: []string{p2.id(), p1.id()}}
	for _, c := range r.everyone() {
		wantEvents(t, c.name, c.sink.Take(), []wire.Event{ev})
	}
	r.svc.SetActiveSpeakers(r.id(), []string{p2.id(), p1.id()}) // no change: nothing
	r.noEvents()
	r.do(p2, meeting.SetMuted{Kind: wire.KindAudio, Muted: true})
	r.quiet()
	r.svc.SetActiveSpeakers(r.id(), []string{p2.id(), p1.id()}) // a muted one is left out
	wantEvents(t, "host", r.host.sink.Take(), []wire.Event{wire.ActiveSpeakers{Speakers: []string{p1.id()}}})
	late := r.join(r.id(), "Late", "")
	if evs := late.sink.Take(); len(evs) != 1 || evs[0].EventType() != "activeSpeakers" {
		t.Errorf("the joiner got %v, want the speakers of the moment", fmtEvents(evs))
	}
	r.svc.SetActiveSpeakers("nosuchmeeting", []string{p1.id()}) // nothing, no panic
	if st := r.svc.Stats(); st.ActiveSpeakerChanges != 2 {
		t.Errorf("stats %+v, want 2 changes", st)
	}
}

// TestScreenShareAudit: the host's screen-share requests are in the audit log, stopScreenShare
// with its target by name, setScreenShareAllowed with what it set.
func TestScreenShareAudit(t *testing.T) {
	r := newEnv(t).room(1)
	p1 := r.ps[0]
	r.share(p1)
	r.do(r.host, meeting.StopScreenShare{ParticipantID: p1.id()})
	r.do(r.host, meeting.SetScreenShareAllowed{Allowed: false})
	entries, err := r.svc.Audit(r.ctx, r.id(), r.created.HostKey)
	if err != nil {
		t.Fatal(err)
	}
	var stop, allowed *wire.AuditEntry
	for i := range entries {
		switch entries[i].Action {
		case wire.TypeStopScreenShare:
			stop = &entries[i]
		case wire.TypeSetScreenShareAllowed:
			allowed = &entries[i]
		}
	}
	if stop == nil || stop.By != r.host.id() || stop.Target != p1.id() || stop.TargetName != p1.name {
		t.Errorf("stopScreenShare entry %+v", stop)
	}
	if allowed == nil || allowed.Detail["allowed"] != false {
		t.Errorf("setScreenShareAllowed entry %+v", allowed)
	}
}
