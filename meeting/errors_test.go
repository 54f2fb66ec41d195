package meeting_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/wire"
)

func errorsAs(err error, target **meeting.Error) bool { return errors.As(err, target) }

func TestCodeOf(t *testing.T) {
	forbidden := &meeting.Error{Code: wire.CodeForbidden, Message: "no"}
	tests := []struct {
		name string
		err  error
		want wire.Code
	}{
		{"nil", nil, ""},
		{"domain error", forbidden, wire.CodeForbidden},
		{"wrapped", fmt.Errorf("join: %w", forbidden), wire.CodeForbidden},
		{"wrapped twice", fmt.Errorf("a: %w", fmt.Errorf("b: %w", &meeting.Error{Code: wire.CodeMeetingFull})), wire.CodeMeetingFull},
		{"joined", errors.Join(errors.New("x"), forbidden), wire.CodeForbidden},
		{"plain error", errors.New("disk on fire"), wire.CodeInternal},
		{"context error", context.Canceled, wire.CodeInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := meeting.CodeOf(tt.err); got != tt.want {
				t.Errorf("CodeOf(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	err := &meeting.Error{Code: wire.CodeMeetingLocked, Message: "this meeting is locked"}
	if got, want := err.Error(), "meeting_locked: this meeting is locked"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestCodesAreTheProtocols(t *testing.T) {
	codes := map[wire.Code]string{
		wire.CodeBadRequest: "bad_request", wire.CodeForbidden: "forbidden", wire.CodeNotFound: "not_found",
		wire.CodeMeetingEnded: "meeting_ended", wire.CodeMeetingLocked: "meeting_locked",
		wire.CodeMeetingFull: "meeting_full", wire.CodeRateLimited: "rate_limited", wire.CodeInternal: "internal",
	}
	for c, want := range codes {
		if string(c) != want {
			t.Errorf("code %q, want %q", c, want)
		}
	}
}
