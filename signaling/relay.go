package signaling

import (
	"context"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/wire"
)

// Cluster is what the edge needs of a cluster of nodes (package cluster provides it): where a
// meeting's sessions are served, the secret that nodes show each other, and whether the shared
// state is reachable. A nil Cluster is a single node.
type Cluster interface {
	// Route returns "" when meetingID's sessions are served here (this node owns the meeting,
	// or nobody knows it), or the base URL (http://host:port) of the node that owns it.
	Route(ctx context.Context, meetingID string) (ownerURL string, err error)
	// Secret authenticates node-to-node connections.
	Secret() string
	// Ready is nil while the node can take new meetings and joins.
	Ready() error
	// OwnerUnreachable says that this node could not reach the owner of meetingID, or lost its
	// connection to it, for cause. It checks at once whether the owner is alive and returns true
	// when it is gone (the next Route takes the meeting over); false while the owner may live.
	OwnerUnreachable(ctx context.Context, meetingID string, cause error) (gone bool)
	// OwnerLost starts that check without waiting for its answer.
	OwnerLost(meetingID string, cause error)
	// HTTPClient reaches the other nodes (their https certificates verified as configured).
	HTTPClient() *http.Client
}

// Headers of a relayed WebSocket: the cluster's secret, and the client's address and the host
// name it reached the cluster by, as the edge saw them (for the owner's limits and logs, and
// the TURN addresses in joined.iceServers).
const (
	HeaderClusterSecret = "X-Parley-Cluster-Secret"
	HeaderClientIP      = "X-Parley-Client-Ip"
	HeaderClientHost    = "X-Parley-Client-Host"
)

// relayReadLimit bounds one message from the owner: the server's messages have no limit in
// the protocol (an offer in a large meeting is big), so only a sanity bound.
const relayReadLimit = 16 << 20

// Relayed reports whether r comes from another node of the cluster (it carries the cluster's
// secret), and the client address it speaks for. A request with a wrong secret is not relayed.
func (s *Server) Relayed(r *http.Request) (clientIP string, ok bool) {
	ip, _, ok := s.relayedClient(r)
	return ip, ok
}

// relayedClient is Relayed with the host name the client reached the cluster by. What a
// relaying node leaves out is taken from the request itself.
func (s *Server) relayedClient(r *http.Request) (clientIP, clientHost string, ok bool) {
	got := r.Header.Get(HeaderClusterSecret)
	if s.cfg.Cluster == nil || got == "" {
		return "", "", false
	}
	want := s.cfg.Cluster.Secret()
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return "", "", false
	}
	clientIP, clientHost = r.Header.Get(HeaderClientIP), r.Header.Get(HeaderClientHost)
	if clientIP == "" {
		clientIP, _, _ = net.SplitHostPort(r.RemoteAddr)
	}
	if clientHost == "" {
		clientHost = s.requestHost(r)
	}
	return clientIP, clientHost, true
}

// route decides where the session's join is served: here (""), or on the meeting's owner, to
// which it has opened s.up: then it returns the meeting's id. ok is false when the join failed
// (the connection is closing with an error).
func (s *session) route(ctx context.Context, first []byte) (relayedMeeting string, ok bool) {
	if s.srv.cfg.Cluster == nil || s.relayed {
		return "", true
	}
	d, err := wire.Decode(first)
	if err != nil {
		return "", true // the local join answers bad_request
	}
	j, isJoin := d.Request.(*wire.Join)
	if !isJoin {
		return "", true
	}
	cl, id := s.srv.cfg.Cluster, *j.MeetingID
	for try := 0; ; try++ {
		owner, err := cl.Route(ctx, id)
		if err != nil {
			s.log.Warn("route join", "err", err)
			code := meeting.CodeOf(err)
			if code == wire.CodeInternal {
				code = wire.CodeUnavailable
			}
			s.srv.metrics.joins.WithLabelValues(string(code)).Inc()
			s.fail(d.ID, code, "the meeting's node cannot be found now (the cluster's shared state is unreachable); try again shortly")
			return "", false
		}
		if owner == "" {
			return "", true
		}
		err = s.openRelay(ctx, owner, first)
		if err == nil {
			return id, true
		}
		// A dead owner is known at once rather than after its heartbeat's TTL: route again, to
		// take the meeting over here (or relay to the node that did). Once: a second failure is
		// the answer.
		if try == 0 && cl.OwnerUnreachable(ctx, id, err) {
			continue
		}
		s.log.Warn("relay to the meeting's node", "owner", owner, "err", err)
		s.srv.metrics.joins.WithLabelValues(string(wire.CodeUnavailable)).Inc()
		s.fail(d.ID, wire.CodeUnavailable, "the node that holds this meeting is unreachable; try again shortly")
		return "", false
	}
}

