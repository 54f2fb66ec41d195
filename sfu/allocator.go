package sfu

import (
	"sort"
	"time"
)

// Each subscriber's allocator shares its downlink estimate among the tracks it receives, and
// picks the layer each video track gets: audio first (never held back), then screen shares,
// then cameras, each up to the quality its subscriber asked for; a track behind its publisher's
// closed gate takes nothing. Every video track first gets
// its lowest allowed layer while the estimate lasts (a track that does not fit is paused rather
// than starve the audio); what is left raises the screens to what they asked, then the cameras
// one layer at a time in turn. A layer above the one being forwarded must fit with upHeadroom to
// spare, so a track does not climb to a layer the link only just carries and fall back again.
//
// While a track is held below what was asked for lack of bandwidth, the allocator probes the
// link now and then (probe.go). A probe the link carries raises the estimate,
// and the next round takes the step; one it does not carry backs the next probe off.
const (
	allocInterval    = 250 * time.Millisecond
	upHeadroom       = 0.10
	overshoot        = 1.25 // sending this much above the estimate is congestion
	probeMargin      = 1.2  // a probe aims this much above what the next step needs
	probeMaxFactor   = 2.0  // and at most this many times the estimate
	probeFirstDelay  = time.Second
	probeAfterOK     = time.Second
	probeBackoffMin  = 2 * time.Second
	probeBackoffMax  = 6 * time.Second
	probeDecideAfter = 1500 * time.Millisecond // feedback on a probe is given up on after this
	observeInterval  = time.Second
)

// allocator is a subscriber's allocation state, owned by its allocLoop goroutine.
type allocator struct {
	kick        chan struct{}
	lastObserve int64
	probing     bool
	stopped     bool // the probe's padding ended; its outcome is awaited
	stoppedAt   int64
	probeEnd    int64
	probeNext   int64
	backoff     time.Duration
	rateAt      int64 // the send rate's last sample (monoNow)
	rateBytes   uint64
	rate        int64 // bits per second sent over the last round
}

func (a *allocator) init() { a.kick = make(chan struct{}, 1) }

// kickAlloc makes the allocator run now.
func (p *Peer) kickAlloc() {
	select {
	case p.alloc.kick <- struct{}{}:
	default:
	}
}

// allocLoop runs the subscriber's allocator every allocInterval and whenever kicked.
func (p *Peer) allocLoop() {
	defer p.wg.Done()
	tick := time.NewTicker(allocInterval)
	defer tick.Stop()
	p.alloc.probeNext = monoNow() + int64(probeFirstDelay)
	for {
		select {
		case <-p.closing:
			return
		case <-tick.C:
		case <-p.alloc.kick:
		}
		p.allocate(monoNow())
	}
}

// plan is one video track in an allocation round.
type plan struct {
	d         *downTrack
	cands     []int // allowed layers, lowest first
	at        int   // index into cands of the layer given; -1 for none
	cur       int   // the layer being forwarded, or noLayer
	blocked   bool
	blockNeed int64
}

func (pl *plan) layer() int {
	if pl.at < 0 {
		return noLayer
	}

	return pl.cands[pl.at]
}

// cost is what a layer of d's track takes of the budget.
func layerCost(t *upTrack, layer int) int64 {
	if layer < 0 {
		return 0
	}
	if l := t.layer(layer); l != nil {
		return l.rate()
	}
	if t.kind == KindAudio {
		return 64_000
	}

	return nominalLayerRate[layer]
}

