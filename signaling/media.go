package signaling

import (
	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/sfu"
	"github.com/parleyhq/parley/wire"
)

// MeetingMedia lets the meeting domain act on the sfu: the domain declares what it needs
// (meeting.Media) and knows nothing of Pion; the sfu knows nothing of meetings.
func MeetingMedia(s *sfu.SFU) meeting.Media { return sfuMedia{s} }

type sfuMedia struct{ s *sfu.SFU }

func (m sfuMedia) SetForwarding(meetingID, participantID string, kind wire.Kind, forward bool) {
	m.s.SetForwarding(meetingID, participantID, sfu.Kind(kind), forward)
}

func (m sfuMedia) RequestKeyframe(meetingID, participantID string) {
	m.s.RequestKeyframe(meetingID, participantID)
}

func (m sfuMedia) RemoveParticipant(meetingID, participantID string) {
	m.s.RemoveParticipant(meetingID, participantID)
}

func (m sfuMedia) EndMeeting(meetingID string) { m.s.CloseRoom(meetingID) }
