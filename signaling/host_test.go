package signaling_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/internal/rtpstats"
)

// TestMuteAllStopsAudioAtTheServer: after the ok of muteAll, while the muted clients keep
// sending audio, subscribers get none of it; video and the host's audio still arrive. After
// allowUnmute and setMuted, audio flows again with no sequence gap at the receivers.
func TestMuteAllStopsAudioAtTheServer(t *testing.T) {
	e := newEnv(t)
	m := e.create("Ada")
	host := e.member(t, m.MeetingID, "Ada", m.HostKey, true)
	grace := e.member(t, m.MeetingID, "Grace", "", true)
	linus := e.member(t, m.MeetingID, "Linus", "", true)
	guests := []*client.Client{grace, linus}
	for _, g := range guests {
		grows(t, host, g, client.Audio, 20)
		grows(t, g, host, client.Audio, 20)
	}

	request(t, host, "muteAll", map[string]any{"allowSelfUnmute": false})
	// The gate closed before this ok was sent. A packet the server wrote just before may still be
	// in the receiver's UDP path, which a separate goroutine reads: snapshot once that settles.
	atOK := map[[2]*client.Client]rtpstats.Counts{}
	rxs := []*client.Client{host, grace, linus}
	for _, rx := range rxs {
		for _, g := range guests {
			if rx != g {
				atOK[[2]*client.Client{rx, g}] = rx.Received(g.ParticipantID(), client.Audio)
			}
		}
	}
	for _, g := range guests {
		ev := waitEvent(t, g, "mutedByHost", nil)
		var mb struct{ AllowSelfUnmute bool }
		decode(t, ev, &mb)
		if mb.AllowSelfUnmute {
			t.Fatalf("mutedByHost = %s", ev.Raw)
		}
	}
	sentBefore := grace.PublishStats()

	// Two seconds of the host's audio at every guest; the guests' clients keep sending.
	grows(t, grace, host, client.Audio, 50)
	settled := snapshotAudio(rxs, guests)
	grows(t, grace, host, client.Audio, 50)
	grows(t, linus, host, client.Audio, 50)
	for _, g := range guests {
		grows(t, host, g, client.Video, 15) // video untouched
	}
	for key, before := range atOK {
		rx, g := key[0], key[1]
		now := rx.Received(g.ParticipantID(), client.Audio).Packets
		if now != settled[key].Packets {
			t.Errorf("%s received %d audio packets of muted %s", name(rx), now-settled[key].Packets, name(g))
		}
		if now-before.Packets > 1 {
			t.Errorf("%s received %d audio packets of %s after the ok", name(rx), now-before.Packets, name(g))
		}
	}
	if sent := grace.PublishStats(); !sentMore(sentBefore, sent) {
		t.Fatalf("the muted client stopped sending (%+v -> %+v): the test proves nothing", sentBefore, sent)
	}
	if st := e.media.Stats(); st.PacketsDropped["muted"] == 0 {
		t.Errorf("no packets counted as dropped by the mute gate: %+v", st.PacketsDropped)
	}
	if !strings.Contains(metricText(t, e), `parley_host_actions_total{type="muteAll"} 1`) {
		t.Error("host action not counted")
	}

	// Unmuting is refused until the host allows it; then audio flows again without a gap.
	requestError(t, grace, "setMuted", map[string]any{"kind": "audio", "muted": false}, "forbidden")
	mark := grace.Mark()
	request(t, host, "allowUnmute", map[string]any{"participantId": grace.ParticipantID()})
	ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
	defer cancel()
	if _, err := grace.WaitFrom(ctx, mark, client.OfType("unmuteAllowed")); err != nil {
		t.Fatalf("no unmuteAllowed: %v", err)
	}
	beforeUnmute := host.Received(grace.ParticipantID(), client.Audio)
	shed := e.shed()
	request(t, grace, "setMuted", map[string]any{"kind": "audio", "muted": false})
	after := grows(t, host, grace, client.Audio, 50)
	noGapButShed(t, "audio across the mute", beforeUnmute, after, e.shed()-shed)
	// The RTP clock moved on by about the time that passed (48 kHz Opus), not by the packets sent.
	if d := int64(after.LastTimestamp - beforeUnmute.LastTimestamp); d < 48000 {
		t.Errorf("audio timestamp moved %d ticks across a pause of over a second", d)
	}
	// Linus is still muted by the host.
	if n := host.Received(linus.ParticipantID(), client.Audio).Packets; n != settled[[2]*client.Client{host, linus}].Packets {
		t.Errorf("still-muted Linus's audio arrived (%d)", n)
	}
}

