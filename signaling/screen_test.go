package signaling_test

import (
	"context"
	"strings"
	"testing"

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
	sourceGrows(t, bob, guest, wire.SourceCamera, 10) // let what was in flight land
	for _, rx := range []*client.Client{host, bob} {
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
