package turnrelay_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/node/nodetest"
	"github.com/parleyhq/parley/internal/rtpstats"
	"github.com/parleyhq/parley/internal/turnrelay"
)

// meetingWith runs a node with the relay on, and a meeting of a host on plain loopback UDP and a
// guest dialled with guestOpts; both publish audio and video. It returns them once each has
// counted 50 audio and 30 video packets (a keyframe among them) of the other's.
func meetingWith(t *testing.T, guestOpts client.Options) (srv *nodetest.Server, host, guest *client.Client) {
	t.Helper()
	srv = nodetest.Start(t, func(c *node.Config) { c.TURN = &turnrelay.Config{} })
	ctx, cancel := context.WithTimeout(context.Background(), 2*await.Limit)
	t.Cleanup(cancel)
	created, err := client.CreateMeeting(ctx, srv.URL, "Host")
	if err != nil {
		t.Fatal(err)
	}
	dial := func(o client.Options) *client.Client {
		o.BaseURL, o.MeetingID, o.Loopback = srv.URL, created.MeetingID, true
		c, err := client.Dial(ctx, o)
		if err != nil {
			t.Fatalf("dial %s: %v", o.Name, err)
		}
		t.Cleanup(c.Close)
		return c
	}
	host = dial(client.Options{Name: "Host", HostKey: created.HostKey})
	guestOpts.Name = "Guest"
	guest = dial(guestOpts)
	for _, c := range []*client.Client{host, guest} {
		if err := c.Publish(ctx, client.PublishOptions{Audio: true, Video: true, VideoBitrate: 200_000}); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	for _, pair := range [][2]*client.Client{{host, guest}, {guest, host}} {
		rx, tx := pair[0], pair[1]
		if _, err := rx.WaitReceived(ctx, tx.ParticipantID(), client.Audio, func(c rtpstats.Counts) bool { return c.Packets >= 50 }); err != nil {
			t.Fatalf("audio to %s: %v", rx.Joined().Self.Name, err)
		}
		if _, err := rx.WaitReceived(ctx, tx.ParticipantID(), client.Video, func(c rtpstats.Counts) bool { return c.Packets >= 30 && c.Keyframes >= 1 }); err != nil {
			t.Fatalf("video to %s: %v", rx.Joined().Self.Name, err)
		}
	}
	return srv, host, guest
}

// selected is the candidate pair a peer connection's media goes over.
func selected(t *testing.T, pc *webrtc.PeerConnection) *webrtc.ICECandidatePair {
	t.Helper()
	pair, err := pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil {
		t.Fatalf("no selected candidate pair: %v", err)
	}
	return pair
}

// TestMediaThroughRelay: a guest that may use nothing but the relay (ICETransportPolicyRelay,
// only the relay's URLs of one transport) exchanges audio and video with the host, over UDP to
// the relay and over TCP to it; both its peer connections go through relayed candidates.
func TestMediaThroughRelay(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			srv, _, guest := meetingWith(t, client.Options{RelayOnly: true, TURNTransport: transport})
			servers := guest.Joined().ICEServers
			if len(servers) != 2 || !strings.HasPrefix(servers[0].URLs[0], "stun:127.0.0.1:") || servers[1].Username == "" ||
				!strings.HasSuffix(servers[1].Username, ":"+guest.ParticipantID()) {
				t.Fatalf("joined.iceServers %+v: want a STUN entry and the relay with this participant's credential", servers)
			}
			for name, pc := range map[string]*webrtc.PeerConnection{"publisher": guest.PublisherConnection(), "subscriber": guest.SubscriberConnection()} {
				pair := selected(t, pc)
				if pair.Local.Typ != webrtc.ICECandidateTypeRelay {
					t.Errorf("%s: local candidate %s, not relayed", name, pair.Local)
				}
			}
			if n := srv.Relay.Allocations(); n < 2 {
				t.Errorf("%d allocations on the relay, want the guest's two peer connections'", n)
			}
			mfs, err := srv.Registry.Gather()
			if err != nil {
				t.Fatal(err)
			}
			exported := -1.0
			for _, mf := range mfs {
				if mf.GetName() == "parley_turn_allocations" {
					exported = mf.GetMetric()[0].GetGauge().GetValue()
				}
			}
			if exported < 2 {
				t.Errorf("parley_turn_allocations is %v, want the guest's two at least", exported)
			}
			nodetest.Drops(t, srv.SFU.Stats())
		})
	}
}

// TestMediaOverICETCP: a guest that gathers no UDP candidate exchanges audio and video with the
// host over ICE-TCP to the media port's TCP twin.
func TestMediaOverICETCP(t *testing.T) {
	srv, _, guest := meetingWith(t, client.Options{TCPOnly: true})
	for name, pc := range map[string]*webrtc.PeerConnection{"publisher": guest.PublisherConnection(), "subscriber": guest.SubscriberConnection()} {
		pair := selected(t, pc)
		if pair.Local.Protocol != webrtc.ICEProtocolTCP || pair.Remote.Typ != webrtc.ICECandidateTypeHost ||
			pair.Remote.Port != uint16(srv.SFU.UDPPort()) {
			t.Errorf("%s: pair %s, want TCP to the media port %d", name, pair, srv.SFU.UDPPort())
		}
	}
	nodetest.Drops(t, srv.SFU.Stats())
}
