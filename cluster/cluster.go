// Package cluster makes a node one of several sharing a Redis: it registers the node with
// heartbeats carrying its load, places each new meeting on the least loaded live node, and
// tells the edge where a meeting's sessions are served (its owner), claiming the meeting of a
// node whose heartbeat expired. It proxies the HTTP requests about a meeting that only its owner
// can answer (the live participant count, the audit log) to that owner.
//
// Keys: "parley:node:<id>" (the node's heartbeat, JSON, expiring after TTL), the set
// "parley:nodes" (every node that registered; an id whose heartbeat key is gone is dead), and
// "parley:cluster-secret" (the shared secret of node-to-node connections, made by the first
// node when no -cluster-secret is given: whoever can read Redis is trusted anyway).
//
// It owns the registry, placement and routing; the meeting records are package redisstore's,
// relaying a WebSocket is package signaling's (relay.go), and it must not touch either's rules.
package cluster

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/parleyhq/parley/internal/cputime"
	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/redisstore"
)

// Defaults of Config. A heartbeat costs one small write to Redis; half a second of them lets
// a node that loses its link to another declare it dead within 1.5 s (OwnerUnreachable), and a
// TTL of six heartbeats is the bound when no node notices (docs/benchmarks.md, "Failover").
const (
	DefaultHeartbeat = 500 * time.Millisecond
	DefaultTTL       = 3 * time.Second
)

const (
	nodesSet  = "parley:nodes"
	secretKey = "parley:cluster-secret"
)

func nodeKey(id string) string { return "parley:node:" + id }

// Config configures a cluster member.
type Config struct {
	// RedisURL names the shared Redis (see Client).
	RedisURL string
	// NodeID names this node in the cluster; unique per process.
	NodeID string
	// NodeURL is where the other nodes reach this node's HTTP side, e.g. http://10.0.0.5:8080.
	NodeURL string
	// Secret authenticates node-to-node connections; "" takes (or makes) the cluster's own in
	// Redis.
	Secret string
	// Participants is this node's load: how many participants it serves now.
	Participants func() int
	// Heartbeat is how often the node refreshes its entry; TTL how long an entry outlives its
	// last refresh (a node is dead TTL after its last heartbeat, or sooner when another node
	// finds it unreachable and silent: OwnerUnreachable).
	Heartbeat time.Duration
	TTL       time.Duration
	// NodeTLS verifies the other nodes' https certificates when this node relays to them (its
	// RootCAs: the CA of -node-ca); nil trusts the system's roots.
	NodeTLS *tls.Config
	Logger  *slog.Logger
	// Registerer receives the cluster's metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
}

// Node is one member as the registry knows it.
type Node struct {
	ID  string `json:"id"`
	URL string `json:"url"`
	// Participants served, and CPU: the share of the machine's cores the process used over the
	// last heartbeat (0 to 1).
	Participants int     `json:"participants"`
	CPU          float64 `json:"cpu"`
	At           int64   `json:"at"` // Unix ms of the heartbeat
	// HeartbeatMS and TTLMS are the node's own heartbeat interval and TTL, for the nodes that
	// judge whether it is alive (0 from a node of an older build).
	HeartbeatMS int64 `json:"heartbeatMs,omitempty"`
	TTLMS       int64 `json:"ttlMs,omitempty"`
}

// Cluster is this node's membership.
type Cluster struct {
	cfg    Config
	rdb    redis.UniversalClient
	store  *redisstore.Store
	log    *slog.Logger
	secret string
	http   *http.Client // to the other nodes

	checkMu    sync.Mutex
	checks     map[string]*ownerCheck // liveness checks running, by node id
	checksCtx  context.Context        // ends the checks when the node leaves
	endChecks  context.CancelFunc
	checksWG   sync.WaitGroup
	certWarned sync.Map // node ids whose certificate failure was logged

	lastOK   atomic.Int64 // Unix ns of the last heartbeat Redis took
	stop     context.CancelFunc
	stopOnce sync.Once
	done     chan struct{}

	takeovers  prometheus.Counter
	beatErrors prometheus.Counter

	cpuMu    sync.Mutex
	cpuAt    time.Time
	cpuSpent time.Duration
}

