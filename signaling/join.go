package signaling

import (
	"context"
	"errors"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/sfu"
	"github.com/parleyhq/parley/wire"
)

// join serves the connection's first message, which must be a join. It reports whether the
// session is now a member; on false the connection is closing.
func (s *session) join(ctx context.Context, data []byte) bool {
	d, err := wire.Decode(data)
	if err != nil {
		var de *wire.DecodeError
		errors.As(err, &de)
		s.fail(de.ID, wire.CodeBadRequest, de.Error())
		return false
	}
	j, ok := d.Request.(*wire.Join)
	if !ok {
		s.fail(d.ID, wire.CodeBadRequest, "the first message must be a join")
		return false
	}
	name, err := meeting.ValidateName(*j.Name)
	if err != nil {
		s.fail(d.ID, meeting.CodeOf(err), errorMessage(err))
		return false
	}
	if !s.srv.joinLimit.allow(s.ip) {
		s.srv.metrics.joins.WithLabelValues(string(wire.CodeRateLimited)).Inc()
		s.fail(d.ID, wire.CodeRateLimited, "too many joins from this address; try again in a minute")
		return false
	}
	// Joins per meeting are limited too, so that bots from many addresses cannot squat a meeting
	// by rejoining as fast as the host removes them. A join with a hostKey or a resume token
	// is not counted (a wrong one is forbidden at once): the host always gets in.
	if j.Key() == "" && j.Resume() == "" && !s.srv.meetingJoinLimit.allow(*j.MeetingID) {
		s.srv.metrics.joins.WithLabelValues(string(wire.CodeRateLimited)).Inc()
		s.fail(d.ID, wire.CodeRateLimited, "too many people are joining this meeting right now; try again in a minute")
		return false
	}
	req := meeting.JoinRequest{MeetingID: *j.MeetingID, Name: name, HostKey: j.Key(), ResumeToken: j.Resume(),
		Joiner: meeting.Joiner{BrowserID: j.Browser(), Address: s.ip}}
	member, res, err := s.srv.meetings.Join(ctx, req, sessionSink{s})
	if err != nil {
		code := meeting.CodeOf(err)
		s.srv.metrics.joins.WithLabelValues(string(code)).Inc()
		if code == wire.CodeInternal {
			s.log.Error("join", "err", err)
		}
		s.fail(d.ID, code, errorMessage(err))
		return false
	}
	if res.Held != nil {
		return s.waitInLobby(ctx, d.ID, res.Held)
	}
	return s.enter(ctx, d.ID, member, res, j.KeepsMedia())
}

// enter makes a joined member of the session: its media, then the joined answer to the join
// with id. It reports false when the session is closing instead; a member it cannot keep is
// disconnected.
//
// A resume (res.Resumed) takes over the participant's live peer when the client kept its peer
// connections (keepMedia), so that the media never stops; otherwise the participant gets new
// ones, as on a fresh join.
func (s *session) enter(ctx context.Context, id wire.ID, member *meeting.Member, res meeting.JoinResult, keepMedia bool) bool {
	s.mu.Lock()
	if s.ended {
		// The connection went away (or was replaced) while the join waited in the lobby.
		s.mu.Unlock()
		member.Disconnect()
		return false
	}
	s.log = s.log.With("meeting", member.MeetingID(), "participant", member.ParticipantID())
	s.member = member
	s.mu.Unlock()

	peer, kept, err := s.media(member, res.Resumed && keepMedia)
	if err != nil {
		s.log.Error("media join", "err", err)
		member.Disconnect()
		s.fail(id, wire.CodeInternal, "the media server could not take this participant")
		return false
	}
	s.mu.Lock()
	s.peer = peer
	ended := s.ended
	s.mu.Unlock()
	s.srv.metrics.participants.Inc() // teardown, which closes the peer, counts it out

	if ended {
		// The meeting ended, or this connection was replaced, while the peer was being made. A
		// seat that lives on (a resume took it, or it waits for one) keeps its media.
		if !member.Disconnect() {
			peer.Close()
		}
		return false
	}
	s.srv.metrics.joins.WithLabelValues("ok").Inc()
	if res.Resumed {
		s.srv.metrics.resumes.WithLabelValues(map[bool]string{true: "kept", false: "new"}[kept]).Inc()
	}
	s.helpers.Go(func() { s.watchPeer(ctx, peer) })
	s.helpers.Go(func() { s.tellPublished(ctx, member) })

	joined, err := wire.Encode(wire.TypeJoined, id, wire.Joined{
		ParticipantID: res.Self.ID,
		Role:          res.Self.Role,
		Meeting:       res.Meeting,
		Participants:  nonNil(res.Participants),
		Timer:         res.Timer,
		Timers:        res.Timers,
		Self:          res.Self,
		Protocol:      wire.ProtocolVersion,
		Chat:          nonNil(res.Chat),
		Lobby:         res.Lobby,
		ResumeToken:   res.ResumeToken,
		Resumed:       res.Resumed,
		MediaKept:     mediaKept(res.Resumed, kept),
		ICEServers:    s.iceServers(res.Self.ID),
	})
	if err != nil {
		s.log.Error("encode joined", "err", err)
		s.fail(id, wire.CodeInternal, "internal error")
		return false
	}
	s.out.release(joined)
	s.log.Debug("joined", "role", res.Self.Role, "resumed", res.Resumed, "mediaKept", kept) // the meeting's info line says it
	return true
}

