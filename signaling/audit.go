package signaling

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/wire"
)

// getAudit serves GET /api/meetings/{meetingId}/audit to the bearer of the meeting's hostKey
// (Authorization: Bearer {hostKey}); the domain compares the key in constant time.
func (s *Server) getAudit(c echo.Context) error {
	entries, err := s.meetings.Audit(c.Request().Context(), c.Param("id"), bearer(c.Request()))
	if err != nil {
		return s.domainHTTPError(c, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, wire.AuditLog{Entries: nonNil(entries)})
}

// bearer is the token of an "Authorization: Bearer" header, "" when there is none.
func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}
