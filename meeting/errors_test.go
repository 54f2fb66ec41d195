package meeting_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/parleyhq/parley/meeting"
)

func errorsAs(err error, target **meeting.Error) bool { return errors.As(err, target) }

func TestCodeOf(t *testing.T) {
	forbidden := &meeting.Error{Code: meeting.CodeForbidden, Message: "no"}
	tests := []struct {
		name string
		err  error
		want meeting.Code
	}{
		{"nil", nil, ""},
		{"domain error", forbidden, meeting.CodeForbidden},
		{"wrapped", fmt.Errorf("join: %w", forbidden), meeting.CodeForbidden},
		{"wrapped twice", fmt.Errorf("a: %w", fmt.Errorf("b: %w", &meeting.Error{Code: meeting.CodeMeetingFull})), meeting.CodeMeetingFull},
		{"joined", errors.Join(errors.New("x"), forbidden), meeting.CodeForbidden},
		{"plain error", errors.New("disk on fire"), meeting.CodeInternal},
		{"context error", context.Canceled, meeting.CodeInternal},
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
	err := &meeting.Error{Code: meeting.CodeMeetingLocked, Message: "this meeting is locked"}
	if got, want := err.Error(), "meeting_locked: this meeting is locked"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestCodesAreTheProtocols(t *testing.T) {
	codes := map[meeting.Code]string{
		meeting.CodeBadRequest: "bad_request", meeting.CodeForbidden: "forbidden", meeting.CodeNotFound: "not_found",
		meeting.CodeMeetingEnded: "meeting_ended", meeting.CodeMeetingLocked: "meeting_locked",
		meeting.CodeMeetingFull: "meeting_full", meeting.CodeRateLimited: "rate_limited", meeting.CodeInternal: "internal",
	}
	for c, want := range codes {
		if string(c) != want {
			t.Errorf("code %q, want %q", c, want)
		}
	}
}
