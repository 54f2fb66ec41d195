package client

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley/internal/loopback"
	"github.com/parleyhq/parley/internal/pionlog"
	"github.com/parleyhq/parley/wire"
)

// maxNACKs is libwebrtc's kMaxNackRetries.
const maxNACKs = 10

// newAPI builds the Pion API of one peer connection: its codecs (registered by codecs), the
// chosen interceptors, and loopback-only ICE when asked.
func (c *Client) newAPI(codecs func(*webrtc.MediaEngine) error) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := codecs(m); err != nil {
		return nil, fmt.Errorf("register codecs: %w", err)
	}
	reg := &interceptor.Registry{}
	logs := pionlog.New(c.log, pionlog.Client, nil)
	// A lost packet is asked for at most maxNACKs times, as libwebrtc does (Pion's default
	// asks every 100 ms until the packet leaves its window, which no browser does).
	nackGen := []nack.GeneratorOption{nack.WithGeneratorLoggerFactory(logs), nack.GeneratorMaxNacksPerPacket(maxNACKs)}
	var err error
	switch c.opts.Interceptors {
	case LeanInterceptors:
		err = webrtc.ConfigureNackWithOptions(m, reg, nackGen, nack.WithResponderLoggerFactory(logs))
		if err == nil {
			err = webrtc.ConfigureRTCPReportsWithOptions(reg,
				[]report.ReceiverOption{report.WithReceiverLoggerFactory(logs)}, report.WithSenderLoggerFactory(logs))
		}
	default:
		err = webrtc.RegisterDefaultInterceptorsWithOptions(m, reg, webrtc.WithInterceptorLoggerFactory(logs),
			webrtc.WithNackGeneratorOptions(nackGen...))
	}
	if err != nil {
		return nil, fmt.Errorf("register interceptors: %w", err)
	}
	se := webrtc.SettingEngine{LoggerFactory: logs}
	if c.opts.Loopback {
		loopback.Configure(&se)
	}
	if c.opts.TCPOnly {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se)), nil
}

// peer is one of the client's two peer connections with its side of trickle ICE: remote
// candidates wait for the remote description, local ones for the local description to be
// sent.
type peer struct {
	c      *Client
	target string // wire.TargetPublisher or wire.TargetSubscriber
	pc     *webrtc.PeerConnection

	mu        sync.Mutex
	remoteSet bool
	remoteQ   []webrtc.ICECandidateInit
	localSent bool
	localQ    []webrtc.ICECandidateInit
}

func newPeer(c *Client, target string, api *webrtc.API) (*peer, error) {
	pc, err := api.NewPeerConnection(c.rtcConfig(c.iceServers()))
	if err != nil {
		return nil, fmt.Errorf("%s peer connection: %w", target, err)
	}
	p := &peer{c: c, target: target, pc: pc}
	pc.OnICECandidate(p.onLocalCandidate)
	return p, nil
}

// setRemote applies the remote description, then the candidates that came before it.
func (p *peer) setRemote(desc webrtc.SessionDescription) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.pc.SetRemoteDescription(desc); err != nil {
		return fmt.Errorf("%s: set remote %s: %w", p.target, desc.Type, err)
	}
	p.remoteSet = true
	for _, cand := range p.remoteQ {
		if err := p.pc.AddICECandidate(cand); err != nil {
			p.c.log.Warn("remote candidate refused", "target", p.target, "candidate", cand.Candidate, "err", err)
		}
	}
	p.remoteQ = nil
	return nil
}

func (p *peer) addRemoteCandidate(cand webrtc.ICECandidateInit) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.remoteSet {
		p.remoteQ = append(p.remoteQ, cand)
		return nil
	}
	if err := p.pc.AddICECandidate(cand); err != nil {
		return fmt.Errorf("%s: add candidate %q: %w", p.target, cand.Candidate, err)
	}
	return nil
}

