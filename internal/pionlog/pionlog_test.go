package pionlog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestLevels(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, tc := range []struct {
		name string
		lv   Levels
		want []string // the lines logged for info, warn, error, in order
	}{
		{"server", Server, []string{"level=DEBUG msg=i pion=ice", "level=WARN msg=w pion=ice", "level=WARN msg=e pion=ice"}},
		{"client", Client, []string{"level=INFO msg=w pion=ice", "level=WARN msg=e pion=ice"}},
	} {
		buf.Reset()
		l := New(log, tc.lv).NewLogger("ice")
		l.Trace("t")
		l.Debugf("d %d", 1)
		l.Infof("%s", "i")
		l.Warn("w")
		l.Errorf("e")
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
	quiet := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	New(quiet, Server).NewLogger("ice").Info("i")
	if buf.Len() != 0 {
		t.Errorf("a level below the handler's was logged: %q", buf.String())
	}
}
