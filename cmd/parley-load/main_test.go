package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/goleak"

	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/node/nodetest"
)

// Pion's SRTP reader can block for good handing a new SSRC to a PeerConnection that stopped
// accepting streams while closing (pion/webrtc's undeclaredRTPMediaProcessor returns when the
// SRTCP session closed first; pion/srtp's decrypt then sends on newStream with no receiver): a
// goroutine of Pion's, after our Close returned, that this code cannot reach.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/pion/srtp/v3.(*SessionSRTP).decrypt"))
}

func TestParseConfig(t *testing.T) {
	c, err := parseConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.url != "http://127.0.0.1:8080" || !c.loopback || !c.spreadSources || c.publishers != 1 || c.videoBitrate != 1_500_000 {
		t.Errorf("defaults %+v", c)
	}
	c, err = parseConfig([]string{"-url", "https://meet.example.com/", "-meetings", "3", "-audio-only", "-ramp", "5"})
	if err != nil {
		t.Fatal(err)
	}
	if c.url != "https://meet.example.com" || c.loopback || c.spreadSources || c.meetings != 3 || !c.audioOnly {
		t.Errorf("remote config %+v", c)
	}
	c, err = parseConfig([]string{"-simulcast", "-quality", "low, high"})
	if err != nil || !c.simulcast || len(c.qualities) != 2 || c.qualities[0] != "low" || c.qualities[1] != "high" || !c.publishOptions().Simulcast {
		t.Errorf("simulcast config %+v: %v", c, err)
	}
	c, err = parseConfig([]string{"-url", "http://localhost:9000", "-loopback=false"})
	if err != nil || c.loopback || !c.spreadSources {
		t.Errorf("explicit -loopback=false: %+v %v", c, err)
	}
	for _, bad := range [][]string{
		{"-url", "127.0.0.1:8080"},
		{"-url", "http://example.com", "-spread-sources"},
		{"-meetings", "0"},
		{"-publishers", "0"},
		{"-subscribers", "-1"},
		{"-duration", "0s"},
		{"-duration", "2h"},
		{"-ramp", "0"},
		{"-video-codec", "VP9"},
		{"-video-bitrate", "5"},
		{"-interceptors", "none"},
		{"-metrics-url", "localhost/metrics"},
		{"-quality", "low,best"},
		{"-simulcast", "-audio-only"},
		{"extra"},
	} {
		if _, err := parseConfig(bad); err == nil {
			t.Errorf("parseConfig(%q) accepted", bad)
		}
	}
}

func TestPlanOrdersPublishersFirst(t *testing.T) {
	cfg := config{meetings: 2, publishers: 2, subscribers: 2}
	ms := plan(cfg, []*meetingState{{index: 0}, {index: 1}})
	var got []string
	for i, m := range ms {
		if m.index != i {
			t.Errorf("member %d has index %d", i, m.index)
		}
		got = append(got, m.name)
	}
	want := "Publisher 1-1,Publisher 1-2,Publisher 2-1,Publisher 2-2,Subscriber 1-1,Subscriber 2-1,Subscriber 1-2,Subscriber 2-2"
	if strings.Join(got, ",") != want {
		t.Errorf("plan %s", strings.Join(got, ","))
	}
	if !ms[0].host || ms[1].host || !ms[2].host || ms[4].publisher {
		t.Error("hosts or publishers misassigned")
	}
}

// TestRunAgainstServer is a short real run: the server in this process, real clients, real
// media on loopback; the figures must be there and plausible. The publishers send simulcast and
// the subscribers ask low and high in turn.
func TestRunAgainstServer(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv := nodetest.Start(t, func(c *node.Config) { c.Registry = reg })
	metrics := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer metrics.Close()

	jsonPath := filepath.Join(t.TempDir(), "run.json")
	cfg, err := parseConfig([]string{
		"-url", srv.URL, "-meetings", "2", "-publishers", "2", "-subscribers", "1",
		"-video-bitrate", "300000", "-duration", "2s", "-warmup", "1s", "-ramp", "4",
		"-metrics-url", metrics.URL, "-json", jsonPath, "-simulcast", "-quality", "low,high",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	res, err := run(ctx, cfg, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if err := writeJSON(jsonPath, res); err != nil {
		t.Fatal(err)
	}
	t.Logf("output:\n%s", out.String())

	if res.Joins.Joined != 6 || res.Joins.Failed != 0 {
		t.Errorf("joins %+v", res.Joins)
	}
	// Each meeting: 2 publishers each receive the other's 2 tracks, 1 subscriber receives 4.
	if res.Received.SubscribedTracks != 2*(2+2+4) {
		t.Errorf("subscribed tracks %d, want 16", res.Received.SubscribedTracks)
	}
	if res.Received.PacketsPerSecond < 100 || res.Received.Delay.Count == 0 {
		t.Errorf("received %+v", res.Received)
	}
	// Loss on a busy machine is allowed where the server says it shed load, nowhere else.
	st := srv.SFU.Stats()
	nodetest.Drops(t, st)
	if st.ForwardedByLayer["q"] == 0 || st.ForwardedByLayer["f"] == 0 {
		t.Errorf("forwarded by layer %v: want q (a subscriber asked low) and f", st.ForwardedByLayer)
	}
	if res.Joins.FirstPacket.Count == 0 {
		t.Errorf("no join-to-first-packet figures: %+v", res.Joins)
	}
	if res.Server == nil || res.Server.PacketsPerSecondSource != "server metrics" || res.Server.PacketsPerSecond <= 0 ||
		res.Server.RSSBytes <= 0 || res.Server.CPUMicrosPerPacket <= 0 {
		t.Errorf("server figures %+v (notes %v)", res.Server, res.Notes)
	}
	if !strings.Contains(out.String(), "one-way delay") || !strings.Contains(out.String(), "joined 6/6") {
		t.Errorf("output lacks the table or progress lines")
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var back result
	if err := json.Unmarshal(data, &back); err != nil || back.Joins.Joined != 6 || !back.Config.Simulcast {
		t.Errorf("JSON %s: %v", data, err)
	}
	var table bytes.Buffer
	if err := summarize(&table, []string{jsonPath}); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(table.String()), "\n"); len(lines) != 3 || !strings.Contains(lines[2], "| 6/6 |") {
		t.Errorf("summary table:\n%s", table.String())
	}
}
