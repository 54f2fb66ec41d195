package signaling

import (
	"context"
	"errors"
	"fmt"

	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/sfu"
	"github.com/parleyhq/parley/wire"
)

// reply is what a handled request answers: "ok" with optional fields, or another message type
// (an offer is answered by "answer").
type reply struct {
	typ  string
	body any
}

var okReply = reply{typ: wire.TypeOK}

// handlerFunc serves one decoded request of a joined session.
type handlerFunc func(ctx context.Context, s *session, req wire.Request) (reply, error)

// handlers serves the messages the edge carries out itself (negotiation, leaving). Every other
// message goes to the domain's request table (handleDomain), so a new domain request needs no
// line here.
var handlers = map[string]handlerFunc{
	wire.TypeJoin:      func(context.Context, *session, wire.Request) (reply, error) { return reply{}, errAlreadyJoined },
	wire.TypeOffer:     handleOffer,
	wire.TypeAnswer:    handleAnswer,
	wire.TypeCandidate: handleCandidate,
	wire.TypeLeave:     handleLeave,
	// setVideoQuality is about the sender's own subscriber connection (quality.go).
	wire.TypeSetVideoQuality: handleSetVideoQuality,
	// iceRestart is about the sender's own subscriber connection (resume.go).
	wire.TypeIceRestart: handleIceRestart,
}

func handlerOf(typ string) handlerFunc {
	if h, ok := handlers[typ]; ok {
		return h
	}
	return handleDomain
}

var errAlreadyJoined = &meeting.Error{Code: wire.CodeBadRequest, Message: "already joined: a connection joins once"}

// handle serves one message of a joined session and answers it.
func (s *session) handle(ctx context.Context, data []byte) {
	s.mu.Lock()
	member, entered := s.member, s.peer != nil
	s.mu.Unlock()
	if s.overBytes(len(data)) { // before any decoding: junk costs nothing
		if entered {
			s.sendError(nil, wire.CodeRateLimited, "too much data: slow down")
		} else {
			s.out.pushEarly(wire.EncodeError(nil, wire.CodeRateLimited, "too much data: slow down"))
		}
		return
	}
	if !entered {
		s.whileHeld(data)
		return
	}

	d, err := wire.Decode(data)
	if !s.flood.Allow() {
		var id wire.ID
		if err == nil {
			id = d.ID
		}
		s.srv.budgets.limited.WithLabelValues("messages").Inc()
		s.sendError(id, wire.CodeRateLimited, "too many messages: slow down")
		return
	}
	if err == nil {
		if over := s.srv.budgets.spend(s.ip, member.MeetingID(), d.Request.MessageType()); over != "" {
			s.sendError(d.ID, wire.CodeRateLimited, "too many requests from this "+over+": slow down")
			return
		}
	}
	if err != nil {
		var de *wire.DecodeError
		errors.As(err, &de)
		code := wire.CodeBadRequest
		// A host-only request from anyone else is refused as such, whatever its fields.
		if de.Known && hostOnly(de.Type) && member.Role() != wire.RoleHost {
			code = wire.CodeForbidden
			s.srv.metrics.refused.WithLabelValues(de.Type).Inc()
		}
		s.sendError(de.ID, code, messageFor(code, de.Error()))
		return
	}
	typ := d.Request.MessageType()
	h := handlerOf(typ)

	s.mu.Lock()
	s.handling = true
	s.mu.Unlock()
	r, err := h(ctx, s, d.Request)
	if err == nil {
		s.srv.metrics.countRequest(typ, member.Role())
	}
	s.answer(d.ID, typ, r, err)

	s.mu.Lock()
	s.handling = false
	closeNow := s.closeWait
	s.closeWait = false
	s.mu.Unlock()
	if closeNow {
		s.out.push(outMessage{closeAfter: true})
	}
}

