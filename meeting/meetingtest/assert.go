package meetingtest

import "parley/meeting"

var (
	_ meeting.Clock = (*Clock)(nil)
	_ meeting.Sink  = (*Sink)(nil)
	_ meeting.Media = (*Media)(nil)
)
