// Package tlsconf is where the server's TLS certificates come from: files named by the operator
// (reloaded when they change or on request), certificates obtained and renewed automatically
// over ACME, or a self-signed certificate for a laptop (-dev), made once and cached. Each is a
// Source, the shape of tls.Config.GetCertificate, so every TLS listener of the process (HTTPS,
// and the TURN relay's TLS port) can share one.
//
// ACME uses golang.org/x/crypto/acme/autocert rather than github.com/caddyserver/certmagic.
// Parley serves a handful of names from one process, which is what autocert is built for: it
// answers both HTTP-01 (through HTTPHandler on port 80) and TLS-ALPN-01 (through GetCertificate
// on the TLS port), renews in the background, caches in a directory, and talks to any RFC 8555
// directory. It adds no dependency (x/crypto is already in the build through Pion), and its
// whole surface is the standard tls.Config hook. certmagic's extras (OCSP stapling, on-demand
// issuance for unknown names, DNS-01 through libdns providers, cluster-wide locking in shared
// storage) are things Parley does not need, and it would bring zap, libdns and a dozen modules
// into a binary that otherwise logs with log/slog. Several nodes behind one name should
// terminate TLS at their load balancer or proxy (README: "Put it on the internet"). It needs
// x/crypto v0.58 or later: older autocert found the order to poll after finalizing only in a
// Location header that RFC 8555 does not require (golang/go#77704), and failed with CAs that
// send none, pebble among them.
//
// The package owns certificates and the TLS settings of listeners. It must not know about
// meetings, media or HTTP routes: the server decides which listener uses which Source, and
// signaling sets the HTTP headers (HSTS).
package tlsconf

import (
	"crypto/tls"

	"golang.org/x/crypto/acme"
)

// Source gives the certificate for a TLS handshake: the signature of tls.Config.GetCertificate.
// Files, ACME and DevCert are Sources.
type Source interface {
	GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error)
}

// ServerConfig is the TLS configuration of a listener serving src's certificates: TLS 1.2 or
// newer, HTTP/2 and HTTP/1.1 offered, and, when src is an ACME source, the "acme-tls/1"
// protocol its TLS-ALPN-01 challenges arrive on. Other listeners (the TURN relay's TLS port)
// may use it as is: a client that offers none of these protocols still gets the certificate.
func ServerConfig(src Source) *tls.Config {
	protos := []string{"h2", "http/1.1"}
	if _, ok := src.(*ACME); ok {
		protos = append(protos, acme.ALPNProto)
	}
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: src.GetCertificate,
		NextProtos:     protos,
	}
}
