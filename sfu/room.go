package sfu

import (
	"sync"
	"sync/atomic"
)

// gateSet holds a participant's forwarding gates, one per source. They outlive its peers (a
// reconnecting host stays muted) and are read by the forwarding path on every packet.
type gateSet struct {
	mic, camera, screen, screenAudio atomic.Bool
}

func newGateSet() *gateSet {
	g := &gateSet{}
	for _, src := range allSources {
		g.of(src).Store(true)
	}

	return g
}

var allSources = [...]Source{SourceMicrophone, SourceCamera, SourceScreen, SourceScreenAudio}

func (g *gateSet) of(src Source) *atomic.Bool {
	switch src {
	case SourceCamera:
		return &g.camera
	case SourceScreen:
		return &g.screen
	case SourceScreenAudio:
		return &g.screenAudio
	default:
		return &g.mic
	}
}

// room is the set of participants whose media is forwarded to each other. It lives from first use
// until CloseRoom or SFU.Close.
type room struct {
	s  *SFU
	id string

	mu     sync.Mutex
	closed bool
	peers  map[string]*Peer
	gates  map[string]*gateSet
	tracks map[*upTrack]struct{}

	speakers speakerDetector // the SFU's speaker goroutine's alone
}

func newRoom(s *SFU, id string) *room {
	return &room{
		s: s, id: id, peers: map[string]*Peer{}, gates: map[string]*gateSet{},
		tracks: map[*upTrack]struct{}{},
	}
}

// gate returns the participant's gate for a source, creating the set; false if the room is closed.
func (r *room) gate(participantID string, src Source) (*atomic.Bool, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, false
	}
	g := r.gates[participantID]
	if g == nil {
		g = newGateSet()
		r.gates[participantID] = g
	}

	return g.of(src), true
}

// setPeer makes p the participant's peer and returns the one it replaces.
func (r *room) setPeer(p *Peer) (old *Peer, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, false
	}
	old = r.peers[p.id]
	r.peers[p.id] = p

	return old, true
}

// removePeer forgets p unless it has been replaced already.
func (r *room) removePeer(p *Peer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.peers[p.id] == p {
		delete(r.peers, p.id)
	}
}

// forget drops a participant's gates and returns its peer, for RemoveParticipant.
func (r *room) forget(participantID string) *Peer {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.gates, participantID)

	return r.peers[participantID]
}

// addTrack publishes t to everyone else in the room.
func (r *room) addTrack(t *upTrack) {
	r.mu.Lock()
	if r.closed || r.peers[t.owner.id] != t.owner || t.isClosed() {
		r.mu.Unlock()
		t.close()

		return
	}
	r.tracks[t] = struct{}{}
	others := make([]*Peer, 0, len(r.peers))
	for id, p := range r.peers {
		if id != t.owner.id {
			others = append(others, p)
		}
	}
	r.mu.Unlock()
	for _, p := range others {
		p.subscribe(t)
	}
}

func (r *room) removeTrack(t *upTrack) {
	r.mu.Lock()
	delete(r.tracks, t)
	r.mu.Unlock()
}

// tracksExcept lists the tracks published by anyone but participantID.
func (r *room) tracksExcept(participantID string) []*upTrack {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*upTrack, 0, len(r.tracks))
	for t := range r.tracks {
		if t.owner.id != participantID {
			out = append(out, t)
		}
	}

	return out
}

// tracksOf lists the participant's tracks of one kind.
func (r *room) tracksOf(participantID string, kind Kind) []*upTrack {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*upTrack
	for t := range r.tracks {
		if t.owner.id == participantID && t.kind == kind {
			out = append(out, t)
		}
	}

	return out
}

// tracksOfSource lists the participant's tracks of one source (one, or none; two for a moment
// while a track moves to another section).
func (r *room) tracksOfSource(participantID string, src Source) []*upTrack {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*upTrack
	for t := range r.tracks {
		if t.owner.id == participantID && t.source == src {
			out = append(out, t)
		}
	}

	return out
}

// peer returns the participant's peer, or nil.
func (r *room) peer(participantID string) *Peer {
	r.mu.Lock()
	defer r.mu.Unlock()

	return r.peers[participantID]
}

// close closes every peer of the room.
func (r *room) close() {
	r.mu.Lock()
	r.closed = true
	peers := make([]*Peer, 0, len(r.peers))
	for _, p := range r.peers {
		peers = append(peers, p)
	}
	r.gates = map[string]*gateSet{}
	r.mu.Unlock()
	for _, p := range peers {
		p.Close()
	}
}