// hostOnly reports whether typ is a request that the domain's table gives to the host alone:
// such a request from anyone else is refused as forbidden before its fields are judged.
func hostOnly(typ string) bool { return meeting.HostOnly(meeting.RequestKind(typ)) }

// answer sends a request's reply or error. "ok" needs an id to answer; other replies always go.
func (s *session) answer(id wire.ID, typ string, r reply, err error) {
	if errors.Is(err, errClosing) {
		return
	}
	if err != nil {
		code := meeting.CodeOf(err)
		msg := errorMessage(err)
		if code == wire.CodeInternal {
			s.log.Error("request failed", "type", typ, "err", err)
		}
		if code == wire.CodeForbidden {
			s.srv.metrics.refused.WithLabelValues(typ).Inc()
		}
		s.sendError(id, code, msg)
		return
	}
	if r.typ == wire.TypeOK && id == nil {
		return
	}
	s.send(r.typ, id, r.body)
}

func messageFor(code wire.Code, detail string) string {
	if code == wire.CodeForbidden {
		return "only the host may do that"
	}
	return detail
}

// handleOffer applies a publisher offer. The domain judges what it sends first (a screen while
// sharing is off is forbidden for anyone but the host, and nothing changes) and hears of it
// once the media server took it (a new screen restarts a share the host had stopped).
func handleOffer(ctx context.Context, s *session, req wire.Request) (reply, error) {
	o := req.(*wire.Offer)
	sources := offerSources(o)
	// An offer the media server cannot read is its to refuse, below, with its reason.
	offered, srcErr := sfu.OfferedSources(o.SDP, sources)
	if srcErr == nil {
		if err := s.member.MayOffer(wireSources(offered)); err != nil {
			return reply{}, err
		}
	}
	answer, err := s.peer.OfferSources(ctx, o.SDP, sources)
	if err != nil {
		return reply{}, s.mediaError(ctx, "publisher offer", err)
	}
	s.member.Offered(wireSources(offered))
	return reply{typ: wire.TypeAnswer, body: wire.SessionDescription{Target: wire.TargetPublisher, SDP: answer}}, nil
}

func handleAnswer(ctx context.Context, s *session, req wire.Request) (reply, error) {
	a := req.(*wire.Answer)
	if err := s.peer.Answer(a.SDP); err != nil {
		return reply{}, s.mediaError(ctx, "subscriber answer", err)
	}
	return okReply, nil
}

func handleCandidate(ctx context.Context, s *session, req wire.Request) (reply, error) {
	c := req.(*wire.Candidate)
	init := webrtc.ICECandidateInit{
		Candidate:        c.Candidate.Candidate,
		SDPMid:           c.Candidate.SDPMid,
		SDPMLineIndex:    c.Candidate.SDPMLineIndex,
		UsernameFragment: c.Candidate.UsernameFragment,
	}
	if err := s.peer.AddCandidate(sfu.Target(c.Target), init); err != nil {
		return reply{}, s.mediaError(ctx, "candidate", err)
	}
	return okReply, nil
}

// mediaError turns the sfu's complaint about the client's input into bad_request; anything
// else is the server's fault.
func mediaError(what string, err error) error {
	if errors.Is(err, sfu.ErrBadSDP) {
		return &meeting.Error{Code: wire.CodeBadRequest, Message: fmt.Sprintf("%s rejected: %v", what, err)}
	}
	return fmt.Errorf("%s: %w", what, err)
}

func handleLeave(_ context.Context, s *session, _ wire.Request) (reply, error) {
	s.member.Leave()
	s.terminate()
	return okReply, nil
}

// handleDomain passes a meeting request to the domain, which authorizes and applies it.
func handleDomain(ctx context.Context, s *session, req wire.Request) (reply, error) {
	r, ok := meeting.FromWire(req)
	if !ok {
		return reply{}, fmt.Errorf("no handler for %q", req.MessageType())
	}
	if err := s.member.Do(ctx, r); err != nil {
		return reply{}, err
	}
	return okReply, nil
}
