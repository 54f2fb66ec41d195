package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/internal/node/nodetest"
	"github.com/parleyhq/parley/internal/rtpstats"
	"github.com/parleyhq/parley/wire"
)

func dial(ctx context.Context, t *testing.T, url, meetingID, name, hostKey string) *client.Client {
	t.Helper()
	c, err := client.Dial(ctx, client.Options{BaseURL: url, MeetingID: meetingID, Name: name, HostKey: hostKey, Loopback: true})
	if err != nil {
		t.Fatalf("dial %s: %v", name, err)
	}
	t.Cleanup(c.Close)
	return c
}

// hostMeeting creates a meeting on the server at url and joins its host, Ada.
func hostMeeting(ctx context.Context, t *testing.T, url string) (wire.Created, *client.Client) {
	t.Helper()
	created, err := client.CreateMeeting(ctx, url, "Ada")
	if err != nil {
		t.Fatalf("create a meeting: %v", err)
	}
	return created, dial(ctx, t, url, created.MeetingID, "Ada", created.HostKey)
}

// TestTwoClientsExchangeMedia runs two clients through the real server: each publishes audio
// and video, each receives the other's, counted, in order, with delay measured; when one
// leaves, the other's tracks from it end.
func TestTwoClientsExchangeMedia(t *testing.T) {
	srv := nodetest.Start(t)
	url := srv.URL
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	created, err := client.CreateMeeting(ctx, url, "Ada")
	if err != nil {
		t.Fatal(err)
	}
	host := dial(ctx, t, url, created.MeetingID, "Ada", created.HostKey)
	if host.Joined().Role != wire.RoleHost {
		t.Errorf("host joined as %q", host.Joined().Role)
	}
	guest := dial(ctx, t, url, created.MeetingID, "Grace", "")
	if len(guest.Joined().Participants) != 1 || guest.Joined().Participants[0].ID != host.ParticipantID() {
		t.Errorf("guest sees participants %+v", guest.Joined().Participants)
	}
	if _, err := host.WaitFor(ctx, func(m client.Message) bool {
		ev, err := m.Event()
		j, ok := ev.(wire.ParticipantJoined)
		return err == nil && ok && j.Participant.ID == guest.ParticipantID()
	}); err != nil {
		t.Fatalf("host never saw the guest join: %v", err)
	}

	opts := client.PublishOptions{Audio: true, Video: true, VideoBitrate: 500_000}
	if err := host.Publish(ctx, opts); err != nil {
		t.Fatalf("host publish: %v", err)
	}
	if err := guest.Publish(ctx, opts); err != nil {
		t.Fatalf("guest publish: %v", err)
	}

	enough := func(n uint64) func(rtpstats.Counts) bool {
		return func(c rtpstats.Counts) bool { return c.Packets >= n }
	}
	for _, pair := range []struct {
		rx   *client.Client
		from string
	}{{guest, host.ParticipantID()}, {host, guest.ParticipantID()}} {
		audio, err := pair.rx.WaitReceived(ctx, pair.from, client.Audio, enough(50))
		if err != nil {
			t.Fatal(err)
		}
		video, err := pair.rx.WaitReceived(ctx, pair.from, client.Video, func(c rtpstats.Counts) bool { return c.Packets >= 100 && c.Keyframes >= 1 })
		if err != nil {
			t.Fatal(err)
		}
		for kind, c := range map[string]rtpstats.Counts{"audio": audio, "video": video} {
			if c.Delay.Count == 0 || c.Delay.P50 <= 0 || c.Delay.P50 > time.Second {
				t.Errorf("%s from %s: delay %+v", kind, pair.from, c.Delay)
			}
		}
		tracks := pair.rx.Tracks()
		if tr, ok := tracks[client.TrackKey{StreamID: pair.from, Kind: client.Video}]; !ok || tr.Codec != "video/VP8" {
			t.Errorf("tracks %+v: want %s's VP8 video", tracks, pair.from)
		}
	}
	// Loss on a busy machine is allowed where the server says it shed load, nowhere else.
	nodetest.Drops(t, srv.SFU.Stats())
	if st := host.PublishStats(); st.AudioPackets == 0 || st.Keyframes == 0 {
		t.Errorf("host publish stats %+v", st)
	}
	if tm := guest.Timing(); tm.FirstPacket.IsZero() || tm.FirstPacket.Before(tm.Joined) {
		t.Errorf("guest timing %+v", tm)
	}

	if err := guest.Leave(ctx); err != nil {
		t.Fatalf("leave: %v", err)
	}
	if err := host.WaitTracks(ctx, func(m map[client.TrackKey]client.TrackInfo) bool {
		for k := range m {
			if k.StreamID == guest.ParticipantID() {
				return false
			}
		}
		return true
	}); err != nil {
		t.Errorf("the guest's tracks did not end at the host: %v", err)
	}
	if _, err := host.WaitFor(ctx, func(m client.Message) bool {
		ev, _ := m.Event()
		l, ok := ev.(wire.ParticipantLeft)
		return ok && l.ParticipantID == guest.ParticipantID() && l.Reason == wire.ReasonLeft
	}); err != nil {
		t.Errorf("no participantLeft for the guest: %v", err)
	}
}

