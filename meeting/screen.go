package meeting

import (
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/parleyhq/parley/wire"
)

// Screen share and active speakers (PROTOCOL.md 1.1, "Sources and screen share", "Active
// speakers").
//
// Each participant has four forwarding gates in Media, one per source. The microphone's follows
// audioMuted and the camera's videoMuted (applyGate). The screen's two are this file's:
//
//	screen       open unless the host stopped this share (until the participant offers a
//	             screen anew) or sharing is off for everyone but the host
//	screenAudio  as screen, and closed while the participant is muted by the host: a host's
//	             mute silences what a participant shares as well as its microphone; its own
//	             setMuted audio does not
//
// Media's gates start open, so a seat remembers what Media was last told of its screen gates
// (screenFwd, screenAudioFwd, true at first) and tells it only what changes. The publisher
// offer itself is signaling's (it goes to the media server); the domain judges it first
// (MayOffer: sharing off is forbidden for anyone but the host) and hears of it after
// (Offered), and hears from the media server which sources arrive as tracks (Published).
// Participant.ScreenSharing is true while a screen arrives and its gate is open.

// SetScreenShareAllowed allows or stops screen sharing for everyone but the host. Stopping it
// stops every running share of a participant at once.
type SetScreenShareAllowed struct{ Allowed bool }

// StopScreenShare stops forwarding one participant's screen and its audio.
type StopScreenShare struct{ ParticipantID string }

// RequestKind returns wire.TypeSetScreenShareAllowed.
func (SetScreenShareAllowed) RequestKind() RequestKind { return wire.TypeSetScreenShareAllowed }

// RequestKind returns wire.TypeStopScreenShare.
func (StopScreenShare) RequestKind() RequestKind { return wire.TypeStopScreenShare }

// screenState is a seat's screen share, beside its wire.Participant.
type screenState struct {
	offered   bool // its last publisher offer sends a screen or screen audio
	published bool // the media server receives a screen track from it
	stopped   bool // the host stopped the share; a new offer with a screen starts it again
	// What Media was last told of the screen gates (they start open).
	fwd, audioFwd bool
}

func newScreenState() screenState { return screenState{fwd: true, audioFwd: true} }

// running reports whether s shares a screen that is being (or about to be) forwarded.
func (s *seat) screenRunning() bool {
	return s.screen.fwd && (s.screen.published || s.screen.offered)
}

// screenAllowed reports whether s may share a screen now.
func (lm *liveMeeting) screenAllowed(s *seat) bool {
	return s.p.Role == wire.RoleHost || !lm.rec.ScreenShareDisabled
}

// screenGates appends to out the screen gates of s whose state must change, and notes them as
// told.
func (lm *liveMeeting) screenGates(s *seat, out []Gate) []Gate {
	fwd := !s.screen.stopped && lm.screenAllowed(s)
	audio := fwd && !s.p.MutedByHost
	if fwd != s.screen.fwd {
		s.screen.fwd = fwd
		out = append(out, Gate{ParticipantID: s.p.ID, Source: wire.SourceScreen, Forward: fwd})
	}
	if audio != s.screen.audioFwd {
		s.screen.audioFwd = audio
		out = append(out, Gate{ParticipantID: s.p.ID, Source: wire.SourceScreenAudio, Forward: audio})
	}
	return out
}

// applyScreenGates tells Media what changed of s's screen gates.
func (lm *liveMeeting) applyScreenGates(s *seat) { lm.setGates(lm.screenGates(s, nil)) }

// setGates sets gates in one call (none: no call).
func (lm *liveMeeting) setGates(gates []Gate) {
	switch len(gates) {
	case 0:
	case 1:
		lm.svc.media.SetForwarding(lm.id, gates[0].ParticipantID, gates[0].Source, gates[0].Forward)
	default:
		lm.svc.media.SetForwardingMany(lm.id, gates)
	}
}

// refreshSharing brings s.p.ScreenSharing up to date and reports whether it changed; byHost says
// whether a stop was the host's doing (for the metrics).
func (lm *liveMeeting) refreshSharing(s *seat, byHost bool) bool {
	sharing := s.screen.published && s.screen.fwd
	if sharing == s.p.ScreenSharing {
		return false
	}
	s.p.ScreenSharing = sharing
	st := &lm.svc.stats
	switch {
	case sharing:
		st.screenStarted.Add(1)
	case byHost:
		st.screenStoppedHost.Add(1)
	default:
		st.screenStoppedSelf.Add(1)
	}
	return true
}

func (r StopScreenShare) apply(a *action) error {
	lm := a.lm
	s, err := lm.seatOf(r.ParticipantID)
	if err != nil {
		return err
	}
	if !s.screenRunning() {
		return nil
	}
	s.screen.stopped = true
	lm.applyScreenGates(s) // closed before anyone is told, and before the host's ok
	s.send(wire.ScreenShareStopped{})
	if lm.refreshSharing(s, true) {
		lm.updated(s)
	}
	return nil
}

