package node_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/internal/node/nodetest"
)

// TestNoRelayNoICEServers: a node without the TURN relay answers joins with an empty
// iceServers list (present, not null: browsers take it as it is).
func TestNoRelayNoICEServers(t *testing.T) {
	srv := nodetest.Start(t)
	if srv.Relay != nil {
		t.Fatal("a relay runs without Config.TURN")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	created, err := client.CreateMeeting(ctx, srv.URL, "Host")
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(ctx, client.Options{BaseURL: srv.URL, MeetingID: created.MeetingID, Name: "Host", HostKey: created.HostKey, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if s := c.Joined().ICEServers; s == nil || len(s) != 0 {
		t.Errorf("iceServers %#v, want []", s)
	}
}
