// Package nodetest runs a whole node (package node) for tests: media on 127.0.0.1 only, behind
// a real HTTP listener, closed when the test ends; and it checks what the server owes on a busy
// machine (Drops).
//
// It serves the end-to-end tests of signaling and client and the load generator's tests, so
// that they start the same node the binary runs. It must not be imported by non-test code.
package nodetest

import (
	"log/slog"
	"maps"
	"net/http/httptest"
	"os"
	"slices"
	"testing"

	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/sfu"
)

// Server is a running node and its address.
type Server struct {
	*node.Node
	// URL is the base URL of its HTTP side, e.g. http://127.0.0.1:41234.
	URL string
}

// Start runs a node until t ends, served as the binary serves it (the edge's HTTPServer on its
// Listener, with their timeouts and connection caps). The defaults suit tests: loopback-only
// media on a free UDP port, logs discarded (PARLEY_TEST_LOG=debug, info, warn or error sends
// them to stderr from that level, to look into a failure), and the rate limits on creating and
// joining meetings, the cap on connections and the request budget per address high enough that
// a test's many clients from 127.0.0.1 are not refused; writes are batched as the binary's
// default has them. Each tweak may change the configuration
// before the node starts.
func Start(t testing.TB, tweak ...func(*node.Config)) *Server {
	t.Helper()
	cfg := node.Config{Logger: testLogger()}
	cfg.Media.LoopbackOnly = true
	cfg.Media.BatchWrites = true // as the binary runs by default (cmd/parley -batch-writes)
	cfg.Edge.CreatesPerMinute, cfg.Edge.JoinsPerMinute, cfg.Edge.MeetingJoinsPerMinute = 1000, 1000, 1000
	cfg.Edge.MaxConnectionsPerAddr = 5000
	cfg.Edge.AddrCostPerSecond = 100_000 // every test client comes from 127.0.0.1
	for _, f := range tweak {
		f(&cfg)
	}
	n, err := node.New(cfg)
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	hs := httptest.NewUnstartedServer(n.Handler())
	hs.Listener = n.Server.Listener(hs.Listener)
	hs.Config = n.Server.HTTPServer()
	hs.Start()
	t.Cleanup(func() {
		n.Server.Close() // first: the sessions' hijacked connections are not httptest's to close
		hs.Close()
		if err := n.Close(); err != nil {
			t.Errorf("close node: %v", err)
		}
	})
	return &Server{Node: n, URL: hs.URL}
}

func testLogger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(os.Getenv("PARLEY_TEST_LOG"))); err != nil {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// Overload lists the reasons for which the sfu drops packets when it is short of CPU, as it
// documents them (sfu/delay.go, sfu/lane.go): a packet that waited too long in the server
// ("late"), a writer queue found full ("queue_full"), a packet evicted from the cache before its
// writer got to it ("cache_miss"). They are the only drops that leave a gap in a subscriber's
// stream.
var Overload = []string{"late", "queue_full", "cache_miss"}

// NotReady lists the reasons for which the sfu drops packets a subscriber is not ready for
// (sfu/downtrack.go): before it answered the offer carrying the track ("not_bound"), video until
// the keyframe it starts on ("wait_keyframe"), a publisher's retransmission of a packet from
// before that start ("stale"). The subscriber's sequence numbers start after them: no gap.
var NotReady = []string{"not_bound", "wait_keyframe", "stale"}

// Drops fails t if the sfu dropped any packet for a reason other than Overload, NotReady and
// also (say "muted" in a test that mutes): what a test may assert about loss on a machine it does
// not control. A drop for any other reason ("write_error", or "muted" with nobody muted) means
// forwarding is broken.
func Drops(t testing.TB, st sfu.Stats, also ...string) {
	t.Helper()
	allowed := slices.Concat(Overload, NotReady, also)
	for _, reason := range slices.Sorted(maps.Keys(st.PacketsDropped)) {
		if n := st.PacketsDropped[reason]; n > 0 && !slices.Contains(allowed, reason) {
			t.Errorf("the sfu dropped %d packets as %q (all drops: %v)", n, reason, st.PacketsDropped)
		}
	}
}

// Shed is how many packets the sfu dropped for the reasons in Overload, all kinds together: a
// bound on the sequence gaps a subscriber may see over the same span of time.
func Shed(st sfu.Stats) uint64 {
	var n uint64
	for _, reason := range Overload {
		n += st.PacketsDropped[reason]
	}
	return n
}