// openRelay dials the owner's /ws as this client and sends it the client's join.
func (s *session) openRelay(ctx context.Context, owner string, join []byte) error {
	u, err := url.Parse(owner)
	if err != nil {
		return err
	}
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	u.Path = "/ws"
	hdr := http.Header{}
	hdr.Set(HeaderClusterSecret, s.srv.cfg.Cluster.Secret())
	hdr.Set(HeaderClientIP, s.ip)
	hdr.Set(HeaderClientHost, s.host)
	dctx, cancel := context.WithTimeout(ctx, s.srv.cfg.WriteTimeout)
	defer cancel()
	up, _, err := websocket.Dial(dctx, u.String(), &websocket.DialOptions{HTTPHeader: hdr, HTTPClient: s.srv.cfg.Cluster.HTTPClient()})
	if err != nil {
		return err
	}
	up.SetReadLimit(relayReadLimit)
	if err := up.Write(dctx, websocket.MessageText, join); err != nil {
		up.CloseNow()
		return err
	}
	s.up = up
	return nil
}

// relay carries the session's messages to and from the owner until either side ends: the
// client's messages go up as they are (the owner enforces the protocol), the owner's come down
// through the outbox, and the owner's close (with its status and reason) closes the client.
func (s *session) relay(ctx context.Context, meetingID string) string {
	up := s.up
	s.srv.metrics.relayed.Inc()
	defer s.srv.metrics.relayed.Dec()
	downDone := make(chan struct{})
	var leaving atomic.Bool // this side is closing up: its read error says nothing of the owner
	s.helpers.Go(func() {
		defer close(downDone)
		first := true
		for {
			_, data, err := up.Read(ctx)
			if err != nil {
				m := outMessage{closeAfter: true, status: websocket.StatusGoingAway, reason: "the meeting's node went away"}
				var ce websocket.CloseError
				if errors.As(err, &ce) {
					m.status, m.reason = ce.Code, ce.Reason
				} else if ctx.Err() == nil && !leaving.Load() {
					// Cut off without a close: the owner may have died. Its liveness is checked now, so
					// that the client's rejoin finds the meeting taken over rather than unavailable.
					s.srv.cfg.Cluster.OwnerLost(meetingID, err)
				}
				s.out.release(nil)
				s.out.push(m)
				return
			}
			if first {
				s.out.release(data)
				first = false
				continue
			}
			s.out.push(outMessage{data: data})
		}
	})
	defer func() {
		leaving.Store(true)
		up.Close(websocket.StatusNormalClosure, "")
		<-downDone
	}()
	for {
		typ, data, err := s.conn.Read(ctx)
		if err != nil {
			return "relayed: " + readEndReason(err)
		}
		if typ != websocket.MessageText {
			s.conn.Close(websocket.StatusUnsupportedData, "binary messages are not accepted")
			return "binary message"
		}
		if err := up.Write(ctx, websocket.MessageText, data); err != nil {
			return "relayed: the meeting's node went away"
		}
	}
}
