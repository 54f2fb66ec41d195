package main

import (
	"log/slog"
	"reflect"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	env := map[string]string{
		"PARLEY_LISTEN":        "127.0.0.1:9000",
		"PARLEY_PUBLIC_IP":     "203.0.113.7, 203.0.113.8",
		"PARLEY_LOOPBACK_ONLY": "true",
		"PARLEY_LOG_LEVEL":     "debug",
	}
	c, err := parseConfig([]string{"-udp-port", "0", "-public-url", "https://meet.example.com"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.listen != "127.0.0.1:9000" || c.udpPort != 0 || !c.loopbackOnly || c.logLevel != slog.LevelDebug ||
		c.publicURL != "https://meet.example.com" || !reflect.DeepEqual(c.publicIPs, []string{"203.0.113.7", "203.0.113.8"}) {
		t.Fatalf("config = %+v", c)
	}

	// A flag wins over the environment, lists included.
	c, err = parseConfig([]string{"-listen", ":7000", "-public-ip", "198.51.100.1"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.listen != ":7000" || !reflect.DeepEqual(c.publicIPs, []string{"198.51.100.1"}) {
		t.Fatalf("config = %+v", c)
	}

	defaults, err := parseConfig(nil, func(string) string { return "" })
	if err != nil || defaults.listen != ":8080" || defaults.udpPort != 8443 || defaults.maxParticipants != 100 || defaults.loopbackOnly ||
		defaults.lobbyTimeout != 10*time.Minute || defaults.resumeGrace != 30*time.Second || !defaults.batchWrites {
		t.Fatalf("defaults = %+v, %v", defaults, err)
	}
	c, err = parseConfig([]string{"-batch-writes=false"}, func(string) string { return "" })
	if err != nil || c.batchWrites {
		t.Fatalf("-batch-writes=false: %+v, %v", c, err)
	}
	c, err = parseConfig([]string{"-lobby-timeout", "90s"}, func(string) string { return "" })
	if err != nil || c.lobbyTimeout != 90*time.Second {
		t.Fatalf("-lobby-timeout 90s: %+v, %v", c, err)
	}
}

func TestParseConfigRejects(t *testing.T) {
	none := func(string) string { return "" }
	for _, args := range [][]string{
		{"-udp-port", "70000"},
		{"-log-level", "loud"},
		{"-max-participants", "1"},
		{"-lobby-timeout", "0s"},
		{"-resume-grace", "-1s"},
		{"-no-such-flag"},
		{"-log-format", "xml"},
		{"-tls-cert", "c.pem"},
		{"-tls-cert", "c.pem", "-tls-key", "k.pem", "-dev"},
		{"-acme-domain", "meet.example.com", "-dev"},
		{"-http-listen", ":80"},
		{"-turn-tls-cert", "c.pem"},
		{"-turn-external-ip", "not-an-ip"},
		{"-turn-port", "-1"},
		{"-turn", "-turn-port", "5349", "-turn-tls-cert", "c.pem", "-turn-tls-key", "k.pem"},
		{"-turn=maybe"},
		{"-turn-relay-ports", "61000"},
		{"-turn-relay-ports", "62000-61000"},
	} {
		if _, err := parseConfig(args, none); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if _, err := parseConfig(nil, func(k string) string {
		if k == "PARLEY_LOOPBACK_ONLY" {
			return "maybe"
		}
		return ""
	}); err == nil {
		t.Error("PARLEY_LOOPBACK_ONLY=maybe accepted")
	}
}

func TestParseConfigTLS(t *testing.T) {
	none := func(string) string { return "" }
	c, err := parseConfig([]string{"-acme-domain", "meet.example.com", "-acme-domain", "video.example.com"}, none)
	if err != nil {
		t.Fatal(err)
	}
	if c.listen != ":443" || c.tls.httpListen != ":80" || !reflect.DeepEqual(c.tls.acmeDomains, []string{"meet.example.com", "video.example.com"}) {
		t.Errorf("with ACME: listen %q, http-listen %q, domains %v", c.listen, c.tls.httpListen, c.tls.acmeDomains)
	}
	c, err = parseConfig([]string{"-acme-domain", "meet.example.com", "-listen", ":8443", "-http-listen", "off"}, none)
	if err != nil || c.listen != ":8443" || c.tls.httpListen != "" {
		t.Errorf("ACME on chosen ports: %+v, %v", c, err)
	}
	c, err = parseConfig([]string{"-dev"}, none)
	if err != nil || c.listen != ":8080" || c.tls.httpListen != "" || !c.tls.dev {
		t.Errorf("-dev: %+v, %v", c, err)
	}
	env := map[string]string{"PARLEY_ACME_DOMAIN": "a.example.com,b.example.com", "PARLEY_LOG_FORMAT": "json"}
	c, err = parseConfig(nil, func(k string) string { return env[k] })
	if err != nil || len(c.tls.acmeDomains) != 2 || c.logFormat != "json" {
		t.Errorf("from the environment: %+v, %v", c, err)
	}
}

// TestTURNDefault: the relay runs by default on a server with a public IP, not on a LAN or a
// loopback-only one, and -turn (flag or environment) decides when given.
func TestTURNDefault(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  string
		on   bool
	}{
		{nil, "", false},
		{[]string{"-public-ip", "203.0.113.7"}, "", true},
		{[]string{"-public-ip", "203.0.113.7", "-turn=false"}, "", false},
		{[]string{"-loopback-only"}, "", false},
		{[]string{"-loopback-only", "-turn"}, "", true},
		{[]string{"-turn"}, "", true},
		{[]string{"-loopback-only"}, "true", true},
		{[]string{"-public-ip", "203.0.113.7"}, "false", false},
	} {
		c, err := parseConfig(tc.args, func(k string) string {
			if k == "PARLEY_TURN" {
				return tc.env
			}
			return ""
		})
		if err != nil || c.turnOn != tc.on {
			t.Errorf("%v with PARLEY_TURN=%q: relay on %v (%v), want %v", tc.args, tc.env, c.turnOn, err, tc.on)
		}
	}
}