func snapshotAudio(rxs, guests []*client.Client) map[[2]*client.Client]rtpstats.Counts {
	out := map[[2]*client.Client]rtpstats.Counts{}
	for _, rx := range rxs {
		for _, g := range guests {
			if rx != g {
				out[[2]*client.Client{rx, g}] = rx.Received(g.ParticipantID(), client.Audio)
			}
		}
	}
	return out
}

func sentMore(a, b client.PublishStats) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) != string(y)
}

func name(c *client.Client) string { return c.Joined().Self.Name }

// TestLateJoinerUnderMuteLockIsMuted: a participant who joins while a mute-all without
// self-unmute is in force joins muted by the host, and its audio is not forwarded.
func TestLateJoinerUnderMuteLockIsMuted(t *testing.T) {
	e := newEnv(t)
	m := e.create("Ada")
	host := e.member(t, m.MeetingID, "Ada", m.HostKey, true)
	request(t, host, "muteAll", map[string]any{"allowSelfUnmute": false})
	late := e.member(t, m.MeetingID, "Late", "", true)
	self := late.Joined().Self
	if !self.AudioMuted || !self.MutedByHost || self.CanUnmute {
		t.Fatalf("late joiner's state = %+v", self)
	}
	grows(t, host, late, client.Video, 30)
	if n := host.Received(late.ParticipantID(), client.Audio).Packets; n != 0 {
		t.Fatalf("the late joiner's audio arrived: %d packets", n)
	}
	requestError(t, late, "setMuted", map[string]any{"kind": "audio", "muted": false}, "forbidden")
}

// TestSelfMuteGatesAtTheServer: a participant's own mute stops its media at the server too.
func TestSelfMuteGatesAtTheServer(t *testing.T) {
	e := newEnv(t)
	m := e.create("Ada")
	host := e.member(t, m.MeetingID, "Ada", m.HostKey, true)
	grace := e.member(t, m.MeetingID, "Grace", "", true)
	grows(t, host, grace, client.Video, 20)

	request(t, grace, "setMuted", map[string]any{"kind": "video", "muted": true})
	up := waitEvent(t, host, "participantUpdated", nil)
	if !strings.Contains(string(up.Raw), `"videoMuted":true`) {
		t.Fatalf("participantUpdated = %s", up.Raw)
	}
	before := host.Received(grace.ParticipantID(), client.Video)
	shed := e.shed()
	grows(t, host, grace, client.Audio, 50)
	if n := host.Received(grace.ParticipantID(), client.Video).Packets; n != before.Packets {
		t.Fatalf("self-muted video still arrived: %d -> %d", before.Packets, n)
	}
	request(t, grace, "setMuted", map[string]any{"kind": "video", "muted": false})
	after := waitReceived(t, host, grace, client.Video, "a keyframe after unmuting", func(c rtpstats.Counts) bool {
		return c.Keyframes > before.Keyframes && c.Packets > before.Packets+10
	})
	noGapButShed(t, "video across the pause", before, after, e.shed()-shed)
}

