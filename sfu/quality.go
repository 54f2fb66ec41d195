package sfu

import "fmt"

// Quality is what a subscriber asks of one video track: the highest layer it wants.
type Quality string

// The qualities a subscriber may ask for. High is the default.
const (
	QualityHigh   Quality = "high"   // at most f
	QualityMedium Quality = "medium" // at most h
	QualityLow    Quality = "low"    // q
	QualityOff    Quality = "off"    // nothing; the track stays negotiated
)

// maxLayer is the highest layer q allows, noLayer for off; false for no quality.
func (q Quality) maxLayer() (int32, bool) {
	switch q {
	case QualityHigh:
		return layerF, true
	case QualityMedium:
		return layerH, true
	case QualityLow:
		return layerQ, true
	case QualityOff:
		return noLayer, true
	}

	return 0, false
}

// SetVideoQuality sets what a subscriber asks of one video source of a publisher: the layer it
// gets is the highest that the quality allows and its downlink carries (low is q, medium at most
// h, high at most f; a publisher sending one encoding is sent it for any quality but off). off
// stops the track for the subscriber at once (it stays negotiated; what comes after starts with a
// keyframe). The choice holds for the source for as long as the subscriber stays, across the
// publisher's renegotiations. Errors: ErrInvalid for a source other than camera or screen or an
// unknown quality, ErrNotFound for an unknown room or subscriber, or a source the publisher does
// not publish.
func (s *SFU) SetVideoQuality(roomID, subscriberID, publisherID string, src Source, q Quality) error {
	maxLayer, ok := q.maxLayer()
	if !ok {
		return fmt.Errorf("%w: quality %q", ErrInvalid, q)
	}
	if src != SourceCamera && src != SourceScreen {
		return fmt.Errorf("%w: source %q for a video quality", ErrInvalid, src)
	}
	r := s.room(roomID, false)
	if r == nil {
		return fmt.Errorf("%w: room %q", ErrNotFound, roomID)
	}
	sub := r.peer(subscriberID)
	if sub == nil {
		return fmt.Errorf("%w: participant %q", ErrNotFound, subscriberID)
	}
	tracks := r.tracksOfSource(publisherID, src)
	if len(tracks) == 0 || subscriberID == publisherID {
		return fmt.Errorf("%w: %s of %q", ErrNotFound, src, publisherID)
	}
	sub.setQuality(qualityKey{publisher: publisherID, source: src}, maxLayer)

	return nil
}

// setQuality records a subscriber's choice and applies it to the track it receives.
func (p *Peer) setQuality(k qualityKey, maxLayer int32) {
	p.subMu.Lock()
	p.qualities[k] = maxLayer
	var d *downTrack
	for t, x := range p.downs {
		if t.owner.id == k.publisher && t.source == k.source {
			d = x
		}
	}
	p.subMu.Unlock()
	if d == nil {
		return
	}
	d.maxLayer.Store(maxLayer)
	if maxLayer == noLayer { // at once, not at the allocator's next round
		d.setTarget(noLayer, noLayer, false)
	}
	p.kickAlloc()
}

// qualityFor is the maximum layer the subscriber asked of a publisher's source; callers hold
// subMu.
func (p *Peer) qualityFor(t *upTrack) int32 {
	if q, ok := p.qualities[qualityKey{publisher: t.owner.id, source: t.source}]; ok {
		return q
	}

	return layerF
}
