package tlsconf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// LetsEncrypt is the directory of Let's Encrypt's production CA, the default ACME directory.
const LetsEncrypt = acme.LetsEncryptURL

// ACMEConfig configures an ACME source.
type ACMEConfig struct {
	// Domains are the names certificates are obtained for; each must resolve to this server.
	Domains []string
	// Email is given to the CA for notices about the certificates (optional).
	Email string
	// CacheDir keeps the account key and the certificates across restarts; it is created
	// (mode 0700) if missing. Without it every restart would ask the CA anew and soon hit its
	// rate limits.
	CacheDir string
	// DirectoryURL is the CA's ACME directory; default LetsEncrypt.
	DirectoryURL string
	// DirectoryRoots, if set, are the roots trusted for the directory's own HTTPS (a private CA);
	// nil trusts the system's.
	DirectoryRoots *x509.CertPool
	// Logger hears what happens to certificates; nil discards.
	Logger *slog.Logger
}

// ACME obtains certificates for its domains from an ACME CA and renews them before they expire.
// The CA proves the server holds a domain with whichever challenge gets through: TLS-ALPN-01 on
// the TLS port (served by GetCertificate, with ServerConfig's protocols) or HTTP-01 on port 80
// (served by HTTPHandler).
type ACME struct {
	m       *autocert.Manager
	domains []string
	log     *slog.Logger
}

// NewACME checks cfg and prepares the source; nothing is asked of the CA until Obtain or the
// first handshake.
func NewACME(cfg ACMEConfig) (*ACME, error) {
	if len(cfg.Domains) == 0 {
		return nil, errors.New("acme: no domain")
	}
	allowed := make(map[string]bool, len(cfg.Domains))
	for _, d := range cfg.Domains {
		if err := checkDomain(d); err != nil {
			return nil, err
		}
		allowed[strings.ToLower(d)] = true
	}
	if cfg.CacheDir == "" {
		return nil, errors.New("acme: no cache directory")
	}
	if err := os.MkdirAll(cfg.CacheDir, 0o700); err != nil {
		return nil, fmt.Errorf("acme cache directory: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	client := &acme.Client{DirectoryURL: cfg.DirectoryURL, UserAgent: "parley"}
	if client.DirectoryURL == "" {
		client.DirectoryURL = LetsEncrypt
	}
	if cfg.DirectoryRoots != nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: cfg.DirectoryRoots, MinVersion: tls.VersionTLS12}
		client.HTTPClient = &http.Client{Transport: tr, Timeout: time.Minute}
	}
	m := &autocert.Manager{
		Prompt: autocert.AcceptTOS,
		Cache:  autocert.DirCache(cfg.CacheDir),
		// The CA's HTTP-01 request names the port when it is not 80 (a test CA); the policy is
		// about names.
		HostPolicy: func(_ context.Context, host string) error {
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			if !allowed[strings.ToLower(host)] {
				return fmt.Errorf("acme: %q is not one of the configured domains", host)
			}
			return nil
		},
		Email:  cfg.Email,
		Client: client,
	}
	return &ACME{m: m, domains: cfg.Domains, log: log}, nil
}

func checkDomain(d string) error {
	switch {
	case net.ParseIP(d) != nil:
		return fmt.Errorf("acme domain %q: an IP address; ACME certificates here are for names", d)
	case strings.ContainsAny(d, ":/ "):
		return fmt.Errorf("acme domain %q: give the bare name, e.g. meet.example.com", d)
	case !strings.Contains(strings.Trim(d, "."), "."):
		return fmt.Errorf("acme domain %q: a public name has a dot, e.g. meet.example.com", d)
	}
	return nil
}

// GetCertificate returns the certificate for the name the client asked for, obtaining it first if
// need be (the handshake waits), and answers the CA's TLS-ALPN-01 challenges. A client that names
// no server (it connected by IP address) gets the first domain's certificate.
func (a *ACME) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if hello.ServerName == "" {
		h := *hello
		h.ServerName = a.domains[0]
		hello = &h
	}
	return a.m.GetCertificate(hello)
}

// HTTPHandler answers the CA's HTTP-01 challenges and hands every other request to other (nil:
// a redirect to https on the standard port).
func (a *ACME) HTTPHandler(other http.Handler) http.Handler {
	if other == nil {
		other = Redirect(443)
	}
	return a.m.HTTPHandler(other)
}

// Obtain makes sure every domain has a valid certificate, obtaining the missing ones now rather
// than on the first visitor's handshake. It logs each certificate once ready; autocert renews
// them from then on (30 days before they expire) without being asked.
func (a *ACME) Obtain(ctx context.Context) error {
	for _, d := range a.domains {
		if err := ctx.Err(); err != nil {
			return err
		}
		start := time.Now()
		// A client hello that accepts ECDSA, as every current browser's does: the certificate
		// obtained is the one browsers are served.
		cert, err := a.m.GetCertificate(&tls.ClientHelloInfo{
			ServerName:       d,
			SignatureSchemes: []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256},
			SupportedCurves:  []tls.CurveID{tls.CurveP256},
			CipherSuites:     []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		})
		if err != nil {
			return fmt.Errorf("obtain a certificate for %s from %s: %w", d, a.m.Client.DirectoryURL, err)
		}
		a.log.Info("certificate ready", append(certAttrs(cert.Leaf), "took", time.Since(start).Round(time.Millisecond))...)
	}
	return nil
}

// Redirect sends every plain-HTTP request to the same host and path over https on port
// httpsPort (omitted from the URL when 443), preserving the method.
func Redirect(httpsPort int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if host == "" {
			http.Error(w, "use https", http.StatusBadRequest)
			return
		}
		if httpsPort != 443 {
			host = net.JoinHostPort(host, fmt.Sprint(httpsPort))
		} else if strings.Contains(host, ":") {
			host = "[" + host + "]" // an IPv6 literal
		}
		http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})
}
