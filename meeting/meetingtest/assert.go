package meetingtest

import "github.com/parleyhq/parley/meeting"

var (
	_ meeting.Clock = (*Clock)(nil)
	_ meeting.Sink  = (*Sink)(nil)
	_ meeting.Media = (*Media)(nil)
)
