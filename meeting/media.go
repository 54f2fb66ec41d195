package meeting

import "github.com/parleyhq/parley/wire"

// Media is the media effect the domain needs; the sfu satisfies it through an adapter wired in
// cmd. It knows participants only by id.
//
// Every method is called synchronously with the meeting's lock held, so that, e.g., a muted
// participant's audio gate is closed before the host's request returns. Implementations must
// return quickly and must not call back into this package.
type Media interface {
	// SetForwarding opens (forward) or closes the gate of one participant's kind of media. It
	// may be called before that participant publishes; the gate state then applies when it does.
	SetForwarding(meetingID, participantID string, kind wire.Kind, forward bool)
	// RequestKeyframe asks the participant's video publisher for a keyframe (after a video unmute).
	RequestKeyframe(meetingID, participantID string)
	// RemoveParticipant drops the participant's peer connections and its tracks.
	RemoveParticipant(meetingID, participantID string)
	// EndMeeting drops every peer connection of the meeting.
	EndMeeting(meetingID string)
}

type noMedia struct{}

func (noMedia) SetForwarding(string, string, wire.Kind, bool) {}
func (noMedia) RequestKeyframe(string, string)                {}
func (noMedia) RemoveParticipant(string, string)              {}
func (noMedia) EndMeeting(string)                             {}
