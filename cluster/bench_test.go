package cluster_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/internal/redistest"
	"github.com/parleyhq/parley/redisstore"
)

// BenchmarkJoin measures joins (WebSocket dial to joined, no media) made on the meeting's owner
// and made through another node that relays them, alternately, so that both see the same
// machine: the difference is what the relay adds (the owner's lookup in Redis, one WebSocket
// dial from node to node, one more hop for each message). It reports the medians.
//
//	go test -run '^$' -bench Join -benchtime 400x ./cluster/
func BenchmarkJoin(b *testing.B) {
	rs := redistest.Start(b)
	limit := []string{"-joins-per-minute", "1000000"}
	owner := startNode(b, "node-1", rs.URL(), limit...)
	relay := startNode(b, "node-2", rs.URL(), limit...)
	ctx := context.Background()
	created, err := client.CreateMeeting(ctx, owner.URL, "Ada")
	if err != nil {
		b.Fatal(err)
	}
	// Placement may choose either idle node (CPU breaks the tie): name them by what they are.
	id, err := redisstore.New(redisClient(b, rs), nil).Owner(ctx, created.MeetingID)
	if err != nil {
		b.Fatal(err)
	}
	if id == relay.ID {
		owner, relay = relay, owner
	}
	join := func(url string) time.Duration {
		c, err := client.Dial(ctx, client.Options{BaseURL: url, MeetingID: created.MeetingID, Name: "Grace", Loopback: true})
		if err != nil {
			b.Fatal(err)
		}
		tm := c.Timing()
		if err := c.Leave(ctx); err != nil {
			b.Fatal(err)
		}
		c.Close()
		return tm.Joined.Sub(tm.DialStart)
	}
	var direct, relayed []time.Duration
	for b.Loop() {
		direct = append(direct, join(owner.URL))
		relayed = append(relayed, join(relay.URL))
	}
	median := func(ds []time.Duration) float64 {
		slices.Sort(ds)
		return float64(ds[len(ds)/2].Microseconds()) / 1000
	}
	d, r := median(direct), median(relayed)
	b.ReportMetric(d, "owner-ms/join")
	b.ReportMetric(r, "relayed-ms/join")
	b.ReportMetric(r-d, "added-ms")
}
