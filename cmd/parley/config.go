package main

import (
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/signaling"
)

// config is the server's settings: each flag can also be set by an environment variable
// (PARLEY_ and the flag's name in capitals, dashes as underscores); a flag wins.
type config struct {
	listen          string
	publicURL       string
	udpPort         int
	publicIPs       []string
	loopbackOnly    bool
	logLevel        slog.Level
	maxParticipants int
	allowedOrigins  []string
	trustProxy      bool
	drainTimeout    time.Duration
	cpuProfile      string
	createsPerMin   int
	joinsPerMin     int
	meetingJoinsMin int
	banAddresses    bool
	batchWrites     bool
	iceTCP          bool
	lobbyTimeout    time.Duration
	resumeGrace     time.Duration
	maxConns        int
	maxConnsPerAddr int
	joinTimeout     time.Duration
	unusedExpiry    time.Duration
	allowPrivate    bool
	addrCost        float64
	meetingCost     float64
	logFormat       string
	logNames        bool
	tls             tlsFlags
	cluster         clusterFlags
	turn            turnFlags
	turnOn          bool // the relay runs: -turn, or its default (turnFlags.check)
}

// listFlag is a repeatable flag; the environment variable takes a comma-separated list.
type listFlag struct{ values *[]string }

func (l listFlag) String() string {
	if l.values == nil {
		return ""
	}
	return strings.Join(*l.values, ",")
}

func (l listFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l.values = append(*l.values, part)
		}
	}
	return nil
}

