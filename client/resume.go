package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley/wire"
)

// link is one WebSocket connection of the client. A resume replaces it; the peer connections
// stay.
type link struct {
	conn     *websocket.Conn
	done     chan struct{}
	closeErr *ClosedError // set before done is closed
}

// ErrMediaNotKept is Resume's error when the server could not keep the participant's peer
// connections (they had failed, or the resume reached the node of a cluster that took the
// meeting over from a node that died: it never had them): the participant is back, but this
// client would need new peer connections, which it does not make. A client that must carry on
// then dials anew with Options.ResumeToken (the same participant, new peer connections) and
// publishes again, as a reloaded page does.
var ErrMediaNotKept = errors.New("resumed, but the server did not keep the media connections")

// Cut ends the WebSocket connection at once, without a close frame, as a network drop or a
// sleeping laptop does; the peer connections stay. The server sees the participant as
// reconnecting (with a resume grace); Resume takes it back. Cut returns once the connection has
// ended on this side.
func (c *Client) Cut() {
	l := c.cur.Load()
	if l.conn != nil {
		_ = l.conn.CloseNow()
	}
	<-l.done
}

// Resume joins again on a new WebSocket connection with the resume token of the last joined
// (PROTOCOL.md 1.1, "Staying connected"), keeping this client's peer connections: the server
// answers joined with resumed true and a fresh token, this client offers its publisher
// connection again (restarting its ICE with iceRestart), and the server sends a new subscriber
// offer, which the client answers as any other. A connection still open is left to the server,
// which replaces it. A refused resume returns a *ProtocolError (forbidden for a used, wrong or
// expired token); the client is then without a connection, and only Close is left to do.
func (c *Client) Resume(ctx context.Context, iceRestart bool) error {
	token := c.joined.ResumeToken
	if token == "" {
		return errors.New("resume: the server gave no resume token")
	}
	conn, err := c.dial(ctx)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	l := &link{conn: conn, done: make(chan struct{})}
	c.goMu.Lock()
	if c.closing {
		c.goMu.Unlock()
		_ = conn.CloseNow()
		return c.closedErr()
	}
	c.wg.Add(1)
	c.cur.Store(l)
	c.goMu.Unlock()
	go c.readLoop(l)

	join := wire.Join{MeetingID: &c.opts.MeetingID, Name: &c.opts.Name, ResumeToken: &token}
	raw, err := c.Request(ctx, wire.TypeJoin, join)
	if err != nil {
		return fmt.Errorf("resume in meeting %s: %w", c.opts.MeetingID, err)
	}
	var joined wire.Joined
	if err := json.Unmarshal(raw, &joined); err != nil {
		return fmt.Errorf("resume in meeting %s: decode joined: %w", c.opts.MeetingID, err)
	}
	c.joined = joined
	c.joinedAt = time.Now()
	if joined.MediaKept == nil || !*joined.MediaKept {
		return ErrMediaNotKept
	}
	c.pubMu.Lock()
	pub := c.pub
	c.pubMu.Unlock()
	if pub == nil {
		return nil
	}
	return pub.renegotiate(ctx, iceRestart)
}

// RestartICE restarts ICE on both peer connections: a publisher offer with new credentials and
// iceRestart for the subscriber connection (whose offer the client answers as any other).
func (c *Client) RestartICE(ctx context.Context) error {
	if _, err := c.Request(ctx, wire.TypeIceRestart, wire.IceRestart{Target: wire.TargetSubscriber}); err != nil {
		return fmt.Errorf("ice restart: %w", err)
	}
	c.pubMu.Lock()
	pub := c.pub
	c.pubMu.Unlock()
	if pub == nil {
		return nil
	}
	return pub.renegotiate(ctx, true)
}

// renegotiate offers the publisher connection again, with an ICE restart when asked.
func (p *publisher) renegotiate(ctx context.Context, iceRestart bool) error {
	pc := p.peer.pc
	offer, err := pc.CreateOffer(&webrtc.OfferOptions{ICERestart: iceRestart})
	if err != nil {
		return fmt.Errorf("publisher offer: %w", err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("publisher offer: set local: %w", err)
	}
	raw, err := p.c.Request(ctx, wire.TypeOffer, wire.Offer{Target: wire.TargetPublisher, SDP: offer.SDP})
	if err != nil {
		return err
	}
	var answer wire.SessionDescription
	if err := json.Unmarshal(raw, &answer); err != nil || answer.SDP == "" {
		return fmt.Errorf("the publisher offer was answered with %s", raw)
	}
	return p.peer.setRemote(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer.SDP})
}
