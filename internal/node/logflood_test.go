package node_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/stun/v4"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/internal/logcapture"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/node/nodetest"
	"github.com/parleyhq/parley/internal/rtpstats"
)

// A flood of what anyone can send (STUN binding requests without USERNAME at the media port,
// WebSockets that never join) is counted in parley_log_events_total and makes a line or two in
// the log even at debug level, while a meeting's media keeps flowing.
func TestLogFloodIsCounted(t *testing.T) {
	var logs logcapture.Buffer
	srv := nodetest.Start(t, func(c *node.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.Edge.JoinTimeout = 500 * time.Millisecond
	})
	ctx, cancel := context.WithTimeout(t.Context(), 2*await.Limit)
	defer cancel()
	created, err := client.CreateMeeting(ctx, srv.URL, "Ada")
	if err != nil {
		t.Fatal(err)
	}
	host, err := client.Dial(ctx, client.Options{BaseURL: srv.URL, MeetingID: created.MeetingID, Name: "Ada", HostKey: created.HostKey, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(host.Close)
	guest, err := client.Dial(ctx, client.Options{BaseURL: srv.URL, MeetingID: created.MeetingID, Name: "Grace", Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(guest.Close)
	if err := host.Publish(ctx, client.PublishOptions{Audio: true, Video: true, VideoBitrate: 300_000}); err != nil {
		t.Fatal(err)
	}
	if _, err := guest.WaitReceived(ctx, host.ParticipantID(), client.Audio, func(c rtpstats.Counts) bool { return c.Packets >= 25 }); err != nil {
		t.Fatal(err)
	}

	// 3000 STUN binding requests without USERNAME.
	udp, err := net.Dial("udp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.SFU.UDPPort())))
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
	const datagrams = 3000
	for range datagrams {
		if _, err := udp.Write(req.Raw); err != nil {
			t.Fatal(err)
		}
	}
	// 30 WebSockets that never join (the join deadline closes them).
	ws := strings.Replace(srv.URL, "http", "ws", 1) + "/ws"
	for range 30 {
		c, _, err := websocket.Dial(ctx, ws, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = c.Read(ctx) // the server closes it at the deadline
		if websocket.CloseStatus(err) == -1 && ctx.Err() != nil {
			t.Fatal("a WebSocket that never joined was not closed")
		}
		c.CloseNow()
	}
	http.DefaultClient.CloseIdleConnections()
	events := func(cause string) float64 {
		mfs, err := srv.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "parley_log_events_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "cause" && l.GetValue() == cause {
						return m.GetCounter().GetValue()
					}
				}
			}
		}
		return 0
	}
	// Loopback may drop datagrams when the reader is slow; most arrive.
	await.Until(t, "the STUN flood counted", func() bool { return events("stun_no_username") >= datagrams/3 })
	await.Until(t, "the unjoined WebSockets counted", func() bool { return events("websocket_unjoined") >= 30 })

	if _, err := guest.WaitReceived(ctx, host.ParticipantID(), client.Audio, func(c rtpstats.Counts) bool { return c.Packets >= 100 }); err != nil {
		t.Fatalf("the meeting's audio stopped: %v", err)
	}
	// The test lasts well under 2 intervals of the limiter: at most 2 lines per cause (3 for slack).
	text := logs.String()
	if n := strings.Count(text, "No Username attribute in STUN message"); n == 0 || n > 3 {
		t.Errorf("%d log lines for %d STUN datagrams without USERNAME", n, datagrams)
	}
	if n := strings.Count(text, "connection closed before joining"); n == 0 || n > 3 {
		t.Errorf("%d log lines for 30 WebSockets that never joined", n)
	}
}
