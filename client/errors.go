package client

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/wire"
)

// ProtocolError is an error answer of the server: an "error" message on the WebSocket, or an
// HTTP error body.
type ProtocolError struct {
	Code    string // bad_request, forbidden, not_found, ...
	Message string
	// HTTPStatus is the status of an HTTP API error, 0 on the WebSocket.
	HTTPStatus int
}

func (e *ProtocolError) Error() string {
	if e.HTTPStatus != 0 {
		return fmt.Sprintf("server error %s (HTTP %d): %s", e.Code, e.HTTPStatus, e.Message)
	}
	return fmt.Sprintf("server error %s: %s", e.Code, e.Message)
}

// ErrorCode returns the protocol error code in err's chain, or "" when there is none.
func ErrorCode(err error) string {
	var pe *ProtocolError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// parseErrorMessage reads the code and message of an "error" message.
func parseErrorMessage(raw []byte) *ProtocolError {
	var body wire.ErrorBody
	if err := json.Unmarshal(raw, &body); err != nil || body.Code == "" {
		return &ProtocolError{Code: "unknown", Message: "unreadable error message: " + string(raw)}
	}
	return &ProtocolError{Code: string(body.Code), Message: body.Message}
}

// ErrClosed is in the chain of every error caused by the connection having closed.
var ErrClosed = errors.New("connection closed")

// ClosedError says how the connection closed.
type ClosedError struct {
	// Status is the WebSocket close status the server sent, -1 when the connection ended
	// without a close frame.
	Status websocket.StatusCode
	Reason string
	Err    error // the read error that ended the connection
}

func (e *ClosedError) Error() string {
	if e.Status == -1 {
		return fmt.Sprintf("connection closed: %v", e.Err)
	}
	return fmt.Sprintf("connection closed with status %d (%s) %q", int(e.Status), e.Status, e.Reason)
}

// Is makes errors.Is(err, ErrClosed) true.
func (e *ClosedError) Is(target error) bool { return target == ErrClosed }

func (e *ClosedError) Unwrap() error { return e.Err }

func newClosedError(err error) *ClosedError {
	ce := &ClosedError{Status: websocket.CloseStatus(err), Err: err}
	var wsErr websocket.CloseError
	if errors.As(err, &wsErr) {
		ce.Reason = wsErr.Reason
	}
	return ce
}
