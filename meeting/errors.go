package meeting

import (
	"errors"
	"fmt"
)

// Code is an error code of the wire protocol; signaling sends it as the error's "code".
type Code string

// The protocol's error codes.
const (
	CodeBadRequest    Code = "bad_request"
	CodeForbidden     Code = "forbidden"
	CodeNotFound      Code = "not_found"
	CodeMeetingEnded  Code = "meeting_ended"
	CodeMeetingLocked Code = "meeting_locked"
	CodeMeetingFull   Code = "meeting_full"
	CodeRateLimited   Code = "rate_limited"
	CodeInternal      Code = "internal"
)

// Error is a domain error that reaches the client: Code is the protocol's code and Message a
// clear, user-facing sentence (it never carries a secret).
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// CodeOf returns the protocol code of err: the Code of the first *Error in its chain, "" for nil,
// and CodeInternal for anything else (an unexpected failure is never shown as the client's fault).
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

func newError(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func errMeetingNotFound() *Error { return newError(CodeNotFound, "no such meeting") }
