package node_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/internal/logcapture"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/node/nodetest"
	"github.com/parleyhq/parley/internal/rtpstats"
	"github.com/parleyhq/parley/wire"
)

// TestMeetingLogAtInfo runs a whole meeting through a node with real Pion clients (three people
// publishing audio and video to each other, a host mute all and kick, a leave, the end) and reads
// the node's log at info level, as an operator would: it tells the meeting's life, one line a
// step, names no one, and holds no Pion chatter and no warning.
func TestMeetingLogAtInfo(t *testing.T) {
	var logs logcapture.Buffer
	srv := nodetest.Start(t, func(c *node.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	created, err := client.CreateMeeting(ctx, srv.URL, "Hanna Host")
	if err != nil {
		t.Fatal(err)
	}
	dial := func(name, key string) *client.Client {
		c, err := client.Dial(ctx, client.Options{BaseURL: srv.URL, MeetingID: created.MeetingID, Name: name, HostKey: key, Loopback: true})
		if err != nil {
			t.Fatalf("dial %s: %v", name, err)
		}
		t.Cleanup(c.Close)
		return c
	}
	host, ann, bob := dial("Hanna Host", created.HostKey), dial("Ann Guest", ""), dial("Bob Guest", "")
	people := []*client.Client{host, ann, bob}
	for _, p := range people {
		if err := p.Publish(ctx, client.PublishOptions{Audio: true, Video: true, VideoBitrate: 300_000}); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	for _, rx := range people {
		for _, tx := range people {
			if rx == tx {
				continue
			}
			if _, err := rx.WaitReceived(ctx, tx.ParticipantID(), client.Video, func(c rtpstats.Counts) bool { return c.Packets >= 30 && c.Keyframes >= 1 }); err != nil {
				t.Fatalf("video from %s: %v", tx.ParticipantID(), err)
			}
			if _, err := rx.WaitReceived(ctx, tx.ParticipantID(), client.Audio, func(c rtpstats.Counts) bool { return c.Packets >= 30 }); err != nil {
				t.Fatalf("audio from %s: %v", tx.ParticipantID(), err)
			}
		}
	}
	if _, err := host.Request(ctx, wire.TypeMuteAll, map[string]any{"allowSelfUnmute": true}); err != nil {
		t.Fatal(err)
	}
	if _, err := host.Request(ctx, wire.TypeKick, map[string]any{"participantId": bob.ParticipantID()}); err != nil {
		t.Fatal(err)
	}
	if err := ann.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := host.Request(ctx, wire.TypeEndMeeting, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range people {
		select {
		case <-p.Done():
		case <-ctx.Done():
			t.Fatal("a client's connection did not end with the meeting")
		}
	}
	// The sessions' teardown is logged as it happens; Close waits for all of it.
	srv.Server.Close()
	nodetest.Drops(t, srv.SFU.Stats(), "muted")

	out := logs.String()
	t.Logf("the node's log at info level:\n%s", out)
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON line: %q", l)
		}
		lines = append(lines, m)
		if _, ok := m["pion"]; ok {
			t.Errorf("a Pion line at info level: %s", l)
		}
		if m["level"] != "INFO" {
			t.Errorf("a %v line in a meeting where nothing went wrong: %s", m["level"], l)
		}
	}
	for _, name := range []string{"Hanna", "Ann", "Bob"} {
		if strings.Contains(out, name) {
			t.Errorf("%s's name is in the log", name)
		}
	}

	id := created.MeetingID
	type step struct {
		msg   string
		attrs map[string]any
	}
	want := []step{
		{"meeting created", map[string]any{"meetingId": id}},
		{"participant joined", map[string]any{"meetingId": id, "participantId": host.ParticipantID(), "role": "host"}},
		{"participant joined", map[string]any{"meetingId": id, "participantId": ann.ParticipantID(), "role": "participant"}},
		{"participant joined", map[string]any{"meetingId": id, "participantId": bob.ParticipantID(), "role": "participant"}},
		{"host action", map[string]any{"meetingId": id, "participantId": host.ParticipantID(), "action": "muteAll"}},
		{"participant left", map[string]any{"meetingId": id, "participantId": bob.ParticipantID(), "reason": "kicked"}},
		{"host action", map[string]any{"meetingId": id, "action": "kick", "target": bob.ParticipantID()}},
		{"participant left", map[string]any{"meetingId": id, "participantId": ann.ParticipantID(), "reason": "left"}},
		{"meeting ended", map[string]any{"meetingId": id, "peakParticipants": 3.0}},
		{"host action", map[string]any{"meetingId": id, "action": "endMeeting"}},
	}
	// The lifecycle lines, in this order; other info lines (the sfu's start) may come between.
	next := 0
	for _, l := range lines {
		if next < len(want) && l["msg"] == want[next].msg && matches(l, want[next].attrs) {
			next++
		}
	}
	if next < len(want) {
		t.Errorf("the log lacks, in order from here: %s %v", want[next].msg, want[next].attrs)
	}
	if len(lines) > len(want)+2 {
		t.Errorf("%d lines for a meeting of %d steps", len(lines), len(want))
	}
	for _, l := range lines {
		if l["msg"] == "meeting ended" {
			if d, ok := l["durationSeconds"].(float64); !ok || d < 0 {
				t.Errorf("meeting ended with duration %v", l["durationSeconds"])
			}
		}
	}

	// Pion's faults are counted for the metrics: none in this meeting, every kind exported.
	if n, err := testutil.GatherAndCount(srv.Registry, "parley_pion_faults_total"); err != nil || n == 0 {
		t.Errorf("parley_pion_faults_total: %d series, %v", n, err)
	}
	mfs, err := srv.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "parley_pion_faults_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if v := m.GetCounter().GetValue(); v != 0 {
				t.Errorf("Pion fault %v counted %v times in a meeting on loopback", m.GetLabel(), v)
			}
		}
	}
}

func matches(line, attrs map[string]any) bool {
	for k, v := range attrs {
		if line[k] != v {
			return false
		}
	}
	return true
}
