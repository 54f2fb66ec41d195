package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/internal/logcapture"
	"github.com/parleyhq/parley/internal/tlsconf"
	"github.com/parleyhq/parley/internal/tlsconf/acmetest"
)

// server is the binary's run() serving in the test, its log kept as JSON lines.
type server struct {
	t    *testing.T
	logs *logcapture.Buffer
	stop context.CancelFunc
	done chan error
}

// start runs the server with args (plus a loopback-only node on a free UDP port and JSON logs)
// until the test ends, and waits for its startup lines.
func start(t *testing.T, args ...string) *server {
	t.Helper()
	args = append([]string{"-udp-port", "0", "-loopback-only", "-log-format", "json"}, args...)
	cfg, err := parseConfig(args, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.tls.poll = 0 // certificate files change in these tests only with a SIGHUP
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{t: t, logs: &logcapture.Buffer{}, stop: cancel, done: make(chan error, 1)}
	go func() { s.done <- run(ctx, cfg, s.logs) }()
	t.Cleanup(func() {
		s.stop()
		select {
		case err := <-s.done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("run did not return after its context ended")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", s.logs.String())
		}
	})
	await.Until(t, "the startup line", func() bool {
		select {
		case err := <-s.done:
			t.Fatalf("run returned early: %v\n%s", err, s.logs.String())
		default:
		}
		return s.line("parley is ready") != nil
	})
	return s
}

// lines are the log's lines with msg, decoded.
func (s *server) lines(msg string) []map[string]any {
	var out []map[string]any
	for _, l := range strings.Split(s.logs.String(), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			s.t.Fatalf("a log line is not JSON: %q: %v", l, err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func (s *server) line(msg string) map[string]any {
	if ls := s.lines(msg); len(ls) > 0 {
		return ls[0]
	}
	return nil
}

// urls are the startup lines' addresses to open.
func (s *server) urls() []string {
	var out []string
	for _, l := range s.lines("open Parley at") {
		out = append(out, l["url"].(string))
	}
	return out
}

// trusting is an HTTP client that trusts roots, does not follow redirects, and reaches every
// name at 127.0.0.1.
func trusting(roots *x509.CertPool) *http.Client {
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, _ := net.SplitHostPort(addr)
			var d net.Dialer
			return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		},
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// checkSecurityHeaders creates a meeting over base's API and fetches the home page, the meeting's
// page and the API: each answer must carry HSTS exactly when wantHSTS.
func checkSecurityHeaders(t *testing.T, c *http.Client, base string, wantHSTS bool) {
	t.Helper()
	res, err := c.Post(base+"/api/meetings", "application/json", strings.NewReader(`{"hostName":"Ann"}`))
	if err != nil {
		t.Fatalf("create a meeting: %v", err)
	}
	var created struct{ MeetingID string }
	err = json.NewDecoder(res.Body).Decode(&created)
	_ = res.Body.Close()
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("create a meeting: %d, %v", res.StatusCode, err)
	}
	check := func(what string, res *http.Response) {
		t.Helper()
		got := res.Header.Get("Strict-Transport-Security")
		if wantHSTS && got != "max-age=31536000" || !wantHSTS && got != "" {
			t.Errorf("%s: Strict-Transport-Security %q (want it: %v)", what, got, wantHSTS)
		}
	}
	check("POST /api/meetings", res)
	for _, path := range []string{"/", "/m/" + created.MeetingID, "/api/meetings/" + created.MeetingID, "/api/meetings/nosuchmeeting"} {
		res, err := c.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		if res.TLS == nil {
			t.Errorf("GET %s: not over TLS", path)
		}
		check("GET "+path, res)
	}
}

// certPair writes a self-signed certificate for names (and 127.0.0.1) into dir, as the files an
// operator would give; it returns the files and the certificate.
func certPair(t *testing.T, dir string, names ...string) (certFile, keyFile string, leaf *x509.Certificate) {
	t.Helper()
	d, err := tlsconf.Dev(dir, names, []net.IP{net.IPv4(127, 0, 0, 1).To4()}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, tlsconf.DevCertFile), filepath.Join(dir, tlsconf.DevKeyFile), d.Leaf()
}

// TestHTTPSCertificateFiles: -tls-cert/-tls-key serve https with the operator's certificate,
// with HSTS on the pages and the API, a plain-http port that redirects, the URL to open in the
// startup lines, and a new certificate from the next handshake on after SIGHUP.
func TestHTTPSCertificateFiles(t *testing.T) {
	certFile, keyFile, leaf := certPair(t, t.TempDir(), "localhost", "meet.parley.test")
	s := start(t, "-listen", "127.0.0.1:0", "-http-listen", "127.0.0.1:0", "-tls-cert", certFile, "-tls-key", keyFile)

	port := listenPort(t, s.line("parley is ready"))
	base := "https://127.0.0.1:" + port
	if got := s.urls(); len(got) != 1 || got[0] != base {
		t.Errorf("startup URLs %v, want [%s]", got, base)
	}
	if s.line("cameras and microphones will not work at these addresses: browsers allow them only over https or on localhost") != nil {
		t.Error("warned about cameras on https")
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	c := trusting(roots)
	defer c.CloseIdleConnections()
	checkSecurityHeaders(t, c, base, true)
	if got := servedCert(t, c, "https://meet.parley.test:"+port+"/healthz"); !got.Equal(leaf) {
		t.Error("the server does not serve the given certificate")
	}

	// Plain http sends browsers to https, path and query kept.
	redirect := listenPort(t, s.line("plain http redirects to https"))
	res, err := c.Get("http://meet.parley.test:" + redirect + "/m/abc?x=1")
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if want := "https://meet.parley.test:" + port + "/m/abc?x=1"; res.StatusCode != http.StatusPermanentRedirect || res.Header.Get("Location") != want {
		t.Errorf("plain http: %d to %q, want 308 to %s", res.StatusCode, res.Header.Get("Location"), want)
	}

	// A renewed certificate in the same files is served after SIGHUP.
	newCert, newKey, renewed := certPair(t, t.TempDir(), "localhost", "meet.parley.test")
	copyFile(t, newKey, keyFile)
	copyFile(t, newCert, certFile)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	await.Until(t, "the renewed certificate to be served", func() bool {
		c.CloseIdleConnections()
		return servedCert(t, c, base+"/healthz").Equal(renewed)
	})
	if s.line("certificate reloaded") == nil {
		t.Error("no log line for the reload")
	}
}

// TestHTTPSACME: -acme-domain obtains a certificate from an ACME CA (a real one, pebble, on
// loopback) through the server's own TLS port, and serves it.
func TestHTTPSACME(t *testing.T) {
	httpsPort, httpPort := freePort(t), freePort(t)
	ca := acmetest.Start(t, httpPort, httpsPort)
	const domain = "meet.parley.test"
	s := start(t, "-listen", "127.0.0.1:"+strconv.Itoa(httpsPort), "-http-listen", "127.0.0.1:"+strconv.Itoa(httpPort),
		"-acme-domain", domain, "-acme-email", "ops@parley.test", "-acme-dir", t.TempDir(),
		"-acme-ca", ca.DirectoryURL, "-acme-ca-root", ca.DirectoryRootFile)

	base := "https://" + domain + ":" + strconv.Itoa(httpsPort)
	if got := s.urls(); len(got) != 1 || got[0] != base {
		t.Errorf("startup URLs %v, want [%s]", got, base)
	}
	await.Until(t, "the certificate from the ACME CA", func() bool { return s.line("certificate ready") != nil })
	c := trusting(ca.Roots)
	defer c.CloseIdleConnections()
	checkSecurityHeaders(t, c, base, true)
	if got := servedCert(t, c, base+"/healthz"); got.VerifyHostname(domain) != nil {
		t.Errorf("served a certificate for %v", got.DNSNames)
	}
	res, err := c.Get("http://" + domain + ":" + strconv.Itoa(httpPort) + "/")
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusPermanentRedirect || res.Header.Get("Location") != base+"/" {
		t.Errorf("plain http: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
}

// TestDevCertificate: -dev makes a self-signed certificate, logs its fingerprint, serves it (no
// HSTS: it would pin localhost to https), and reuses it on the next start.
func TestDevCertificate(t *testing.T) {
	dir := t.TempDir()
	s := start(t, "-listen", "127.0.0.1:0", "-dev", "-dev-dir", dir)
	dev := s.line("dev certificate: browsers warn about it once; accept it after checking its fingerprint")
	if dev == nil || dev["new"] != true {
		t.Fatalf("no dev certificate line for a new certificate: %v", dev)
	}
	pemBytes, err := os.ReadFile(filepath.Join(dir, tlsconf.DevCertFile))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemBytes) {
		t.Fatal("the dev certificate file holds no certificate")
	}
	port := listenPort(t, s.line("parley is ready"))
	c := trusting(roots)
	defer c.CloseIdleConnections()
	served := servedCert(t, c, "https://localhost:"+port+"/healthz")
	if dev["fingerprint"] != tlsconf.Fingerprint(served) {
		t.Errorf("logged fingerprint %v, served %s", dev["fingerprint"], tlsconf.Fingerprint(served))
	}
	checkSecurityHeaders(t, c, "https://localhost:"+port, false)
	s.stop()
	if err := <-s.done; err != nil {
		t.Fatalf("run: %v", err)
	}
	s.done <- nil // what the cleanup waits for

	again := start(t, "-listen", "127.0.0.1:0", "-dev", "-dev-dir", dir)
	if l := again.line("dev certificate: browsers warn about it once; accept it after checking its fingerprint"); l["new"] != false || l["fingerprint"] != dev["fingerprint"] {
		t.Errorf("second start: %v, want the same certificate again", l)
	}
}

// TestPlainHTTPWarns: plain http at a public URL that is not localhost gets the camera warning.
func TestPlainHTTPWarns(t *testing.T) {
	s := start(t, "-listen", "127.0.0.1:0", "-public-url", "http://meet.example.com")
	if got := s.urls(); len(got) != 1 || got[0] != "http://meet.example.com" {
		t.Errorf("startup URLs %v", got)
	}
	w := s.line("cameras and microphones will not work at these addresses: browsers allow them only over https or on localhost")
	if w == nil || w["level"] != "WARN" || !strings.Contains(w["fix"].(string), "-dev") {
		t.Errorf("no camera warning: %v", w)
	}
}

func TestHTTPSPort(t *testing.T) {
	for _, tc := range []struct {
		publicURL string
		want      int
	}{
		{"", 8443},
		{"https://meet.example.com", 443},
		{"https://meet.example.com:9443/", 9443},
		{"http://meet.example.com", 8443},
	} {
		if got := httpsPort(tc.publicURL, 8443); got != tc.want {
			t.Errorf("httpsPort(%q, 8443) = %d, want %d", tc.publicURL, got, tc.want)
		}
	}
}

func TestOpenURLs(t *testing.T) {
	lan := []net.IP{net.ParseIP("192.168.1.20").To4(), net.ParseIP("2001:db8::20"), net.ParseIP("10.0.0.5").To4()}
	any8080 := &net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}
	for _, tc := range []struct {
		name      string
		scheme    string
		listen    *net.TCPAddr
		publicURL string
		acme      []string
		lan       []net.IP
		want      []openURL
	}{
		{"plain http on every interface", "http", any8080, "", nil, lan, []openURL{
			{"http://localhost:8080", "this machine", true},
			{"http://192.168.1.20:8080", "the local network", false},
			{"http://10.0.0.5:8080", "the local network", false},
		}},
		{"dev https on every interface", "https", any8080, "", nil, lan, []openURL{
			{"https://localhost:8080", "this machine", true},
			{"https://192.168.1.20:8080", "the local network", true},
			{"https://10.0.0.5:8080", "the local network", true},
		}},
		{"IPv6 only LAN", "http", any8080, "", nil, lan[1:2], []openURL{
			{"http://localhost:8080", "this machine", true},
			{"http://[2001:db8::20]:8080", "the local network", false},
		}},
		{"loopback", "http", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80}, "", nil, lan, []openURL{
			{"http://127.0.0.1", "this machine", true},
		}},
		{"one LAN address", "http", &net.TCPAddr{IP: net.IPv4(192, 168, 1, 20), Port: 8080}, "", nil, lan, []openURL{
			{"http://192.168.1.20:8080", "the local network", false},
		}},
		{"acme", "https", &net.TCPAddr{Port: 443}, "", []string{"meet.example.com", "video.example.com"}, lan, []openURL{
			{"https://meet.example.com", "everyone", true},
			{"https://video.example.com", "everyone", true},
		}},
		{"public https behind a proxy", "http", any8080, "https://meet.example.com", nil, lan, []openURL{
			{"https://meet.example.com", "everyone", true},
		}},
		{"public plain http", "http", any8080, "http://meet.example.com", nil, lan, []openURL{
			{"http://meet.example.com", "everyone", false},
		}},
		{"public localhost", "http", any8080, "http://localhost:8080", nil, lan, []openURL{
			{"http://localhost:8080", "everyone", true},
		}},
	} {
		got := openURLs(tc.scheme, tc.listen, tc.publicURL, tc.acme, tc.lan)
		if len(got) != len(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: [%d] = %+v, want %+v", tc.name, i, got[i], tc.want[i])
			}
		}
	}
}

func listenPort(t *testing.T, line map[string]any) string {
	t.Helper()
	addr, _ := line["listen"].(string)
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("no listen address in %v", line)
	}
	return port
}

// freePort is a loopback port free a moment ago, for a server whose port must be known before
// it starts (the ACME CA validates on it).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port
}

// servedCert is the certificate a verified GET of url is served.
func servedCert(t *testing.T, c *http.Client, url string) *x509.Certificate {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		var uerr x509.UnknownAuthorityError
		if errors.As(err, &uerr) {
			return uerr.Cert
		}
		t.Fatalf("GET %s: %v", url, err)
	}
	_ = res.Body.Close()
	return res.TLS.PeerCertificates[0]
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
