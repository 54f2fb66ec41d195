package signaling

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/sfu"
	"github.com/parleyhq/parley/wire"
)

// Simulcast and quality (PROTOCOL.md 1.1): what a subscriber asks of each video track it
// receives goes straight to the media server, which owns the choice of layers; the layers a
// publisher's subscribers need come back from it as publisherLayers.

// handleSetVideoQuality serves setVideoQuality: the quality the sender wants of one participant's
// camera or screen. The participant must be one the media server knows, publishing that source.
func handleSetVideoQuality(_ context.Context, s *session, req wire.Request) (reply, error) {
	q := req.(*wire.SetVideoQuality)
	err := s.srv.media.SetVideoQuality(s.member.MeetingID(), s.member.ParticipantID(), *q.ParticipantID,
		sfu.Source(q.Source), sfu.Quality(q.Quality))
	switch {
	case err == nil:
		return okReply, nil
	case errors.Is(err, sfu.ErrNotFound):
		return reply{}, &meeting.Error{Code: wire.CodeNotFound,
			Message: fmt.Sprintf("participant %q publishes no %s", *q.ParticipantID, q.Source)}
	case errors.Is(err, sfu.ErrInvalid):
		return reply{}, &meeting.Error{Code: wire.CodeBadRequest, Message: err.Error()}
	}
	return reply{}, fmt.Errorf("set video quality: %w", err)
}

// offerSources is an offer's sources as the media server takes them; nil when it names none.
func offerSources(o *wire.Offer) map[string]sfu.Source {
	if len(o.Sources) == 0 {
		return nil
	}
	m := make(map[string]sfu.Source, len(o.Sources))
	for mid, src := range o.Sources {
		m[mid] = sfu.Source(src)
	}
	return m
}

// wireSources is the media server's list of sources in the protocol's words.
func wireSources(srcs []sfu.Source) []wire.Source {
	out := make([]wire.Source, len(srcs))
	for i, src := range srcs {
		out[i] = wire.Source(src)
	}
	return out
}

// sendPublisherLayers tells the client which simulcast layers of one of its sources some
// subscriber needs (the media server's SignalPublisherLayers).
func (s *session) sendPublisherLayers(sig sfu.Signal) {
	active := sig.Layers
	if active == nil {
		active = []string{}
	}
	ev := wire.PublisherLayers{Source: wire.Source(sig.Source), Active: active}
	s.send(ev.EventType(), nil, ev)
}
