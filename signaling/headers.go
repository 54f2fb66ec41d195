package signaling

import "github.com/labstack/echo/v4"

// hstsValue keeps browsers on https for a year once they have seen the site over it. It names
// no subdomains (they may be other services) and asks for no preload listing: both are the
// operator's choice, to make at their proxy.
const hstsValue = "max-age=31536000"

// contentSecurityPolicy is what the web client may load and do: its own files only (scripts,
// styles, images, fonts), its own origin to talk to (the API and the WebSocket: 'self' covers
// ws: and wss: to the same host), no plugins, no <base>, forms only to itself, and no page may
// frame it (a framing page could overlay the controls: clickjacking). Media streams are not
// fetched and need no rule; blob: covers what the client makes of them (snapshots, recordings).
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' blob:; connect-src 'self'; " +
	"worker-src 'self' blob:; manifest-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// securityHeaders is the one place the edge sets security headers on every response: the web
// client, /m/{id}, the API, the metrics, errors. The content security policy (and, for older
// browsers, X-Frame-Options) keeps other sites from framing the app; nosniff keeps a browser
// from running a response as another type than it says; no-referrer keeps the meeting's link
// (its id is the ticket in) out of the Referer header of anything the page loads or links to.
// Strict-Transport-Security goes on responses over TLS when cfg.HSTS (the server terminates TLS
// with a certificate browsers trust).
func securityHeaders(cfg Config) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", contentSecurityPolicy)
			h.Set("X-Frame-Options", "DENY")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			if cfg.HSTS && c.Request().TLS != nil {
				c.Response().Header().Set("Strict-Transport-Security", hstsValue)
			}
			return next(c)
		}
	}
}
