package cluster_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/internal/redistest"
	"github.com/parleyhq/parley/redisstore"
	"github.com/parleyhq/parley/wire"
)

// joinUntil dials through url until a join is taken, and returns when it was (dialUntil).
func joinUntil(t testing.TB, url, meetingID, name string) (*client.Client, time.Time) {
	t.Helper()
	return dialUntil(t, "join", client.Options{BaseURL: url, MeetingID: meetingID, Name: name})
}

// TestPromptFailover: kill -9 of the node that holds a meeting, with a one-minute TTL: its
// clients join again through the survivors within the test's wait, which only the survivors'
// check of the owner's liveness can make happen (the TTL is far off), and the survivor says so
// in its log.
func TestPromptFailover(t *testing.T) {
	rs := redistest.Start(t)
	store := redisstore.New(redisClient(t, rs), nil)
	flags := []string{"-node-heartbeat", "250ms", "-node-ttl", "60s"}
	nodes := []*proc{startNode(t, "node-1", rs.URL(), flags...), startNode(t, "node-2", rs.URL(), flags...), startNode(t, "node-3", rs.URL(), flags...)}
	created, owner, survivors := ownedBy(t, store, nodes, nodes[0])
	meetingID := created.MeetingID
	relayed, _ := joinUntil(t, survivors[0].URL, meetingID, "Grace")
	defer relayed.Close()
	direct, _ := joinUntil(t, owner.URL, meetingID, "Ada")
	defer direct.Close()

	killed := time.Now()
	owner.stop(syscall.SIGKILL)
	again, at := joinUntil(t, survivors[1].URL, meetingID, "Grace again")
	defer again.Close()
	t.Logf("kill -9 to a join through a survivor: %v", at.Sub(killed).Round(time.Millisecond))
	if at.Sub(killed) > 50*time.Second {
		t.Fatalf("the join took %v: the TTL's doing, not the liveness check's", at.Sub(killed))
	}
	ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
	defer cancel()
	newOwner, err := store.Owner(ctx, meetingID)
	if err != nil || newOwner == owner.ID {
		t.Fatalf("owner after the kill: %q, %v", newOwner, err)
	}
	declared := slices.ContainsFunc(append(survivors[0].logLines(), survivors[1].logLines()...), func(l string) bool {
		return strings.Contains(l, "declared a node dead ahead of its TTL") && strings.Contains(l, owner.ID)
	})
	if !declared {
		t.Fatal("no survivor logged that it declared the owner dead")
	}
	// The other survivor relays to the new owner.
	third, _ := joinUntil(t, survivors[0].URL, meetingID, "Edsger")
	third.Close()
}

// BenchmarkFailover measures the time from kill -9 of a meeting's node to the first join that
// succeeds through a survivor, retrying every 50 ms as a client would (the web client backs
// off from 500 ms). PARLEY_TEST_SERVER runs another build; PARLEY_BENCH_NODE_FLAGS adds flags:
//
//	go test -run '^$' -bench Failover -benchtime 5x ./cluster/
//	PARLEY_BENCH_NODE_FLAGS='-node-heartbeat 1s -node-ttl 5s' go test -run '^$' -bench Failover -benchtime 5x ./cluster/
func BenchmarkFailover(b *testing.B) {
	rs := redistest.Start(b)
	store := redisstore.New(redisClient(b, rs), nil)
	flags := strings.Fields(os.Getenv("PARLEY_BENCH_NODE_FLAGS"))
	var took []time.Duration
	for i := 0; b.Loop(); i++ {
		nodes := []*proc{startNode(b, "a"+strconv.Itoa(i), rs.URL(), flags...), startNode(b, "b"+strconv.Itoa(i), rs.URL(), flags...)}
		created, owner, others := ownedBy(b, store, nodes, nodes[0])
		meetingID, survivor := created.MeetingID, others[0]
		c, _ := joinUntil(b, survivor.URL, meetingID, "Grace")
		killed := time.Now()
		owner.stop(syscall.SIGKILL)
		again := retryJoin(b, survivor.URL, meetingID)
		took = append(took, again.Sub(killed))
		c.Close()
		survivor.stop(syscall.SIGTERM)
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Milliseconds()), "median-ms")
	b.ReportMetric(float64(took[len(took)-1].Milliseconds()), "max-ms")
}

// retryJoin joins every 50 ms until one succeeds, and returns when it did.
func retryJoin(b *testing.B, url, meetingID string) time.Time {
	for {
		ctx, cancel := context.WithTimeout(b.Context(), 10*time.Second)
		c, err := client.Dial(ctx, client.Options{BaseURL: url, MeetingID: meetingID, Name: "Grace", Loopback: true})
		cancel()
		if err == nil {
			at := time.Now()
			c.Close()
			return at
		}
		if client.ErrorCode(err) != string(wire.CodeUnavailable) {
			b.Fatalf("join: %v", err)
		}
		t := time.NewTimer(50 * time.Millisecond)
		<-t.C
	}
}
