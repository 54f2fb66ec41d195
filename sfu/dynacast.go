package sfu

import (
	"strings"
	"time"
)

// Dynacast: a publisher need not encode the simulcast layers no subscriber is sent. Each
// simulcast track keeps the set of layers its subscribers need (the layer each one's allocator
// chose, and the one it is on until a switch completes) and tells the publisher when the set
// changes (SignalPublisherLayers), at most once per dynacastInterval: the latest set goes out
// when the interval has passed. A new track waits one interval before its first report, so the
// subscribers joining it are counted in.
const dynacastInterval = time.Second

// dynacast is a track's reporting state, guarded by the track's mu.
type dynacast struct {
	reported uint8 // the layers last reported (at first: all declared)
	want     uint8
	last     time.Time
	timer    *time.Timer
	stopped  bool
}

// updateNeeds recomputes the layers the track's lanes and publisher must carry, after a
// subscriber's target changed.
func (t *upTrack) updateNeeds() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.updateNeedsLocked()
}

// updateNeedsLocked is updateNeeds for callers holding t.mu.
func (t *upTrack) updateNeedsLocked() {
	if t.closed {
		return
	}
	for _, w := range t.writers {
		w.updateLayers()
	}
	if !t.simulcast || t.owner == nil { // no publisher to tell (tests and benchmarks)
		return
	}
	var need uint8
	for d := range t.downs {
		need |= uint8(d.needMask())
	}
	need &= t.declared
	t.dyn.want = need
	if t.dyn.timer != nil || t.dyn.stopped || need == t.dyn.reported {
		return
	}
	if t.dyn.last.IsZero() {
		t.dyn.last = time.Now() // the first report waits an interval
	}
	t.dyn.timer = time.AfterFunc(max(time.Until(t.dyn.last.Add(dynacastInterval)), 0), t.reportLayers)
}

// reportLayers sends the latest set of needed layers to the publisher (a timer's goroutine).
func (t *upTrack) reportLayers() {
	t.mu.Lock()
	t.dyn.timer = nil
	if t.dyn.stopped || t.dyn.want == t.dyn.reported {
		t.mu.Unlock()

		return
	}
	t.dyn.reported, t.dyn.last = t.dyn.want, time.Now()
	rids := layerNames(t.dyn.want)
	t.mu.Unlock()
	t.owner.log.Debug("publisher layers", "source", t.source, "active", strings.Join(rids, ","))
	t.owner.signal(Signal{Type: SignalPublisherLayers, Target: TargetPublisher, Source: t.source, Layers: rids})
}

// stop ends reporting; callers hold t.mu.
func (d *dynacast) stop() {
	d.stopped = true
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}

// layerNames lists the RIDs of a set of layers, lowest first.
func layerNames(set uint8) []string {
	out := []string{}
	for i, rid := range layerRIDs {
		if set&(1<<i) != 0 {
			out = append(out, rid)
		}
	}

	return out
}
