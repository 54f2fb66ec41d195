package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/parleyhq/parley/wire"
)

// New returns a client that has not connected yet; Join connects it. Dial is New then Join, for
// callers that need the client before its join is answered: a join the meeting's lobby holds is
// answered only when the host decides, and meanwhile the client's log has lobbyWaiting.
func New(opts Options) (*Client, error) { return newClient(opts) }

// Join connects and joins, as Dial does, waiting as long as ctx allows for the answer. A join the
// host denies returns a *ProtocolError with code denied; one nobody decided on in time,
// lobby_timeout. On any error the client is closed.
func (c *Client) Join(ctx context.Context) error {
	if err := c.connect(ctx); err != nil {
		c.Close()
		return err
	}
	return nil
}

// Audit reads a meeting's audit log (GET /api/meetings/{meetingId}/audit) with its hostKey.
func (a API) Audit(ctx context.Context, meetingID, hostKey string) ([]wire.AuditEntry, error) {
	var log wire.AuditLog
	u := strings.TrimRight(a.BaseURL, "/") + "/api/meetings/" + url.PathEscape(meetingID) + "/audit"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+hostKey)
	if err := a.send(req, http.StatusOK, &log); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return log.Entries, nil
}