// Join connects to Redis, registers this node and starts its heartbeats. It fails when Redis is
// unreachable: a node that cannot tell the cluster it exists does not start.
func Join(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.NodeID == "" || cfg.NodeURL == "" {
		return nil, errors.New("cluster: a node id and a node URL are required")
	}
	cfg.Heartbeat = cmp.Or(cfg.Heartbeat, DefaultHeartbeat)
	cfg.TTL = cmp.Or(cfg.TTL, DefaultTTL)
	if cfg.TTL < 2*cfg.Heartbeat {
		return nil, fmt.Errorf("cluster: the TTL (%s) must be at least twice the heartbeat interval (%s)", cfg.TTL, cfg.Heartbeat)
	}
	if cfg.Participants == nil {
		cfg.Participants = func() int { return 0 }
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rdb, err := Client(cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg, rdb: rdb, log: log, secret: cfg.Secret, done: make(chan struct{}),
		cpuAt: time.Now(), cpuSpent: cputime.Process(), checks: map[string]*ownerCheck{}}
	c.http = nodeClient(cfg.NodeTLS)
	c.checksCtx, c.endChecks = context.WithCancel(context.Background())
	c.store = redisstore.New(rdb, c.Place)
	c.takeovers = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "parley_cluster_takeovers_total", Help: "Meetings this node took over from a node that was gone.",
	})
	c.beatErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "parley_cluster_heartbeat_failures_total", Help: "Heartbeats Redis did not take.",
	})
	if cfg.Registerer != nil {
		live := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "parley_cluster_nodes", Help: "Live nodes in the cluster's registry, as Redis tells (-1: Redis unreachable).",
		}, c.liveNodes)
		if err := registerAll(cfg.Registerer, c.takeovers, c.beatErrors, live); err != nil {
			_ = rdb.Close()
			return nil, fmt.Errorf("cluster: register metrics: %w", err)
		}
	}
	if c.secret == "" {
		if c.secret, err = c.sharedSecret(ctx); err != nil {
			_ = rdb.Close()
			return nil, err
		}
	}
	if err := c.heartbeat(ctx); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("cluster: register node %s: %w", cfg.NodeID, err)
	}
	hbCtx, stop := context.WithCancel(context.Background())
	c.stop = stop
	go c.beat(hbCtx)
	log.Info("joined the cluster", "nodeId", cfg.NodeID, "nodeUrl", cfg.NodeURL)
	return c, nil
}

func (c *Cluster) sharedSecret(ctx context.Context) (string, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	if err := c.rdb.SetNX(ctx, secretKey, hex.EncodeToString(b), 0).Err(); err != nil {
		return "", fmt.Errorf("cluster: make the shared secret in redis: %w", err)
	}
	s, err := c.rdb.Get(ctx, secretKey).Result()
	if err != nil {
		return "", fmt.Errorf("cluster: read the shared secret from redis: %w", err)
	}
	return s, nil
}

// Store is the meetings' Store: records in Redis, each new one placed on a node, ended only by
// its owner while the owner lives (store.go).
func (c *Cluster) Store() meeting.Store { return ownedStore{Store: c.store, c: c} }

// Records is the Redis store itself: the records and their owners, as they are.
func (c *Cluster) Records() *redisstore.Store { return c.store }

// ID is this node's id.
func (c *Cluster) ID() string { return c.cfg.NodeID }

// Secret implements signaling.Cluster.
func (c *Cluster) Secret() string { return c.secret }

// HTTPClient implements signaling.Cluster: the client that reaches the other nodes, verifying
// their https certificates against Config.NodeTLS.
func (c *Cluster) HTTPClient() *http.Client { return c.http }

// nodeClient is an HTTP/1.1 client (a WebSocket handshake needs it) with the given TLS
// settings. It has no overall timeout: it also carries relayed WebSockets, which last.
func nodeClient(tc *tls.Config) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ForceAttemptHTTP2 = false
	if tc != nil {
		t.TLSClientConfig = tc.Clone()
	} else {
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	t.TLSClientConfig.NextProtos = []string{"http/1.1"}
	return &http.Client{Transport: t}
}

// Ready implements signaling.Cluster: nil while Redis took a heartbeat within the TTL.
func (c *Cluster) Ready() error {
	if time.Since(time.Unix(0, c.lastOK.Load())) > c.cfg.TTL {
		return errors.New("redis is unreachable")
	}
	return nil
}

func (c *Cluster) beat(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(c.cfg.Heartbeat)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		hctx, cancel := context.WithTimeout(ctx, c.cfg.Heartbeat)
		err := c.heartbeat(hctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			c.beatErrors.Inc()
		}
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			c.log.Warn("cluster heartbeat failed: redis unreachable; running meetings go on, new joins are refused", "err", err)
			failing = true
		case err == nil && failing:
			c.log.Info("cluster heartbeat: redis is back")
			failing = false
		}
	}
}

// heartbeat writes this node's entry with its load.
func (c *Cluster) heartbeat(ctx context.Context) error {
	n := Node{ID: c.cfg.NodeID, URL: c.cfg.NodeURL, Participants: c.cfg.Participants(), CPU: c.cpu(), At: time.Now().UnixMilli(),
		HeartbeatMS: c.cfg.Heartbeat.Milliseconds(), TTLMS: c.cfg.TTL.Milliseconds()}
	b, err := json.Marshal(n)
	if err != nil {
		return err
	}
	_, err = c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, nodeKey(n.ID), b, c.cfg.TTL)
		p.SAdd(ctx, nodesSet, n.ID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	c.lastOK.Store(time.Now().UnixNano())
	return nil
}

// cpu is the process's share of the machine's cores since the last call.
func (c *Cluster) cpu() float64 {
	c.cpuMu.Lock()
	defer c.cpuMu.Unlock()
	now, spent := time.Now(), cputime.Process()
	wall := now.Sub(c.cpuAt)
	share := 0.0
	if wall > 0 {
		share = float64(spent-c.cpuSpent) / float64(wall) / float64(runtime.NumCPU())
	}
	c.cpuAt, c.cpuSpent = now, spent
	return math.Min(math.Max(share, 0), 1)
}

