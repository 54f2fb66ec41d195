// Command parley-load is the load generator of Parley: N meetings of P publishers and S
// subscribers each, every one a real Pion client speaking the protocol (package
// parley/client), publishing synthetic Opus at 50 packets/s and VP8 or H264 at a chosen
// bitrate, each packet stamped with its send time.
//
// It prints a progress line every second, then a table of the measurement window (and JSON
// with -json): joins per second, join and join-to-first-packet latency, packets and bits
// received per second, loss from sequence numbers, one-way delay, and, given the server's PID
// or metrics URL, the server's CPU cores, CPU per forwarded packet and memory per participant
// and per subscribed track, next to the load generator's own CPU and memory.
//
// "parley-load summarize FILE..." prints the JSON results of earlier runs as a markdown table.
//
// It sends only to the URL it is given (and reads the metrics URL); with -loopback (the
// default for a loopback URL) its media stays on 127.0.0.1. Every run stops by itself.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "summarize" {
		if err := summarize(os.Stdout, os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "parley-load:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseConfig(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "parley-load:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, cfg, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "parley-load:", err)
		os.Exit(1)
	}
	if cfg.jsonFile != "" {
		if err := writeJSON(cfg.jsonFile, res); err != nil {
			fmt.Fprintln(os.Stderr, "parley-load:", err)
			os.Exit(1)
		}
	}
	if res.Joins.Failed > 0 {
		os.Exit(3)
	}
}
