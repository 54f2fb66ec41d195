package lograte

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A flood of one cause logs one line per interval carrying the count, while every event is
// counted; another cause is not held back by it.
func TestOneLinePerCauseAndInterval(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	l := New(time.Second)
	at := time.Unix(1000, 0)
	l.now = func() time.Time { return at }
	for i := range 5000 {
		at = time.Unix(1000, 0).Add(time.Duration(i) * time.Millisecond) // 5 s of 1000 events a second
		l.Log(log, slog.LevelWarn, "stun", "STUN without USERNAME", "from", "10.0.0.1")
		if i == 10 {
			l.Log(log, slog.LevelWarn, "ws", "WebSocket closed before joining")
		}
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var stun []string
	for _, line := range lines {
		if strings.Contains(line, "STUN") {
			stun = append(stun, line)
		}
	}
	if len(stun) != 5 || len(lines) != 6 {
		t.Fatalf("%d lines (%d of STUN) for 5 s of a flood and one other event:\n%s", len(lines), len(stun), buf.String())
	}
	if strings.Contains(stun[0], "events=") || !strings.Contains(stun[1], "events=1000") {
		t.Errorf("lines do not count the events they stand for:\n%s", buf.String())
	}
	if got := testutil.ToFloat64(l.events.WithLabelValues("stun")); got != 5000 {
		t.Errorf("counted %v events, want 5000", got)
	}
	if got := testutil.ToFloat64(l.events.WithLabelValues("ws")); got != 1 {
		t.Errorf("counted %v ws events, want 1", got)
	}
}

// Causes beyond the bound share one series; a nil limiter logs everything.
func TestCausesBounded(t *testing.T) {
	l := New(time.Minute)
	for i := range maxCauses + 50 {
		l.Allow(strings.Repeat("x", i+1))
	}
	if n := testutil.CollectAndCount(l.events); n != maxCauses+1 {
		t.Errorf("%d series, want %d", n, maxCauses+1)
	}
	var nl *Limiter
	if n, ok := nl.Allow("a"); !ok || n != 1 {
		t.Error("a nil limiter held a line back")
	}
}