// Nodes returns the live nodes (those whose heartbeat has not expired), in id order. Dead ids
// are dropped from the set.
func (c *Cluster) Nodes(ctx context.Context) ([]Node, error) {
	ids, err := c.rdb.SMembers(ctx, nodesSet).Result()
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	cmds := make([]*redis.StringCmd, len(ids))
	_, err = c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.Get(ctx, nodeKey(id))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read nodes: %w", err)
	}
	var live []Node
	var dead []any
	for i, cmd := range cmds {
		var n Node
		b, err := cmd.Bytes()
		if err != nil || json.Unmarshal(b, &n) != nil {
			dead = append(dead, ids[i])
			continue
		}
		live = append(live, n)
	}
	if len(dead) > 0 {
		// A dead node's id only takes space; a node that comes back adds it again.
		_ = c.rdb.SRem(ctx, nodesSet, dead...).Err()
	}
	slices.SortFunc(live, func(a, b Node) int { return cmp.Compare(a.ID, b.ID) })
	return live, nil
}

func registerAll(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	for _, col := range cs {
		if err := reg.Register(col); err != nil {
			return err
		}
	}
	return nil
}

// liveNodes counts the live nodes for the metric, -1 when Redis does not answer.
func (c *Cluster) liveNodes() float64 {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	nodes, err := c.Nodes(ctx)
	if err != nil {
		return -1
	}
	return float64(len(nodes))
}

// Place chooses the node for a new meeting: the live node with the fewest participants; among
// those, the one using the least CPU (compared in tenths: noise between idle nodes does not
// count); among those, this node (no relay for its creator's likely first join).
func (c *Cluster) Place(ctx context.Context) (string, error) {
	nodes, err := c.Nodes(ctx)
	if err != nil {
		return "", err
	}
	best, bestKey := c.cfg.NodeID, [3]int{math.MaxInt, math.MaxInt, 1}
	for _, n := range nodes {
		self := 1
		if n.ID == c.cfg.NodeID {
			self = 0
		}
		key := [3]int{n.Participants, int(n.CPU * 10), self}
		if slices.Compare(key[:], bestKey[:]) < 0 {
			best, bestKey = n.ID, key
		}
	}
	return best, nil
}

// Route implements signaling.Cluster: "" when this node serves the meeting (it owns it, nobody
// does, or Redis does not know it: the local join answers not_found), else the owner's URL. A
// meeting whose owner is dead is claimed for this node (one claim wins; the others relay to
// the winner).
func (c *Cluster) Route(ctx context.Context, meetingID string) (string, error) {
	owner, err := c.store.Owner(ctx, meetingID)
	if errors.Is(err, redisstore.ErrNoMeeting) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if owner == c.cfg.NodeID {
		return "", nil
	}
	if owner != "" {
		b, err := c.rdb.Get(ctx, nodeKey(owner)).Bytes()
		if err == nil {
			var n Node
			if err := json.Unmarshal(b, &n); err == nil && n.URL != "" {
				return n.URL, nil
			}
		} else if !errors.Is(err, redis.Nil) {
			return "", fmt.Errorf("read node %s: %w", owner, err)
		}
	}
	won, err := c.store.Claim(ctx, meetingID, owner, c.cfg.NodeID)
	if errors.Is(err, redisstore.ErrNoMeeting) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if won == c.cfg.NodeID {
		c.takeovers.Inc()
		c.log.Info("took over a meeting whose node is gone", "meetingId", meetingID, "previousOwner", owner)
		return "", nil
	}
	return c.Route(ctx, meetingID) // another node won the claim: relay to it
}

// Retire takes this node out of the registry while it drains: no new meeting is placed on it,
// and the clients it tells to reconnect find their meetings taken over by the node they reach
// next at once, rather than after the heartbeat's TTL. It keeps the Redis client for the rest
// of the drain.
func (c *Cluster) Retire(ctx context.Context) error {
	c.stopOnce.Do(func() { c.stop(); <-c.done })
	if err := c.rdb.Del(ctx, nodeKey(c.cfg.NodeID)).Err(); err != nil {
		return fmt.Errorf("retire from the cluster: %w", err)
	}
	c.log.Info("left the cluster's registry to drain", "nodeId", c.cfg.NodeID)
	return nil
}

// Leave stops the heartbeats, removes this node from the registry (its meetings are claimed by
// the nodes their clients reach next) and closes the Redis client.
func (c *Cluster) Leave(ctx context.Context) error {
	c.stopOnce.Do(func() { c.stop(); <-c.done })
	c.checkMu.Lock()
	c.checks = nil // no new check
	c.checkMu.Unlock()
	c.endChecks()
	c.checksWG.Wait()
	err := c.rdb.Del(ctx, nodeKey(c.cfg.NodeID)).Err()
	if cerr := c.rdb.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("leave the cluster: %w", err)
	}
	return nil
}
