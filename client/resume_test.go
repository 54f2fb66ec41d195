package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/node/nodetest"
	"github.com/parleyhq/parley/internal/rtpstats"
	"github.com/parleyhq/parley/wire"
)

func resumeGrace(d time.Duration) func(*node.Config) {
	return func(c *node.Config) { c.Meetings.ResumeGrace = d }
}

// updateOf matches participantUpdated for participantID with reconnecting as given.
func updateOf(participantID string, reconnecting bool) func(client.Message) bool {
	return func(m client.Message) bool {
		ev, _ := m.Event()
		u, ok := ev.(wire.ParticipantUpdated)
		return ok && u.Participant.ID == participantID && u.Participant.Reconnecting == reconnecting
	}
}

// seenJoin waits until c has seen participantID's join, so that a mark taken after it counts
// only what comes later.
func seenJoin(ctx context.Context, t *testing.T, c *client.Client, participantID string) {
	t.Helper()
	if _, err := c.WaitFor(ctx, func(m client.Message) bool {
		ev, _ := m.Event()
		j, ok := ev.(wire.ParticipantJoined)
		return ok && j.Participant.ID == participantID
	}); err != nil {
		t.Fatalf("%s never saw %s join: %v", c.Joined().Self.Name, participantID, err)
	}
}

// noLeaveOrJoin fails t if c saw participantLeft or participantJoined since mark.
func noLeaveOrJoin(t *testing.T, c *client.Client, mark int) {
	t.Helper()
	for _, m := range c.Messages() {
		if m.Seq >= mark && (m.Type == "participantLeft" || m.Type == "participantJoined") {
			t.Errorf("%s saw %s", c.Joined().Self.Name, m.Raw)
		}
	}
}

// more waits until rx has received at least n more packets of kind from pid than before.
func more(ctx context.Context, t *testing.T, rx *client.Client, pid, kind string, n uint64, what string) {
	t.Helper()
	before := rx.Received(pid, kind).Packets
	if _, err := rx.WaitReceived(ctx, pid, kind, func(c rtpstats.Counts) bool { return c.Packets >= before+n }); err != nil {
		t.Fatalf("%s: %s packets stopped at %d: %v", what, kind, rx.Received(pid, kind).Packets, err)
	}
}

