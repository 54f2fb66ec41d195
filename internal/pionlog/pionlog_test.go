package pionlog

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestLevels(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, tc := range []struct {
		name string
		lv   Levels
		want []string // the lines logged for info, warn, error and a fault, in order
	}{
		{"server", Server, []string{"level=DEBUG msg=i pion=ice", "level=DEBUG msg=w pion=ice", "level=DEBUG msg=e pion=ice", "level=WARN msg=\"Failed to start SRTP: x\" pion=ice"}},
		{"client", Client, []string{"level=DEBUG msg=w pion=ice", "level=DEBUG msg=e pion=ice", "level=WARN msg=\"Failed to start SRTP: x\" pion=ice"}},
	} {
		buf.Reset()
		l := New(log, tc.lv, nil).NewLogger("ice")
		l.Trace("t")
		l.Debugf("d %d", 1)
		l.Infof("%s", "i")
		l.Warn("w")
		l.Errorf("e")
		l.Warnf("Failed to start SRTP: %s", "x")
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(lines) != len(tc.want) {
			t.Fatalf("%s: logged %q, want %d lines", tc.name, lines, len(tc.want))
		}
		for i, w := range tc.want {
			if !strings.Contains(lines[i], w) {
				t.Errorf("%s: line %q, want %q", tc.name, lines[i], w)
			}
		}
	}
	buf.Reset()
	quiet := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	New(quiet, Server, nil).NewLogger("ice").Info("i")
	New(quiet, Server, nil).NewLogger("ice").Warn("Failed to ping without candidate pairs. Connection is not possible yet.")
	if buf.Len() != 0 {
		t.Errorf("a level below the handler's was logged: %q", buf.String())
	}
}

// TestFaults: what Pion says when a connection really fails is a warning and counted, even when
// the handler would not show it; the same words about a connection being closed are teardown.
func TestFaults(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelError}))
	faults := NewFaults()
	pc := New(log, Server, faults).NewLogger("pc")
	pc.Warnf("Failed to start manager: %s", "handshake error: remote fingerprint does not match")
	pc.Warnf("Failed to start manager: %s", "connecting canceled by caller")
	pc.Warnf("Failed to start manager: %s", "the agent is closed")
	pc.Error("mux: ending readLoop packetio.Buffer error read: connection refused")
	pc.Warnf("Incoming unhandled RTCP ssrc(%d), OnTrack will not be fired", 1234)
	pc.Warn("Failed to ping without candidate pairs. Connection is not possible yet.")

	if got := faults.Count("transport_start"); got != 1 {
		t.Errorf("transport_start = %d, want 1 (the two teardown messages are not faults)", got)
	}
	if got := faults.Count("mux_read"); got != 1 {
		t.Errorf("mux_read = %d, want 1", got)
	}
	// The metric has every kind, zeros included.
	want := "# HELP parley_pion_faults_total Connection failures Pion reported that an operator may act on (ICE or DTLS not completing, SRTP setup, sockets), by kind; each is also logged as a warning.\n" +
		"# TYPE parley_pion_faults_total counter\n"
	for _, f := range faultList {
		n := 0
		if f.name == "transport_start" || f.name == "mux_read" {
			n = 1
		}
		want += fmt.Sprintf("parley_pion_faults_total{fault=%q} %d\n", f.name, n)
	}
	if err := testutil.CollectAndCompare(faults, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if buf.Len() != 0 {
		t.Errorf("logged below the handler's level: %q", buf.String())
	}
}
