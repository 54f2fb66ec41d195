package node

import (
	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/sfu"
	"github.com/parleyhq/parley/wire"
)

// meetingMedia is the one adapter between the domain and the media plane: the domain declares
// what it needs (meeting.Media) and knows nothing of Pion; the sfu knows nothing of meetings. A
// meeting's id is its sfu room's id.
type meetingMedia struct{ s *sfu.SFU }

var _ meeting.Media = meetingMedia{}

func (m meetingMedia) SetForwarding(meetingID, participantID string, src wire.Source, forward bool) {
	m.s.SetSourceForwarding(meetingID, participantID, sfu.Source(src), forward)
}

func (m meetingMedia) SetForwardingMany(meetingID string, gates []meeting.Gate) {
	sg := make([]sfu.Gate, len(gates))
	for i, g := range gates {
		sg[i] = sfu.Gate{ParticipantID: g.ParticipantID, Source: sfu.Source(g.Source), Forward: g.Forward}
	}
	m.s.SetForwardingMany(meetingID, sg)
}

func (m meetingMedia) RequestKeyframe(meetingID, participantID string) {
	m.s.RequestKeyframe(meetingID, participantID)
}

func (m meetingMedia) RemoveParticipant(meetingID, participantID string) {
	m.s.RemoveParticipant(meetingID, participantID)
}

// ReleaseMeeting closes the meeting's room. The domain calls it only for a meeting it is
// forgetting, and makes no further media call for it; a later join of the same meeting makes a
// new room.
func (m meetingMedia) ReleaseMeeting(meetingID string) { m.s.CloseRoom(meetingID) }
