// Command parley is the Parley server: the web client, the HTTP API, the WebSocket control
// plane and the SFU in one binary.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/tlsconf"
	"github.com/parleyhq/parley/internal/turnrelay"
	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/sfu"
	"github.com/parleyhq/parley/signaling"
	"github.com/parleyhq/parley/web"
)

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	tuneGC(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, cfg, os.Stderr); err != nil {
		slog.Error("parley stopped", "err", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down gracefully. Its log goes to logs.
func run(ctx context.Context, cfg config, logs io.Writer) error {
	log := newLogger(logs, cfg)
	slog.SetDefault(log)
	stopProfile, err := startCPUProfile(cfg.cpuProfile)
	if err != nil {
		return err
	}
	defer func() {
		if err := stopProfile(); err != nil {
			log.Error("cpu profile", "err", err)
		}
	}()
	ts, err := cfg.tls.setup(log)
	if err != nil {
		return err
	}

	maxConns := fitFileLimit(cfg.maxConns, log)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	var relay *turnrelay.Config
	if cfg.turnOn {
		turnCtx, stopTurn := context.WithCancel(ctx)
		rc, watching, err := cfg.turn.relayConfig(turnCtx, cfg.tls.poll, log)
		if err != nil {
			stopTurn()
			return err
		}
		defer func() { stopTurn(); watching.Wait() }()
		relay = rc
	}
	// Listen first: a cluster member registers the address it serves on.
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	clusterCfg, err := cfg.cluster.config(ln.Addr(), ts.scheme())
	if err != nil {
		_ = ln.Close()
		return err
	}
	n, err := node.New(node.Config{
		Media: sfu.Config{
			UDPPort:                cfg.udpPort,
			PublicIPs:              cfg.publicIPs,
			LoopbackOnly:           cfg.loopbackOnly,
			BatchWrites:            cfg.batchWrites,
			NoICETCP:               !cfg.iceTCP,
			AllowPrivateCandidates: cfg.allowPrivate,
		},
		TURN: relay,
		Meetings: meeting.Config{MaxParticipants: cfg.maxParticipants, LogNames: cfg.logNames, LobbyTimeout: cfg.lobbyTimeout,
			RecordRetention: cfg.unusedExpiry, ResumeGrace: cfg.resumeGrace, BanAddresses: cfg.banAddresses},
		Edge: signaling.Config{
			PublicURL:             cfg.publicURL,
			AllowedOrigins:        cfg.allowedOrigins,
			TrustProxy:            cfg.trustProxy,
			HSTS:                  ts.hsts(),
			CreatesPerMinute:      cfg.createsPerMin,
			JoinsPerMinute:        cfg.joinsPerMin,
			MeetingJoinsPerMinute: cfg.meetingJoinsMin,
			JoinTimeout:           cfg.joinTimeout,
			MaxConnections:        maxConns,
			MaxConnectionsPerAddr: cfg.maxConnsPerAddr,
			AddrCostPerSecond:     cfg.addrCost,
			MeetingCostPerSecond:  cfg.meetingCost,
			Web:                   web.Dist(),
		},
		Logger:   log,
		Registry: reg,
		Cluster:  clusterCfg,
	})
	if err != nil {
		_ = ln.Close()
		return err
	}
	// Close is safe to call twice: here for the early returns, below once drained.
	defer func() { _ = n.Close() }()

	ln = n.Server.Listener(ln)
	httpSrv := n.Server.HTTPServer()
	httpSrv.Handler = n.Handler() // in a cluster, with the proxy to each meeting's node
	served := make(chan error, 2)
	redirect, err := ts.redirect(cfg.tls.httpListen, httpsPort(cfg.publicURL, ln.Addr().(*net.TCPAddr).Port), served, log)
	if err != nil {
		_ = ln.Close()
		return err
	}
	go func() { served <- ts.serve(httpSrv, ln) }()
	tlsCtx, stopTLS := context.WithCancel(ctx)
	defer func() { stopTLS(); ts.wait() }()
	ts.run(tlsCtx, cfg.tls.poll, log)
	lan, err := tlsconf.LocalAddrs()
	if err != nil {
		log.Debug("no LAN addresses to print", "err", err)
	}
	if cfg.publicURL == "" {
		// Said, not warned: on a laptop or a LAN (make run, -dev) following the Host header is what
		// serves; a server people reach by a name should be told its name (README, Configuration).
		log.Info("-public-url is not set: each join link, and the origin a browser page must have, follow the Host header of the request; set -public-url to the address people use",
			"fix", "-public-url https://meet.example.com")
	}
	logURLs(log, openURLs(ts.scheme(), ln.Addr().(*net.TCPAddr), cfg.publicURL, cfg.tls.acmeDomains, lan))
	// The ready line comes last: whoever waits for it (a script, a test) has every startup line.
	ready := []any{"listen", ln.Addr().String(), "scheme", ts.scheme(), "udp_port", n.SFU.UDPPort(),
		"ice_tcp", cfg.iceTCP, "loopback_only", cfg.loopbackOnly}
	if n.Relay != nil {
		ready = append(ready, "turn_port", n.Relay.Port(), "turn_external_ip", n.Relay.ExternalIP().String())
		if p := n.Relay.TLSPort(); p != 0 {
			ready = append(ready, "turn_tls_port", p)
		}
	}
	if n.Cluster != nil {
		ready = append(ready, "node_id", n.Cluster.ID(), "node_url", clusterCfg.NodeURL)
	}
	log.Info("parley is ready", ready...)

	select {
	case err := <-served:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining sessions")
	drainCtx, cancel := context.WithTimeout(context.Background(), cfg.drainTimeout)
	defer cancel()
	if err := n.Drain(drainCtx); err != nil {
		log.Warn("drain", "err", err)
	}
	if err := httpSrv.Shutdown(drainCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "err", err)
	}
	if redirect != nil {
		_ = redirect.Close() // redirects only: nothing to drain
	}
	if err := n.Close(); err != nil {
		log.Warn("close", "err", err)
	}
	log.Info("parley stopped")
	return nil
}
