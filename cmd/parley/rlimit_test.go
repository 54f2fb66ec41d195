//go:build unix

package main

import (
	"log/slog"
	"syscall"
	"testing"
	"time"
)

// At start the server raises its open-file limit to the hard limit, and keeps -max-conns within
// what that limit leaves.
func TestFileLimitRaised(t *testing.T) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		t.Fatal(err)
	}
	lowered := syscall.Rlimit{Cur: min(l.Max, 2048), Max: l.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lowered); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l) })
	log := slog.New(slog.DiscardHandler)
	got := fitFileLimit(1<<40, log)
	var now syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &now); err != nil {
		t.Fatal(err)
	}
	if now.Cur != l.Max {
		t.Errorf("soft limit %d after start, want the hard limit %d", now.Cur, l.Max)
	}
	if want := int(min(l.Max, 1<<30)) - fileReserve; got != want {
		t.Errorf("max conns %d with a file limit of %d, want %d", got, l.Max, want)
	}
	if got := fitFileLimit(100, log); got != 100 {
		t.Errorf("max conns %d, want the 100 asked for", got)
	}
}

func TestConnectionFlags(t *testing.T) {
	c, err := parseConfig(nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if c.maxConns != 10000 || c.maxConnsPerAddr != 200 || c.joinTimeout != 5*time.Second {
		t.Errorf("defaults: %d %d %v", c.maxConns, c.maxConnsPerAddr, c.joinTimeout)
	}
	c, err = parseConfig([]string{"-max-conns", "50", "-join-timeout", "2s"}, func(k string) string {
		return map[string]string{"PARLEY_MAX_CONNS_PER_ADDR": "7"}[k]
	})
	if err != nil || c.maxConns != 50 || c.maxConnsPerAddr != 7 || c.joinTimeout != 2*time.Second {
		t.Errorf("set: %d %d %v %v", c.maxConns, c.maxConnsPerAddr, c.joinTimeout, err)
	}
	if c.addrCost != 100 || c.meetingCost != 400 || c.unusedExpiry != 30*24*time.Hour || c.allowPrivate {
		t.Errorf("defaults: %v %v %v %v", c.addrCost, c.meetingCost, c.unusedExpiry, c.allowPrivate)
	}
	for _, args := range [][]string{{"-max-conns", "0"}, {"-max-conns-per-addr", "-1"}, {"-join-timeout", "0s"},
		{"-addr-request-rate", "0"}, {"-meeting-request-rate", "-5"}, {"-unused-meeting-expiry", "10m"}} {
		if _, err := parseConfig(args, func(string) string { return "" }); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
