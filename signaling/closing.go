package signaling

import (
	"context"
	"errors"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/sfu"
	"github.com/parleyhq/parley/wire"
)

// errClosing is a request's outcome that gets no answer: the session's media closed under it and
// the session is ending (kicked, replaced, its media failed), so the close is the answer.
var errClosing = errors.New("the session is closing")

// mediaError is mediaError for a session's negotiation request: an sfu that has closed the
// participant's peer meanwhile is not a server fault. That is a request racing the end of the
// meeting (answered meeting_ended) or of the session (not answered: the connection closes);
// either is an ordinary race, logged at debug.
func (s *session) mediaError(ctx context.Context, what string, err error) error {
	if !errors.Is(err, sfu.ErrClosed) {
		return mediaError(what, err)
	}
	s.log.Debug(what+" after the media connection closed", "err", err)
	info, ierr := s.srv.meetings.Info(ctx, s.member.MeetingID())
	if (ierr == nil && info.State == wire.StateEnded) || meeting.CodeOf(ierr) == wire.CodeMeetingEnded {
		return &meeting.Error{Code: wire.CodeMeetingEnded, Message: "this meeting has ended"}
	}
	return errClosing
}
