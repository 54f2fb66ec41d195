// Command parley is the Parley server: the web client, the HTTP API, the WebSocket control
// plane and the SFU in one binary.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

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
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		slog.Error("parley stopped", "err", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down gracefully.
func run(ctx context.Context, cfg config) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.logLevel}))
	slog.SetDefault(log)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	media, err := sfu.New(sfu.Config{
		UDPPort:      cfg.udpPort,
		PublicIPs:    cfg.publicIPs,
		LoopbackOnly: cfg.loopbackOnly,
		BatchWrites:  cfg.batchWrites,
		Logger:       log.With("component", "sfu"),
		Registerer:   reg,
	})
	if err != nil {
		return fmt.Errorf("start media: %w", err)
	}
	defer media.Close()

	meetings := meeting.NewService(meeting.Config{
		MaxParticipants: cfg.maxParticipants,
		Media:           signaling.MeetingMedia(media),
		Logger:          log.With("component", "meeting"),
	})
	srv := signaling.New(signaling.Config{
		PublicURL:        cfg.publicURL,
		AllowedOrigins:   cfg.allowedOrigins,
		TrustProxy:       cfg.trustProxy,
		CreatesPerMinute: cfg.createsPerMin,
		JoinsPerMinute:   cfg.joinsPerMin,
		Web:              web.Dist(),
		Registry:         reg,
		Logger:           log.With("component", "signaling"),
	}, meetings, media)

	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	httpSrv := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- httpSrv.Serve(ln) }()
	log.Info("parley is serving", "listen", ln.Addr().String(), "udp_port", media.UDPPort(),
		"loopback_only", cfg.loopbackOnly, "public_url", cfg.publicURL)

	select {
	case err := <-served:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining sessions")
	drainCtx, cancel := context.WithTimeout(context.Background(), cfg.drainTimeout)
	defer cancel()
	if err := srv.Drain(drainCtx); err != nil {
		log.Warn("drain", "err", err)
	}
	if err := httpSrv.Shutdown(drainCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "err", err)
	}
	srv.Close()
	log.Info("parley stopped")
	return nil
}
