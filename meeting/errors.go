package meeting

import (
	"errors"
	"fmt"

	"github.com/parleyhq/parley/wire"
)

// Error is a domain error that reaches the client: Code is the protocol's code and Message a
// clear, user-facing sentence (it never carries a secret).
type Error struct {
	Code    wire.Code
	Message string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// CodeOf returns the protocol code of err: the Code of the first *Error in its chain, "" for nil,
// and wire.CodeInternal for anything else (an unexpected failure is never shown as the client's
// fault).
func CodeOf(err error) wire.Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return wire.CodeInternal
}

func newError(code wire.Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func errMeetingNotFound() *Error { return newError(wire.CodeNotFound, "no such meeting") }