// TestResumeKeepsTheParticipantAndItsMedia cuts a host-muted guest's WebSocket without a close
// frame: the host sees it reconnecting and no leave, the media keeps flowing both ways across
// the gap (counted), the guest resumes as the same participant, still muted by the host (not
// one audio packet of it forwarded), restarts ICE, and its old token is refused.
func TestResumeKeepsTheParticipantAndItsMedia(t *testing.T) {
	srv := nodetest.Start(t, resumeGrace(30*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	created, host := hostMeeting(ctx, t, srv.URL)
	guest := dial(ctx, t, srv.URL, created.MeetingID, "Grace", "")
	gid := guest.ParticipantID()
	if guest.Joined().ResumeToken == "" {
		t.Fatal("joined has no resumeToken")
	}
	if _, err := host.Request(ctx, wire.TypeMuteParticipant, map[string]any{"participantId": gid, "allowSelfUnmute": false}); err != nil {
		t.Fatalf("mute the guest: %v", err)
	}
	opts := client.PublishOptions{Audio: true, Video: true, VideoBitrate: 300_000}
	if err := host.Publish(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if err := guest.Publish(ctx, opts); err != nil {
		t.Fatal(err)
	}
	more(ctx, t, host, gid, client.Video, 30, "before the cut")
	more(ctx, t, guest, host.ParticipantID(), client.Audio, 30, "before the cut")

	mark := host.Mark()
	oldToken := guest.Joined().ResumeToken
	guest.Cut()
	if _, err := host.WaitFrom(ctx, mark, updateOf(gid, true)); err != nil {
		t.Fatalf("the host never saw the guest reconnecting: %v", err)
	}
	// The peer connections live on: media flows both ways while the guest has no WebSocket.
	more(ctx, t, host, gid, client.Video, 50, "during the gap")
	more(ctx, t, guest, host.ParticipantID(), client.Audio, 50, "during the gap")

	if err := guest.Resume(ctx, false); err != nil {
		t.Fatalf("resume: %v", err)
	}
	j := guest.Joined()
	if !j.Resumed || j.ParticipantID != gid || j.Role != wire.RoleParticipant || j.Self.Name != "Grace" {
		t.Fatalf("resumed as %+v", j)
	}
	if !j.Self.AudioMuted || !j.Self.MutedByHost || j.Self.CanUnmute || j.Self.Reconnecting {
		t.Fatalf("state after the resume %+v: want still muted by the host", j.Self)
	}
	if j.ResumeToken == "" || j.ResumeToken == oldToken {
		t.Fatalf("resume token after the resume %q: want a fresh one", j.ResumeToken)
	}
	if _, err := host.WaitFrom(ctx, mark, updateOf(gid, false)); err != nil {
		t.Fatalf("the host never saw the guest back: %v", err)
	}
	more(ctx, t, host, gid, client.Video, 50, "after the resume")
	more(ctx, t, guest, host.ParticipantID(), client.Audio, 50, "after the resume")

	// Both connections restart ICE; media still flows both ways.
	if err := guest.RestartICE(ctx); err != nil {
		t.Fatalf("ice restart: %v", err)
	}
	more(ctx, t, host, gid, client.Video, 50, "after the ICE restart")
	more(ctx, t, guest, host.ParticipantID(), client.Audio, 50, "after the ICE restart")

	if n := host.Received(gid, client.Audio).Packets; n != 0 {
		t.Errorf("%d audio packets of the host-muted guest were forwarded", n)
	}
	if st := guest.PublishStats(); st.AudioPackets < 100 {
		t.Errorf("the guest sent %d audio packets: the mute proved nothing", st.AudioPackets)
	}
	if _, err := guest.Request(ctx, wire.TypeSetMuted, map[string]any{"kind": "audio", "muted": false}); client.ErrorCode(err) != string(wire.CodeForbidden) {
		t.Errorf("unmute after the resume: %v, want forbidden", err)
	}
	noLeaveOrJoin(t, host, mark)

	// The old token is used up.
	_, err := client.Dial(ctx, client.Options{BaseURL: srv.URL, MeetingID: created.MeetingID, Name: "Grace", ResumeToken: oldToken, Loopback: true})
	if client.ErrorCode(err) != string(wire.CodeForbidden) {
		t.Fatalf("resume with the used token: %v, want forbidden", err)
	}
	nodetest.Drops(t, srv.SFU.Stats(), "muted")
}

// TestResumeWhileConnectedReplacesTheOldConnection: a resume from a new page while the old
// connection still looks alive takes the seat; the old one gets replaced and is closed.
func TestResumeWhileConnectedReplacesTheOldConnection(t *testing.T) {
	srv := nodetest.Start(t, resumeGrace(30*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	created, host := hostMeeting(ctx, t, srv.URL)
	old := dial(ctx, t, srv.URL, created.MeetingID, "Grace", "")
	seenJoin(ctx, t, host, old.ParticipantID())
	mark := host.Mark()
	again, err := client.Dial(ctx, client.Options{BaseURL: srv.URL, MeetingID: created.MeetingID, Name: "Grace",
		ResumeToken: old.Joined().ResumeToken, Loopback: true})
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	t.Cleanup(again.Close)
	if j := again.Joined(); !j.Resumed || j.ParticipantID != old.ParticipantID() || j.MediaKept == nil || *j.MediaKept {
		t.Fatalf("joined %+v: want resumed as the same participant, with new media (mediaKept false)", j)
	}
	if _, err := old.WaitFor(ctx, client.OfType("replaced")); err != nil {
		t.Fatalf("the old connection was not told it was replaced: %v", err)
	}
	select {
	case <-old.Done():
	case <-ctx.Done():
		t.Fatal("the replaced connection was not closed")
	}
	if _, err := host.WaitFrom(ctx, mark, updateOf(old.ParticipantID(), false)); err != nil {
		t.Fatalf("host: %v", err)
	}
	noLeaveOrJoin(t, host, mark)
}

// TestWithoutResumeTheParticipantLeavesAfterTheGrace: a cut guest that never comes back is
// reconnecting for the grace period, then leaves with reason disconnected; its token is refused
// after that.
func TestWithoutResumeTheParticipantLeavesAfterTheGrace(t *testing.T) {
	const grace = 1500 * time.Millisecond
	srv := nodetest.Start(t, resumeGrace(grace))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	created, host := hostMeeting(ctx, t, srv.URL)
	guest := dial(ctx, t, srv.URL, created.MeetingID, "Grace", "")
	gid := guest.ParticipantID()
	seenJoin(ctx, t, host, gid)
	mark := host.Mark()
	cut := time.Now() // before the cut: the server may see it before Cut returns
	guest.Cut()
	if _, err := host.WaitFrom(ctx, mark, updateOf(gid, true)); err != nil {
		t.Fatalf("no reconnecting: %v", err)
	}
	left, err := host.WaitFrom(ctx, mark, client.OfType("participantLeft"))
	if err != nil {
		t.Fatalf("no participantLeft: %v", err)
	}
	if since := time.Since(cut); since < grace {
		t.Errorf("left %v after the cut, before the grace (%v) was over", since, grace)
	}
	ev, _ := left.Event()
	if l, ok := ev.(wire.ParticipantLeft); !ok || l.ParticipantID != gid || l.Reason != wire.ReasonDisconnected {
		t.Fatalf("left: %s", left.Raw)
	}
	_, err = client.Dial(ctx, client.Options{BaseURL: srv.URL, MeetingID: created.MeetingID, Name: "Grace",
		ResumeToken: guest.Joined().ResumeToken, Loopback: true})
	if client.ErrorCode(err) != string(wire.CodeForbidden) {
		t.Fatalf("resume after the grace: %v, want forbidden", err)
	}
	if err := guest.Resume(ctx, false); !errors.Is(err, client.ErrClosed) && client.ErrorCode(err) != string(wire.CodeForbidden) {
		t.Fatalf("Resume after the grace: %v, want forbidden", err)
	}
}
