package sfu

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// testBatchWrites is the BatchWrites of every SFU newTestSFU starts. PARLEY_SFU_BATCH_WRITES=1
// (or 0) runs the whole suite over the batched (or direct) write path.
var testBatchWrites = os.Getenv("PARLEY_SFU_BATCH_WRITES") == "1"

// BenchmarkForwardBatched is BenchmarkForward over batched writes (Config.BatchWrites).
func BenchmarkForwardBatched(b *testing.B) {
	defer func(was bool) { testBatchWrites = was }(testBatchWrites)
	testBatchWrites = true
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) { benchForward(b, n, false) })
	}
}

// Media flows through the SFU on either write path, whatever the default: with BatchWrites the
// mux's socket is a udpbatch.Conn whose counters see the forwarded packets and are exported.
func TestWritePaths(t *testing.T) {
	for _, batch := range []bool{false, true} {
		t.Run(fmt.Sprintf("batch=%v", batch), func(t *testing.T) {
			reg := prometheus.NewRegistry()
			s, err := New(Config{LoopbackOnly: true, Registerer: reg, BatchWrites: batch})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Error(err)
				}
			})
			a := newTestClient(t, s, "room", "a")
			b := newTestClient(t, s, "room", "b")
			a.publish(true, true)
			b.waitReceiving(t, 50, a)
			fams, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			exported := map[string]float64{}
			for _, f := range fams {
				if strings.HasPrefix(f.GetName(), "parley_sfu_udp_") {
					exported[f.GetName()] = f.GetMetric()[0].GetCounter().GetValue()
				}
			}
			if !batch {
				if s.writes != nil || len(exported) != 0 {
					t.Fatalf("direct writes, yet batch counters %v", exported)
				}

				return
			}
			// A forwarded packet is counted once queued; it leaves when the fan-out releases the sockets.
			fwd := s.Stats().PacketsForwarded
			waitFor(t, fmt.Sprintf("the socket to send the %d packets forwarded", fwd), func() bool {
				return s.writes.Snapshot().Sent >= fwd
			})
			if w := s.writes.Snapshot(); w.Sockets != 1 || w.Batches == 0 {
				t.Errorf("%d batched sockets (want 1), %d batches", w.Sockets, w.Batches)
			}
			if exported["parley_sfu_udp_datagrams_sent_total"] == 0 || exported["parley_sfu_udp_write_batches_total"] == 0 {
				t.Errorf("batch counters not exported: %v", exported)
			}
			for _, name := range []string{"parley_sfu_udp_write_queue_waits_total", "parley_sfu_udp_write_errors_total",
				"parley_sfu_udp_gso_datagrams_total"} {
				if _, ok := exported[name]; !ok {
					t.Errorf("%s not exported", name)
				}
			}
		})
	}
}

// The all-interfaces mux opens each of its sockets as a udpbatch.Conn and closes them (no client
// connects: media stays on loopback, which that mux leaves out).
func TestBatchWritesAllInterfaces(t *testing.T) {
	s, err := New(Config{BatchWrites: true})
	if err != nil {
		t.Fatal(err)
	}
	addrs := s.mux.GetListenAddresses()
	t.Logf("listening on %v", addrs)
	// Sockets counts every socket opened batched, closed ones too: with port 0 the sfu opens its
	// sockets anew on another port when the media port's TCP twin (ICE-TCP) is taken, so the
	// count may exceed the addresses, never fall short of them.
	if n := s.writes.Snapshot().Sockets; n < int64(len(addrs)) {
		t.Errorf("%d batched sockets for %d listen addresses %v", n, len(addrs), addrs)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
