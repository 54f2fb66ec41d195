package signaling_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/internal/node/nodetest"
	"github.com/parleyhq/parley/internal/rtpstats"
)

// member joins through the real protocol with a real Pion client on loopback and, when publish
// is set, sends synthetic Opus and VP8.
func (e *env) member(t *testing.T, meetingID, name, hostKey string, publish bool) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{BaseURL: e.url, MeetingID: meetingID, Name: name, HostKey: hostKey, Loopback: true})
	if err != nil {
		t.Fatalf("%s: dial: %v", name, err)
	}
	t.Cleanup(c.Close)
	if publish {
		// A modest bitrate keeps several clients and the server within two cores under -race.
		if err := c.Publish(ctx, client.PublishOptions{Audio: true, Video: true, VideoBitrate: 300_000, FPS: 15}); err != nil {
			t.Fatalf("%s: publish: %v", name, err)
		}
	}
	return c
}

// waitReceived waits until c receives from publisher's kind what cond asks.
func waitReceived(t *testing.T, c *client.Client, publisher *client.Client, kind string, what string, cond func(rtpstats.Counts) bool) rtpstats.Counts {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
	defer cancel()
	got, err := c.WaitReceived(ctx, publisher.ParticipantID(), kind, cond)
	if err != nil {
		t.Fatalf("%s never received %s of %s from %s: %v (last counts %+v)", c.Joined().Self.Name, what, kind,
			publisher.Joined().Self.Name, err, c.Received(publisher.ParticipantID(), kind))
	}
	return got
}

// grows waits until c has received n more packets of kind from publisher than it had.
func grows(t *testing.T, c, publisher *client.Client, kind string, n uint64) rtpstats.Counts {
	t.Helper()
	from := c.Received(publisher.ParticipantID(), kind).Packets
	return waitReceived(t, c, publisher, kind, fmt.Sprintf("%d more packets", n), func(x rtpstats.Counts) bool { return x.Packets >= from+n })
}

// waitEvent waits for a message of typ at c that matches (nil matches any).
func waitEvent(t *testing.T, c *client.Client, typ string, match func(client.Message) bool) client.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
	defer cancel()
	m, err := c.WaitFor(ctx, func(m client.Message) bool { return m.Type == typ && (match == nil || match(m)) })
	if err != nil {
		t.Fatalf("%s: no %s: %v", c.Joined().Self.Name, typ, err)
	}
	return m
}

// request sends a request and fails the test unless it is answered ok.
func request(t *testing.T, c *client.Client, typ string, body any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
	defer cancel()
	if _, err := c.Request(ctx, typ, body); err != nil {
		t.Fatalf("%s: %s: %v", c.Joined().Self.Name, typ, err)
	}
}

// requestError sends a request that must fail with code.
func requestError(t *testing.T, c *client.Client, typ string, body any, code string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
	defer cancel()
	_, err := c.Request(ctx, typ, body)
	if client.ErrorCode(err) != code {
		t.Fatalf("%s: %s answered %v, want %s", c.Joined().Self.Name, typ, err, code)
	}
}

// waitTrackGone waits until c no longer receives kind from publisher.
func waitTrackGone(t *testing.T, c *client.Client, publisherID, kind string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
	defer cancel()
	err := c.WaitTracks(ctx, func(m map[client.TrackKey]client.TrackInfo) bool {
		_, ok := m[client.TrackKey{StreamID: publisherID, Kind: kind}]
		return !ok
	})
	if err != nil {
		t.Fatalf("%s still receives %s of %s: %v", c.Joined().Self.Name, kind, publisherID, err)
	}
}

// waitClosed waits for the server to close c's connection.
func waitClosed(t *testing.T, c *client.Client) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(await.Limit):
		t.Fatalf("%s: connection still open", c.Joined().Self.Name)
	}
}

func isProtocolError(err error, code string) bool {
	var pe *client.ProtocolError
	return errors.As(err, &pe) && client.ErrorCode(err) == code
}

// shed is how many packets the sfu has dropped so far for the reasons it sheds load for.
func (e *env) shed() uint64 { return nodetest.Shed(e.media.Stats()) }

// noGapButShed checks that a stream's sequence numbers ran on without a jump from before to
// after (a pause of forwarding must not look like loss), allowing one gap for each packet the
// server shed meanwhile: on a busy machine those are the server's documented choice.
func noGapButShed(t *testing.T, what string, before, after rtpstats.Counts, shed uint64) {
	t.Helper()
	if gaps := after.Gaps - before.Gaps; gaps > shed {
		t.Errorf("%s: %d sequence gaps with %d packets shed by the server (max gap %d)", what, gaps, shed, after.MaxGap)
	}
}

// decode reads an event's fields into v, failing the test if they do not fit.
func decode(t *testing.T, m client.Message, v any) {
	t.Helper()
	if err := m.Decode(v); err != nil {
		t.Fatal(err)
	}
}
