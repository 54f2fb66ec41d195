package signaling_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/internal/logcapture"
	"github.com/parleyhq/parley/internal/node"
)

// Subscriber candidates racing the host's endMeeting are answered ok (before the end) or
// meeting_ended, or not at all once the connection closes: never internal, and nothing is
// logged as an error.
func TestRequestsRacingEndMeeting(t *testing.T) {
	var logs logcapture.Buffer
	e := newNodeEnv(t, func(c *node.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
		c.Edge.AddrCostPerSecond = 10000 // every raw connection comes from 127.0.0.1
	})
	const meetings, candidates = 30, 15
	outcomes := map[string]int{}
	for i := range meetings {
		m := e.create("Ada")
		host := e.dial("")
		host.join(m.MeetingID, "Ada", m.HostKey)
		guest := e.dial("")
		guest.join(m.MeetingID, "Grace", "")
		done := make(chan struct{})
		go func() {
			defer close(done)
			for j := range candidates {
				msg := fmt.Sprintf(`{"type":"candidate","id":"c%d","target":"subscriber","candidate":{"candidate":"candidate:1 1 udp 2130706431 127.0.0.1 9 typ host","sdpMid":"0","sdpMLineIndex":0}}`, j)
				// Not r.send: the connection may close under the loop, which is no failure here.
				if guest.conn.Write(context.Background(), websocket.MessageText, []byte(msg)) != nil {
					return
				}
			}
		}()
		if i%2 == 1 {
			<-done // half the time the end comes after the candidates were sent
		}
		host.ok("end", map[string]any{"type": "endMeeting"})
		<-done
		for {
			m, ok := <-guest.msgs
			if !ok {
				break
			}
			if id, _ := m["id"].(string); strings.HasPrefix(id, "c") {
				key, _ := m["type"].(string)
				if key == "error" {
					key, _ = m["code"].(string)
				}
				outcomes[key]++
			}
		}
	}
	t.Logf("answers to %d candidates racing endMeeting: %v", meetings*candidates, outcomes)
	for k := range outcomes {
		if k != "ok" && k != "meeting_ended" {
			t.Errorf("a candidate racing endMeeting was answered %s", k)
		}
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("errors logged:\n%s", logs.String())
	}
}
