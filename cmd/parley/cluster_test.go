package main

import (
	"net"
	"strings"
	"testing"
)

func TestClusterFlags(t *testing.T) {
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	c, err := parseConfig(nil, env(map[string]string{"PARLEY_REDIS_URL": "redis://127.0.0.1:6379", "PARLEY_NODE_ID": "n1"}))
	if err != nil || c.cluster.redisURL != "redis://127.0.0.1:6379" || c.cluster.nodeID != "n1" {
		t.Fatalf("from the environment: %+v, %v", c.cluster, err)
	}
	for _, args := range [][]string{
		{"-node-id", "n1"},              // cluster flags without a cluster
		{"-cluster-secret", "s"},        // likewise
		{"-redis-url", "http://x:6379"}, // not a Redis URL
		{"-redis-url", "redis://"},      // no host
	} {
		if _, err := parseConfig(args, env(nil)); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if c, err := parseConfig(nil, env(nil)); err != nil || c.cluster.redisURL != "" {
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
