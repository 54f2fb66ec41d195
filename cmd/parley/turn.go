package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/tlsconf"
	"github.com/parleyhq/parley/internal/turnrelay"
)

// turnFlags configure the TURN relay built into the server (package turnrelay).
type turnFlags struct {
	enabled    optionalBool
	port       int
	tlsPort    int
	externalIP string
	tlsCert    string
	tlsKey     string
	secret     string
	relayPorts string
}

// optionalBool is a boolean flag that knows whether it was given at all, for a default that
// depends on other flags.
type optionalBool struct {
	set, value bool
}

func (b *optionalBool) String() string {
	if b == nil || !b.set {
		return ""
	}
	return strconv.FormatBool(b.value)
}

func (b *optionalBool) Set(v string) error {
	parsed, err := strconv.ParseBool(v)
	if err != nil {
		return errors.New("true or false")
	}
	b.set, b.value = true, parsed
	return nil
}

func (b *optionalBool) IsBoolFlag() bool { return true }

func (t *turnFlags) register(fs *flag.FlagSet) {
	fs.Var(&t.enabled, "turn", "run the TURN relay for clients whose network blocks media (default: on with -public-ip, else off)")
	fs.IntVar(&t.port, "turn-port", turnrelay.DefaultPort, "the TURN relay's UDP and TCP port")
	fs.IntVar(&t.tlsPort, "turn-tls-port", turnrelay.DefaultTLSPort, "the TURN relay's TLS port (with -turn-tls-cert and -turn-tls-key)")
	fs.StringVar(&t.externalIP, "turn-external-ip", "", "the TURN relay's public address (default: the first -public-ip)")
	fs.StringVar(&t.tlsCert, "turn-tls-cert", "", "PEM certificate chain for TURN over TLS (turns:)")
	fs.StringVar(&t.tlsKey, "turn-tls-key", "", "PEM key of -turn-tls-cert")
	fs.StringVar(&t.relayPorts, "turn-relay-ports", "", "range of the relay's relayed UDP ports, e.g. 61000-61999 (default: any free port)")
	fs.StringVar(&t.secret, "turn-secret", "", "secret signing TURN credentials (default: a random one per start; give several nodes the same)")
}

// check validates the flags; on is whether the relay runs, given -public-ip and -loopback-only.
func (t *turnFlags) check(publicIPs []string, loopbackOnly bool) (on bool, err error) {
	on = t.enabled.value
	if !t.enabled.set {
		on = len(publicIPs) > 0 && !loopbackOnly
	}
	for name, p := range map[string]int{"-turn-port": t.port, "-turn-tls-port": t.tlsPort} {
		if p < 0 || p > 65535 {
			return false, fmt.Errorf("%s %d: not a port", name, p)
		}
	}
	if (t.tlsCert == "") != (t.tlsKey == "") {
		return false, errors.New("-turn-tls-cert and -turn-tls-key go together")
	}
	if t.externalIP != "" {
		if _, err := netip.ParseAddr(t.externalIP); err != nil {
			return false, fmt.Errorf("-turn-external-ip %q: not an IP address", t.externalIP)
		}
	}
	if _, _, err := t.relayPortRange(); err != nil {
		return false, err
	}
	if on && t.tlsCert != "" && t.tlsPort == t.port && t.port != 0 {
		return false, fmt.Errorf("-turn-tls-port %d: the same as -turn-port", t.tlsPort)
	}
	return on, nil
}

// relayPortRange parses -turn-relay-ports ("min-max"); 0, 0 when not set.
func (t *turnFlags) relayPortRange() (lo, hi int, err error) {
	if t.relayPorts == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(t.relayPorts, "-")
	lo, errLo := strconv.Atoi(strings.TrimSpace(a))
	hi, errHi := strconv.Atoi(strings.TrimSpace(b))
	if !ok || errLo != nil || errHi != nil || lo < 1 || hi > 65535 || lo > hi {
		return 0, 0, fmt.Errorf("-turn-relay-ports %q: a range of ports, e.g. 61000-61999", t.relayPorts)
	}
	return lo, hi, nil
}

// relayConfig is the relay's configuration; with TLS it also loads the certificate and keeps
// it fresh until ctx ends (wait for that with the returned wait group).
func (t *turnFlags) relayConfig(ctx context.Context, poll time.Duration, log *slog.Logger) (*turnrelay.Config, *sync.WaitGroup, error) {
	c := &turnrelay.Config{Port: t.port, Secret: []byte(t.secret)}
	c.RelayPortMin, c.RelayPortMax, _ = t.relayPortRange() // checked by check
	var wg sync.WaitGroup
	if t.externalIP != "" {
		c.ExternalIP = netip.MustParseAddr(t.externalIP) // checked by check
	}
	if t.tlsCert != "" {
		files, err := tlsconf.LoadFiles(t.tlsCert, t.tlsKey, log.With("component", "turn"))
		if err != nil {
			return nil, nil, fmt.Errorf("turn tls certificate: %w", err)
		}
		c.TLS = &tls.Config{GetCertificate: files.GetCertificate, MinVersion: tls.VersionTLS12}
		c.TLSPort = t.tlsPort
		if poll > 0 {
			wg.Go(func() { files.Watch(ctx, poll) })
		}
	}
	return c, &wg, nil
}
