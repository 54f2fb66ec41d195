package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/node/nodetest"
	"github.com/parleyhq/parley/internal/rtpstats"
	"github.com/parleyhq/parley/wire"
)

func dialFrom(ctx context.Context, t *testing.T, url, meetingID, name, browser string) (*client.Client, error) {
	t.Helper()
	c, err := client.Dial(ctx, client.Options{BaseURL: url, MeetingID: meetingID, Name: name, BrowserID: browser, Loopback: true})
	if err == nil {
		t.Cleanup(c.Close)
	}
	return c, err
}

// TestRejoinDoesNotEscapeAHostMute mounts the attack of issue 9 (item 4): a guest muted by the
// host leaves and joins again from the same browser, and publishes audio. It comes back muted
// by the host and not one of its audio packets is forwarded, while its video is.
func TestRejoinDoesNotEscapeAHostMute(t *testing.T) {
	srv := nodetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	created, host := hostMeeting(ctx, t, srv.URL)
	first, err := dialFrom(ctx, t, srv.URL, created.MeetingID, "Mallory", "browser-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := host.Request(ctx, wire.TypeMuteParticipant, map[string]any{"participantId": first.ParticipantID(), "allowSelfUnmute": false}); err != nil {
		t.Fatal(err)
	}
	if err := first.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	again, err := dialFrom(ctx, t, srv.URL, created.MeetingID, "Mallory", "browser-1")
	if err != nil {
		t.Fatal(err)
	}
	if s := again.Joined().Self; again.ParticipantID() == first.ParticipantID() || !s.MutedByHost || s.CanUnmute {
		t.Fatalf("rejoined as %+v: want a new participant, still muted by the host", s)
	}
	// Its client ignores the mute and sends audio anyway.
	if err := again.Publish(ctx, client.PublishOptions{Audio: true, Video: true, VideoBitrate: 300_000}); err != nil {
		t.Fatal(err)
	}
	if _, err := host.WaitReceived(ctx, again.ParticipantID(), client.Video, func(c rtpstats.Counts) bool { return c.Packets >= 150 }); err != nil {
		t.Fatal(err)
	}
	if st := again.PublishStats(); st.AudioPackets < 100 {
		t.Fatalf("the guest sent only %d audio packets: the test proves nothing", st.AudioPackets)
	}
	if n := host.Received(again.ParticipantID(), client.Audio).Packets; n != 0 {
		t.Fatalf("%d audio packets of the rejoined host-muted guest were forwarded", n)
	}
	nodetest.Drops(t, srv.SFU.Stats(), "muted")
}

// TestBannedBotsStayOut mounts the attack of issue 9 (item 5): bots rejoin as fast as the host
// removes them. A ban refuses the bot's browser for the meeting's life, and the joins into one
// meeting are rate limited (from any address), while the host still gets in.
func TestBannedBotsStayOut(t *testing.T) {
	const perMinute = 6
	srv := nodetest.Start(t, func(c *node.Config) { c.Edge.MeetingJoinsPerMinute = perMinute })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	created, host := hostMeeting(ctx, t, srv.URL)
	bot, err := dialFrom(ctx, t, srv.URL, created.MeetingID, "Bot", "bot-browser")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := host.Request(ctx, wire.TypeKick, map[string]any{"participantId": bot.ParticipantID(), "ban": true}); err != nil {
		t.Fatalf("kick with ban: %v", err)
	}
	if _, err := dialFrom(ctx, t, srv.URL, created.MeetingID, "Bot", "bot-browser"); client.ErrorCode(err) != string(wire.CodeForbidden) {
		t.Fatalf("the banned bot joins again: %v, want forbidden", err)
	}
	// Bots with fresh browser ids run into the meeting's join rate (this test's: 6 a minute;
	// two were used above).
	refused := 0
	for i := range perMinute {
		_, err := dialFrom(ctx, t, srv.URL, created.MeetingID, "Bot", "bot-"+string(rune('a'+i)))
		switch code := client.ErrorCode(err); {
		case err == nil:
		case code == string(wire.CodeRateLimited):
			refused++
		default:
			t.Fatalf("bot join %d: %v", i, err)
		}
	}
	// 4 joins are left in the burst; a fifth comes only after 10 s more.
	if refused == 0 {
		t.Fatalf("none of %d bot joins refused as rate_limited, past the meeting's %d a minute", perMinute, perMinute)
	}
	// The host's own join is not counted.
	dial(ctx, t, srv.URL, created.MeetingID, "Ada", created.HostKey)
	audit, err := client.API{BaseURL: srv.URL}.Audit(ctx, created.MeetingID, created.HostKey)
	if err != nil {
		t.Fatal(err)
	}
	banned := false
	for _, en := range audit {
		banned = banned || (en.Action == wire.TypeKick && en.Detail["ban"] == true)
	}
	if !banned {
		t.Errorf("the audit log has no kick with ban: %+v", audit)
	}
}