// watchPeer ends the session when its media fails for good (ICE or DTLS failure): the client
// reconnects instead of staying in the meeting without media. It runs until then or until ctx
// (the session's) ends, as one of the session's helpers.
func (s *session) watchPeer(ctx context.Context, peer *sfu.Peer) {
	select {
	case <-ctx.Done():
	case <-peer.Done():
		if s.meetingHasEnded(ctx) {
			return // the meetingEnded event closes the session, once it is sent (closing.go)
		}
		if !s.isEnded() {
			s.log.Info("media connection closed; ending the session")
		}
		// Through the outbox, after the answer to any request being handled: a leave or an
		// endMeeting closes the peer too, and its ok must still go out before the close.
		s.terminate()
	}
}

// sendSignal forwards what the sfu needs told to the client.
func (s *session) sendSignal(sig sfu.Signal) {
	switch sig.Type {
	case "offer":
		s.send(wire.TypeOffer, nil, wire.SessionDescription{Target: string(sig.Target), SDP: sig.SDP})
	case "candidate":
		if sig.Candidate == nil {
			return
		}
		c := wire.ICECandidate{
			Candidate:        sig.Candidate.Candidate,
			SDPMid:           sig.Candidate.SDPMid,
			SDPMLineIndex:    sig.Candidate.SDPMLineIndex,
			UsernameFragment: sig.Candidate.UsernameFragment,
		}
		s.send(wire.TypeCandidate, nil, wire.CandidateBody{Target: string(sig.Target), Candidate: c})
	case sfu.SignalPublisherLayers:
		s.sendPublisherLayers(sig)
	case sfu.SignalSources:
		s.published.put(wireSources(sig.Sources))
	}
}

// nonNil makes a nil list an empty one, so that it encodes as [] rather than null.
func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// errorMessage is the client-facing text of err: a domain error's own message, never internals.
func errorMessage(err error) string {
	var me *meeting.Error
	if errors.As(err, &me) {
		return me.Message
	}
	return "internal error"
}

// sessionSink delivers the meeting's events to the session's outbox.
type sessionSink struct{ s *session }

// Deliver implements meeting.Sink. It runs under the meeting's lock, so it only queues, and
// wakes nobody: the session's writer, woken by Flush, encodes each event (or takes the encoding
// another session's writer made).
func (k sessionSink) Deliver(msgs []*wire.EventMessage) {
	s := k.s
	s.out.queueEvents(msgs)
	for _, msg := range msgs {
		if meeting.Terminal(msg.Event) {
			s.terminate()
		}
	}
}

// Flush implements meeting.Sink: it wakes the session's writer.
func (k sessionSink) Flush() { k.s.out.flush() }

// terminate ends the session after a terminal event: right away, or after the answer to the
// request being handled (the host's own endMeeting gets its ok before the close).
func (s *session) terminate() {
	s.mu.Lock()
	s.ended = true
	wait := s.handling
	if wait {
		s.closeWait = true
	}
	s.mu.Unlock()
	if !wait {
		s.out.push(outMessage{closeAfter: true})
	}
}

// iceServers are the participant's joined.iceServers: the node's TURN relay, if it runs one.
func (s *session) iceServers(participantID string) []wire.ICEServer {
	if s.srv.cfg.ICEServers == nil {
		return []wire.ICEServer{}
	}
	return nonNil(s.srv.cfg.ICEServers(participantID, s.host))
}