// TestTimerEndsInRealTime: a t15 timer reaches timerEnded at its endsAt, at every participant.
func TestTimerEndsInRealTime(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.create("Ada")
	host := e.member(t, m.MeetingID, "Ada", m.HostKey, false)
	guests := []*client.Client{e.member(t, m.MeetingID, "Grace", "", false), e.member(t, m.MeetingID, "Linus", "", false)}

	start := time.Now()
	request(t, host, "startTimer", map[string]any{"timerId": "t15"})
	var started struct {
		TimerID string
		Seconds int
		EndsAt  int64
	}
	for _, c := range append(guests, host) {
		decode(t, waitEvent(t, c, "timerStarted", nil), &started)
		if started.TimerID != "t15" || started.Seconds != 15 {
			t.Fatalf("timerStarted = %+v", started)
		}
	}
	if ends := time.UnixMilli(started.EndsAt); ends.Before(start.Add(15*time.Second-time.Second)) || ends.After(time.Now().Add(15*time.Second+time.Second)) {
		t.Fatalf("endsAt %v is not 15 s after %v", ends, start)
	}
	// A late joiner sees the running timer.
	late := e.member(t, m.MeetingID, "Late", "", false)
	if tm := late.Joined().Timer; tm == nil || tm.TimerID != "t15" || tm.EndsAt != started.EndsAt {
		t.Fatalf("late joiner's timer = %+v", tm)
	}
	for _, c := range append(guests, host, late) {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		msg, err := c.WaitFor(ctx, client.OfType("timerEnded"))
		cancel()
		if err != nil {
			t.Fatalf("%s: no timerEnded: %v", name(c), err)
		}
		if msg.At.Before(time.UnixMilli(started.EndsAt)) {
			t.Errorf("%s: timerEnded at %v, before endsAt %v", name(c), msg.At, time.UnixMilli(started.EndsAt))
		}
		if !strings.Contains(string(msg.Raw), `"timerId":"t15"`) {
			t.Errorf("timerEnded = %s", msg.Raw)
		}
	}
	requestError(t, host, "startTimer", map[string]any{"timerId": "t20"}, "bad_request")
}

// TestKick: the removed participant is told and closed, its media leaves everyone, the others
// see participantLeft with reason kicked.
func TestKick(t *testing.T) {
	e := newEnv(t)
	m := e.create("Ada")
	host := e.member(t, m.MeetingID, "Ada", m.HostKey, true)
	grace := e.member(t, m.MeetingID, "Grace", "", true)
	linus := e.member(t, m.MeetingID, "Linus", "", true)
	grows(t, host, grace, client.Video, 15)
	grows(t, linus, grace, client.Video, 15)
	graceID := grace.ParticipantID()

	requestError(t, host, "kick", map[string]any{"participantId": host.ParticipantID()}, "bad_request")
	requestError(t, host, "kick", map[string]any{"participantId": "nobody"}, "not_found")
	request(t, host, "kick", map[string]any{"participantId": graceID})
	waitEvent(t, grace, "kicked", nil)
	waitClosed(t, grace)
	for _, c := range []*client.Client{host, linus} {
		ev := waitEvent(t, c, "participantLeft", nil)
		if !strings.Contains(string(ev.Raw), `"reason":"kicked"`) || !strings.Contains(string(ev.Raw), graceID) {
			t.Fatalf("participantLeft = %s", ev.Raw)
		}
		waitTrackGone(t, c, graceID, client.Audio)
		waitTrackGone(t, c, graceID, client.Video)
	}
	assertSilent(t, host, graceID, linus)
	await.Until(t, "the kicked peer to be gone from the sfu", func() bool { return e.media.Stats().Peers == 2 })
}

// TestLock: locked meetings refuse joins without the hostKey; the host still gets in.
func TestLock(t *testing.T) {
	e := newEnv(t)
	m := e.create("Ada")
	host := e.member(t, m.MeetingID, "Ada", m.HostKey, false)
	grace := e.member(t, m.MeetingID, "Grace", "", false)
	request(t, host, "setLocked", map[string]any{"locked": true})
	ev := waitEvent(t, grace, "meetingUpdated", nil)
	if !strings.Contains(string(ev.Raw), `"locked":true`) {
		t.Fatalf("meetingUpdated = %s", ev.Raw)
	}
	ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
	defer cancel()
	_, err := client.Dial(ctx, client.Options{BaseURL: e.url, MeetingID: m.MeetingID, Name: "Eve", Loopback: true})
	if !isProtocolError(err, "meeting_locked") {
		t.Fatalf("join of a locked meeting: %v", err)
	}
	if _, body := e.get("/api/meetings/" + m.MeetingID); !strings.Contains(string(body), `"locked":true`) {
		t.Fatalf("GET = %s", body)
	}
	// The host's own second connection gets in (and replaces the first).
	again := e.member(t, m.MeetingID, "Ada", m.HostKey, false)
	if again.Joined().Role != "host" {
		t.Fatalf("host rejoin: %+v", again.Joined())
	}
	waitEvent(t, host, "replaced", nil)
	request(t, again, "setLocked", map[string]any{"locked": false})
	e.member(t, m.MeetingID, "Eve", "", false)
}

