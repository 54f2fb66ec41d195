package main

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/cluster"
)

// clusterFlags make a node a member of a cluster: all of them matter only with -redis-url.
type clusterFlags struct {
	redisURL  string
	nodeID    string
	nodeAddr  string
	secret    string
	nodeCA    string
	heartbeat time.Duration
	ttl       time.Duration
}

func (c *clusterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.redisURL, "redis-url", "", "Redis shared by a cluster of nodes, redis://host:port or rediss:// (?master_name=NAME for Sentinel, ?cluster=true for Redis Cluster); empty: one node, in memory")
	fs.StringVar(&c.nodeID, "node-id", "", "this node's name in the cluster, unique per process (default: host name and a random suffix)")
	fs.StringVar(&c.nodeAddr, "node-addr", "", "host:port (or http(s):// URL) where the other nodes reach this node's HTTP side (default: 127.0.0.1 and the -listen port, for nodes on one machine)")
	fs.StringVar(&c.secret, "cluster-secret", "", "shared secret of node-to-node connections (default: one made and kept in Redis by the first node)")
	fs.StringVar(&c.nodeCA, "node-ca", "", "PEM file of the CA that signs the nodes' https certificates, trusted when a node relays to another over wss (default: the system's roots)")
	fs.DurationVar(&c.heartbeat, "node-heartbeat", cluster.DefaultHeartbeat, "how often a node tells Redis it is alive")
	fs.DurationVar(&c.ttl, "node-ttl", cluster.DefaultTTL,
		"how long after its last heartbeat a node counts as dead and its meetings are taken over (sooner when another node finds it refusing connections and silent for 3 heartbeats); at least twice -node-heartbeat")
}

func (c *clusterFlags) check() error {
	if c.redisURL == "" {
		if c.nodeID != "" || c.nodeAddr != "" || c.secret != "" || c.nodeCA != "" {
			return fmt.Errorf("-node-id, -node-addr, -node-ca and -cluster-secret need -redis-url")
		}
		return nil
	}
	if c.heartbeat <= 0 {
		return fmt.Errorf("-node-heartbeat %s: must be positive", c.heartbeat)
	}
	if c.ttl < 2*c.heartbeat {
		return fmt.Errorf("-node-ttl %s: at least twice -node-heartbeat (%s), or one late heartbeat would end a live node", c.ttl, c.heartbeat)
	}
	u, err := url.Parse(c.redisURL)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return fmt.Errorf("-redis-url: want redis://host:port or rediss://host:port")
	}
	return nil
}

// config returns the cluster's configuration for a node listening on listen (the bound
// address) with scheme, or nil without -redis-url.
func (c *clusterFlags) config(listen net.Addr, scheme string) (*cluster.Config, error) {
	if c.redisURL == "" {
		return nil, nil
	}
	id := c.nodeID
	if id == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		id = strings.Trim(host+"-"+hex.EncodeToString(b), "-")
	}
	nodeURL, err := nodeURL(c.nodeAddr, listen, scheme)
	if err != nil {
		return nil, err
	}
	cfg := &cluster.Config{RedisURL: c.redisURL, NodeID: id, NodeURL: nodeURL, Secret: c.secret, Heartbeat: c.heartbeat, TTL: c.ttl}
	if c.nodeCA != "" {
		roots, err := loadRoots("-node-ca", c.nodeCA)
		if err != nil {
			return nil, err
		}
		cfg.NodeTLS = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	return cfg, nil
}

// nodeURL is the base URL the other nodes use: -node-addr, or the loopback address and the
// port this node listens on.
func nodeURL(addr string, listen net.Addr, scheme string) (string, error) {
	if strings.HasPrefix(addr, "http://") || strings.HasPrefix(addr, "https://") {
		return strings.TrimRight(addr, "/"), nil
	}
	if addr == "" {
		tcp, ok := listen.(*net.TCPAddr)
		if !ok {
			return "", fmt.Errorf("-node-addr: cannot tell this node's port from %v", listen)
		}
		host := "127.0.0.1"
		if !tcp.IP.IsUnspecified() && tcp.IP != nil {
			host = tcp.IP.String()
		}
		addr = net.JoinHostPort(host, strconv.Itoa(tcp.Port))
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", fmt.Errorf("-node-addr %q: want host:port: %w", addr, err)
	}
	return scheme + "://" + addr, nil
}