// allocate runs one round.
func (p *Peer) allocate(now int64) {
	list := p.downList.Load()
	if list == nil {
		p.endProbe()

		return
	}
	p.sampleSendRate(now)
	budget, bounded := p.bwe.estimate(now)
	if bounded && now-p.alloc.lastObserve >= int64(observeInterval) {
		p.alloc.lastObserve = now
		p.s.counters.observeEstimate(budget)
	}
	if !bounded {
		budget = 1 << 50
	}
	start := budget
	var screens, cameras []*plan
	var audio []*downTrack
	for _, d := range *list {
		if !d.up.gate.Load() {
			// The publisher's gate is closed (muted, a stopped screen share): nothing of the
			// track is sent, so it takes nothing of the budget.
			continue
		}
		if d.up.kind == KindAudio {
			budget -= layerCost(d.up, layerF)
			audio = append(audio, d)

			continue
		}
		pl := &plan{d: d, at: -1, cur: int(d.curLayer.Load())}
		if maxL := int(d.maxLayer.Load()); maxL >= 0 {
			for i := range numLayers {
				if d.up.declared&(1<<i) != 0 && i <= maxL {
					pl.cands = append(pl.cands, i)
				}
			}
			if len(pl.cands) == 0 { // asked below the lowest layer there is: the lowest
				for i := range numLayers {
					if d.up.declared&(1<<i) != 0 {
						pl.cands = append(pl.cands, i)

						break
					}
				}
			}
		}
		if d.up.source == SourceScreen {
			screens = append(screens, pl)
		} else {
			cameras = append(cameras, pl)
		}
	}
	order := func(ps []*plan) {
		sort.Slice(ps, func(i, j int) bool { return ps[i].d.up.id < ps[j].d.up.id })
	}
	order(screens)
	order(cameras)
	for _, class := range [][]*plan{screens, cameras} {
		for _, pl := range class { // every track its lowest layer first
			if len(pl.cands) > 0 {
				budget = pl.step(budget)
			}
		}
		for stepped := true; stepped; { // then one layer at a time, in turn
			stepped = false
			for _, pl := range class {
				if !pl.blocked && pl.at >= 0 && pl.at+1 < len(pl.cands) {
					before := pl.at
					budget = pl.step(budget)
					stepped = stepped || pl.at != before
				}
			}
		}
	}
	// Sending far more than the link carries (the estimate fell): a track moving down stops its
	// current layer at once instead of at the new layer's keyframe, so the queue at the
	// bottleneck drains and the audio gets through.
	sending := start - budget // what the layers being forwarded take
	for _, class := range [][]*plan{screens, cameras} {
		for _, pl := range class {
			sending += layerCost(pl.d.up, pl.cur) - layerCost(pl.d.up, pl.layer())
		}
	}
	congested := bounded && float64(sending) > overshoot*float64(start)
	var blockedNeed int64
	for _, class := range [][]*plan{screens, cameras} {
		for _, pl := range class {
			desired := pl.layer()
			limited := pl.blocked && len(pl.cands) > 0
			if limited && (blockedNeed == 0 || pl.blockNeed < blockedNeed) {
				blockedNeed = pl.blockNeed
			}
			target := available(pl.d.up, desired, now)
			pl.d.urgent.Store(congested && target < pl.cur)
			pl.d.setTarget(int32(target), int32(desired), limited)
		}
	}
	if bounded {
		est, _ := p.bwe.estimate(now)
		p.runProber(now, est, start-budget, blockedNeed, append(screens, cameras...), audio)
	}
}

// step gives pl its next layer if the budget allows; it returns what is left.
func (pl *plan) step(budget int64) int64 {
	t := pl.d.up
	next := pl.cands[pl.at+1]
	extra := layerCost(t, next) - layerCost(t, pl.layer())
	need := extra
	if pl.at >= 0 && next > pl.cur { // a step up from a layer the track has: with headroom
		need += int64(upHeadroom * float64(layerCost(t, next)))
	}
	if need > budget {
		pl.blocked, pl.blockNeed = true, need

		return budget
	}
	pl.at++

	return budget - extra
}

// available is the layer to forward for a wanted one: it, if it is being received, else the
// highest received below it, else the lowest received above it; the wanted layer when none is
// received (forwarding starts with its first keyframe).
func available(t *upTrack, want int, now int64) int {
	if want < 0 {
		return noLayer
	}
	if l := t.layer(want); l != nil && l.active(now) {
		return want
	}
	for i := want - 1; i >= 0; i-- {
		if l := t.layer(i); l != nil && l.active(now) {
			return i
		}
	}
	for i := want + 1; i < numLayers; i++ {
		if l := t.layer(i); l != nil && l.active(now) {
			return i
		}
	}

	return want
}

// setTarget sets the layer d forwards (target), the one the allocator chose for it (desired,
// which dynacast asks the publisher for) and whether bandwidth holds it back.
func (d *downTrack) setTarget(target, desired int32, limited bool) {
	d.limited.Store(limited)
	oldTarget := d.target.Swap(target)
	d.desired.Store(desired)
	if oldTarget != target && target >= 0 && target != d.curLayer.Load() {
		d.up.requestKeyframe(int(target), pliSwitch)
	}
	if need := d.needMask(); need != d.lastNeed.Load() || oldTarget != target {
		d.lastNeed.Store(need)
		d.up.updateNeeds()
	}
}

// needMask is the set of layers d needs the publisher to send: the one chosen for it and the
// one it is on until the switch. A track paused for bandwidth still needs its lowest layer: its
// frames pace the probes that find the bandwidth back (probe.go), and it resumes from a layer
// being sent instead of waiting for the publisher to start one.
func (d *downTrack) needMask() uint32 {
	var m uint32
	if d.limited.Load() && d.target.Load() < 0 && d.maxLayer.Load() >= 0 {
		if low := d.up.lowestDeclared(); low >= 0 {
			m |= 1 << low
		}
	}
	if x := d.desired.Load(); x >= 0 && d.target.Load() >= 0 {
		m |= 1 << x
	}
	if x := d.target.Load(); x >= 0 {
		m |= 1 << x
	}
	if x := d.curLayer.Load(); x >= 0 {
		m |= 1 << x
	}

	return m
}

// sampleSendRate measures what the subscriber was sent since the last round (bits per second).
func (p *Peer) sampleSendRate(now int64) {
	a := &p.alloc
	bytes := p.bwe.sentBytes.Load()
	if a.rateAt != 0 && now > a.rateAt {
		a.rate = int64(bytes-a.rateBytes) * 8 * 1e9 / (now - a.rateAt)
	}
	a.rateAt, a.rateBytes = now, bytes
}