// descriptionSent releases the local candidates gathered before the description was sent.
func (p *peer) descriptionSent() {
	p.mu.Lock()
	queued := p.localQ
	p.localQ = nil
	p.localSent = true
	p.mu.Unlock()
	for _, cand := range queued {
		p.sendCandidate(cand)
	}
}

// onLocalCandidate trickles a gathered candidate; nil (gathering done) is sent as the
// end-of-candidates candidate with an empty string.
func (p *peer) onLocalCandidate(ice *webrtc.ICECandidate) {
	cand := webrtc.ICECandidateInit{Candidate: ""}
	if ice != nil {
		cand = ice.ToJSON()
	}
	p.mu.Lock()
	if !p.localSent {
		p.localQ = append(p.localQ, cand)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	p.sendCandidate(cand)
}

func (p *peer) sendCandidate(cand webrtc.ICECandidateInit) {
	body := wire.Candidate{Target: p.target, Candidate: &wire.ICECandidate{
		Candidate:        cand.Candidate,
		SDPMid:           cand.SDPMid,
		SDPMLineIndex:    cand.SDPMLineIndex,
		UsernameFragment: cand.UsernameFragment,
	}}
	if err := p.c.requestAsync(p.c.ctx, wire.TypeCandidate, body); err != nil {
		p.c.log.Debug("candidate not sent", "target", p.target, "err", err)
	}
}

// signalQueue hands offers and candidates from the read loop to the signalling goroutine, in
// order, without ever blocking the read loop.
type signalQueue struct {
	mu    sync.Mutex
	msgs  []Message
	ready chan struct{} // one token while msgs is not empty
}

func (q *signalQueue) init() { q.ready = make(chan struct{}, 1) }

func (q *signalQueue) push(m Message) {
	q.mu.Lock()
	q.msgs = append(q.msgs, m)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *signalQueue) take(ctx context.Context) []Message {
	select {
	case <-q.ready:
	case <-ctx.Done():
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	msgs := q.msgs
	q.msgs = nil
	return msgs
}

// signalLoop applies the server's offers and candidates to the peer connections.
func (c *Client) signalLoop() {
	defer c.wg.Done()
	for {
		msgs := c.signals.take(c.ctx)
		if msgs == nil && c.ctx.Err() != nil {
			return
		}
		for _, m := range msgs {
			if err := c.applySignal(m); err != nil {
				c.log.Warn("signalling message not applied", "type", m.Type, "err", err)
			}
		}
	}
}

func (c *Client) applySignal(m Message) error {
	switch m.Type {
	case wire.TypeOffer:
		var sd wire.SessionDescription
		if err := json.Unmarshal(m.Raw, &sd); err != nil {
			return fmt.Errorf("decode offer: %w", err)
		}
		if sd.Target != wire.TargetSubscriber {
			return fmt.Errorf("offer for %q: the server offers only on the subscriber connection", sd.Target)
		}
		return c.sub.answerOffer(sd.SDP)
	case wire.TypeCandidate:
		var cb wire.CandidateBody
		if err := json.Unmarshal(m.Raw, &cb); err != nil {
			return fmt.Errorf("decode candidate: %w", err)
		}
		cand := webrtc.ICECandidateInit{
			Candidate:        cb.Candidate.Candidate,
			SDPMid:           cb.Candidate.SDPMid,
			SDPMLineIndex:    cb.Candidate.SDPMLineIndex,
			UsernameFragment: cb.Candidate.UsernameFragment,
		}
		switch cb.Target {
		case wire.TargetSubscriber:
			return c.sub.peer.addRemoteCandidate(cand)
		case wire.TargetPublisher:
			c.pubMu.Lock()
			pub := c.pub
			c.pubMu.Unlock()
			if pub == nil {
				return fmt.Errorf("publisher candidate before any publisher offer")
			}
			return pub.peer.addRemoteCandidate(cand)
		}
		return fmt.Errorf("candidate for unknown target %q", cb.Target)
	}
	return nil
}
