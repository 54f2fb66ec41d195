package sfu

import "github.com/pion/webrtc/v4"

// A participant's signaling connection may drop and come back (a resume) while its peer
// connections live on: the peer is then handed to the new connection (Rebind) instead of being
// made anew, and the media never stops. Either side may also restart ICE when the network
// changed: the client with a publisher offer carrying new ICE credentials (Pion restarts on
// such an offer by itself), the server with a subscriber offer (RestartICE).

// Resume hands the participant's live peer to a new signaling connection (see Peer.Rebind). It
// reports false when there is no live peer for participantID: the caller then joins anew.
func (s *SFU) Resume(roomID, participantID string, send func(Signal)) (*Peer, bool) {
	r := s.room(roomID, false)
	if r == nil || send == nil {
		return nil, false
	}
	p := r.peer(participantID)
	if p == nil || p.isClosed() {
		return nil, false
	}
	p.Rebind(send)

	return p, true
}

// Rebind sends the peer's signals to send from now on, and sends the client a subscriber
// offer: a new one, or again the one in flight, whose answer went with the old connection
// (Pion cannot roll an offer back, so the pending one is the only one it can send).
func (p *Peer) Rebind(send func(Signal)) {
	p.sigMu.Lock()
	p.send = send
	p.sigMu.Unlock()
	p.subMu.Lock()
	defer p.subMu.Unlock()
	if p.isClosed() {
		return
	}
	if p.inFlight {
		if d := p.sub.PendingLocalDescription(); d != nil {
			p.signal(Signal{Type: "offer", Target: TargetSubscriber, SDP: d.SDP})
		}

		return
	}
	p.markDirty()
}

// RestartICE sends the client a subscriber offer that restarts ICE, after the answer to an
// offer in flight if there is one.
func (p *Peer) RestartICE() {
	p.subMu.Lock()
	defer p.subMu.Unlock()
	if p.isClosed() {
		return
	}
	p.iceRestart = true
	if p.inFlight {
		p.dirty = true // Answer kicks the negotiation

		return
	}
	p.markDirty()
}

// offerOptions returns the options of the next subscriber offer, and holds back our trickled
// candidates of a restart until its offer has gone out (a candidate of new credentials must not
// reach the client before them). Callers hold subMu.
func (p *Peer) offerOptions() *webrtc.OfferOptions {
	if !p.iceRestart {
		return nil
	}
	p.iceRestart = false
	p.sigMu.Lock()
	p.subOfferSent = false
	p.sigMu.Unlock()

	return &webrtc.OfferOptions{ICERestart: true}
}
