package signaling

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/signaling/wire"
)

// maxBody bounds REST request bodies.
const maxBody = 64 << 10

func (s *Server) createMeeting(c echo.Context) error {
	if s.draining.Load() {
		return writeHTTPError(c, http.StatusServiceUnavailable, "unavailable", "the server is shutting down and takes no new meetings")
	}
	var body struct {
		HostName *string `json:"hostName"`
	}
	data, err := io.ReadAll(io.LimitReader(c.Request().Body, maxBody+1))
	if err != nil {
		return writeHTTPError(c, http.StatusBadRequest, string(meeting.CodeBadRequest), "could not read the request body")
	}
	if len(data) > maxBody {
		return writeHTTPError(c, http.StatusRequestEntityTooLarge, string(meeting.CodeBadRequest), "the request body is too large")
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return writeHTTPError(c, http.StatusBadRequest, string(meeting.CodeBadRequest), `the body must be a JSON object like {"hostName": "Ada"}`)
	}
	if body.HostName == nil {
		return writeHTTPError(c, http.StatusBadRequest, string(meeting.CodeBadRequest), `"hostName" is required`)
	}
	if _, err := meeting.ValidateName(*body.HostName); err != nil {
		return s.domainHTTPError(c, err)
	}
	if !s.createLimit.allow(c.RealIP()) {
		return writeHTTPError(c, http.StatusTooManyRequests, string(meeting.CodeRateLimited), "too many meetings created from this address; try again in a minute")
	}
	created, err := s.meetings.Create(c.Request().Context(), *body.HostName)
	if err != nil {
		return s.domainHTTPError(c, err)
	}
	s.metrics.meetingsCreated.Inc()
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

var statusOf = map[meeting.Code]int{
	meeting.CodeBadRequest:    http.StatusBadRequest,
	meeting.CodeForbidden:     http.StatusForbidden,
	meeting.CodeNotFound:      http.StatusNotFound,
	meeting.CodeMeetingEnded:  http.StatusGone,
	meeting.CodeMeetingLocked: http.StatusForbidden,
	meeting.CodeMeetingFull:   http.StatusConflict,
	meeting.CodeRateLimited:   http.StatusTooManyRequests,
}

func (s *Server) domainHTTPError(c echo.Context, err error) error {
	code := meeting.CodeOf(err)
	status, ok := statusOf[code]
	if !ok {
		s.cfg.Logger.Error("request failed", "path", c.Path(), "err", err)
		return writeHTTPError(c, http.StatusInternalServerError, string(meeting.CodeInternal), "internal error")
	}
	return writeHTTPError(c, status, string(code), errorMessage(err))
}

func writeHTTPError(c echo.Context, status int, code, message string) error {
	return c.JSON(status, wire.HTTPError{Error: wire.ErrorBody{Code: code, Message: message}})
}

// httpError renders echo's own errors (unknown route, wrong method) in the protocol's shape.
func (s *Server) httpError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var he *echo.HTTPError
	status, code, msg := http.StatusInternalServerError, string(meeting.CodeInternal), "internal error"
	if errors.As(err, &he) {
		status = he.Code
		switch status {
		case http.StatusNotFound:
			code, msg = string(meeting.CodeNotFound), "no such page"
		case http.StatusMethodNotAllowed:
			code, msg = string(meeting.CodeBadRequest), "method not allowed"
		default:
			code, msg = string(meeting.CodeBadRequest), http.StatusText(status)
		}
	} else {
		s.cfg.Logger.Error("http handler", "path", c.Path(), "err", err)
	}
	if werr := writeHTTPError(c, status, code, msg); werr != nil {
		s.cfg.Logger.Debug("write error response", "err", werr)
	}
}
