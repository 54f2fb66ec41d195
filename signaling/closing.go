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
	if s.meetingHasEnded(ctx) {
		return &meeting.Error{Code: wire.CodeMeetingEnded, Message: "this meeting has ended"}
	}
	return errClosing
}

// meetingHasEnded reports whether the session's meeting has ended. Ending a meeting drops its
// media first and tells everyone after (meeting.EndMeeting): what notices the media gone in
// between (a request, the peer watcher) must leave the close to the meetingEnded event, or the
// connection would close before the event is sent.
func (s *session) meetingHasEnded(ctx context.Context) bool {
	s.mu.Lock()
	member := s.member
	s.mu.Unlock()
	if member == nil {
		return false
	}
	info, err := s.srv.meetings.Info(ctx, member.MeetingID())
	return (err == nil && info.State == wire.StateEnded) || meeting.CodeOf(err) == wire.CodeMeetingEnded
}
