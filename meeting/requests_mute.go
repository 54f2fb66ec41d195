package meeting

import "github.com/parleyhq/parley/wire"

// SetMuted changes the caller's own mute state of one kind. Unmuting audio while muted by the
// host without permission is forbidden; a permitted audio unmute clears mutedByHost.
type SetMuted struct {
	Kind  wire.Kind
	Muted bool
}

// MuteAll mutes every participant but the host (its microphone and its screen's audio). Without AllowSelfUnmute it also puts the
// meeting under a mute lock: participants who join while it holds come in muted by the host.
type MuteAll struct{ AllowSelfUnmute bool }

// MuteParticipant mutes one participant (not the host): its microphone and its screen's audio.
type MuteParticipant struct {
	ParticipantID   string
	AllowSelfUnmute bool
}

// AllowUnmute lets a participant muted by the host unmute itself; ParticipantID "" means everyone
// muted by the host, and also lifts the meeting's mute lock.
type AllowUnmute struct{ ParticipantID string }

// RequestKind returns wire.TypeSetMuted.
func (SetMuted) RequestKind() RequestKind { return wire.TypeSetMuted }

// RequestKind returns wire.TypeMuteAll.
func (MuteAll) RequestKind() RequestKind { return wire.TypeMuteAll }

// RequestKind returns wire.TypeMuteParticipant.
func (MuteParticipant) RequestKind() RequestKind { return wire.TypeMuteParticipant }

// RequestKind returns wire.TypeAllowUnmute.
func (AllowUnmute) RequestKind() RequestKind { return wire.TypeAllowUnmute }

func (r SetMuted) apply(a *action) error {
	if !r.Kind.Valid() {
		return newError(wire.CodeBadRequest, `kind must be "audio" or "video"`)
	}
	s := a.self
	p := s.p
	if r.Kind == wire.KindVideo {
		p.VideoMuted = r.Muted
	} else {
		if !r.Muted && p.MutedByHost && !p.CanUnmute {
			return newError(wire.CodeForbidden, "the host has muted you; you can unmute once the host allows it")
		}
		p.AudioMuted = r.Muted
		if !r.Muted {
			p.MutedByHost, p.CanUnmute = false, true
		}
	}
	if p == s.p {
		return nil
	}
	s.p = p
	a.lm.applyGate(s, r.Kind)
	if r.Kind == wire.KindAudio {
		a.lm.applyScreenGates(s) // a permitted unmute ends the host's mute of the screen's audio
	}
	if r.Kind == wire.KindVideo && !r.Muted {
		// A subscriber cannot decode the resumed video until the next keyframe.
		a.lm.svc.media.RequestKeyframe(a.lm.id, s.p.ID)
	}
	a.lm.updated(s)
	return nil
}

func (r MuteAll) apply(a *action) error {
	lm := a.lm
	lm.muteLock = !r.AllowSelfUnmute
	// Every gate closes before anyone is told, so no client learns of the mute while its audio
	// still flows; they close in one call, which waits once for the packets in flight.
	changed := make([]bool, len(lm.seats))
	gates := make([]Gate, 0, len(lm.seats))
	for i, s := range lm.seats {
		if s.p.Role != wire.RoleHost {
			changed[i] = muteByHost(s, r.AllowSelfUnmute)
			gates = lm.screenGates(s, append(gates, s.gate(wire.KindAudio)))
		}
	}
	if len(gates) > 0 {
		lm.svc.media.SetForwardingMany(lm.id, gates)
	}
	for i, s := range lm.seats {
		if s.p.Role == wire.RoleHost {
			continue
		}
		s.send(wire.MutedByHost{AllowSelfUnmute: r.AllowSelfUnmute})
		if changed[i] {
			lm.updated(s)
		}
	}
	return nil
}

func (r MuteParticipant) apply(a *action) error {
	s, err := a.lm.seatOf(r.ParticipantID)
	if err != nil {
		return err
	}
	if s.p.Role == wire.RoleHost {
		return newError(wire.CodeBadRequest, "the host cannot mute themselves this way; use setMuted")
	}
	changed := muteByHost(s, r.AllowSelfUnmute)
	a.lm.setGates(a.lm.screenGates(s, []Gate{s.gate(wire.KindAudio)}))
	s.send(wire.MutedByHost{AllowSelfUnmute: r.AllowSelfUnmute})
	if changed {
		a.lm.updated(s)
	}
	return nil
}

func (r AllowUnmute) apply(a *action) error {
	lm := a.lm
	if r.ParticipantID != "" {
		s, err := lm.seatOf(r.ParticipantID)
		if err != nil {
			return err
		}
		allowUnmute(lm, s)
		return nil
	}
	lm.muteLock = false
	for _, s := range lm.seats {
		allowUnmute(lm, s)
	}
	return nil
}

// muteByHost puts s under the host's mute and reports whether its state changed.
func muteByHost(s *seat, allowSelfUnmute bool) bool {
	p := s.p
	p.AudioMuted, p.MutedByHost, p.CanUnmute = true, true, allowSelfUnmute
	if p == s.p {
		return false
	}
	s.p = p
	return true
}

// allowUnmute gives s permission to unmute if the host's mute withheld it. The audio gate stays
// closed: it opens when the participant unmutes itself.
func allowUnmute(lm *liveMeeting, s *seat) {
	if s.p.CanUnmute {
		return
	}
	s.p.CanUnmute = true
	s.send(wire.UnmuteAllowed{})
	lm.updated(s)
}
