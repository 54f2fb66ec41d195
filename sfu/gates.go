package sfu

// Gate is a forwarding gate of one participant, for SetForwardingMany: the gate of one source,
// or with Source empty the gates of every source of Kind (audio: the microphone and the screen's
// audio; video: the camera and the screen).
type Gate struct {
	ParticipantID string
	Kind          Kind
	Source        Source
	Forward       bool
}

// sources lists the sources the gate covers.
func (g Gate) sources() []Source {
	if g.Source != "" {
		return []Source{g.Source}
	}
	out := make([]Source, 0, 2)
	for _, src := range allSources {
		if src.Kind() == g.Kind {
			out = append(out, src)
		}
	}

	return out
}

// SetForwarding opens or closes the gates of a participant's sources of one kind (audio: the
// microphone and the screen's audio; video: the camera and the screen). When it returns with
// forward false, no packet of that kind from that participant is written to anyone any more.
func (s *SFU) SetForwarding(roomID, participantID string, kind Kind, forward bool) {
	s.SetForwardingMany(roomID, []Gate{{ParticipantID: participantID, Kind: kind, Forward: forward}})
}

// SetSourceForwarding opens or closes the gate of one of a participant's sources. When it
// returns with forward false, no packet of that source from that participant is written to
// anyone any more. The gate is kept per room and participant: it applies to a track published
// later and to a replacing peer. Opening a video gate asks the publisher for a keyframe.
func (s *SFU) SetSourceForwarding(roomID, participantID string, src Source, forward bool) {
	s.SetForwardingMany(roomID, []Gate{{ParticipantID: participantID, Source: src, Forward: forward}})
}

// SetForwardingMany sets several gates of a room as SetSourceForwarding does, in two steps: it
// flips every gate, then waits once for the packets that were being written behind the gates it
// closed. Those waits overlap, so closing the gates of a whole room (a host muting everyone)
// costs the longest of them rather than their sum, under the caller's lock. When it returns, no
// packet behind a closed gate is written to anyone any more.
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
			t.requestKeyframes(pliResume)
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
		source        Source
	}
	changed := make(map[key]bool, len(gates)) // true: closed; false: opened from closed
	for _, g := range gates {
		for _, src := range g.sources() {
			b, live := r.gate(g.ParticipantID, src)
			if !live {
				return nil, nil, false
			}
			was := b.Swap(g.Forward)
			switch {
			case !g.Forward:
				changed[key{g.ParticipantID, src}] = true
			case !was:
				changed[key{g.ParticipantID, src}] = false
			}
		}
	}
	if len(changed) == 0 {
		return nil, nil, true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for t := range r.tracks {
		closing, ok := changed[key{t.owner.id, t.source}]
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
