package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/internal/redistest"
	"github.com/parleyhq/parley/internal/rtpstats"
	"github.com/parleyhq/parley/redisstore"
	"github.com/parleyhq/parley/wire"
)

func TestMain(m *testing.M) {
	cleanup, err := buildServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	cleanup()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func redisClient(t testing.TB, srv *redistest.Server) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// member dials through baseURL and publishes.
func member(t *testing.T, baseURL, meetingID, name, hostKey string) *client.Client {
	t.Helper()
	return dialBrowser(t, baseURL, meetingID, name, hostKey, "")
}

// publish has c send audio and video, or fails the test. A modest bitrate keeps three servers
// and the clients within two cores under -race.
func publish(t *testing.T, c *client.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
	defer cancel()
	if err := c.Publish(ctx, client.PublishOptions{Audio: true, Video: true, VideoBitrate: 200_000, FPS: 15}); err != nil {
		t.Fatalf("%s: publish: %v", name(c), err)
	}
}

// dialUntil dials o (over loopback) until the cluster takes the join, and returns when it did:
// the one retry loop of the tests that join while a node dies or is taken over. Every refusal
// meanwhile must be unavailable with a message (the dead owner's heartbeat has not expired,
// or the owner may live yet): what a client that retries is told. what names the join in
// failures ("join", "resume").
func dialUntil(t testing.TB, what string, o client.Options) (*client.Client, time.Time) {
	t.Helper()
	o.Loopback = true
	var c *client.Client
	await.Until(t, o.Name+" to "+what+" through "+o.BaseURL, func() bool {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		var err error
		c, err = client.Dial(ctx, o)
		if err == nil {
			return true
		}
		var pe *client.ProtocolError
		if code := client.ErrorCode(err); code != string(wire.CodeUnavailable) {
			t.Fatalf("%s: %s: %v (want it taken, or unavailable until the owner is known dead)", o.Name, what, err)
		} else if errors.As(err, &pe) && pe.Message == "" {
			t.Fatalf("%s: %s: unavailable without a message", o.Name, what)
		}
		return false
	})
	return c, time.Now()
}

// ownedBy creates a meeting through via and returns it with the process of nodes that owns it
// and the others, in nodes' order (the survivors, once the owner is stopped).
func ownedBy(t testing.TB, store *redisstore.Store, nodes []*proc, via *proc) (wire.Created, *proc, []*proc) {
	t.Helper()
	created, err := client.CreateMeeting(t.Context(), via.URL, "Ada")
	if err != nil {
		t.Fatal(err)
	}
	owner, others := ownerOf(t, store, nodes, created.MeetingID)
	return created, owner, others
}

// ownerOf returns the process of nodes that owns meetingID, and the others in nodes' order.
func ownerOf(t testing.TB, store *redisstore.Store, nodes []*proc, meetingID string) (*proc, []*proc) {
	t.Helper()
	id, err := store.Owner(t.Context(), meetingID)
	if err != nil {
		t.Fatal(err)
	}
	var owner *proc
	var others []*proc
	for _, n := range nodes {
		if n.ID == id {
			owner = n
		} else {
			others = append(others, n)
		}
	}
	if owner == nil {
		t.Fatalf("the meeting lives on %q, not a node of the test", id)
	}
	return owner, others
}

func name(c *client.Client) string { return c.Joined().Self.Name }

// grows waits until rx has received n more packets of kind from publisher.
func grows(t *testing.T, rx, publisher *client.Client, kind string, n uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
	defer cancel()
	from := rx.Received(publisher.ParticipantID(), kind).Packets
	if _, err := rx.WaitReceived(ctx, publisher.ParticipantID(), kind, func(c rtpstats.Counts) bool { return c.Packets >= from+n }); err != nil {
		t.Fatalf("%s did not receive %d more %s packets of %s: %v", name(rx), n, kind, name(publisher), err)
	}
}

func request(t *testing.T, c *client.Client, typ string, body any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
	defer cancel()
	if _, err := c.Request(ctx, typ, body); err != nil {
		t.Fatalf("%s: %s: %v", name(c), typ, err)
	}
}

func waitType(t *testing.T, c *client.Client, from int, typ string) client.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
	defer cancel()
	m, err := c.WaitFrom(ctx, from, client.OfType(typ))
	if err != nil {
		t.Fatalf("%s: no %s: %v", name(c), typ, err)
	}
	return m
}