func (r SetScreenShareAllowed) apply(a *action) error {
	lm := a.lm
	if lm.rec.ScreenShareDisabled == !r.Allowed {
		return nil
	}
	rec := lm.rec
	rec.ScreenShareDisabled = !r.Allowed
	if err := lm.svc.store.Update(a.ctx, rec); err != nil {
		return fmt.Errorf("set screen share allowed: %w: %w", errNotSaved(), err)
	}
	lm.rec = rec
	var gates []Gate
	var stopped []*seat
	for _, s := range lm.seats {
		if s.p.Role == wire.RoleHost {
			continue
		}
		if !r.Allowed && s.screenRunning() {
			s.screen.stopped = true
			stopped = append(stopped, s)
		}
		gates = lm.screenGates(s, gates)
	}
	lm.setGates(gates)
	lm.toAll(wire.MeetingUpdated{Meeting: lm.view()})
	for _, s := range stopped {
		s.send(wire.ScreenShareStopped{})
		if lm.refreshSharing(s, true) {
			lm.updated(s)
		}
	}
	return nil
}

// sendsScreen reports whether sources include a screen or its audio.
func sendsScreen(sources []wire.Source) bool {
	return slices.Contains(sources, wire.SourceScreen) || slices.Contains(sources, wire.SourceScreenAudio)
}

// MayOffer judges a publisher offer that sends sources, before it goes to the media server: while
// screen sharing is off, one that sends a screen (or screen audio) from anyone but the host is
// an *Error with wire.CodeForbidden.
func (m *Member) MayOffer(sources []wire.Source) error {
	lm := m.lm
	lm.mu.Lock()
	defer lm.unlock()
	if m.gone {
		return newError(wire.CodeNotFound, "you are no longer in this meeting")
	}
	s := lm.byID[m.id]
	if sendsScreen(sources) && !lm.screenAllowed(s) {
		return newError(wire.CodeForbidden, "the host has turned screen sharing off")
	}
	return nil
}

// Offered notes a publisher offer the media server took, which sends sources. A screen in it
// starts a share the host had stopped (if sharing is allowed).
func (m *Member) Offered(sources []wire.Source) {
	m.onSeat(func(lm *liveMeeting, s *seat) {
		s.screen.offered = sendsScreen(sources)
		if s.screen.offered {
			s.screen.stopped = false
		}
		lm.applyScreenGates(s)
		if lm.refreshSharing(s, false) {
			lm.updated(s)
		}
	})
}

// Published notes the sources the media server now receives from the member as tracks.
func (m *Member) Published(sources []wire.Source) {
	m.onSeat(func(lm *liveMeeting, s *seat) {
		s.screen.published = slices.Contains(sources, wire.SourceScreen)
		if lm.refreshSharing(s, false) {
			lm.updated(s)
		}
	})
}

// SetActiveSpeakers is the media server's word on who speaks now in a meeting, loudest first.
// Everyone is told when the list changes; participants not in the meeting and participants whose
// audio is muted (by themselves or the host: their audio is not forwarded) are left out. The
// media server calls it at most every 300 ms per meeting, which bounds the event's rate.
func (s *Service) SetActiveSpeakers(meetingID string, speakers []string) {
	s.mu.Lock()
	lm := s.live[meetingID]
	s.mu.Unlock()
	if lm == nil {
		return
	}
	lm.mu.Lock()
	defer lm.unlock()
	if !lm.loaded || lm.released || lm.ended {
		return
	}
	list := make([]string, 0, len(speakers))
	for _, id := range speakers {
		if st := lm.byID[id]; st != nil && !st.p.AudioMuted && !slices.Contains(list, id) {
			list = append(list, id)
		}
	}
	if slices.Equal(list, lm.speakers) {
		return
	}
	lm.speakers = list
	s.stats.speakerChanges.Add(1)
	lm.toAll(wire.ActiveSpeakers{Speakers: list})
}

// tellSpeakers gives a newcomer the active speakers of the moment, if anyone speaks: the others
// were told when the list last changed. (It reaches the client after joined.)
func (lm *liveMeeting) tellSpeakers(s *seat) {
	if len(lm.speakers) > 0 {
		s.send(wire.ActiveSpeakers{Speakers: lm.speakers})
	}
}

// serviceStats are the domain's counters for the metrics.
type serviceStats struct {
	screenStarted, screenStoppedSelf, screenStoppedHost, speakerChanges atomic.Uint64
	stateSaveFailures                                                   atomic.Uint64
}

// Stats are counts since the Service started, for the metrics.
type Stats struct {
	// ScreenSharesStarted counts shares that began to be forwarded.
	ScreenSharesStarted uint64
	// ScreenSharesStoppedSelf counts shares the sharer ended; ScreenSharesStoppedHost those the
	// host stopped (stopScreenShare, or sharing turned off).
	ScreenSharesStoppedSelf, ScreenSharesStoppedHost uint64
	// ActiveSpeakerChanges counts activeSpeakers events (one per meeting and change).
	ActiveSpeakerChanges uint64
	// StateSaveFailures counts failed writes of meetings' takeover state (persist.go).
	StateSaveFailures uint64
}

// Stats returns the Service's counts.
func (s *Service) Stats() Stats {
	return Stats{
		ScreenSharesStarted:     s.stats.screenStarted.Load(),
		ScreenSharesStoppedSelf: s.stats.screenStoppedSelf.Load(),
		ScreenSharesStoppedHost: s.stats.screenStoppedHost.Load(),
		ActiveSpeakerChanges:    s.stats.speakerChanges.Load(),
		StateSaveFailures:       s.stats.stateSaveFailures.Load(),
	}
}
