// Package acmetest runs a real ACME certificate authority for tests: Let's Encrypt's pebble, from
// its Go module, in the test's process and on 127.0.0.1 only, with a DNS server that resolves
// every name to 127.0.0.1. The CA really validates: it fetches HTTP-01 tokens and makes
// TLS-ALPN-01 handshakes on the ports the test names, so a certificate is issued only to a
// server that answers there.
//
// It serves the tests of package tlsconf and of the server binary. It must not be imported by
// non-test code.
package acmetest

import (
	"crypto/x509"
	"encoding/pem"
	"log"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
	"github.com/miekg/dns"

	"github.com/parleyhq/parley/internal/logcapture"
)

// CA is a running ACME CA.
type CA struct {
	// DirectoryURL is the ACME directory (https).
	DirectoryURL string
	// DirectoryRoots trusts the directory's HTTPS certificate; DirectoryRootFile holds the same
	// in PEM, for a -flag.
	DirectoryRoots    *x509.CertPool
	DirectoryRootFile string
	// Roots trusts the certificates the CA issues.
	Roots *x509.CertPool
}

// Start runs a CA until t ends. It validates HTTP-01 challenges by fetching
// http://<name>:httpPort/.well-known/acme-challenge/... and TLS-ALPN-01 challenges by a handshake
// with <name>:tlsPort, every name resolving to 127.0.0.1; a port of 0 is one nothing listens on,
// so that challenge type fails. The CA validates at once (no random wait) and rejects no nonce:
// the test's time goes into real validation only.
func Start(t testing.TB, httpPort, tlsPort int) *CA {
	t.Helper()
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	t.Setenv("PEBBLE_AUTHZREUSE", "0")
	if httpPort == 0 {
		httpPort = closedPort(t)
	}
	if tlsPort == 0 {
		tlsPort = closedPort(t)
	}

	logs := &logcapture.Buffer{}
	logger := log.New(logs, "pebble ", log.Lmicroseconds)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pebble's log:\n%s", logs.String())
		}
	})

	resolver := startDNS(t)
	store := db.NewMemoryStore()
	authority := ca.New(logger, store, "", "ecdsa", 0, 1, map[string]ca.Profile{
		"default": {Description: "the test profile"},
	})
	validator := va.New(logger, httpPort, tlsPort, false, resolver, store)
	front := wfe.New(logger, store, validator, authority, []string{"pebble.letsencrypt.org"}, false, false, 0, 0)
	srv := httptest.NewTLSServer(front.Handler())
	t.Cleanup(srv.Close)

	dirRoots := x509.NewCertPool()
	dirRoots.AddCert(srv.Certificate())
	rootFile := filepath.Join(t.TempDir(), "acme-directory-root.pem")
	if err := os.WriteFile(rootFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(authority.GetRootCert(0).Cert)
	return &CA{
		DirectoryURL:      srv.URL + wfe.DirectoryPath,
		DirectoryRoots:    dirRoots,
		DirectoryRootFile: rootFile,
		Roots:             roots,
	}
}

// startDNS serves DNS over TCP (as pebble asks) on 127.0.0.1: every name has the A record
// 127.0.0.1 and no other record.
func startDNS(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("dns listener: %v", err)
	}
	started := make(chan struct{})
	srv := &dns.Server{
		Listener:          ln,
		NotifyStartedFunc: func() { close(started) },
		Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
			m := new(dns.Msg)
			m.SetReply(q)
			m.Authoritative = true
			for _, question := range q.Question {
				if question.Qtype == dns.TypeA {
					m.Answer = append(m.Answer, &dns.A{
						Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
						A:   net.IPv4(127, 0, 0, 1),
					})
				}
			}
			_ = w.WriteMsg(m)
		}),
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.ActivateAndServe()
	}()
	<-started
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-served
	})
	return ln.Addr().String()
}

// closedPort returns a loopback port nothing listens on: one just bound and let go.
func closedPort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	return port
}
