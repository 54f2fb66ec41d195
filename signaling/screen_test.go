package signaling_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/internal/rtpstats"
	"github.com/parleyhq/parley/wire"
)

// publishWith publishes what opts ask on c, failing the test on an error.
func publishWith(t *testing.T, c *client.Client, opts client.PublishOptions) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
	defer cancel()
	if err := c.Publish(ctx, opts); err != nil {
		t.Fatalf("%s: publish: %v", c.Joined().Self.Name, err)
	}
}

// sourceGrows waits until c has received n more packets of pub's source than it had.
func sourceGrows(t *testing.T, c, pub *client.Client, src wire.Source, n uint64) rtpstats.Counts {
	t.Helper()
	from := c.ReceivedSource(pub.ParticipantID(), src).Packets
	ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
	defer cancel()
	got, err := c.WaitReceivedSource(ctx, pub.ParticipantID(), src, func(x rtpstats.Counts) bool { return x.Packets >= from+n })
	if err != nil {
		t.Fatalf("%s: %s of %s did not grow by %d: %v", c.Joined().Self.Name, src, pub.Joined().Self.Name, n, err)
	}
	return got
}

// sharing waits until c is told that p's screenSharing is want.
func sharing(t *testing.T, c, p *client.Client, want bool) {
	t.Helper()
	waitEvent(t, c, "participantUpdated", func(m client.Message) bool {
		var u wire.ParticipantUpdated
		return m.Decode(&u) == nil && u.Participant.ID == p.ParticipantID() && u.Participant.ScreenSharing == want
	})
}

const screenRate = 300_000

// TestScreenShareStoppedByHost: a guest publishes microphone, camera, screen and the screen's
// audio; the others receive four tracks whose ids are the source names, and see screenSharing.
// The host stops the share: before the host's ok the gates are shut, so from that ok on not one
// screen packet reaches anyone, counted while the guest's client keeps sending; the camera and
// microphone go on; the guest gets screenShareStopped.
func TestScreenShareStoppedByHost(t *testing.T) {
	e := newEnv(t)
	m := e.create("Ada")
	host := e.member(t, m.MeetingID, "Ada", m.HostKey, false)
	bob := e.member(t, m.MeetingID, "Bob", "", false)
	guest := e.member(t, m.MeetingID, "Grace", "", false)
	publishWith(t, guest, client.PublishOptions{Audio: true, Video: true, Screen: true, ScreenAudio: true,
		VideoBitrate: screenRate, FPS: 15})

	for _, rx := range []*client.Client{host, bob} {
		ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
		err := rx.WaitTracks(ctx, func(tr map[client.TrackKey]client.TrackInfo) bool {
			for _, src := range []wire.Source{wire.SourceMicrophone, wire.SourceCamera, wire.SourceScreen, wire.SourceScreenAudio} {
				if info, ok := tr[client.SourceKey(guest.ParticipantID(), src)]; !ok || info.TrackID != string(src) {
					return false
				}
			}
			return true
		})
		cancel()
		if err != nil {
			t.Fatalf("%s: the guest's four tracks with source ids: %v (have %v)", rx.Joined().Self.Name, err, rx.Tracks())
		}
		sharing(t, rx, guest, true)
		sourceGrows(t, rx, guest, wire.SourceScreen, 30)
		sourceGrows(t, rx, guest, wire.SourceScreenAudio, 20)
	}

	request(t, host, wire.TypeStopScreenShare, map[string]any{"participantId": guest.ParticipantID()})
	// From the ok on, nothing more of the screen: counts taken now may only grow by packets
	// already on the wire before the gate closed, which arrive within a moment; after that, none.
	waitEvent(t, guest, "screenShareStopped", nil)
	sharing(t, bob, guest, false)
	settle := map[*client.Client][2]uint64{}
	for _, rx := range []*client.Client{host, bob} {
		// Camera packets forwarded after the ok arrive behind any screen packet forwarded
		// before it: once some have landed, what was in flight has too.
		sourceGrows(t, rx, guest, wire.SourceCamera, 20)
		settle[rx] = [2]uint64{rx.ReceivedSource(guest.ParticipantID(), wire.SourceScreen).Packets,
			rx.ReceivedSource(guest.ParticipantID(), wire.SourceScreenAudio).Packets}
	}
	sentBefore := guest.PublishStats()
	for _, rx := range []*client.Client{host, bob} {
		sourceGrows(t, rx, guest, wire.SourceCamera, 60)
		sourceGrows(t, rx, guest, wire.SourceMicrophone, 40)
	}
	sent := guest.PublishStats()
	if sent.ScreenPackets-sentBefore.ScreenPackets < 30 || sent.ScreenAudioPackets-sentBefore.ScreenAudioPackets < 20 {
		t.Fatalf("the guest's client stopped sending its screen (%+v then %+v): the test proves nothing", sentBefore, sent)
	}
	for _, rx := range []*client.Client{host, bob} {
		got := [2]uint64{rx.ReceivedSource(guest.ParticipantID(), wire.SourceScreen).Packets,
			rx.ReceivedSource(guest.ParticipantID(), wire.SourceScreenAudio).Packets}
		if got != settle[rx] {
			t.Errorf("%s received screen packets after the host stopped the share: %v then %v", rx.Joined().Self.Name, settle[rx], got)
		}
	}
	if st := e.meetings.Stats(); st.ScreenSharesStarted != 1 || st.ScreenSharesStoppedHost != 1 {
		t.Errorf("stats %+v, want one share started and one stopped by the host", st)
	}
	if text := metricText(t, e); !strings.Contains(text, `parley_screen_shares_stopped_total{by="host"} 1`) {
		t.Errorf("metrics lack the stopped share:\n%s", text)
	}
	// No share running any more: ok, and nobody is told anything.
	mark := bob.Mark()
	request(t, host, wire.TypeStopScreenShare, map[string]any{"participantId": guest.ParticipantID()})
	requestError(t, guest, wire.TypeStopScreenShare, map[string]any{"participantId": bob.ParticipantID()}, "forbidden")
	requestError(t, host, wire.TypeStopScreenShare, map[string]any{"participantId": "nobody"}, "not_found")
	request(t, host, wire.TypeSetLocked, map[string]any{"locked": true}) // a marker event after them
	waitEvent(t, bob, "meetingUpdated", nil)
	for _, msg := range bob.Messages()[mark:] {
		if msg.Type == "participantUpdated" || msg.Type == "screenShareStopped" {
			t.Errorf("bob was told %s after a stop with no share running", msg.Type)
		}
	}
}

