package cluster_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/internal/redistest"
	"github.com/parleyhq/parley/redisstore"
	"github.com/parleyhq/parley/wire"
)

// TestRedisOutage stops redis-server in the middle of a meeting whose guest is relayed: media
// keeps flowing both ways, /readyz turns 503 on every node, new joins and meetings get a clear
// unavailable error, no node crashes, host requests kept in memory (a mute) and the others (a
// hand, chat) go on; once Redis is back, the nodes are ready again, what changed meanwhile
// reaches Redis (the failed writes counted), and a new guest joins the running meeting through
// the relaying node.
func TestRedisOutage(t *testing.T) {
	rs := redistest.Start(t)
	n1 := startNode(t, "node-1", rs.URL())
	n2 := startNode(t, "node-2", rs.URL())
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	created, err := client.CreateMeeting(ctx, n1.URL, "Ada")
	if err != nil {
		t.Fatal(err)
	}
	host := member(t, n1.URL, created.MeetingID, "Ada", created.HostKey)
	grace := member(t, n2.URL, created.MeetingID, "Grace", "")
	grows(t, host, grace, client.Audio, 20)
	grows(t, grace, host, client.Video, 10)

	rs.Stop()
	for _, n := range []*proc{n1, n2} {
		await.Until(t, n.name+"'s /readyz to turn 503 with Redis down", func() bool {
			return n.status(ctx, "/readyz") == http.StatusServiceUnavailable
		})
		if got := n.status(ctx, "/healthz"); got != http.StatusOK {
			t.Errorf("%s /healthz = %d with Redis down, want 200: the process is up", n.name, got)
		}
	}
	// Media goes on: the owner holds the meeting, the relay holds its sessions.
	for range 2 {
		grows(t, host, grace, client.Audio, 50)
		grows(t, grace, host, client.Audio, 50)
		grows(t, grace, host, client.Video, 15)
	}
	for _, n := range []*proc{n1, n2} {
		_, err := client.Dial(ctx, client.Options{BaseURL: n.URL, MeetingID: created.MeetingID, Name: "Linus", Loopback: true})
		if client.ErrorCode(err) != string(wire.CodeUnavailable) {
			t.Errorf("a join through %s with Redis down: %v, want %s", n.name, err, wire.CodeUnavailable)
		}
		_, err = client.CreateMeeting(ctx, n.URL, "Eve")
		var pe *client.ProtocolError
		if !errors.As(err, &pe) || pe.Code != string(wire.CodeUnavailable) || pe.HTTPStatus != http.StatusServiceUnavailable {
			t.Errorf("create through %s with Redis down: %v, want 503 %s", n.name, err, wire.CodeUnavailable)
		}
	}
	if _, err := host.Request(ctx, "setLocked", map[string]any{"locked": true}); err == nil {
		t.Error("setLocked succeeded with Redis down: the lock would not be shared")
	}
	// Requests kept in memory go on: the meeting's takeover state is written behind it, the
	// failed writes counted and retried.
	request(t, host, "muteParticipant", map[string]any{"participantId": grace.ParticipantID(), "allowSelfUnmute": false})
	request(t, grace, "setHandRaised", map[string]any{"raised": true})
	request(t, host, "sendChat", map[string]any{"text": "during the outage"})
	grows(t, host, grace, client.Video, 15)
	muted := host.Received(grace.ParticipantID(), client.Audio).Packets

	rs.Restart()
	for _, n := range []*proc{n1, n2} {
		await.Until(t, n.name+"'s /readyz to turn 200 once Redis is back", func() bool {
			return n.status(ctx, "/readyz") == http.StatusOK
		})
	}
	// What changed during the outage reaches Redis once it is back (the savers retry).
	store := redisstore.New(redisClient(t, rs), nil)
	await.Until(t, "the state changed during the outage to reach Redis", func() bool {
		tk, ok, err := store.LoadTakeover(ctx, created.MeetingID)
		if err != nil || !ok {
			return false
		}
		chat, _, err := store.LoadHistory(ctx, created.MeetingID)
		if err != nil || len(chat) != 1 || chat[0].Text != "during the outage" {
			return false
		}
		for _, st := range tk.Seats {
			if p := st.Participant; p.ID == grace.ParticipantID() {
				return p.MutedByHost && !p.CanUnmute && p.HandRaised
			}
		}
		return false
	})
	owner, _ := ownerOf(t, store, []*proc{n1, n2}, created.MeetingID)
	if got := owner.metric(ctx, "parley_meeting_state_save_failures_total"); got < 1 {
		t.Errorf("the owner counted %v failed writes of the meeting's state over the outage", got)
	}
	linus := member(t, n2.URL, created.MeetingID, "Linus", "")
	grows(t, linus, host, client.Audio, 20)
	grows(t, host, linus, client.Audio, 20)
	grows(t, linus, grace, client.Video, 15)
	if got := host.Received(grace.ParticipantID(), client.Audio).Packets; got > muted+5 {
		t.Errorf("the host received %d audio packets of Grace after muting her during the outage", got-muted)
	}
	if _, err := client.CreateMeeting(ctx, n2.URL, "Eve"); err != nil {
		t.Errorf("create after Redis came back: %v", err)
	}
	for _, n := range []*proc{n1, n2} {
		if got := n.metric(ctx, "parley_cluster_heartbeat_failures_total"); got < 1 {
			t.Errorf("%s counted %v failed heartbeats over the outage", n.name, got)
		}
		select {
		case <-n.exit:
			t.Errorf("%s exited during the outage", n.name)
		default:
		}
	}
}
