package sfu

import (
	"cmp"
	"slices"
	"time"

	"github.com/pion/rtp"
)

// Active speakers. Publishers put the level of each audio packet in the RTP header extension
// urn:ietf:params:rtp-hdrext:ssrc-audio-level (RFC 6464: 0 to 127, in -dBov, 127 for
// silence), negotiated on every publisher connection (codecs.go). A microphone's reader keeps
// the loudest level since the last look in an atomic (noteLevel: a load and, for a louder
// packet, a compare-and-swap; nothing allocated); one goroutine of the SFU takes the peaks every
// speakerTick and smooths them per participant: a peak lifts the level at once, which then
// falls by speakerDecay a tick (speech and a browser's test beep come in bursts; a mean over a
// tick would miss a short loud syllable among pauses). A participant speaks while the level is
// above the threshold and for speakerHangover after, so the list does not flicker between
// words. A closed microphone gate (muted by itself or the host)
// takes the participant out at once: the list never names someone whose audio is not
// forwarded. The list, loudest first, goes to Config.ActiveSpeakers when it changes, at most
// every ActiveSpeakerInterval per room.

// ActiveSpeakerInterval is the least time between two lists of one room.
const ActiveSpeakerInterval = 300 * time.Millisecond

const (
	// speakerTick is how often levels are taken and the lists judged.
	speakerTick = 100 * time.Millisecond
	// speakerHangover keeps a participant speaking after its level fell below the threshold.
	speakerHangover = 800 * time.Millisecond
	// speakerThreshold is the smoothed loudness (127 minus the level: 127 is 0 dBov, 0 silence)
	// from which a participant speaks: louder than -50 dBov, above a quiet room's noise.
	speakerThreshold = 127 - 50
	// speakerDecay is how much the smoothed loudness falls a tick (80 dB a second).
	speakerDecay = 8
)

// noteLevel adds an audio packet's level to the track's sum for the speaker detector. It runs
// on the reader's goroutine for every microphone packet and must not allocate.
func (t *upTrack) noteLevel(p *rtp.Packet) {
	if t.owner == nil || !p.Extension {
		return
	}
	sc := t.owner.screen.Load()
	if sc == nil || sc.levelID == 0 {
		return
	}
	e := p.GetExtension(sc.levelID)
	if len(e) == 0 {
		return
	}
	loudness := uint32(127 - e[0]&0x7f)
	for {
		peak := t.levelPeak.Load()
		if loudness <= peak || t.levelPeak.CompareAndSwap(peak, loudness) {
			return
		}
	}
}

// takeLevel returns the loudest level since the last call (0: silence, or no packet).
func (t *upTrack) takeLevel() float64 { return float64(t.levelPeak.Swap(0)) }

// speaker is one participant's state in a room's detector.
type speaker struct {
	id       string
	smoothed float64
	loudAt   int64 // when the smoothed level last crossed the threshold (monoNow)
	active   bool
	seen     bool // has a live microphone this tick
}

// speakerDetector is a room's active speakers. Only the SFU's speaker goroutine touches it.
type speakerDetector struct {
	byID   map[string]*speaker
	last   []string // the list last reported
	sentAt int64    // when it was reported (monoNow); 0: never
	mics   []*upTrack
	list   []*speaker
}

// speakerLoop is the SFU's speaker goroutine: every speakerTick it judges every room.
func (s *SFU) speakerLoop(report func(roomID string, speakers []string)) {
	defer s.speakerWG.Done()
	tick := time.NewTicker(speakerTick)
	defer tick.Stop()
	var rooms []*room
	for {
		select {
		case <-s.speakerStop:
			return
		case <-tick.C:
		}
		rooms = rooms[:0]
		s.mu.Lock()
		for _, r := range s.rooms {
			rooms = append(rooms, r)
		}
		s.mu.Unlock()
		now := monoNow()
		for _, r := range rooms {
			if list, changed := r.judgeSpeakers(now); changed {
				report(r.id, list)
			}
		}
		clear(rooms)
	}
}

// judgeSpeakers updates the room's speakers from the levels since the last tick and returns the
// list to report, if it is to be reported now.
func (r *room) judgeSpeakers(now int64) ([]string, bool) {
	d := &r.speakers
	d.mics = d.mics[:0]
	r.mu.Lock()
	for t := range r.tracks {
		if t.source == SourceMicrophone {
			d.mics = append(d.mics, t)
		}
	}
	r.mu.Unlock()
	if d.byID == nil {
		d.byID = map[string]*speaker{}
	}
	for _, sp := range d.byID {
		sp.seen = false
	}
	for _, t := range d.mics {
		level := t.takeLevel()
		if !t.gate.Load() {
			continue // not forwarded: not speaking, whatever it sends
		}
		sp := d.byID[t.owner.id]
		if sp == nil {
			sp = &speaker{id: t.owner.id}
			d.byID[sp.id] = sp
		}
		if sp.seen { // two tracks for a moment (a section move): the louder counts
			sp.smoothed = max(sp.smoothed, level)
			continue
		}
		sp.seen = true
		sp.smoothed = max(level, sp.smoothed-speakerDecay)
		switch {
		case sp.smoothed >= speakerThreshold:
			sp.active, sp.loudAt = true, now
		case sp.active && now-sp.loudAt > int64(speakerHangover):
			sp.active = false
		}
	}
	clear(d.mics) // no ended track is kept alive until the next look
	d.mics = d.mics[:0]
	d.list = d.list[:0]
	for id, sp := range d.byID {
		if !sp.seen {
			delete(d.byID, id) // muted, or no microphone any more
			continue
		}
		if sp.active {
			d.list = append(d.list, sp)
		}
	}
	slices.SortFunc(d.list, func(a, b *speaker) int {
		if c := cmp.Compare(b.smoothed, a.smoothed); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	if d.sentAt != 0 && now-d.sentAt < int64(ActiveSpeakerInterval) {
		return nil, false
	}
	if len(d.list) == len(d.last) && slices.EqualFunc(d.list, d.last, func(sp *speaker, id string) bool { return sp.id == id }) {
		return nil, false
	}
	list := make([]string, len(d.list))
	for i, sp := range d.list {
		list[i] = sp.id
	}
	d.last, d.sentAt = list, now
	return list, true
}