// TestThreeNodes is the cluster's must-show: three server processes on one Redis; a meeting
// created through node 1, its host joined through node 2, guests through node 3. Everyone
// receives everyone's audio and video; the host's mute all, sent through its node, stops the
// guests' audio at the owner before the ok; a timer started through the host's node ends once,
// on time, for everyone; the participant count is right whichever node is asked.
func TestThreeNodes(t *testing.T) {
	rs := redistest.Start(t)
	rdb := redisClient(t, rs)
	n1 := startNode(t, "node-1", rs.URL())
	n2 := startNode(t, "node-2", rs.URL())
	n3 := startNode(t, "node-3", rs.URL())
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	created, err := client.CreateMeeting(ctx, n1.URL, "Ada")
	if err != nil {
		t.Fatal(err)
	}
	owner, err := redisstore.New(rdb, nil).Owner(ctx, created.MeetingID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("meeting %s lives on %s", created.MeetingID, owner)
	if owner != n1.ID && owner != n2.ID && owner != n3.ID {
		t.Fatalf("the meeting was placed on %q, not a node of the cluster", owner)
	}

	host := member(t, n2.URL, created.MeetingID, "Ada", created.HostKey)
	if host.Joined().Role != wire.RoleHost {
		t.Fatalf("the host joined through node 2 as %q", host.Joined().Role)
	}
	grace := member(t, n3.URL, created.MeetingID, "Grace", "")
	linus := member(t, n3.URL, created.MeetingID, "Linus", "")
	everyone := []*client.Client{host, grace, linus}
	guests := []*client.Client{grace, linus}
	for _, rx := range everyone {
		for _, tx := range everyone {
			if rx != tx {
				grows(t, rx, tx, client.Audio, 20)
				grows(t, rx, tx, client.Video, 10)
			}
		}
	}
	// Every session not on the owner is relayed by the node it reached; every node sees three.
	relayedWant := 0.0
	for _, c := range []struct {
		via *proc
		n   float64
	}{{n2, 1}, {n3, 2}} {
		if c.via.ID != owner {
			relayedWant += c.n
		}
	}
	relayedGot := 0.0
	for _, n := range []*proc{n1, n2, n3} {
		relayedGot += n.metric(ctx, "parley_relayed_sessions")
		if got := n.metric(ctx, "parley_cluster_nodes"); got != 3 {
			t.Errorf("%s: parley_cluster_nodes %v, want 3", n.name, got)
		}
	}
	if relayedGot != relayedWant {
		t.Errorf("parley_relayed_sessions add up to %v, want %v", relayedGot, relayedWant)
	}
	for _, n := range []*proc{n1, n2, n3} {
		info, err := client.GetMeeting(ctx, n.URL, created.MeetingID)
		if err != nil || info.ParticipantCount != 3 {
			t.Errorf("GET the meeting through %s: %+v, %v; want 3 participants", n.name, info, err)
		}
	}

	// Mute all from the host's session on node 2: the owner closes the guests' gates before
	// the ok that comes back through the relay.
	request(t, host, "muteAll", map[string]any{"allowSelfUnmute": false})
	atOK := map[[2]*client.Client]uint64{}
	for _, rx := range everyone {
		for _, g := range guests {
			if rx != g {
				atOK[[2]*client.Client{rx, g}] = rx.Received(g.ParticipantID(), client.Audio).Packets
			}
		}
	}
	for _, g := range guests {
		waitType(t, g, 0, "mutedByHost")
	}
	sentBefore := grace.PublishStats()
	grows(t, grace, host, client.Audio, 50) // a second of the host's audio: the gates had time
	settled := map[[2]*client.Client]uint64{}
	for key := range atOK {
		settled[key] = key[0].Received(key[1].ParticipantID(), client.Audio).Packets
	}
	grows(t, grace, host, client.Audio, 50)
	grows(t, linus, host, client.Audio, 50)
	for key, before := range atOK {
		rx, g := key[0], key[1]
		now := rx.Received(g.ParticipantID(), client.Audio).Packets
		if now != settled[key] {
			t.Errorf("%s received %d audio packets of muted %s", name(rx), now-settled[key], name(g))
		}
		if now-before > 1 {
			t.Errorf("%s received %d audio packets of %s after the ok", name(rx), now-before, name(g))
		}
	}
	if sent := grace.PublishStats(); sent.AudioPackets <= sentBefore.AudioPackets {
		t.Fatalf("the muted client stopped sending (%+v -> %+v): the test proves nothing", sentBefore, sent)
	}

	// A timer started through node 2 ends once, at its endsAt, for the sessions on every node.
	marks := map[*client.Client]int{}
	for _, c := range everyone {
		marks[c] = c.Mark()
	}
	request(t, host, "startTimer", map[string]any{"timerId": "t15"})
	var started wire.TimerStarted
	if err := waitType(t, grace, marks[grace], "timerStarted").Decode(&started); err != nil {
		t.Fatal(err)
	}
	endsAt := time.UnixMilli(started.EndsAt)
	ended := map[*client.Client]time.Time{}
	for _, c := range everyone {
		ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second+await.Limit)
		m, err := c.WaitFrom(ctx, marks[c], client.OfType("timerEnded"))
		cancel()
		if err != nil {
			t.Fatalf("%s: no timerEnded: %v", name(c), err)
		}
		ended[c] = m.At
	}
	for c, at := range ended {
		// Same machine, same clock: the end is not early, and late only by delivery.
		if at.Before(endsAt) || at.After(endsAt.Add(3*time.Second)) {
			t.Errorf("%s: timerEnded at %v, endsAt %v", name(c), at.Format(time.StampMilli), endsAt.Format(time.StampMilli))
		}
	}
	// Exactly once: a second of media later, each session has one timerEnded.
	grows(t, grace, host, client.Audio, 50)
	for _, c := range everyone {
		n := 0
		for _, m := range c.Messages() {
			if m.Seq >= marks[c] && m.Type == "timerEnded" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s got %d timerEnded, want 1", name(c), n)
		}
	}
}
