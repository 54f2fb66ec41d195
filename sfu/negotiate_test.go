package sfu

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/pion/webrtc/v4"
	"go.uber.org/goleak"
)

// logCapture is a slog handler that keeps every record.
type logCapture struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *logCapture) Enabled(context.Context, slog.Level) bool { return true }

func (h *logCapture) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())

	return nil
}

func (h *logCapture) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logCapture) WithGroup(string) slog.Handler      { return h }

// find returns the messages logged at level or above that contain substr.
func (h *logCapture) find(level slog.Level, substr string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.records {
		if r.Level >= level && strings.Contains(r.Message, substr) {
			out = append(out, r.Message)
		}
	}

	return out
}

// A client that leaves while tracks come and go is a normal event, not an error: Pion closes the
// server's subscriber connection on the client's DTLS close, before anything tells the peer, and
// adding a track to it or offering on it fails. The peer then ends, and nothing is logged at
// error level.
func TestDepartedSubscriberIsNotAnError(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	logs := &logCapture{}
	s, err := New(Config{LoopbackOnly: true, Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close sfu: %v", err)
		}
	})
	a := newTestClient(t, s, "room", "a")
	b := newTestClient(t, s, "room", "b")
	a.publish(true, false)
	waitFor(t, "b receiving a's audio", func() bool { return b.packets("a", KindAudio) >= 5 })

	// Keep the connection state from closing b's peer, so that only the failures under test can.
	b.peer.sub.OnConnectionStateChange(func(webrtc.PeerConnectionState) {})
	if err := b.sub.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b's subscriber connection closed at the server", func() bool {
		return b.peer.sub.ConnectionState() == webrtc.PeerConnectionStateClosed
	})
	a.publish(false, true) // a new track for b: adding it fails
	waitFor(t, "the failed add", func() bool {
		return len(logs.find(slog.LevelDebug, "add track to a closed subscriber connection")) > 0
	})
	a.peer.Close() // a's audio leaves b: the offer without it fails, and b's peer ends
	waitFor(t, "b's peer done", func() bool {
		select {
		case <-b.peer.Done():
			return true
		default:
			return false
		}
	})
	if got := logs.find(slog.LevelDebug, "subscriber offer on a closed connection"); len(got) == 0 {
		t.Error("the failed offer was not logged at debug level")
	}
	if errs := logs.find(slog.LevelError, ""); len(errs) > 0 {
		t.Errorf("logged as errors: %q", errs)
	}
}
