package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/cluster"
)

// envOf is a getenv of vars.
func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestClusterFlags(t *testing.T) {
	c, err := parseConfig(nil, envOf(map[string]string{"PARLEY_REDIS_URL": "redis://127.0.0.1:6379", "PARLEY_NODE_ID": "n1"}))
	if err != nil || c.cluster.redisURL != "redis://127.0.0.1:6379" || c.cluster.nodeID != "n1" {
		t.Fatalf("from the environment: %+v, %v", c.cluster, err)
	}
	for _, args := range [][]string{
		{"-node-id", "n1"},              // cluster flags without a cluster
		{"-cluster-secret", "s"},        // likewise
		{"-redis-url", "http://x:6379"}, // not a Redis URL
		{"-redis-url", "redis://"},      // no host
		{"-node-ca", "ca.pem"},          // cluster flags without a cluster
		{"-redis-url", "redis://r:6379", "-node-heartbeat", "0s"},
		{"-redis-url", "redis://r:6379", "-node-heartbeat", "2s", "-node-ttl", "3s"}, // one late beat would end a node
	} {
		if _, err := parseConfig(args, envOf(nil)); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if c, err := parseConfig(nil, envOf(nil)); err != nil || c.cluster.redisURL != "" {
		t.Fatalf("no flags: %+v, %v; want a single node", c.cluster, err)
	}
	if cc, err := (&clusterFlags{}).config(&net.TCPAddr{Port: 8080}, "http"); err != nil || cc != nil {
		t.Fatalf("without -redis-url the node has a cluster config: %+v, %v", cc, err)
	}
}

func TestNodeURL(t *testing.T) {
	any8081 := &net.TCPAddr{IP: net.IPv6unspecified, Port: 8081}
	for _, tc := range []struct {
		addr   string
		listen net.Addr
		scheme string
		want   string
	}{
		{"", any8081, "http", "http://127.0.0.1:8081"}, // several processes on one machine
		{"", &net.TCPAddr{IP: net.IPv4(10, 0, 0, 5), Port: 8080}, "https", "https://10.0.0.5:8080"},
		{"parley-1.parley:8080", any8081, "http", "http://parley-1.parley:8080"},
		{"https://n1.example.com/", any8081, "http", "https://n1.example.com"},
	} {
		got, err := nodeURL(tc.addr, tc.listen, tc.scheme)
		if err != nil || got != tc.want {
			t.Errorf("nodeURL(%q, %v) = %q, %v; want %q", tc.addr, tc.listen, got, err, tc.want)
		}
	}
	if _, err := nodeURL("no-port", any8081, "http"); err == nil || !strings.Contains(err.Error(), "host:port") {
		t.Errorf("a -node-addr without a port: %v", err)
	}
	cc, err := (&clusterFlags{redisURL: "redis://r:6379"}).config(any8081, "http")
	if err != nil || cc.NodeID == "" || cc.NodeURL != "http://127.0.0.1:8081" {
		t.Fatalf("defaults: %+v, %v", cc, err)
	}
}

// The failover times come from flags or the environment; the defaults are the package's.
func TestClusterTimes(t *testing.T) {
	c, err := parseConfig([]string{"-redis-url", "redis://r:6379"}, envOf(nil))
	if err != nil || c.cluster.heartbeat != cluster.DefaultHeartbeat || c.cluster.ttl != cluster.DefaultTTL {
		t.Fatalf("defaults: %+v, %v", c.cluster, err)
	}
	c, err = parseConfig([]string{"-node-ttl", "4s"}, envOf(map[string]string{
		"PARLEY_REDIS_URL": "redis://r:6379", "PARLEY_NODE_HEARTBEAT": "250ms", "PARLEY_NODE_TTL": "2s"}))
	if err != nil || c.cluster.heartbeat != 250*time.Millisecond || c.cluster.ttl != 4*time.Second {
		t.Fatalf("from the environment and a flag: %+v, %v", c.cluster, err)
	}
	cc, err := c.cluster.config(&net.TCPAddr{Port: 8080}, "http")
	if err != nil || cc.Heartbeat != 250*time.Millisecond || cc.TTL != 4*time.Second || cc.NodeTLS != nil {
		t.Fatalf("cluster config: %+v, %v", cc, err)
	}
}

// -node-ca names the roots a node trusts for the others' certificates; a file with no
// certificate is refused at startup rather than failing every relay later.
func TestNodeCA(t *testing.T) {
	dir := t.TempDir()
	ca, _, _ := certPair(t, dir, "localhost") // a self-signed certificate is its own CA
	f := clusterFlags{redisURL: "redis://r:6379", nodeCA: ca, heartbeat: time.Second, ttl: 3 * time.Second}
	cc, err := f.config(&net.TCPAddr{Port: 8443}, "https")
	if err != nil || cc.NodeTLS == nil || cc.NodeTLS.RootCAs == nil {
		t.Fatalf("with -node-ca: %+v, %v", cc, err)
	}
	if err := os.WriteFile(ca, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.config(&net.TCPAddr{Port: 8443}, "https"); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("a -node-ca without a certificate: %v", err)
	}
	f.nodeCA = filepath.Join(dir, "missing.pem")
	if _, err := f.config(&net.TCPAddr{Port: 8443}, "https"); err == nil {
		t.Fatal("a missing -node-ca file was accepted")
	}
}
