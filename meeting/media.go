package meeting

import "github.com/parleyhq/parley/wire"

// Media is the media effect the domain needs; the sfu satisfies it through the adapter in
// package internal/node. It knows participants only by id, and a meeting's media by the
// meeting's id.
//
// Every method is called synchronously with the meeting's lock held, so that, e.g., a muted
// participant's audio gate is closed before the host's request returns. Implementations must
// return quickly and must not call back into this package.
type Media interface {
	// SetForwarding opens (forward) or closes the gate of one of a participant's sources
	// (microphone, camera, screen, screenAudio). It may be called before that participant
	// publishes; the gate state then applies when it does. A participant's gates start open
	// (and are open again after RemoveParticipant). When it returns with forward false, no
	// packet behind that gate is written any more.
	SetForwarding(meetingID, participantID string, src wire.Source, forward bool)
	// SetForwardingMany sets several gates as SetForwarding does, all of them before it waits for
	// the packets in flight behind the ones it closed, so closing many gates (mute all) costs
	// the longest of those waits, not their sum.
	SetForwardingMany(meetingID string, gates []Gate)
	// RequestKeyframe asks the participant's video publisher for a keyframe (after a video unmute).
	RequestKeyframe(meetingID, participantID string)
	// RemoveParticipant drops the participant's peer connections, its tracks and its gates.
	RemoveParticipant(meetingID, participantID string)
	// ReleaseMeeting drops every peer connection of the meeting and frees its media state. It is
	// called when the meeting leaves this node's memory (ended, or empty past the idle timeout),
	// before anyone can join it anew: the next join starts with fresh media state.
	ReleaseMeeting(meetingID string)
}

// Gate is one participant's gate of one source, for Media.SetForwardingMany.
type Gate struct {
	ParticipantID string
	Source        wire.Source
	Forward       bool
}

type noMedia struct{}

func (noMedia) SetForwarding(string, string, wire.Source, bool) {}
func (noMedia) SetForwardingMany(string, []Gate)                {}
func (noMedia) RequestKeyframe(string, string)                  {}
func (noMedia) RemoveParticipant(string, string)                {}
func (noMedia) ReleaseMeeting(string)                           {}
