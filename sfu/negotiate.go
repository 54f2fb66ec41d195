package sfu

import (
	"errors"

	"github.com/pion/webrtc/v4"
)

// The subscriber connection is renegotiated by the server whenever tracks come or go. One offer
// is in flight at a time; changes made meanwhile mark the peer dirty and go into the next offer,
// made when the answer arrives. The negotiator goroutine makes the offers, so callers adding or
// removing tracks (a publisher's reader, RemoveParticipant) never wait for SDP work, and a burst of
// changes (a participant with two tracks leaving) usually ends up in one offer.

// subscribe starts sending t to this peer.
func (p *Peer) subscribe(t *upTrack) {
	if d := p.attach(t); d != nil {
		t.removeDown(d) // it waits for t's lanes: not under subMu (see the package doc)
	}
}

// attach gives t a downTrack for this peer and adds it to the subscriber connection. When the
// connection refuses it, it returns the downTrack for the caller to detach from t.
func (p *Peer) attach(t *upTrack) (failed *downTrack) {
	p.subMu.Lock()
	defer p.subMu.Unlock()
	if p.isClosed() || p.downs[t] != nil {
		return nil
	}
	d := newDownTrack(t, p)
	if t.kind == KindVideo {
		d.maxLayer.Store(p.qualityFor(t))
		if d.maxLayer.Load() == noLayer {
			d.target.Store(noLayer)
		}
	}
	if !t.addDown(d) {
		return nil // the track ended meanwhile
	}
	tr, err := p.sub.AddTransceiverFromTrack(d,
		webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		if errors.Is(err, webrtc.ErrConnectionClosed) { // the client left (see negotiate)
			p.log.Debug("add track to a closed subscriber connection", "track", t.id)
		} else {
			p.log.Error("add track to subscriber", "track", t.id, "err", err)
		}

		return d
	}
	// Offer only the publisher's codec: the subscriber can then receive the packets unchanged.
	if c, ok := findCodec(p.s.codecs, t.codec.RTPCodecCapability); ok {
		if err := tr.SetCodecPreferences([]webrtc.RTPCodecParameters{c}); err != nil {
			p.log.Debug("codec preferences", "track", t.id, "err", err)
		}
	}
	d.sender = tr.Sender()
	p.downs[t] = d
	p.publishDowns()
	p.kickAlloc()
	p.mu.Lock()
	if !p.closed {
		p.wg.Add(1)
		go d.readRTCP()
	}
	p.mu.Unlock()
	p.markDirty()

	return nil
}

// unsubscribe stops sending d's track to this peer; the upTrack has already detached d.
func (p *Peer) unsubscribe(d *downTrack) {
	p.subMu.Lock()
	defer p.subMu.Unlock()
	if p.downs[d.up] != d {
		return
	}
	delete(p.downs, d.up)
	p.publishDowns()
	if p.isClosed() {
		return
	}
	if err := p.sub.RemoveTrack(d.sender); err != nil {
		p.log.Debug("remove track from subscriber", "track", d.up.id, "err", err)
	}
	p.markDirty()
}

// publishDowns gives the allocator the current list of downTracks; callers hold subMu.
func (p *Peer) publishDowns() {
	list := make([]*downTrack, 0, len(p.downs))
	for _, d := range p.downs {
		list = append(list, d)
	}
	p.downList.Store(&list)
}

// markDirty records a change to negotiate; callers hold subMu.
func (p *Peer) markDirty() {
	p.dirty = true
	p.kickNegotiation()
}

func (p *Peer) kickNegotiation() {
	select {
	case p.kick <- struct{}{}:
	default: // a kick is pending already
	}
}

func (p *Peer) negotiator() {
	defer p.wg.Done()
	for {
		select {
		case <-p.closing:
			return
		case <-p.kick:
			p.negotiate()
		}
	}
}

// onSubscriberICE lets renegotiation go ahead once the subscriber connection's ICE has connected
// (see negotiate).
func (p *Peer) onSubscriberICE(st webrtc.ICEConnectionState) {
	if (st == webrtc.ICEConnectionStateConnected || st == webrtc.ICEConnectionStateCompleted) && !p.subUp.Swap(true) {
		p.kickNegotiation()
	}
}

// negotiate sends a new subscriber offer if something changed and no offer is in flight.
//
// A renegotiation waits until the subscriber connection's ICE has connected. Pion applies a
// description in two steps: the remote ICE credentials reach its ICE agent only when the
// connection's transports start, on a goroutine of its own, some time after the description was
// set. A client built on Pion that gets our second offer before its transports started compares
// the offer's credentials with none, takes the offer for an ICE restart, answers with new
// credentials of its own, and then starts its agent with the old ones: the two sides never agree
// and the subscriber receives nothing, ever (seen as a participant who joined before anyone
// published getting no media once in a few runs, on a loaded machine). ICE connected on our
// side means the client's agent answered our checks, so its transports have started.
func (p *Peer) negotiate() {
	p.subMu.Lock()
	defer p.subMu.Unlock()
	if p.isClosed() || p.inFlight || !p.dirty {
		return
	}
	if p.answered && !p.subUp.Load() {
		return // onSubscriberICE kicks again; the changes wait in dirty
	}
	p.dirty = false
	offer, err := p.sub.CreateOffer(p.offerOptions())
	if err == nil {
		err = p.sub.SetLocalDescription(offer)
	}
	if err != nil {
		if p.isClosed() || errors.Is(err, webrtc.ErrConnectionClosed) {
			// The client left: Pion closes the connection itself on the client's DTLS close, before
			// signaling or the connection state tells us. Nothing went wrong.
			p.log.Debug("subscriber offer on a closed connection", "err", err)
		} else {
			// Our own offer failing is a bug or a broken connection; the client cannot recover it.
			p.log.Error("subscriber offer", "err", err)
		}
		go p.Close()

		return
	}
	p.inFlight = true
	p.signal(Signal{Type: "offer", Target: TargetSubscriber, SDP: offer.SDP})
}
