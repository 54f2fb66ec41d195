package signaling

import (
	"context"
	"errors"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/wire"
)

// waitInLobby serves a join the meeting's lobby holds: the client is told it waits, and the
// session keeps reading (a held client may leave) while a helper waits for the host's decision.
// It reports true: the connection stays open until the decision answers the join.
func (s *session) waitInLobby(ctx context.Context, joinID wire.ID, h *meeting.Held) bool {
	s.mu.Lock()
	s.held = h
	s.mu.Unlock()
	waiting, err := wire.Encode(wire.LobbyWaiting{}.EventType(), nil, wire.LobbyWaiting{})
	if err != nil {
		s.log.Error("encode lobbyWaiting", "err", err)
	}
	// Ahead of what the outbox holds back for joined: this is all the client hears meanwhile.
	s.out.pushEarly(waiting)
	s.helpers.Go(func() { s.awaitDecision(ctx, joinID, h) })
	return true
}

// awaitDecision answers the held join once it is decided, or takes it off the list when the
// connection goes first.
func (s *session) awaitDecision(ctx context.Context, joinID wire.ID, h *meeting.Held) {
	select {
	case <-h.Done():
	case <-ctx.Done():
		h.Leave()
	}
	member, res, err := h.Outcome()
	s.mu.Lock()
	s.held = nil // from here on a leave is not the lobby's
	leave := s.heldLeave
	s.mu.Unlock()

	if leave != nil {
		// The client left the waiting room; if the host let it in at that very moment, it
		// leaves as a member.
		if member != nil {
			member.Leave()
		}
		s.out.pushEarly(wire.EncodeError(joinID, wire.CodeNotFound, "you left the waiting room"))
		s.finishLeave(*leave)
		return
	}
	if err != nil {
		code := meeting.CodeOf(err)
		s.srv.metrics.joins.WithLabelValues(string(code)).Inc()
		s.fail(joinID, code, errorMessage(err))
		return
	}
	if ctx.Err() != nil {
		member.Disconnect()
		return
	}
	s.enter(ctx, joinID, member, res, false)
}

// finishLeave answers a held client's leave and closes the connection.
func (s *session) finishLeave(id wire.ID) {
	var data []byte
	if id != nil {
		var err error
		if data, err = wire.Encode(wire.TypeOK, id, nil); err != nil {
			s.log.Error("encode ok", "err", err)
		}
	}
	s.out.push(outMessage{data: data, closeAfter: true, reason: "left"})
}

// whileHeld serves a message from a client that has not entered its meeting yet: held in the
// lobby, or admitted and being set up. It may leave the lobby; anything else is bad_request, and
// the connection stays.
func (s *session) whileHeld(data []byte) {
	d, err := wire.Decode(data)
	var id wire.ID
	if err == nil {
		id = d.ID
	} else {
		var de *wire.DecodeError
		if errors.As(err, &de) {
			id = de.ID
		}
	}
	// Answers go out at once: what the outbox holds back waits for a joined that may not come.
	if !s.flood.Allow() {
		s.out.pushEarly(wire.EncodeError(id, wire.CodeRateLimited, "too many messages: slow down"))
		return
	}
	if err != nil {
		s.out.pushEarly(wire.EncodeError(id, wire.CodeBadRequest, err.Error()))
		return
	}
	if _, ok := d.Request.(*wire.Leave); ok {
		s.mu.Lock()
		h := s.held
		if h != nil && s.heldLeave == nil {
			s.heldLeave = &id
		}
		s.mu.Unlock()
		if h != nil {
			h.Leave() // the lobby waiter answers both the join and this leave
			return
		}
	}
	s.out.pushEarly(wire.EncodeError(id, wire.CodeBadRequest, "you are not in the meeting yet: wait for the host to let you in"))
}

// pushEarly queues data to go out now, even while the outbox holds messages back for joined.
func (o *outbox) pushEarly(data []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.finished {
		return
	}
	o.queue = append(o.queue, outMessage{data: data})
	o.queued++
	o.signal()
}
