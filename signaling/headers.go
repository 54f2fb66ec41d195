package signaling

import "github.com/labstack/echo/v4"

// hstsValue keeps browsers on https for a year once they have seen the site over it. It names
// no subdomains (they may be other services) and asks for no preload listing: both are the
// operator's choice, to make at their proxy.
const hstsValue = "max-age=31536000"

// securityHeaders is the one place the edge sets security headers on every response: the web
// client, /m/{id}, the API, the metrics, errors. Strict-Transport-Security goes on responses
// over TLS when cfg.HSTS (the server terminates TLS with a certificate browsers trust).
func securityHeaders(cfg Config) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if cfg.HSTS && c.Request().TLS != nil {
				c.Response().Header().Set("Strict-Transport-Security", hstsValue)
			}
			return next(c)
		}
	}
}
