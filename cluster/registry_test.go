package cluster_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/cluster"
	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/internal/redistest"
	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/signaling"
	"github.com/parleyhq/parley/wire"
)

// joinNode joins an in-process cluster member whose load the test sets.
func joinNode(t *testing.T, rs *redistest.Server, id string, load *atomic.Int64) *cluster.Cluster {
	t.Helper()
	c, err := cluster.Join(t.Context(), cluster.Config{RedisURL: rs.URL(), NodeID: id, NodeURL: "http://" + id + ".test:8080",
		Participants: func() int { return int(load.Load()) }, Heartbeat: 50 * time.Millisecond, TTL: 500 * time.Millisecond})
	if err != nil {
		t.Fatalf("join %s: %v", id, err)
	}
	t.Cleanup(func() { _ = c.Leave(context.Background()) })
	return c
}

func liveIDs(t *testing.T, c *cluster.Cluster) []string {
	t.Helper()
	nodes, err := c.Nodes(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, n := range nodes {
		ids = append(ids, n.ID)
	}
	return ids
}

// TestRegistryAndPlacement: nodes register with their load; a new meeting goes to the least
// loaded live node; a node that stops its heartbeats drops out of the registry after the TTL,
// and its meeting is claimed by the next node a client reaches, once.
func TestRegistryAndPlacement(t *testing.T) {
	rs := redistest.Start(t)
	var la, lb, lc atomic.Int64
	la.Store(10)
	lb.Store(3)
	lc.Store(7)
	a := joinNode(t, rs, "a", &la)
	b := joinNode(t, rs, "b", &lb)
	c := joinNode(t, rs, "c", &lc)
	if ids := liveIDs(t, a); len(ids) != 3 {
		t.Fatalf("live nodes %v, want a, b, c", ids)
	}
	if a.Secret() == "" || a.Secret() != b.Secret() || b.Secret() != c.Secret() {
		t.Fatal("the nodes do not share one cluster secret")
	}
	ctx := t.Context()
	svc := meeting.NewService(meeting.Config{Store: a.Store()})
	created, err := svc.Create(ctx, "Ada")
	if err != nil {
		t.Fatal(err)
	}
	if owner, _ := a.Records().Owner(ctx, created.MeetingID); owner != "b" {
		t.Fatalf("meeting placed on %q, want b (3 participants, the least)", owner)
	}
	// The load moves: the next heartbeat tells, and the next meeting goes to c.
	lb.Store(20)
	await.Until(t, "placement to follow b's load", func() bool {
		id, err := a.Place(ctx)
		return err == nil && id == "c"
	})

	// Routing: the owner serves its meeting; any other node relays to the owner's URL.
	if url, err := b.Route(ctx, created.MeetingID); err != nil || url != "" {
		t.Fatalf("b routes its own meeting to %q, %v", url, err)
	}
	if url, err := c.Route(ctx, created.MeetingID); err != nil || url != "http://b.test:8080" {
		t.Fatalf("c routes b's meeting to %q, %v", url, err)
	}
	if url, err := c.Route(ctx, "no-such-meeting"); err != nil || url != "" {
		t.Fatalf("an unknown meeting routes to %q, %v; want here (the join answers not_found)", url, err)
	}

	// b dies without a word (its heartbeats stop; its entry expires).
	stopBeats(t, b)
	await.Until(t, "b's entry to expire", func() bool {
		ids := liveIDs(t, a)
		return len(ids) == 2 && ids[0] == "a" && ids[1] == "c"
	})
	if url, err := c.Route(ctx, created.MeetingID); err != nil || url != "" {
		t.Fatalf("c routes dead b's meeting to %q, %v; want here (c claims it)", url, err)
	}
	if url, err := a.Route(ctx, created.MeetingID); err != nil || url != "http://c.test:8080" {
		t.Fatalf("after c's claim, a routes to %q, %v", url, err)
	}
	if id, err := a.Place(ctx); err != nil || id == "b" {
		t.Fatalf("a dead node was chosen for a new meeting: %q, %v", id, err)
	}
	rec, err := a.Records().Get(ctx, created.MeetingID)
	if err != nil || rec.State != wire.StateOpen {
		t.Fatalf("the claimed meeting's record: %+v, %v", rec, err)
	}
}

// stopBeats makes a node silent, as kill -9 does: Leave would remove its entry at once.
func stopBeats(t *testing.T, c *cluster.Cluster) {
	t.Helper()
	cluster.StopHeartbeats(c)
}

// Ready follows Redis: nil while heartbeats land, an error once one TTL passed without.
func TestReadyFollowsRedis(t *testing.T) {
	rs := redistest.Start(t)
	var load atomic.Int64
	a := joinNode(t, rs, "a", &load)
	if err := a.Ready(); err != nil {
		t.Fatalf("Ready with Redis up: %v", err)
	}
	rs.Stop()
	await.Until(t, "Ready to fail with Redis down", func() bool { return a.Ready() != nil })
	rs.Restart()
	await.Until(t, "Ready once Redis is back", func() bool { return a.Ready() == nil })
	if ids := liveIDs(t, a); len(ids) != 1 || ids[0] != "a" {
		t.Fatalf("after the restart the registry has %v, want [a]", ids)
	}
}

// Only a request carrying the cluster's secret is taken as relayed by another node (and only
// then is its client address header believed).
func TestRelayedNeedsTheSecret(t *testing.T) {
	rs := redistest.Start(t)
	var load atomic.Int64
	a := joinNode(t, rs, "a", &load)
	edge := signaling.New(signaling.Config{Cluster: a}, meeting.NewService(meeting.Config{}), nil)
	single := signaling.New(signaling.Config{}, meeting.NewService(meeting.Config{}), nil)
	for _, tc := range []struct {
		name   string
		srv    *signaling.Server
		secret string
		want   bool
	}{
		{"the cluster's secret", edge, a.Secret(), true},
		{"a wrong secret", edge, a.Secret() + "x", false},
		{"no secret", edge, "", false},
		{"a single node", single, a.Secret(), false},
	} {
		r := httptest.NewRequest(http.MethodGet, "/ws", nil)
		if tc.secret != "" {
			r.Header.Set(signaling.HeaderClusterSecret, tc.secret)
		}
		r.Header.Set(signaling.HeaderClientIP, "203.0.113.7")
		ip, ok := tc.srv.Relayed(r)
		if ok != tc.want || (ok && ip != "203.0.113.7") {
			t.Errorf("%s: Relayed = %q, %v; want %v", tc.name, ip, ok, tc.want)
		}
	}
}

// A node ends a meeting that lives on another, live node only through that node: the sweep of
// unused meetings on the node that created it must not end it while it is used elsewhere.
func TestOnlyTheOwnerEnds(t *testing.T) {
	rs := redistest.Start(t)
	var la, lb atomic.Int64
	la.Store(5)
	a := joinNode(t, rs, "a", &la)
	b := joinNode(t, rs, "b", &lb)
	ctx := t.Context()
	created, err := meeting.NewService(meeting.Config{Store: a.Store()}).Create(ctx, "Ada")
	if err != nil {
		t.Fatal(err)
	}
	if owner, _ := a.Records().Owner(ctx, created.MeetingID); owner != "b" {
		t.Fatalf("placed on %q, want b", owner)
	}
	rec, err := a.Records().Get(ctx, created.MeetingID)
	if err != nil {
		t.Fatal(err)
	}
	rec.State = wire.StateEnded
	if err := a.Store().Update(ctx, rec); err == nil {
		t.Fatal("node a ended node b's meeting")
	}
	rec.Locked = true
	rec.State = wire.StateOpen
	if err := a.Store().Update(ctx, rec); err != nil {
		t.Fatalf("another change through node a: %v", err)
	}
	stopBeats(t, b)
	await.Until(t, "b's entry to expire", func() bool { return len(liveIDs(t, a)) == 1 })
	rec.State = wire.StateEnded
	if err := a.Store().Update(ctx, rec); err != nil {
		t.Fatalf("node a could not end a dead node's meeting: %v", err)
	}
	if got, _ := a.Records().Get(ctx, created.MeetingID); got.State != wire.StateEnded || !got.Locked {
		t.Fatalf("record %+v, want ended and locked", got)
	}
}
