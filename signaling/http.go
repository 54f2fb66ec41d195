package signaling

import (
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/wire"
)

// maxBody bounds REST request bodies.
const maxBody = 64 << 10

func (s *Server) createMeeting(c echo.Context) error {
	if s.draining.Load() {
		return writeHTTPError(c, http.StatusServiceUnavailable, wire.CodeUnavailable, "the server is shutting down and takes no new meetings")
	}
	if err := s.checkCreate(c); err != nil || c.Response().Committed {
		return err
	}
	var body wire.CreateMeeting
	data, err := io.ReadAll(io.LimitReader(c.Request().Body, maxBody+1))
	var tooLarge *http.MaxBytesError
	if err != nil && !errors.As(err, &tooLarge) {
		return writeHTTPError(c, http.StatusBadRequest, wire.CodeBadRequest, "could not read the request body")
	}
	if err != nil || len(data) > maxBody {
		return writeHTTPError(c, http.StatusRequestEntityTooLarge, wire.CodeBadRequest, "the request body is too large")
	}
	if err := wire.UnmarshalExact(data, &body); err != nil {
		return writeHTTPError(c, http.StatusBadRequest, wire.CodeBadRequest, `the body must be a JSON object like {"hostName": "Ada"}`)
	}
	if body.HostName == nil {
		return writeHTTPError(c, http.StatusBadRequest, wire.CodeBadRequest, `"hostName" is required`)
	}
	if _, err := meeting.ValidateName(*body.HostName); err != nil {
		return s.domainHTTPError(c, err)
	}
	if !s.createLimit.allow(c.RealIP()) {
		return writeHTTPError(c, http.StatusTooManyRequests, wire.CodeRateLimited, "too many meetings created from this address; try again in a minute")
	}
	created, err := s.meetings.Create(c.Request().Context(), *body.HostName)
	if err != nil {
		return s.domainHTTPError(c, err)
	}
	s.metrics.meetingsCreated.Inc()
	c.Response().Header().Set("Cache-Control", "no-store") // it carries the hostKey
	return c.JSON(http.StatusCreated, wire.Created{
		MeetingID: created.MeetingID,
		HostKey:   created.HostKey,
		JoinURL:   s.joinURL(c, created.MeetingID),
	})
}

// joinURL is the absolute link to a meeting: under PublicURL, or else under the address the
// request came to.
func (s *Server) joinURL(c echo.Context, meetingID string) string {
	base := s.cfg.PublicURL
	if base == "" {
		base = c.Scheme() + "://" + c.Request().Host
	}
	return base + "/m/" + meetingID
}

func (s *Server) getMeeting(c echo.Context) error {
	info, err := s.meetings.Info(c.Request().Context(), c.Param("id"))
	if err != nil {
		return s.domainHTTPError(c, err)
	}
	return c.JSON(http.StatusOK, info)
}

var statusOf = map[wire.Code]int{
	wire.CodeBadRequest:    http.StatusBadRequest,
	wire.CodeForbidden:     http.StatusForbidden,
	wire.CodeNotFound:      http.StatusNotFound,
	wire.CodeMeetingEnded:  http.StatusGone,
	wire.CodeMeetingLocked: http.StatusForbidden,
	wire.CodeMeetingFull:   http.StatusConflict,
	wire.CodeRateLimited:   http.StatusTooManyRequests,
	wire.CodeUnavailable:   http.StatusServiceUnavailable,
}

func (s *Server) domainHTTPError(c echo.Context, err error) error {
	code := meeting.CodeOf(err)
	status, ok := statusOf[code]
	if !ok {
		s.cfg.Logger.Error("request failed", "path", c.Path(), "err", err)
		return writeHTTPError(c, http.StatusInternalServerError, wire.CodeInternal, "internal error")
	}
	return writeHTTPError(c, status, code, errorMessage(err))
}

func writeHTTPError(c echo.Context, status int, code wire.Code, message string) error {
	return c.JSON(status, wire.HTTPError{Error: wire.ErrorBody{Code: code, Message: message}})
}

// httpError renders echo's own errors (unknown route, wrong method) in the protocol's shape.
func (s *Server) httpError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var he *echo.HTTPError
	status, code, msg := http.StatusInternalServerError, wire.CodeInternal, "internal error"
	if errors.As(err, &he) {
		status = he.Code
		switch status {
		case http.StatusNotFound:
			code, msg = wire.CodeNotFound, "no such page"
		case http.StatusMethodNotAllowed:
			code, msg = wire.CodeBadRequest, "method not allowed"
		default:
			code, msg = wire.CodeBadRequest, http.StatusText(status)
		}
	} else {
		s.cfg.Logger.Error("http handler", "path", c.Path(), "err", err)
	}
	if werr := writeHTTPError(c, status, code, msg); werr != nil {
		s.cfg.Logger.Debug("write error response", "err", werr)
	}
}
