package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/parleyhq/parley/internal/tlsconf"
)

// tlsFlags are the flags that turn https on: certificate files, ACME, or -dev.
type tlsFlags struct {
	certFile, keyFile string
	acmeDomains       []string
	acmeEmail         string
	acmeDir           string
	acmeCA            string
	acmeCARoot        string
	httpListen        string
	dev               bool
	devDir            string
	// poll is how often certificate files are looked at for changes; not a flag (0: only on
	// SIGHUP, for tests).
	poll time.Duration
}

func (f *tlsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.certFile, "tls-cert", "", "serve https with this PEM certificate chain (with -tls-key); reloaded on SIGHUP and when the file changes")
	fs.StringVar(&f.keyFile, "tls-key", "", "the PEM private key of -tls-cert")
	fs.Var(listFlag{&f.acmeDomains}, "acme-domain", "serve https with a certificate obtained for this name from Let's Encrypt (ACME), renewed automatically; the name must resolve to this server and ports 80 and 443 reach it (repeatable)")
	fs.StringVar(&f.acmeEmail, "acme-email", "", "email address the ACME CA may write to about the certificates (optional)")
	fs.StringVar(&f.acmeDir, "acme-dir", "", "where the ACME account and certificates are kept across restarts (default: the user cache directory, parley/acme)")
	fs.StringVar(&f.acmeCA, "acme-ca", tlsconf.LetsEncrypt, "ACME directory URL of the CA (another CA, or its staging directory for trials)")
	fs.StringVar(&f.acmeCARoot, "acme-ca-root", "", "PEM file of the root that signs the ACME directory's own https certificate (a private CA; default: the system's roots)")
	fs.StringVar(&f.httpListen, "http-listen", "", "plain-http address that redirects browsers to https and answers ACME http-01 challenges (default :80 with -acme-domain; \"off\" for none)")
	fs.BoolVar(&f.dev, "dev", false, "serve https with a self-signed certificate for this machine's names and LAN addresses, made on the first start and kept in -dev-dir (a laptop on a LAN)")
	fs.StringVar(&f.devDir, "dev-dir", "", "where -dev keeps its certificate (default: the user cache directory, parley/dev)")
	f.poll = 10 * time.Second
}

// check rejects flags that contradict each other and fills in the defaults that depend on others.
func (f *tlsFlags) check() error {
	modes := 0
	for _, on := range []bool{f.certFile != "" || f.keyFile != "", len(f.acmeDomains) > 0, f.dev} {
		if on {
			modes++
		}
	}
	switch {
	case modes > 1:
		return errors.New("-tls-cert, -acme-domain and -dev are different ways to serve https: choose one")
	case (f.certFile == "") != (f.keyFile == ""):
		return errors.New("-tls-cert and -tls-key go together")
	case modes == 0 && f.httpListen != "" && f.httpListen != "off":
		return errors.New("-http-listen redirects to https: it needs -tls-cert, -acme-domain or -dev")
	}
	if f.httpListen == "" && len(f.acmeDomains) > 0 {
		f.httpListen = ":80"
	}
	if f.httpListen == "off" {
		f.httpListen = ""
	}
	return nil
}

// tlsSetup is the server's https as the flags asked for it; a nil *tlsSetup serves plain http.
type tlsSetup struct {
	src   tlsconf.Source
	files *tlsconf.Files
	acme  *tlsconf.ACME
	dev   *tlsconf.DevCert
	wg    sync.WaitGroup
}

