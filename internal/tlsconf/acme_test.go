package tlsconf

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/tlsconf/acmetest"
)

const testDomain = "meet.parley.test"

// TestACME obtains a certificate from a real ACME CA (pebble) through each challenge type: the
// CA can reach the server on one port only, so only that challenge can succeed.
func TestACME(t *testing.T) {
	for _, challenge := range []string{"tls-alpn-01", "http-01"} {
		t.Run(challenge, func(t *testing.T) {
			tlsLn, httpLn := listen(t), listen(t)
			tlsPort, httpPort := tlsLn.Addr().(*net.TCPAddr).Port, httpLn.Addr().(*net.TCPAddr).Port
			var ca *acmetest.CA
			if challenge == "tls-alpn-01" {
				ca = acmetest.Start(t, 0, tlsPort)
			} else {
				ca = acmetest.Start(t, httpPort, 0)
			}
			cacheDir := t.TempDir()
			a, err := NewACME(ACMEConfig{
				Domains: []string{testDomain}, Email: "ops@parley.test", CacheDir: cacheDir,
				DirectoryURL: ca.DirectoryURL, DirectoryRoots: ca.DirectoryRoots,
			})
			if err != nil {
				t.Fatal(err)
			}
			serve(t, tlsLn, ServerConfig(a), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte("hello over https"))
			}))
			serve(t, httpLn, nil, a.HTTPHandler(Redirect(tlsPort)))

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if err := a.Obtain(ctx); err != nil {
				t.Fatal(err)
			}

			// A client that trusts the CA's root gets a verified connection for the domain.
			client := clientFor(ca, tlsLn.Addr().String(), httpLn.Addr().String())
			defer client.CloseIdleConnections()
			res, err := client.Get("https://" + net.JoinHostPort(testDomain, strconv.Itoa(tlsPort)) + "/")
			if err != nil {
				t.Fatalf("GET over https: %v", err)
			}
			body, _ := io.ReadAll(res.Body)
			_ = res.Body.Close()
			if string(body) != "hello over https" || res.TLS.PeerCertificates[0].DNSNames[0] != testDomain {
				t.Errorf("got %q with a certificate for %v", body, res.TLS.PeerCertificates[0].DNSNames)
			}

			// Port 80 sends browsers to https, path and query kept.
			noFollow := *client
			noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			res, err = noFollow.Get("http://" + net.JoinHostPort(testDomain, strconv.Itoa(httpPort)) + "/m/abc?x=1")
			if err != nil {
				t.Fatal(err)
			}
			_ = res.Body.Close()
			want := "https://" + net.JoinHostPort(testDomain, strconv.Itoa(tlsPort)) + "/m/abc?x=1"
			if res.StatusCode != http.StatusPermanentRedirect || res.Header.Get("Location") != want {
				t.Errorf("http: %d to %q, want 308 to %q", res.StatusCode, res.Header.Get("Location"), want)
			}

			// A restart finds the certificate in the cache, without asking any CA.
			again, err := NewACME(ACMEConfig{Domains: []string{testDomain}, CacheDir: cacheDir, DirectoryURL: "https://127.0.0.1:1/dir"})
			if err != nil {
				t.Fatal(err)
			}
			if err := again.Obtain(ctx); err != nil {
				t.Errorf("restart with the cache: %v", err)
			}
		})
	}
}

func TestNewACMERejects(t *testing.T) {
	for _, d := range []string{"localhost", "192.0.2.1", "https://meet.example.com", "meet.example.com:443"} {
		if _, err := NewACME(ACMEConfig{Domains: []string{d}, CacheDir: t.TempDir()}); err == nil {
			t.Errorf("domain %q accepted", d)
		}
	}
	if _, err := NewACME(ACMEConfig{Domains: []string{"meet.example.com"}}); err == nil {
		t.Error("no cache directory accepted")
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// serve runs h on ln (over TLS with cfg unless nil) until t ends.
func serve(t *testing.T, ln net.Listener, cfg *tls.Config, h http.Handler) {
	srv := &http.Server{Handler: h, TLSConfig: cfg, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if cfg != nil {
			_ = srv.ServeTLS(ln, "", "")
		} else {
			_ = srv.Serve(ln)
		}
	}()
	t.Cleanup(func() { _ = srv.Close(); <-done })
}

// clientFor is an HTTP client trusting ca's certificates, for which the test domain is the
// server at tlsAddr (https) or httpAddr (http).
func clientFor(ca *acmetest.CA, tlsAddr, httpAddr string) *http.Client {
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ca.Roots, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, _ := net.SplitHostPort(addr)
			target := httpAddr
			if strings.HasSuffix(tlsAddr, ":"+port) {
				target = tlsAddr
			}
			var d net.Dialer
			return d.DialContext(ctx, network, target)
		},
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}