// TestScreenShareNotAllowed: with sharing turned off, a guest's offer with a screen is forbidden
// and changes nothing, while the host's is taken; turning it off stops a guest's running share
// at once (screenShareStopped), and meetingUpdated carries screenShareAllowed.
func TestScreenShareNotAllowed(t *testing.T) {
	e := newEnv(t)
	m := e.create("Ada")
	host := e.member(t, m.MeetingID, "Ada", m.HostKey, false)
	sharer := e.member(t, m.MeetingID, "Sam", "", false)
	publishWith(t, sharer, client.PublishOptions{Screen: true, VideoBitrate: screenRate, FPS: 15})
	sharing(t, host, sharer, true)
	sourceGrows(t, host, sharer, wire.SourceScreen, 20)
	if !host.Joined().Meeting.ScreenShareAllowed {
		t.Error("joined.meeting.screenShareAllowed is false in a new meeting")
	}

	request(t, host, wire.TypeSetScreenShareAllowed, map[string]any{"allowed": false})
	waitEvent(t, sharer, "screenShareStopped", nil)
	waitEvent(t, sharer, "meetingUpdated", func(msg client.Message) bool {
		var u wire.MeetingUpdated
		return msg.Decode(&u) == nil && !u.Meeting.ScreenShareAllowed
	})
	sharing(t, host, sharer, false)

	guest := e.member(t, m.MeetingID, "Grace", "", false)
	ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
	defer cancel()
	err := guest.Publish(ctx, client.PublishOptions{Audio: true, Screen: true, VideoBitrate: screenRate, FPS: 15})
	if client.ErrorCode(err) != string(wire.CodeForbidden) {
		t.Fatalf("a guest's screen offer while sharing is off: %v, want forbidden", err)
	}
	if snap, _ := e.meetings.Snapshot(m.MeetingID); slices.ContainsFunc(snap.Participants, func(p wire.Participant) bool { return p.ScreenSharing }) {
		t.Errorf("someone shares after the refused offer: %+v", snap.Participants)
	}
	publishWith(t, host, client.PublishOptions{Audio: true, Screen: true, VideoBitrate: screenRate, FPS: 15})
	sharing(t, guest, host, true)
	sourceGrows(t, guest, host, wire.SourceScreen, 20)
	if got := guest.ReceivedSource(sharer.ParticipantID(), wire.SourceScreen).Packets; got != 0 {
		t.Errorf("the guest, who joined after sharing was turned off, received %d packets of the stopped share", got)
	}
	// Plain audio and video are not screens: a guest may still publish them.
	publishWith(t, e.member(t, m.MeetingID, "Bob", "", false), client.PublishOptions{Audio: true, Video: true, VideoBitrate: screenRate, FPS: 15})
	if info, err := e.meetings.Info(ctx, m.MeetingID); err != nil || info.ScreenShareAllowed {
		t.Errorf("meeting info %+v, %v: want screenShareAllowed false", info, err)
	}
}

