package tlsconf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Files serves a certificate and key from PEM files the operator keeps up to date (certbot, a
// Kubernetes secret, a company CA). Handshakes always get the last pair that loaded: a reload
// that fails (a renewal half written, a key that does not match) keeps the previous pair and
// says why.
type Files struct {
	certFile, keyFile string
	log               *slog.Logger
	cert              atomic.Pointer[tls.Certificate]

	mu    sync.Mutex // serializes reloads
	stamp [2]fileStamp
}

// fileStamp is what Watch compares to see that a file changed.
type fileStamp struct {
	mod  time.Time
	size int64
}

// LoadFiles loads the certificate chain in certFile and its key in keyFile; log (nil discards)
// hears of later reloads.
func LoadFiles(certFile, keyFile string, log *slog.Logger) (*Files, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &Files{certFile: certFile, keyFile: keyFile, log: log}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.load(); err != nil {
		return nil, err
	}
	return f, nil
}

// GetCertificate returns the current certificate, whatever the client asked for.
func (f *Files) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return f.cert.Load(), nil
}

// Leaf returns the current certificate, parsed.
func (f *Files) Leaf() *x509.Certificate { return f.cert.Load().Leaf }

// Reload reads both files again and, if they make a valid pair, serves them from the next
// handshake on. On error the previous pair stays in use.
func (f *Files) Reload() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	leaf, err := f.load()
	if err != nil {
		return err
	}
	f.log.Info("certificate reloaded", certAttrs(leaf)...)
	return nil
}

// load reads the pair and the files' stamps; the caller holds f.mu.
func (f *Files) load() (*x509.Certificate, error) {
	// Stamps first: a file that changes while it is read is read again on the next look.
	f.stamp = [2]fileStamp{stampOf(f.certFile), stampOf(f.keyFile)}
	pair, err := tls.LoadX509KeyPair(f.certFile, f.keyFile)
	if err != nil {
		return nil, fmt.Errorf("load certificate %s and key %s: %w", f.certFile, f.keyFile, err)
	}
	if pair.Leaf == nil {
		return nil, fmt.Errorf("load certificate %s: no certificate", f.certFile)
	}
	f.cert.Store(&pair)
	return pair.Leaf, nil
}

// Watch reloads the pair whenever either file changes (its modification time or size), looking
// every interval, until ctx ends. A change that does not load is reported once; the next change
// is tried again.
func (f *Files) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		f.mu.Lock()
		changed := f.stamp != [2]fileStamp{stampOf(f.certFile), stampOf(f.keyFile)}
		f.mu.Unlock()
		if !changed {
			continue
		}
		if err := f.Reload(); err != nil {
			f.log.Warn("certificate files changed but do not load; still serving the previous certificate", "err", err)
		}
	}
}

func stampOf(path string) fileStamp {
	st, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{mod: st.ModTime(), size: st.Size()}
}

// certAttrs describes a certificate for the log: its names and when it expires.
func certAttrs(leaf *x509.Certificate) []any {
	names := slices.Clone(leaf.DNSNames)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	return []any{"names", names, "expires", leaf.NotAfter.UTC().Format(time.RFC3339)}
}
