package sfu

// Gate is the forwarding gate of one participant's tracks of one kind, for SetForwardingMany.
type Gate struct {
	ParticipantID string
	Kind          Kind
	Forward       bool
}

// SetForwardingMany sets several gates of a room as SetForwarding does, in two steps: it flips
// every gate, then waits once for the packets that were being written behind the gates it closed.
// Those waits overlap, so closing the gates of a whole room (a host muting everyone) costs the
// longest of them rather than their sum, under the caller's lock. When it returns, no packet
// behind a closed gate is written to anyone any more.
func (s *SFU) SetForwardingMany(roomID string, gates []Gate) {
	for {
		r := s.room(roomID, true)
		if r == nil {
			return
		}
		closed, opened, ok := r.flipGates(gates)
		if !ok {
			continue // the room was closed meanwhile: the gates belong in the next one
		}
		for _, t := range opened {
			t.requestKeyframe()
		}
		for _, t := range closed {
			t.waitIdle()
		}

		return
	}
}

// flipGates sets every gate and returns the tracks behind the gates it closed, and the video
// tracks behind gates it opened (they need a keyframe); ok is false if the room is closed.
func (r *room) flipGates(gates []Gate) (closed, opened []*upTrack, ok bool) {
	type key struct {
		participantID string
		kind          Kind
	}
	changed := make(map[key]bool, len(gates)) // true: closed; false: opened from closed
	for _, g := range gates {
		b, live := r.gate(g.ParticipantID, g.Kind)
		if !live {
			return nil, nil, false
		}
		was := b.Swap(g.Forward)
		switch {
		case !g.Forward:
			changed[key{g.ParticipantID, g.Kind}] = true
		case !was:
			changed[key{g.ParticipantID, g.Kind}] = false
		}
	}
	if len(changed) == 0 {
		return nil, nil, true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for t := range r.tracks {
		closing, ok := changed[key{t.owner.id, t.kind}]
		switch {
		case !ok:
		case closing:
			closed = append(closed, t)
		case t.kind == KindVideo:
			opened = append(opened, t)
		}
	}

	return closed, opened, true
}