// TestEndMeeting: everyone is told and closed, media stops, the meeting is ended for good and
// its live state is released.
func TestEndMeeting(t *testing.T) {
	e := newEnv(t)
	m := e.create("Ada")
	host := e.member(t, m.MeetingID, "Ada", m.HostKey, true)
	grace := e.member(t, m.MeetingID, "Grace", "", true)
	linus := e.member(t, m.MeetingID, "Linus", "", true)
	other := e.create("Bob")
	bob := e.member(t, other.MeetingID, "Bob", other.HostKey, true)
	barbara := e.member(t, other.MeetingID, "Barbara", "", true)
	grows(t, grace, linus, client.Video, 15)
	grows(t, barbara, bob, client.Video, 15)

	request(t, host, "endMeeting", nil)
	for _, c := range []*client.Client{host, grace, linus} {
		waitEvent(t, c, "meetingEnded", nil)
		waitClosed(t, c)
	}
	status, body := e.get("/api/meetings/" + m.MeetingID)
	if status != http.StatusOK || !strings.Contains(string(body), `"state":"ended"`) || !strings.Contains(string(body), `"participantCount":0`) {
		t.Fatalf("GET after end = %d %s", status, body)
	}
	ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
	defer cancel()
	_, err := client.Dial(ctx, client.Options{BaseURL: e.url, MeetingID: m.MeetingID, Name: "Late", Loopback: true})
	if !isProtocolError(err, "meeting_ended") {
		t.Fatalf("join after end: %v", err)
	}
	await.Until(t, "the ended meeting's peers and tracks to go", func() bool {
		st := e.media.Stats()
		return st.Rooms == 1 && st.Peers == 2 && st.Tracks == 4
	})
	if n := e.meetings.LiveMeetings(); n != 1 {
		t.Errorf("%d live meetings after ending one of two", n)
	}
	// The other meeting never noticed.
	grows(t, barbara, bob, client.Video, 30)
	grows(t, bob, barbara, client.Audio, 30)
}

// TestHostReconnectPublishesAnew: the replacing host connection keeps the participant id and
// its new media reaches the others.
func TestHostReconnectPublishesAnew(t *testing.T) {
	e := newEnv(t)
	m := e.create("Ada")
	old := e.member(t, m.MeetingID, "Ada", m.HostKey, true)
	grace := e.member(t, m.MeetingID, "Grace", "", false)
	grows(t, grace, old, client.Video, 15)

	fresh := e.member(t, m.MeetingID, "Ada", m.HostKey, true)
	if fresh.ParticipantID() != old.ParticipantID() {
		t.Fatalf("new host id %s, was %s", fresh.ParticipantID(), old.ParticipantID())
	}
	waitEvent(t, old, "replaced", nil)
	waitClosed(t, old)
	got := waitReceived(t, grace, fresh, client.Video, "the new connection's video", func(c rtpstats.Counts) bool { return c.Tracks >= 2 && c.Packets > 0 })
	grows(t, grace, fresh, client.Video, 30)
	if got.Tracks < 2 {
		t.Fatalf("counts = %+v", got)
	}
	for _, msg := range grace.Messages() {
		if msg.Type == "participantLeft" {
			t.Fatalf("the others saw a leave: %s", msg.Raw)
		}
	}
}