func parseConfig(args []string, getenv func(string) string) (config, error) {
	var c config
	var level string
	fs := flag.NewFlagSet("parley", flag.ContinueOnError)
	fs.StringVar(&c.listen, "listen", "", "address to serve the web client, API and WebSocket on (default :8080, or :443 with -acme-domain)")
	fs.StringVar(&c.publicURL, "public-url", "", "base URL of join links, e.g. https://meet.example.com (default: the address a request came to)")
	fs.IntVar(&c.udpPort, "udp-port", 8443, "the one UDP port for all media (0 picks a free port)")
	fs.Var(listFlag{&c.publicIPs}, "public-ip", "public IP announced for media, for servers behind NAT (repeatable)")
	fs.BoolVar(&c.iceTCP, "ice-tcp", true, "also take media over TCP (ICE-TCP) on the TCP port of the same number as -udp-port")
	fs.BoolVar(&c.loopbackOnly, "loopback-only", false, "media on 127.0.0.1 only (tests and local runs)")
	fs.StringVar(&level, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json (one JSON object a line)")
	fs.BoolVar(&c.logNames, "log-names", false, "log participants' names in the join lines (personal data; off: participant ids only)")
	c.tls.register(fs)
	c.cluster.register(fs)
	c.turn.register(fs)
	fs.IntVar(&c.maxParticipants, "max-participants", 100, "most participants in one meeting, the host included")
	fs.Var(listFlag{&c.allowedOrigins}, "allowed-origin", "extra origin host pattern allowed to open /ws (repeatable; the server's own host always is)")
	fs.BoolVar(&c.trustProxy, "trust-proxy", false, "take client addresses from X-Forwarded-For (only behind a trusted proxy)")
	fs.IntVar(&c.createsPerMin, "creates-per-minute", 10, "meetings one client address may create a minute")
	fs.IntVar(&c.joinsPerMin, "joins-per-minute", 60, "joins one client address may make a minute (raise it for load tests from one address)")
	fs.BoolVar(&c.allowPrivate, "allow-private-candidates", false, "let clients name loopback, private and link-local addresses as ICE candidates (off: the server sends no checks into its own network; LAN clients connect anyway)")
	fs.IntVar(&c.meetingJoinsMin, "meeting-joins-per-minute", 120,
		"joins into one meeting a minute, from all addresses (a hostKey or resume token does not count; raise it for load tests)")
	fs.BoolVar(&c.banAddresses, "ban-addresses", false,
		"a host's ban (remove and don't let back in) also refuses the person's address, not only the browser (an office or carrier NAT may share one)")
	fs.BoolVar(&c.batchWrites, "batch-writes", true, "send media in batches (sendmmsg, UDP GSO) from one writer per socket; -batch-writes=false sends one datagram per sendto (docs/benchmarks.md)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file (written at shutdown; for load runs)")
	fs.DurationVar(&c.drainTimeout, "drain-timeout", 10*time.Second, "how long shutdown waits for clients to go")
	fs.Float64Var(&c.addrCost, "addr-request-rate", signaling.DefaultAddrCostPerSecond, "request cost one client address may spend a second on its WebSockets (an offer costs 10, other requests 1; bursts of 4 s); raise it for load tests from one address")
	fs.Float64Var(&c.meetingCost, "meeting-request-rate", signaling.DefaultMeetingCostPerSecond, "request cost one meeting may spend a second (bursts of 5 s)")
	fs.IntVar(&c.maxConns, "max-conns", signaling.DefaultMaxConnections, "most TCP connections the server keeps open (lowered to fit the process's file limit)")
	fs.IntVar(&c.maxConnsPerAddr, "max-conns-per-addr", signaling.DefaultMaxConnectionsPerAddr, "most TCP connections, and WebSockets, from one client address")
	fs.DurationVar(&c.joinTimeout, "join-timeout", signaling.DefaultJoinTimeout, "how long a new WebSocket may take to send its join")
	fs.DurationVar(&c.unusedExpiry, "unused-meeting-expiry", meeting.DefaultRecordRetention, "how long an open meeting nobody uses is kept before it is ended (its record and audit log go 24 h later)")
	fs.DurationVar(&c.lobbyTimeout, "lobby-timeout", 10*time.Minute, "how long a join may wait in the lobby for the host's decision")
	fs.DurationVar(&c.resumeGrace, "resume-grace", 30*time.Second, // meeting.DefaultResumeGrace
		"how long a participant whose connection dropped is kept for a resume (0: it leaves at once)")

	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "PARLEY_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("%s=%q: %w", name, v, err)
			}
		}
	})
	if envErr != nil {
		return c, envErr
	}
	// Flags given on the command line replace what the environment set for lists.
	c.publicIPs, c.allowedOrigins = resetLists(args, "public-ip", c.publicIPs), resetLists(args, "allowed-origin", c.allowedOrigins)
	c.tls.acmeDomains = resetLists(args, "acme-domain", c.tls.acmeDomains)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := c.logLevel.UnmarshalText([]byte(level)); err != nil {
		return c, fmt.Errorf("-log-level %q: %w", level, err)
	}
	if c.udpPort < 0 || c.udpPort > 65535 {
		return c, fmt.Errorf("-udp-port %d: not a port", c.udpPort)
	}
	if c.createsPerMin < 1 || c.joinsPerMin < 1 || c.meetingJoinsMin < 1 {
		return c, fmt.Errorf("-creates-per-minute, -joins-per-minute and -meeting-joins-per-minute must be at least 1")
	}
	if c.maxConns < 1 || c.maxConnsPerAddr < 1 {
		return c, fmt.Errorf("-max-conns and -max-conns-per-addr must be at least 1")
	}
	if c.unusedExpiry < time.Hour {
		return c, fmt.Errorf("-unused-meeting-expiry %s: at least 1h", c.unusedExpiry)
	}
	if c.addrCost <= 0 || c.meetingCost <= 0 {
		return c, fmt.Errorf("-addr-request-rate and -meeting-request-rate must be positive")
	}
	if c.joinTimeout <= 0 {
		return c, fmt.Errorf("-join-timeout %s: must be positive", c.joinTimeout)
	}
	if c.lobbyTimeout <= 0 {
		return c, fmt.Errorf("-lobby-timeout %s: must be positive", c.lobbyTimeout)
	}
	if c.resumeGrace < 0 {
		return c, fmt.Errorf("-resume-grace %s: must not be negative", c.resumeGrace)
	}
	if c.maxParticipants < 2 {
		return c, fmt.Errorf("-max-participants %d: a meeting needs room for at least 2", c.maxParticipants)
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		return c, fmt.Errorf("-log-format %q: text or json", c.logFormat)
	}
	if err := c.tls.check(); err != nil {
		return c, err
	}
	if err := c.cluster.check(); err != nil {
		return c, err
	}
	turnOn, err := c.turn.check(c.publicIPs, c.loopbackOnly)
	if err != nil {
		return c, err
	}
	c.turnOn = turnOn
	if c.listen == "" {
		c.listen = ":8080"
		if len(c.tls.acmeDomains) > 0 {
			c.listen = ":443"
		}
	}
	return c, nil
}

// resetLists drops the environment's values of a list flag that the command line sets.
func resetLists(args []string, name string, current []string) []string {
	for _, a := range args {
		trimmed := strings.TrimLeft(a, "-")
		if trimmed == name || strings.HasPrefix(trimmed, name+"=") {
			return nil
		}
	}
	return current
}
