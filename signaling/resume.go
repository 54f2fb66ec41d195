package signaling

import (
	"context"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/sfu"
	"github.com/parleyhq/parley/wire"
)

// Resume and ICE restart at the edge (PROTOCOL.md 1.1, "Staying connected"). The domain keeps
// a participant whose connection dropped (package meeting, resume.go); its peer stays in the
// sfu meanwhile, owned by the seat rather than by the dead session: a session closes its peer on
// teardown only when the domain says the seat is gone. A resumed session takes the peer over
// (sfu.Resume) and the client renegotiates on the same peer connections.

// media gives the session's member its peer: the live one of the participant when resuming
// with the client's peer connections kept, else a new one (which replaces any old one).
func (s *session) media(member *meeting.Member, resume bool) (peer *sfu.Peer, kept bool, err error) {
	if resume {
		if p, ok := s.srv.media.Resume(member.MeetingID(), member.ParticipantID(), s.sendSignal); ok {
			return p, true, nil
		}
	}
	p, err := s.srv.media.Join(member.MeetingID(), member.ParticipantID(), s.sendSignal)
	return p, false, err
}

// mediaKept is joined.mediaKept: present on a resume only.
func mediaKept(resumed, kept bool) *bool {
	if !resumed {
		return nil
	}
	return &kept
}

// handleIceRestart asks the sfu for a subscriber offer that restarts ICE (sent by the peer's
// negotiator, after the answer to an offer in flight).
func handleIceRestart(_ context.Context, s *session, _ wire.Request) (reply, error) {
	s.peer.RestartICE()
	return okReply, nil
}