func TestJoinErrorsCarryTheProtocolCode(t *testing.T) {
	url := nodetest.Start(t).URL
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := client.Dial(ctx, client.Options{BaseURL: url, MeetingID: "no-such-meeting", Name: "X", Loopback: true})
	if client.ErrorCode(err) != "not_found" {
		t.Errorf("join of an unknown meeting: %v, want not_found", err)
	}
	if _, err := client.GetMeeting(ctx, url, "no-such-meeting"); client.ErrorCode(err) != "not_found" {
		t.Errorf("get of an unknown meeting: %v", err)
	}
	if _, err := client.CreateMeeting(ctx, url, "   "); client.ErrorCode(err) != "bad_request" {
		t.Errorf("create with a blank name: %v", err)
	}
	created, err := client.CreateMeeting(ctx, url, "Ada")
	if err != nil {
		t.Fatal(err)
	}
	host := dial(ctx, t, url, created.MeetingID, "Ada", created.HostKey)
	if _, err := host.Request(ctx, "setLocked", map[string]any{"locked": true}); err != nil {
		t.Fatalf("lock: %v", err)
	}
	_, err = client.Dial(ctx, client.Options{BaseURL: url, MeetingID: created.MeetingID, Name: "Late", Loopback: true})
	if client.ErrorCode(err) != "meeting_locked" {
		t.Errorf("join of a locked meeting: %v", err)
	}
	info, err := client.GetMeeting(ctx, url, created.MeetingID)
	if err != nil || !info.Locked || info.ParticipantCount != 1 {
		t.Errorf("meeting info %+v, %v", info, err)
	}
	// A malformed frame gets bad_request and the connection stays.
	mark := host.Mark()
	if err := host.SendRaw(ctx, []byte(`{"type":`)); err != nil {
		t.Fatal(err)
	}
	m, err := host.WaitFrom(ctx, mark, client.OfType("error"))
	if err != nil || client.ErrorCode(func() error { _, e := host.Request(ctx, "setLocked", map[string]any{"locked": "yes"}); return e }()) != "bad_request" {
		t.Errorf("malformed frame: %+v %v", m, err)
	}
	if _, err := host.Request(ctx, "endMeeting", nil); err != nil {
		t.Fatalf("end: %v", err)
	}
	select {
	case <-host.Done():
	case <-ctx.Done():
		t.Fatal("the server did not close after endMeeting")
	}
	if _, err := host.WaitFor(ctx, client.OfType("meetingEnded")); err != nil {
		t.Errorf("no meetingEnded: %v", err)
	}
}

// TestH264AndSendingSwitch publishes H264 through the real server, and stops and restarts
// sending audio on the client side: packets stop arriving, then resume with no sequence gap
// beyond what the client did not send.
func TestH264AndSendingSwitch(t *testing.T) {
	srv := nodetest.Start(t)
	url := srv.URL
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	created, err := client.CreateMeeting(ctx, url, "Ada")
	if err != nil {
		t.Fatal(err)
	}
	host := dial(ctx, t, url, created.MeetingID, "Ada", created.HostKey)
	guest := dial(ctx, t, url, created.MeetingID, "Grace", "")
	if err := host.Publish(ctx, client.PublishOptions{Audio: true, Video: true, VideoCodec: "H264", VideoBitrate: 300_000}); err != nil {
		t.Fatalf("publish: %v", err)
	}
	from := host.ParticipantID()
	if _, err := guest.WaitReceived(ctx, from, client.Video, func(c rtpstats.Counts) bool { return c.Keyframes >= 1 && c.Packets >= 30 }); err != nil {
		t.Fatal(err)
	}
	if tr := guest.Tracks()[client.TrackKey{StreamID: from, Kind: client.Video}]; tr.Codec != "video/H264" {
		t.Errorf("video track codec %q, want video/H264", tr.Codec)
	}
	if _, err := guest.WaitReceived(ctx, from, client.Audio, func(c rtpstats.Counts) bool { return c.Packets >= 20 }); err != nil {
		t.Fatal(err)
	}
	if err := host.SetSending(client.Audio, false); err != nil {
		t.Fatal(err)
	}
	// Once nothing has arrived for 200 ms (10 packet intervals), the count must stay put.
	stopped, err := guest.WaitReceived(ctx, from, client.Audio, func(c rtpstats.Counts) bool { return time.Since(c.Last) > 200*time.Millisecond })
	if err != nil {
		t.Fatal(err)
	}
	sentWhileStopped := host.PublishStats().AudioPackets
	shedBefore := nodetest.Shed(srv.SFU.Stats())
	if err := host.SetSending(client.Audio, true); err != nil {
		t.Fatal(err)
	}
	resumed, err := guest.WaitReceived(ctx, from, client.Audio, func(c rtpstats.Counts) bool { return c.Packets >= stopped.Packets+20 })
	if err != nil {
		t.Fatal(err)
	}
	// The publisher's sequence numbers did not move while it sent nothing, so the pause itself
	// must leave no gap: a gap may appear only where the server shed a packet meanwhile.
	if gaps, shed := resumed.Gaps-stopped.Gaps, nodetest.Shed(srv.SFU.Stats())-shedBefore; gaps > shed {
		t.Errorf("a pause in sending looked like loss: %d new gaps, %d packets shed by the server; before %+v, after %+v",
			gaps, shed, stopped, resumed)
	}
	if host.PublishStats().AudioPackets <= sentWhileStopped {
		t.Error("the publisher did not resume sending")
	}
	if err := host.SetSending("screen", true); err == nil {
		t.Error("an unknown kind was accepted")
	}
}