// TestMuteAllStopsScreenAudio: the host's mute all silences a participant's screen audio as well
// as its microphone, counted while its client keeps sending both; its own mute leaves the
// screen's audio alone.
func TestMuteAllStopsScreenAudio(t *testing.T) {
	e := newEnv(t)
	m := e.create("Ada")
	host := e.member(t, m.MeetingID, "Ada", m.HostKey, false)
	guest := e.member(t, m.MeetingID, "Grace", "", false)
	publishWith(t, guest, client.PublishOptions{Audio: true, ScreenAudio: true, Screen: true, VideoBitrate: screenRate, FPS: 15})
	sourceGrows(t, host, guest, wire.SourceScreenAudio, 20)
	sourceGrows(t, host, guest, wire.SourceMicrophone, 20)

	request(t, guest, wire.TypeSetMuted, map[string]any{"kind": "audio", "muted": true})
	sourceGrows(t, host, guest, wire.SourceScreenAudio, 10) // what was in flight lands meanwhile
	mic := host.ReceivedSource(guest.ParticipantID(), wire.SourceMicrophone).Packets
	sourceGrows(t, host, guest, wire.SourceScreenAudio, 30) // its own mute: the screen's audio goes on
	if got := host.ReceivedSource(guest.ParticipantID(), wire.SourceMicrophone).Packets; got != mic {
		t.Errorf("the microphone went on after the guest muted itself: %d then %d", mic, got)
	}
	request(t, guest, wire.TypeSetMuted, map[string]any{"kind": "audio", "muted": false})
	sourceGrows(t, host, guest, wire.SourceMicrophone, 10)

	request(t, host, wire.TypeMuteAll, map[string]any{"allowSelfUnmute": true})
	sourceGrows(t, host, guest, wire.SourceScreen, 10) // what was in flight lands meanwhile
	before := [2]uint64{host.ReceivedSource(guest.ParticipantID(), wire.SourceMicrophone).Packets,
		host.ReceivedSource(guest.ParticipantID(), wire.SourceScreenAudio).Packets}
	sent := guest.PublishStats()
	sourceGrows(t, host, guest, wire.SourceScreen, 60)
	after := guest.PublishStats()
	if after.AudioPackets-sent.AudioPackets < 30 || after.ScreenAudioPackets-sent.ScreenAudioPackets < 30 {
		t.Fatalf("the guest's client stopped sending audio (%+v then %+v): the test proves nothing", sent, after)
	}
	got := [2]uint64{host.ReceivedSource(guest.ParticipantID(), wire.SourceMicrophone).Packets,
		host.ReceivedSource(guest.ParticipantID(), wire.SourceScreenAudio).Packets}
	if got != before {
		t.Errorf("microphone and screen audio packets after the host muted everyone: %v then %v", before, got)
	}
	// A permitted unmute opens both again.
	request(t, guest, wire.TypeSetMuted, map[string]any{"kind": "audio", "muted": false})
	sourceGrows(t, host, guest, wire.SourceMicrophone, 10)
	sourceGrows(t, host, guest, wire.SourceScreenAudio, 10)
}

