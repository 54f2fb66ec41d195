package sfu

import "time"

// Probing: while a subscriber's allocator holds a video track below what was asked for lack of
// bandwidth, it probes the link now and then. One of the subscriber's video tracks (the host)
// follows the end of each of its next probeBursts frames with padding-only packets, at the rate
// that makes what is sent reach the rate the next step needs (probeMargin above it). The
// estimator (bwe.go) watches the padding's feedback: a link that carried it raises the
// estimate, and the next allocation round takes the step; one that did not backs the next probe
// off. Padding rides on the host's own SSRC between frames: it takes sequence numbers of its
// own (downTrack.off moves on, a new epoch continues the old one), so the subscriber's stream
// stays gapless and late packets and NACKs still map to the right packets.

// runProber starts, ends and judges probes; est is the estimate, spent what the allocation
// takes of it, need the smallest step a track is held back from (0: none).
func (p *Peer) runProber(now, est, spent, need int64, plans []*plan, audio []*downTrack) {
	a := &p.alloc
	if a.probing {
		if !a.stopped && (now >= a.probeEnd || p.probeUntil.Load() == 0) {
			p.probeHost.Store(nil)
			p.bwe.stopProbe()
			a.stopped, a.stoppedAt = true, now
		}
		if !a.stopped {
			return
		}
		done, ok := p.bwe.probeOutcome(now, now >= a.stoppedAt+int64(probeDecideAfter))
		if !done {
			return
		}
		p.endProbe()
		if ok {
			a.backoff = 0
			a.probeNext = now + int64(probeAfterOK)
			p.kickAlloc()
		} else {
			a.backoff = min(max(2*a.backoff, probeBackoffMin), probeBackoffMax)
			a.probeNext = now + int64(a.backoff)
		}

		return
	}
	if need <= 0 || now < a.probeNext {
		return
	}
	// The host is the video track forwarded at the highest rate (most frames ends to pad
	// after), else one paused for bandwidth whose lowest layer still paces it, else an audio
	// track (padding after its packets: a receiver drops padding-only audio packets unplayed).
	var host *downTrack
	var hostRate int64
	for _, pl := range plans {
		d := pl.d
		r := int64(-1)
		if c := d.curLayer.Load(); c >= 0 {
			r = layerCost(d.up, int(c))
		} else if !d.sentAny.Load() || !d.limited.Load() || d.target.Load() >= 0 || !d.up.lowestActive(now) {
			continue
		}
		if host == nil || r > hostRate {
			host, hostRate = d, r
		}
	}
	for _, d := range audio { // only when no video can carry it
		if host == nil && d.sentAny.Load() {
			host = d
		}
	}
	if host == nil {
		return
	}
	target := int64(float64(spent+need) * probeMargin)
	target = min(max(target, est+est/5), int64(probeMaxFactor*float64(est)))
	a.probing, a.stopped = true, false
	a.probeEnd = now + int64(probeMaxDuration)
	p.bwe.startProbe(target)
	// Padding at the rate that, with what is being sent, makes the target.
	p.probeRate.Store(max(target-a.rate, target/4) / 8)
	p.probeBursts.Store(0)
	p.probeUntil.Store(a.probeEnd)
	p.probeHost.Store(host)
}

// endProbe stops any padding.
func (p *Peer) endProbe() {
	p.alloc.probing = false
	p.probeHost.Store(nil)
	p.probeUntil.Store(0)
	p.bwe.stopProbe()
}

// Padding probes a subscriber's link for a higher layer: while the subscriber's prober makes
// this track its host, each frame's last packet is followed by padding-only packets at the
// probe's rate. They take sequence numbers of their own (a new epoch follows), carry the frame's
// timestamp and nothing a decoder reads.
const (
	paddingSize = 255 // the most one RTP padding length byte can say
	maxPadBurst = 64  // padding packets after one frame at most (4 Mbit/s at 25 frames a second)
)

// pad sends the padding owed since the last burst; it runs on the lane's goroutine after a
// frame's last packet was written.
func (d *downTrack) pad(b *binding, now int64) {
	rate, until := d.sub.probeRate.Load(), d.sub.probeUntil.Load()
	if now >= until || rate <= 0 || b.twccID == 0 {
		return
	}
	since := now - d.lastPadAt
	if since <= 0 || since > int64(100*time.Millisecond) {
		since = int64(40 * time.Millisecond)
	}
	d.lastPadAt = now
	lastMedia := d.lastSeq
	n := min(int(rate*since/1e9)/(paddingSize+wireOverhead+20), maxPadBurst)
	sent := 0
	for range n {
		seq := d.lastSeq + 1
		tseq, _ := d.fillHeader(&d.hdr, d.ext[:0], d.twcc[:], b, false, seq, d.lastTS)
		d.hdr.Padding, d.hdr.PaddingSize = true, paddingSize
		w, err := b.ws.WriteRTP(&d.hdr, nil)
		if err != nil || w == 0 {
			break
		}
		d.sub.bwe.sentProbe(tseq, w, now)
		d.lastSeq = seq
		sent++
	}
	if sent == 0 {
		return
	}
	if d.sub.probeBursts.Add(1) >= probeBursts {
		d.sub.probeUntil.Store(0) // the probe has its bursts
	}
	d.up.ctr.paddingSent.Add(uint64(sent))
	d.off.seq += uint16(sent)
	d.highest.Store(uint32(d.lastSeq))
	d.pushEpoch(epoch{layer: d.up.layer(int(d.cur)), gen: d.gen, off: d.off, downStart: d.lastSeq + 1, cont: true}, lastMedia)
}

// padIdle lets a track that forwards nothing (paused for bandwidth) carry a probe's padding, at
// the end of frames of a layer it does not forward.
func (d *downTrack) padIdle(marker bool, now int64) {
	if !marker || !d.started || d.sub == nil || d.sub.probeHost.Load() != d {
		return
	}
	if b := d.binding.Load(); b != nil && b == d.lastBinding {
		d.pad(b, now)
	}
}
