package signaling_test

import (
	"context"
	"testing"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/internal/node/nodetest"
	"github.com/parleyhq/parley/internal/rtpstats"
)

// TestThreeParticipantsExchangeMedia: everyone receives both tracks of both others, under the
// publisher's participantId as stream id, with packets counted at the receiver. Loss is not
// asserted at the receiver (a busy machine makes the sfu shed late packets on purpose): every
// stream must flow, and the sfu must have dropped nothing for any other reason.
func TestThreeParticipantsExchangeMedia(t *testing.T) {
	e := newEnv(t)
	m := e.create("Ada")
	ada := e.member(t, m.MeetingID, "Ada", m.HostKey, true)
	grace := e.member(t, m.MeetingID, "Grace", "", true)
	linus := e.member(t, m.MeetingID, "Linus", "", true)
	all := []*client.Client{ada, grace, linus}

	for _, rx := range all {
		for _, tx := range all {
			if rx == tx {
				continue
			}
			for _, kind := range []string{client.Audio, client.Video} {
				waitReceived(t, rx, tx, kind, "30 packets", func(c rtpstats.Counts) bool { return c.Packets >= 30 })
			}
		}
		// Stream ids are participant ids: nothing arrives under any other id, nor one's own.
		for key := range rx.Tracks() {
			if key.StreamID == rx.ParticipantID() {
				t.Errorf("%s receives its own %s", rx.Joined().Self.Name, key.Kind)
			}
			if key.StreamID != ada.ParticipantID() && key.StreamID != grace.ParticipantID() && key.StreamID != linus.ParticipantID() {
				t.Errorf("%s receives a stream %q that is no participant", rx.Joined().Self.Name, key.StreamID)
			}
		}
		if n := len(rx.Tracks()); n != 4 {
			t.Errorf("%s receives %d tracks, want 4", rx.Joined().Self.Name, n)
		}
	}
	st := e.media.Stats()
	if st.PacketsForwarded == 0 || st.Rooms != 1 || st.Peers != 3 || st.Tracks != 6 {
		t.Errorf("sfu stats = %+v", st)
	}
	nodetest.Drops(t, st)
}

// TestLeaveAndDisconnect: the others are told, the tracks are renegotiated away, the packets stop.
func TestLeaveAndDisconnect(t *testing.T) {
	e := newEnv(t)
	m := e.create("Ada")
	ada := e.member(t, m.MeetingID, "Ada", m.HostKey, true)
	grace := e.member(t, m.MeetingID, "Grace", "", true)
	linus := e.member(t, m.MeetingID, "Linus", "", true)
	for _, tx := range []*client.Client{grace, linus} {
		grows(t, ada, tx, client.Audio, 10)
		grows(t, ada, tx, client.Video, 10)
	}

	graceID := grace.ParticipantID()
	ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
	defer cancel()
	if err := grace.Leave(ctx); err != nil {
		t.Fatalf("leave: %v", err)
	}
	left := waitEvent(t, ada, "participantLeft", nil)
	var pl struct{ ParticipantID, Reason string }
	decode(t, left, &pl)
	if pl.ParticipantID != graceID || pl.Reason != "left" {
		t.Fatalf("participantLeft = %s", left.Raw)
	}
	for _, kind := range []string{client.Audio, client.Video} {
		waitTrackGone(t, ada, graceID, kind)
		waitTrackGone(t, linus, graceID, kind)
	}
	assertSilent(t, ada, graceID, linus)

	// A client that just vanishes is reported as disconnected.
	linusID := linus.ParticipantID()
	linus.Close()
	gone := waitEvent(t, ada, "participantLeft", func(m client.Message) bool {
		var x struct{ ParticipantID string }
		return m.Decode(&x) == nil && x.ParticipantID == linusID
	})
	decode(t, gone, &pl)
	if pl.Reason != "disconnected" {
		t.Fatalf("participantLeft = %s", gone.Raw)
	}
	waitTrackGone(t, ada, linusID, client.Audio)
	waitTrackGone(t, ada, linusID, client.Video)
	await.Until(t, "the sfu to drop the departed peers", func() bool { st := e.media.Stats(); return st.Peers == 1 && st.Tracks == 2 })
}

// assertSilent checks that rx receives nothing more from the publisher id while a live stream
// from witness keeps arriving (a second of its audio).
func assertSilent(t *testing.T, rx *client.Client, publisherID string, witness *client.Client) {
	t.Helper()
	audio, video := rx.Received(publisherID, client.Audio).Packets, rx.Received(publisherID, client.Video).Packets
	grows(t, rx, witness, client.Audio, 50)
	if a, v := rx.Received(publisherID, client.Audio).Packets, rx.Received(publisherID, client.Video).Packets; a != audio || v != video {
		t.Fatalf("%s still received packets of %s: audio %d -> %d, video %d -> %d", rx.Joined().Self.Name, publisherID, audio, a, video, v)
	}
}

// TestMeetingsAreIsolated: two meetings side by side; not one packet crosses between them.
func TestMeetingsAreIsolated(t *testing.T) {
	e := newEnv(t)
	m1, m2 := e.create("Ada"), e.create("Bob")
	a1 := e.member(t, m1.MeetingID, "Ada", m1.HostKey, true)
	a2 := e.member(t, m1.MeetingID, "Grace", "", true)
	b1 := e.member(t, m2.MeetingID, "Bob", m2.HostKey, true)
	b2 := e.member(t, m2.MeetingID, "Barbara", "", true)

	// Each receives the two tracks of the other member of its meeting: waited for, since a
	// track is there only once its first packet has arrived.
	for _, pair := range [][2]*client.Client{{a1, a2}, {a2, a1}, {b1, b2}, {b2, b1}} {
		rx, tx := pair[0], pair[1]
		ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
		err := rx.WaitTracks(ctx, func(m map[client.TrackKey]client.TrackInfo) bool {
			_, audio := m[client.TrackKey{StreamID: tx.ParticipantID(), Kind: client.Audio}]
			_, video := m[client.TrackKey{StreamID: tx.ParticipantID(), Kind: client.Video}]
			return audio && video
		})
		cancel()
		if err != nil {
			t.Fatalf("%s never received both tracks of %s: %v (has %v)", name(rx), name(tx), err, rx.Tracks())
		}
		grows(t, rx, tx, client.Video, 60)
	}
	for _, pair := range [][2]*client.Client{{a1, b1}, {a1, b2}, {a2, b1}, {a2, b2}, {b1, a1}, {b1, a2}, {b2, a1}, {b2, a2}} {
		rx, tx := pair[0], pair[1]
		for _, kind := range []string{client.Audio, client.Video} {
			if n := rx.Received(tx.ParticipantID(), kind).Packets; n != 0 {
				t.Errorf("%s received %d %s packets from %s of another meeting", name(rx), n, kind, name(tx))
			}
		}
		if n := len(rx.Tracks()); n != 2 {
			t.Errorf("%s receives %d tracks, want the 2 of its own meeting: %v", name(rx), n, rx.Tracks())
		}
	}
}
