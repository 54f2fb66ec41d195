package tlsconf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/internal/logcapture"
)

func TestMain(m *testing.M) {
	// pebble's validation authority (acmetest) keeps one dispatching goroutine for the process.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/letsencrypt/pebble/v2/va.VAImpl.processTasks"))
}

// writePair writes a new self-signed certificate for name, and its key, to certFile and keyFile.
func writePair(t *testing.T, certFile, keyFile, name string) {
	t.Helper()
	certPEM, keyPEM, err := newSelfSigned([]string{name}, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
}

// serveTLS serves HTTPS with cfg on a loopback port until t ends; it returns the address.
func serveTLS(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("hello")) }),
		TLSConfig:         cfg,
		ReadHeaderTimeout: 10 * time.Second,
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return ln.Addr().String()
}

// servedName is the first DNS name of the certificate a handshake with addr gets.
func servedName(t *testing.T, addr string) string {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // we look at what is served
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	defer func() { _ = conn.Close() }()
	return conn.ConnectionState().PeerCertificates[0].DNSNames[0]
}

func TestFilesReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writePair(t, certFile, keyFile, "one.example")
	var logs logcapture.Buffer
	f, err := LoadFiles(certFile, keyFile, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, ServerConfig(f))
	if got := servedName(t, addr); got != "one.example" {
		t.Fatalf("served %q, want one.example", got)
	}

	// Reload (what SIGHUP does) picks up new files at once.
	writePair(t, certFile, keyFile, "two.example")
	if err := f.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := servedName(t, addr); got != "two.example" {
		t.Fatalf("after Reload served %q, want two.example", got)
	}
	if !strings.Contains(logs.String(), "certificate reloaded") || !strings.Contains(logs.String(), "two.example") {
		t.Errorf("no reload line in the log:\n%s", logs.String())
	}

	// Watch notices files that change on disk.
	ctx, cancel := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() { defer close(watched); f.Watch(ctx, 10*time.Millisecond) }()
	defer func() { cancel(); <-watched }()
	writePair(t, certFile, keyFile, "three.example")
	await.Until(t, "the watcher to serve three.example", func() bool { return servedName(t, addr) == "three.example" })

	// A renewal that does not load (a key that is not the certificate's) keeps the last good pair.
	other := filepath.Join(dir, "other-key.pem")
	writePair(t, filepath.Join(dir, "other-cert.pem"), other, "four.example")
	keyPEM, err := os.ReadFile(other)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	await.Until(t, "the watcher to report the bad pair", func() bool {
		return strings.Contains(logs.String(), "do not load")
	})
	if got := servedName(t, addr); got != "three.example" {
		t.Fatalf("after a bad renewal served %q, want three.example still", got)
	}
	if err := f.Reload(); err == nil {
		t.Error("Reload of a mismatched pair succeeded")
	}
}

func TestLoadFilesRejects(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if _, err := LoadFiles(certFile, keyFile, nil); err == nil || !strings.Contains(err.Error(), certFile) {
		t.Errorf("missing files: err = %v, want one naming %s", err, certFile)
	}
	if err := os.WriteFile(certFile, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFiles(certFile, keyFile, nil); err == nil {
		t.Error("garbage loaded")
	}
}

func TestDev(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dev")
	names := []string{"localhost", "laptop", "laptop.local"}
	ips := []net.IP{net.IPv4(127, 0, 0, 1).To4(), net.ParseIP("192.0.2.10").To4()}
	now := time.Now()

	first, err := Dev(dir, names, ips, now)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Created {
		t.Error("first start: Created = false")
	}
	leaf := first.Leaf()
	for _, n := range names {
		if err := leaf.VerifyHostname(n); err != nil {
			t.Errorf("certificate does not cover %s: %v", n, err)
		}
	}
	if err := leaf.VerifyHostname("192.0.2.10"); err != nil {
		t.Errorf("certificate does not cover the LAN address: %v", err)
	}
	if st, err := os.Stat(filepath.Join(dir, DevKeyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, mode %v", err, st.Mode())
	}
	// A browser trusting it (as after "accept the risk") completes a verified handshake.
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	addr := serveTLS(t, ServerConfig(first))
	conn, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "laptop.local", RootCAs: pool})
	if err != nil {
		t.Fatalf("verified handshake: %v", err)
	}
	_ = conn.Close()

	// The next start reuses it: same fingerprint, nothing for browsers to accept again.
	again, err := Dev(dir, names, ips[:1], now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if again.Created || again.Fingerprint() != first.Fingerprint() {
		t.Errorf("second start made a new certificate (created %v)", again.Created)
	}
	if fp := first.Fingerprint(); len(fp) != 32*3-1 || strings.ToUpper(fp) != fp {
		t.Errorf("fingerprint %q is not colon-separated SHA-256 hex", fp)
	}

	// A new address, or the end of its year coming near, makes a new one.
	moved, err := Dev(dir, names, append(ips, net.ParseIP("198.51.100.4")), now.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !moved.Created || moved.Fingerprint() == first.Fingerprint() {
		t.Error("a new LAN address did not make a new certificate")
	}
	late, err := Dev(dir, names, ips, now.Add(48*time.Hour+devValidity-devRenewal+time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !late.Created {
		t.Error("a certificate near its end was reused")
	}
}

func TestLocalAddrs(t *testing.T) {
	ips, err := DevAddrs()
	if err != nil {
		t.Fatal(err)
	}
	if len(ips) < 2 || !ips[0].Equal(net.IPv4(127, 0, 0, 1)) || !ips[1].Equal(net.IPv6loopback) {
		t.Errorf("DevAddrs = %v, want the loopback addresses first", ips)
	}
	for _, ip := range ips[2:] {
		if ip.IsLoopback() || ip.IsLinkLocalUnicast() {
			t.Errorf("LocalAddrs included %v", ip)
		}
	}
	if names := LocalNames(); names[0] != "localhost" {
		t.Errorf("LocalNames = %v, want localhost first", names)
	}
}
