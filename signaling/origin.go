package signaling

import (
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/wire"
)

// What another site's page may make a visitor's browser do here. A browser names the page that
// makes a request (Origin, and Sec-Fetch-Site in current browsers); programs name none and pass.
// A request from the server's own origin passes: with Config.PublicURL set, exactly that scheme
// and host (a page of another name that resolves here, DNS rebinding, is refused); without it,
// the host the request came to, and the scheme when the server can tell it (it terminates TLS,
// or -trust-proxy and X-Forwarded-Proto say). Config.AllowedOrigins adds host patterns.

// originAllowed reports whether r comes from a page the server trusts (or from no page).
func (s *Server) originAllowed(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false // "null" (a sandboxed frame, a file), or junk
	}
	for _, p := range s.cfg.AllowedOrigins {
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(u.Host)); ok {
			return true
		}
	}
	if s.public != nil {
		return strings.EqualFold(u.Scheme, s.public.Scheme) && strings.EqualFold(u.Host, s.public.Host)
	}
	if !strings.EqualFold(u.Host, r.Host) {
		return false
	}
	scheme, known := s.requestScheme(r)
	return !known || u.Scheme == scheme
}

// requestScheme is the scheme the client used, when the server can tell.
func (s *Server) requestScheme(r *http.Request) (string, bool) {
	if r.TLS != nil {
		return "https", true
	}
	if s.cfg.TrustProxy {
		if p := strings.ToLower(r.Header.Get("X-Forwarded-Proto")); p == "http" || p == "https" {
			return p, true
		}
	}
	return "", false // plain http here, perhaps behind a proxy that terminates TLS
}

// checkCreate refuses a meeting creation that a browser was made to send from another site (a
// form or a simple POST needs no preflight): the body must be declared JSON, which no form can
// send, and the page must be the server's own.
func (s *Server) checkCreate(c echo.Context) error {
	r := c.Request()
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return writeHTTPError(c, http.StatusUnsupportedMediaType, wire.CodeBadRequest, "the body must be JSON, sent as Content-Type: application/json")
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" && !s.originListed(r) {
		return writeHTTPError(c, http.StatusForbidden, wire.CodeForbidden, "meetings are created from this server's own page")
	}
	if !s.originAllowed(r) {
		return writeHTTPError(c, http.StatusForbidden, wire.CodeForbidden, "meetings are created from this server's own page")
	}
	return nil
}

// originListed reports whether r's Origin matches Config.AllowedOrigins (a site the operator
// trusts, whose requests are cross-site by the browser's count).
func (s *Server) originListed(r *http.Request) bool {
	u, err := url.Parse(r.Header.Get("Origin"))
	if err != nil || u.Host == "" {
		return false
	}
	for _, p := range s.cfg.AllowedOrigins {
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(u.Host)); ok {
			return true
		}
	}
	return false
}