// setup loads or prepares the certificates; nil when https is off.
func (f *tlsFlags) setup(log *slog.Logger) (*tlsSetup, error) {
	log = log.With("component", "tls")
	switch {
	case f.certFile != "":
		files, err := tlsconf.LoadFiles(f.certFile, f.keyFile, log)
		if err != nil {
			return nil, err
		}
		return &tlsSetup{src: files, files: files}, nil
	case len(f.acmeDomains) > 0:
		dir, err := cacheDir(f.acmeDir, "acme")
		if err != nil {
			return nil, err
		}
		var roots *x509.CertPool
		if f.acmeCARoot != "" {
			if roots, err = loadRoots("-acme-ca-root", f.acmeCARoot); err != nil {
				return nil, err
			}
		}
		a, err := tlsconf.NewACME(tlsconf.ACMEConfig{
			Domains: f.acmeDomains, Email: f.acmeEmail, CacheDir: dir,
			DirectoryURL: f.acmeCA, DirectoryRoots: roots, Logger: log,
		})
		if err != nil {
			return nil, err
		}
		return &tlsSetup{src: a, acme: a}, nil
	case f.dev:
		dir, err := cacheDir(f.devDir, "dev")
		if err != nil {
			return nil, err
		}
		ips, err := tlsconf.DevAddrs()
		if err != nil {
			log.Warn("the dev certificate covers only localhost", "err", err)
		}
		d, err := tlsconf.Dev(dir, tlsconf.LocalNames(), ips, time.Now())
		if err != nil {
			return nil, err
		}
		leaf := d.Leaf()
		log.Info("dev certificate: browsers warn about it once; accept it after checking its fingerprint",
			"fingerprint", tlsconf.Fingerprint(leaf), "names", leaf.DNSNames, "addresses", leaf.IPAddresses,
			"file", d.CertFile, "new", d.Created)
		return &tlsSetup{src: d, dev: d}, nil
	}
	return nil, nil
}

// cacheDir is dir, or else <user cache directory>/parley/<sub>.
func cacheDir(dir, sub string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no directory for the %s certificates (set -%s-dir): %w", sub, sub, err)
	}
	return filepath.Join(base, "parley", sub), nil
}

// scheme is the scheme the server's main listener speaks.
func (t *tlsSetup) scheme() string {
	if t == nil {
		return "http"
	}
	return "https"
}

// hsts says whether browsers should be told to stay on https: with a certificate they trust, not
// a -dev one (which would pin localhost to https for every local project).
func (t *tlsSetup) hsts() bool { return t != nil && t.dev == nil }

// serve serves srv on ln, over TLS when https is on.
func (t *tlsSetup) serve(srv *http.Server, ln net.Listener) error {
	if t == nil {
		return srv.Serve(ln)
	}
	srv.TLSConfig = tlsconf.ServerConfig(t.src)
	return srv.ServeTLS(ln, "", "")
}

// redirect serves plain http on addr (nothing when "" or https is off): a redirect to https on
// httpsPort, and the ACME CA's http-01 challenges. Serving errors go to served.
func (t *tlsSetup) redirect(addr string, httpsPort int, served chan<- error, log *slog.Logger) (*http.Server, error) {
	if t == nil || addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for the redirect to https (-http-listen): %w", err)
	}
	h := tlsconf.Redirect(httpsPort)
	if t.acme != nil {
		h = t.acme.HTTPHandler(h)
	}
	// Redirects answer at once: tight timeouts, so idle or slow clients hold nothing here.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second, MaxHeaderBytes: 32 << 10}
	log.Info("plain http redirects to https", "listen", ln.Addr().String(), "acme_http01", t.acme != nil)
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			served <- fmt.Errorf("redirect to https: %w", err)
		}
	}()
	return srv, nil
}

// run keeps the certificates current until ctx ends: certificate files are reloaded on SIGHUP
// and when they change; ACME certificates are obtained now rather than on the first visit.
func (t *tlsSetup) run(ctx context.Context, poll time.Duration, log *slog.Logger) {
	if t == nil {
		return
	}
	log = log.With("component", "tls")
	if t.acme != nil {
		// Not waited for at shutdown: autocert bounds it (5 minutes) and holds no resource.
		go func() {
			if err := t.acme.Obtain(ctx); err != nil && ctx.Err() == nil {
				log.Error("no certificate yet; the next visit tries again. Check that the name resolves to this server and that ports 80 and 443 reach it", "err", err)
			}
		}()
	}
	if t.files == nil {
		return
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	t.wg.Go(func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := t.files.Reload(); err != nil {
					log.Error("SIGHUP: certificate not reloaded; still serving the previous one", "err", err)
				}
			}
		}
	})
	if poll > 0 {
		t.wg.Go(func() { t.files.Watch(ctx, poll) })
	}
}

// wait returns once run's goroutines have ended (after its ctx has).
func (t *tlsSetup) wait() {
	if t != nil {
		t.wg.Wait()
	}
}

// loadRoots reads the PEM certificates of the file a flag names into a pool of trusted roots.
func loadRoots(flagName, path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flagName, err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s %s: no PEM certificate in it", flagName, path)
	}
	return roots, nil
}