// speakersAfter waits, from message seq on, for an activeSpeakers event at c listing exactly
// want, and returns its position.
func speakersAfter(t *testing.T, c *client.Client, seq int, within time.Duration, want ...string) client.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), within)
	defer cancel()
	m, err := c.WaitFrom(ctx, seq, func(m client.Message) bool {
		var ev wire.ActiveSpeakers
		return m.Type == "activeSpeakers" && m.Decode(&ev) == nil && slices.Equal(ev.Speakers, want)
	})
	if err != nil {
		t.Fatalf("%s: no activeSpeakers %v within %s: %v (got %v)", c.Joined().Self.Name, want, within, err, speakerLists(c, seq))
	}
	return m
}

// speakerLists lists the activeSpeakers events c got from seq on.
func speakerLists(c *client.Client, seq int) [][]string {
	var out [][]string
	for _, m := range c.Messages()[seq:] {
		var ev wire.ActiveSpeakers
		if m.Type == "activeSpeakers" && m.Decode(&ev) == nil {
			out = append(out, ev.Speakers)
		}
	}
	return out
}

// TestActiveSpeakers: two publishers send audio levels, one loud and one quiet: everyone is
// told both, loudest first; their levels swap and the order follows within 2 s; events come at
// most every 300 ms; a loud publisher the host mutes never appears again while muted, and one
// that falls silent leaves the list.
func TestActiveSpeakers(t *testing.T) {
	e := newEnv(t)
	m := e.create("Ada")
	host := e.member(t, m.MeetingID, "Ada", m.HostKey, false)
	loud := e.member(t, m.MeetingID, "Lou", "", false)
	quiet := e.member(t, m.MeetingID, "Quinn", "", false)
	for _, c := range []*client.Client{loud, quiet} {
		publishWith(t, c, client.PublishOptions{Audio: true})
	}
	set := func(c *client.Client, dBov int) {
		t.Helper()
		if err := c.SetAudioLevel(dBov); err != nil {
			t.Fatal(err)
		}
	}
	start := host.Mark()
	set(loud, 10)
	set(quiet, 40)
	first := speakersAfter(t, host, start, await.Limit, loud.ParticipantID(), quiet.ParticipantID())
	speakersAfter(t, quiet, 0, await.Limit, loud.ParticipantID(), quiet.ParticipantID())

	swapped := host.Mark()
	set(loud, 40)
	set(quiet, 10)
	at := time.Now()
	speakersAfter(t, host, swapped, 2*time.Second+time.Since(at), quiet.ParticipantID(), loud.ParticipantID())

	// At most one list every 300 ms. Arrival times at a busy client may bunch, so the count is
	// judged over the whole span rather than pair by pair (the sfu's tests time each list).
	var firstAt, lastAt time.Time
	n := 0
	for _, msg := range host.Messages()[first.Seq:] {
		if msg.Type != "activeSpeakers" {
			continue
		}
		if n == 0 {
			firstAt = msg.At
		}
		lastAt = msg.At
		n++
	}
	if span := lastAt.Sub(firstAt) + 300*time.Millisecond; time.Duration(n-1)*300*time.Millisecond > span {
		t.Errorf("%d activeSpeakers events within %s", n, span)
	}

	// The host mutes the loud one (now quiet): it leaves the list, and while muted it is never
	// in it, however loud it sends.
	muted := host.Mark()
	request(t, host, wire.TypeMuteParticipant, map[string]any{"participantId": quiet.ParticipantID(), "allowSelfUnmute": false})
	speakersAfter(t, host, muted, await.Limit, loud.ParticipantID())
	set(quiet, 0)
	set(loud, 127) // silent: the list empties after the hangover
	speakersAfter(t, host, muted, await.Limit)
	sourceGrows(t, host, loud, wire.SourceMicrophone, 50) // a second more of audio, loud from the muted
	for _, list := range speakerLists(host, muted) {
		if slices.Contains(list, quiet.ParticipantID()) {
			t.Errorf("the muted participant is in %v", list)
		}
	}
	if st := e.meetings.Stats(); st.ActiveSpeakerChanges < 4 {
		t.Errorf("stats %+v: want at least 4 active speaker changes", st)
	}
}
