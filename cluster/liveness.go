package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"
)

// missedBeats is how many heartbeats in a row a node must have missed (as Redis's own clock
// tells, by the age of its entry) before a node that cannot reach it declares it dead ahead of
// its TTL. One late heartbeat is the ordinary jitter of a loaded machine; three is a node that
// stopped, or one cut off from Redis too, which its TTL would end a little later anyway.
const missedBeats = 3

// declareDeadScript removes a node's entry only if it is still the one the caller read (the
// node wrote no heartbeat since) and Redis last took a heartbeat long enough ago: its
// remaining time to live is at most ARGV[2] ms. One key: atomic, and Redis Cluster safe. It
// returns 1 when the entry is gone (removed now, or expired meanwhile), 0 when the node lives.
var declareDeadScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return 1 end
if v ~= ARGV[1] then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > tonumber(ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
return 1`)

// OwnerUnreachable implements signaling.Cluster: this node could not reach (or lost its
// connection to) the owner of meetingID, for cause. Rather than let the joins of the meeting
// answer unavailable until the owner's entry expires (its TTL), it checks at once whether the
// owner is alive, and returns true when the owner is gone: its entry is removed, and the next
// Route takes the meeting over (Claim decides between nodes that race for it).
//
// A live owner never loses its meeting this way: the owner is declared dead only when this
// node cannot open a TCP connection to it (before and after the wait) and Redis took no
// heartbeat from it for missedBeats of its heartbeat intervals, the latter checked and the entry
// removed in one script. A cause that shows the owner answering (its TLS certificate failed
// verification) is logged once per owner and declares nothing. Concurrent calls about one
// owner share one check.
func (c *Cluster) OwnerUnreachable(ctx context.Context, meetingID string, cause error) bool {
	owner, err := c.store.Owner(ctx, meetingID)
	if err != nil || owner == "" || owner == c.cfg.NodeID {
		return false
	}
	if certificateFailure(cause) {
		if _, seen := c.certWarned.LoadOrStore(owner, true); !seen {
			c.log.Error("node-to-node TLS: the certificate of the meeting's node failed verification; "+
				"its sessions cannot be relayed (give -node-ca the CA that signs the nodes' certificates, and make -node-addr a name or address the certificate holds)",
				"owner", owner, "err", cause)
		}
		return false
	}
	c.checkMu.Lock()
	if c.checks == nil { // left the cluster
		c.checkMu.Unlock()
		return false
	}
	ch, running := c.checks[owner]
	if !running {
		ch = &ownerCheck{done: make(chan struct{})}
		c.checks[owner] = ch
		c.checksWG.Add(1)
		go func() {
			defer c.checksWG.Done()
			// Its own context: a check outlives the join that started it, for the joins that wait on it.
			cctx, cancel := context.WithTimeout(c.checksCtx, missedBeats*c.cfg.TTL)
			ch.dead = c.checkOwner(cctx, owner)
			cancel()
			c.checkMu.Lock()
			delete(c.checks, owner) // a no-op on nil, once the node left
			c.checkMu.Unlock()
			close(ch.done)
		}()
	}
	c.checkMu.Unlock()
	select {
	case <-ch.done:
		return ch.dead
	case <-ctx.Done():
		return false
	}
}

// OwnerLost implements signaling.Cluster: OwnerUnreachable for a caller that does not wait for
// its answer (a relayed session cut off, a proxied request failed); the check goes on for the
// joins that follow.
func (c *Cluster) OwnerLost(meetingID string, cause error) {
	go func() {
		ctx, cancel := context.WithTimeout(c.checksCtx, time.Second)
		defer cancel()
		c.OwnerUnreachable(ctx, meetingID, cause)
	}()
}

// ownerCheck is one check of a node's liveness, shared by whoever asks meanwhile.
type ownerCheck struct {
	done chan struct{}
	dead bool // set before done closes
}

// checkOwner decides whether node id is dead (see OwnerUnreachable).
func (c *Cluster) checkOwner(ctx context.Context, id string) bool {
	key := nodeKey(id)
	raw, err := c.rdb.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return true // expired already: Route claims
	}
	if err != nil {
		return false
	}
	var n Node
	if err := json.Unmarshal([]byte(raw), &n); err != nil {
		return false
	}
	beat, ttl := time.Duration(n.HeartbeatMS)*time.Millisecond, time.Duration(n.TTLMS)*time.Millisecond
	if beat <= 0 || ttl <= 0 { // a node of an older build: its times are unknown, wait for its TTL
		return false
	}
	if c.reachable(ctx, n.URL, beat) {
		return false
	}
	silent := missedBeats * beat
	// How long ago Redis took the entry, by Redis's clock: no skew between the nodes' clocks.
	left, err := c.rdb.PTTL(ctx, key).Result()
	if err != nil {
		return false
	}
	if wait := silent - (ttl - left); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return false
		}
		if c.reachable(ctx, n.URL, beat) {
			return false
		}
	}
	gone, err := declareDeadScript.Run(ctx, c.rdb, []string{key}, raw, (ttl - silent).Milliseconds()).Int()
	if err != nil || gone != 1 {
		return false
	}
	c.log.Info("declared a node dead ahead of its TTL: it refuses connections and sent no heartbeat",
		"node", id, "silentFor", silent.String())
	return true
}

// reachable reports whether a TCP connection to the node's URL opens within timeout. An
// answer at the TCP level is enough: a stalled process whose kernel still accepts is left to
// its TTL, not declared dead here.
func (c *Cluster) reachable(ctx context.Context, nodeURL string, timeout time.Duration) bool {
	u, err := url.Parse(nodeURL)
	if err != nil || u.Host == "" {
		return true // nothing to test: assume alive
	}
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(dctx, "tcp", host)
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}

// certificateFailure reports whether err is a failed verification of the peer's certificate:
// the peer answered, and is alive.
func certificateFailure(err error) bool {
	var verr *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &verr) || errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid)
}
