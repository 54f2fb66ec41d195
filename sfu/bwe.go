package sfu

import (
	"cmp"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/sfu/rtcpscan"
)

// The subscriber's downlink estimate, from its transport-wide congestion control feedback
// (TWCC): every packet the sfu sends it carries a transport-wide sequence number (downTrack
// writes it), the subscriber reports when each arrived, and the estimator compares what arrived
// with what was sent.
//
// Why not pion/interceptor's gcc (or cc, which wraps it): measured (BenchmarkGCCSendPath), its
// per-packet path allocates (an attributes map, a history list element and its map entry per
// packet, 3 allocs and ~400 ns) and takes a mutex that every track sent to the subscriber shares;
// its history keeps 250 packets, less than a few video tracks send between two feedbacks; and it
// cannot probe (its pacer queues and copies media, and there is no way to send or evaluate a
// probe cluster). Forwarding allocates nothing per packet and takes no lock per packet, so the
// send side here is one atomic store into a ring per packet (sent), and everything else happens
// when feedback arrives (a few times a second).
//
// The estimate itself follows GCC's shape with fewer moving parts, tuned for an SFU that can
// change what it sends only by whole layers:
//   - a packet reported missing that a later feedback reports received was overtaken on its way
//     (the sfu writes from several goroutines; links reorder), not lost: its sample is replaced,
//     and the newest missing packets are not counted lost yet (lossSettle);
//   - over the last second of reported packets it measures the loss, the rate sent, the rate
//     delivered (bytes over the span of their arrival times) and the queueing delay (one-way
//     delay above its minimum of the last ten seconds);
//   - overuse is loss above 10%, or a queue building (delay above 80 ms) while less is delivered
//     than sent: the estimate drops to 85% of the delivered rate and holds for two seconds. A
//     delay spike alone (a busy receiver catching up) is not overuse: what it delays still
//     arrives within the second;
//   - otherwise, with little loss and no queue, the estimate grows 8% a second, but never past
//     1.5 times what is delivered: more than that is unproven, and proven only by a probe;
//   - a probe (the allocator starts one) sends padding on top of the media after probeBursts
//     frames; if the link delivered it at the rate it was sent, the estimate rises to the rate
//     the probe was meant to prove.
const (
	histSize          = 2048 // packets remembered for feedback (a power of two): a second at 20 Mbit/s; feedback comes every 50–100 ms
	initialEstimate   = 600_000
	minEstimate       = 50_000
	maxEstimate       = 50_000_000
	estimateWindow    = time.Second
	deliveryWindow    = 300 * time.Millisecond
	queuedDelay       = 20 * time.Millisecond
	minQueuedSpan     = 100 * time.Millisecond
	recentWindow      = 100 * time.Millisecond
	minRateSpan       = 150 * time.Millisecond
	baseDelayWindow   = 10 // seconds the minimum one-way delay is kept for
	overuseDelay      = 80 * time.Millisecond
	calmDelay         = 40 * time.Millisecond
	overuseLoss       = 0.10
	calmLoss          = 0.02
	holdAfterOveruse  = 2 * time.Second
	growthPerSecond   = 0.08
	probeMaxDuration  = 400 * time.Millisecond
	probeBursts       = 3                    // frame ends a probe pads after
	burstGap          = 5 * time.Millisecond // padding sent further apart is another burst
	lossCutInterval   = time.Second
	lossSettle        = 100 * time.Millisecond // a feedback interval: see windowStats
	noFeedbackTimeout = 3 * time.Second
)

// A history slot packs one sent packet into 64 bits: transport sequence number (16), a flag set
// once it was reported received (1), wire size in 2-byte units (10), probe cluster (5), send
// time in microseconds modulo 2^32 (32).
const (
	histAcked     = 1 << 47
	histSizeShift = 37
	histClusShift = 32
)

// feedbackSample is one packet a feedback reported on.
type feedbackSample struct {
	send    int64  // µs, monoNow clock
	arrival int64  // µs, the subscriber's clock
	wire    uint16 // its size on the wire in 2-byte units, as the history keeps it (24 bytes a sample, not 32)
	seq     uint16 // its transport-wide sequence number
	lost    bool
}

// size is the sample's size on the wire in bytes.
func (s feedbackSample) size() int { return int(s.wire) * 2 }

// probeStats gathers the feedback on one probe cluster.
type probeStats struct {
	target int64 // the rate the probe meant to prove (bits per second)
	end    int64 // its last padding was sent (µs); 0 while it runs
	pkts   []feedbackSample
	done   bool
	ok     bool
}

type estimator struct {
	ctr       *counters
	log       *slog.Logger
	hist      [histSize]atomic.Uint64
	cluster   atomic.Uint32 // the probe cluster padding sent now belongs to (0: none)
	probeLast atomic.Int64  // when the probe's last padding was sent (µs)
	sentBytes atomic.Uint64
	firstSent atomic.Int64 // monoNow of the first packet sent; 0 before

	mu           sync.Mutex
	est          float64
	feedbackSeen bool
	refEpoch     int64 // unwrapped reference time of the last feedback, in 64 ms units
	samples      []feedbackSample
	baseMin      [baseDelayWindow]int64 // minimum one-way delay per second
	baseSec      int64
	holdUntil    int64 // no growth before (µs)
	lossCutAt    int64 // the last cut for loss (µs)
	lastUpdate   int64 // µs
	probe        probeStats
	probeID      uint32
	lostSeqs     map[uint16]struct{} // reported missing (at most maxLostSeqs)
	dropped      func()              // called (under mu) when the estimate falls; must not block
}

// The feedback samples kept: those of the last keepSpan (the statistics look at the last
// estimateWindow), in a slice grown as the rate needs, up to maxSamples, beyond which the older
// half goes. Made at the largest size, 2 048 of them were 64 KiB per subscriber where one
// 1.5 Mbit/s camera needs a few hundred (issue 17: memory per subscriber).
const (
	minSamples = 256
	maxSamples = 2048
	keepSpan   = 1_500_000 // µs
)

// addSample appends s, first dropping the samples older than keepSpan when the slice is full and
// that frees a quarter of it (else it grows), or the older half at maxSamples.
func (e *estimator) addSample(s feedbackSample) {
	if n := len(e.samples); n == cap(e.samples) {
		old := 0
		for old < n && s.send-e.samples[old].send > keepSpan {
			old++
		}
		if old < n/4 && n >= maxSamples {
			old = n / 2
		}
		if old >= n/4 {
			k := copy(e.samples, e.samples[old:])
			e.samples = e.samples[:k]
		}
	}
	e.samples = append(e.samples, s)
}

func newEstimator(ctr *counters) *estimator {
	e := &estimator{ctr: ctr, est: initialEstimate, samples: make([]feedbackSample, 0, minSamples), lostSeqs: map[uint16]struct{}{}}
	for i := range e.baseMin { // no second has a minimum yet (a zero would be one)
		e.baseMin[i] = noDelay
	}

	return e
}

// noDelay is a second of baseMin without a packet.
const noDelay = 1<<62 - 1

// sent records a packet written to the subscriber (any goroutine, once per packet: one atomic
// store and one add).
func (e *estimator) sent(tseq uint16, size int, now int64) { e.record(tseq, size, now, 0) }

// sentProbe records a padding packet of the current probe.
func (e *estimator) sentProbe(tseq uint16, size int, now int64) {
	e.record(tseq, size, now, e.cluster.Load()&31)
}

func (e *estimator) record(tseq uint16, size int, now int64, cluster uint32) {
	wire := uint64(min((size+wireOverhead+1)/2, 1023))
	v := uint64(tseq)<<48 | wire<<histSizeShift | uint64(cluster)<<histClusShift | uint64(uint32(now/1000))
	e.hist[int(tseq)&(histSize-1)].Store(v)
	e.sentBytes.Add(wire * 2)
	if e.firstSent.Load() == 0 {
		e.firstSent.CompareAndSwap(0, now)
	}
	if cluster != 0 {
		e.probeLast.Store(now / 1000)
	}
}

// estimate returns the downlink estimate in bits per second; false when there is none to go by
// (the subscriber sends no feedback: then nothing limits what it is sent).
func (e *estimator) estimate(now int64) (int64, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.feedbackSeen {
		first := e.firstSent.Load()
		if first != 0 && now-first > int64(noFeedbackTimeout) {
			return 0, false
		}
	}

	return int64(e.est), true
}

// unwrapSend turns a slot's 32-bit send time back into monoNow microseconds.
func unwrapSend(v uint64, nowUs int64) int64 {
	return nowUs - int64(uint32(nowUs)-uint32(v))
}

// feedback takes one TWCC feedback message (the subscriber's RTCP goroutines), read in place by
// rtcpscan: no allocation per feedback.
func (e *estimator) feedback(fb *rtcpscan.Feedback, now int64) {
	nowUs := now / 1000
	e.mu.Lock()
	defer e.mu.Unlock()
	ref := int64(fb.RefTime & 0xffffff)
	if e.feedbackSeen { // the nearest epoch of the 24-bit reference time
		ref = e.refEpoch + (ref-e.refEpoch+(1<<23))&0xffffff - (1 << 23)
	}
	e.refEpoch, e.feedbackSeen = ref, true
	arr := ref * 64000
	// The walk stops at the packet status count; a packet without a receive delta is not received.
	for w := fb.Statuses(); ; {
		s, ok := w.Next()
		if !ok {
			break
		}
		arr += s.Delta
		e.note(s.Seq, s.Received, arr, nowUs)
	}
	e.update(nowUs)
}

// note adds the feedback on one packet; callers hold mu.
func (e *estimator) note(seq uint16, received bool, arrival, nowUs int64) {
	slot := &e.hist[int(seq)&(histSize-1)]
	v := slot.Load()
	if uint16(v>>48) != seq || v&histAcked != 0 {
		return // not ours any more, or reported received already
	}
	send := unwrapSend(v, nowUs)
	if nowUs-send > int64(4*estimateWindow/time.Microsecond) {
		return // a slot from a previous lap of the sequence numbers
	}
	if received && !slot.CompareAndSwap(v, v|histAcked) {
		return
	}
	s := feedbackSample{send: send, arrival: arrival, wire: uint16(v >> histSizeShift & 1023), lost: !received, seq: seq}
	if !received {
		if len(e.lostSeqs) >= maxLostSeqs {
			clear(e.lostSeqs)
		}
		e.lostSeqs[seq] = struct{}{}
	} else if _, ok := e.lostSeqs[seq]; ok && e.arrivedLate(s) {
		// Reported missing by an earlier feedback, and it arrived after all (it was overtaken
		// on its way): not a loss.
		delete(e.lostSeqs, seq)

		return
	}
	e.addSample(s)
	if c := uint32(v>>histClusShift) & 31; c != 0 && c == e.probeID&31 {
		e.probe.add(s)
	}
	if received {
		sec := send / 1e6
		if sec > e.baseSec { // a new second: the slots of the seconds since are emptied
			for i := max(e.baseSec+1, sec-baseDelayWindow+1); i <= sec; i++ {
				e.baseMin[i%baseDelayWindow] = noDelay
			}
			e.baseSec = sec
		}
		if owd := arrival - send; sec > e.baseSec-baseDelayWindow && owd < e.baseMin[sec%baseDelayWindow] {
			e.baseMin[sec%baseDelayWindow] = owd
		}
	}
}

// maxLostSeqs bounds the packets reported missing that a later feedback may still report
// received.
const maxLostSeqs = 1024

// arrivedLate puts a packet reported received in place of the sample that reported it missing
// (and the probe's); false when that sample is gone. Callers hold mu.
func (e *estimator) arrivedLate(s feedbackSample) bool {
	found := false
	for i := len(e.samples) - 1; i >= max(len(e.samples)-maxLostSeqs, 0); i-- {
		if e.samples[i].lost && e.samples[i].seq == s.seq && e.samples[i].send == s.send {
			e.samples[i], found = s, true

			break
		}
	}
	for i := range e.probe.pkts {
		if p := &e.probe.pkts[i]; p.lost && p.seq == s.seq && p.send == s.send {
			*p = s
		}
	}

	return found
}

func (p *probeStats) add(s feedbackSample) {
	if len(p.pkts) < cap(p.pkts) {
		p.pkts = append(p.pkts, s)
	}
}

// rates measures a probe's padding, which went out in bursts at frame ends: the rate it was sent
// at is the bytes of every burst but the last over the time from the first burst to the last,
// and the rate it was delivered at the same bytes over the time from the first burst's first
// arrival to the last burst's. A link that carries the rate passes each burst before the next;
// one that does not queues them, and the last burst arrives late.
func (p *probeStats) rates() (sendBps, recvBps, loss float64, ok bool) {
	pkts := p.pkts
	slices.SortFunc(pkts, func(a, b feedbackSample) int { return cmp.Compare(a.send, b.send) })
	type burst struct {
		send, arr int64
		bytes     int
	}
	var bursts []burst
	lost := 0
	for i, s := range pkts {
		if i == 0 || s.send-pkts[i-1].send > int64(burstGap/time.Microsecond) {
			bursts = append(bursts, burst{send: s.send, arr: 1 << 62})
		}
		b := &bursts[len(bursts)-1]
		b.bytes += s.size()
		if s.lost {
			lost++
		} else {
			b.arr = min(b.arr, s.arrival)
		}
	}
	if len(bursts) < 2 || len(pkts) < 4 {
		return 0, 0, 0, false
	}
	first, last := bursts[0], bursts[len(bursts)-1]
	if first.arr == 1<<62 || last.arr == 1<<62 || last.arr <= first.arr || last.send <= first.send {
		return 0, 0, 1, true // a burst lost whole
	}
	bytes := 0
	for _, b := range bursts[:len(bursts)-1] {
		bytes += b.bytes
	}
	sendBps = float64(bytes) * 8e6 / float64(last.send-first.send)
	recvBps = float64(bytes) * 8e6 / float64(last.arr-first.arr)

	return sendBps, recvBps, float64(lost) / float64(len(pkts)), true
}

// windowStats measures the recent feedback; callers hold mu. The delivery rate is what arrived
// over the last deliveryWindow of arrivals, and it is compared with the rate those same packets
// (and the ones lost among them) were sent at: while a queue builds, packets arrive more slowly
// than they left. The loss is over the last estimateWindow of packets sent, but for the packets
// reported missing that were sent in the last lossSettle: those may still come (overtaken on
// their way, they are reported received by a later feedback).
func (e *estimator) windowStats() (sendBps, recvBps, capBps, loss float64, queue int64, ok bool) {
	if len(e.samples) < 10 {
		return 0, 0, 0, 0, 0, false
	}
	base := int64(noDelay)
	for _, m := range e.baseMin {
		base = min(base, m)
	}
	queuedFrom := base + int64(queuedDelay/time.Microsecond)
	var qBytes, qN int
	qFirst, qLast, qFirstSize := int64(1<<62), int64(0), 0
	var latestSend, latestArr int64
	for _, s := range e.samples[max(len(e.samples)-64, 0):] {
		latestSend = max(latestSend, s.send)
		if !s.lost {
			latestArr = max(latestArr, s.arrival)
		}
	}
	lossFrom := latestSend - int64(estimateWindow/time.Microsecond)
	arrFrom := latestArr - int64(deliveryWindow/time.Microsecond)
	recentFrom := latestArr - int64(recentWindow/time.Microsecond)
	var n, lost, recvBytes, recvN int
	firstArr, firstSize := int64(1<<62), 0
	firstSend, lastSend := int64(1<<62), int64(0)
	var recentOWD, recentN int64
	for i := len(e.samples) - 1; i >= 0; i-- {
		s := e.samples[i]
		if s.send < lossFrom && (s.lost || s.arrival < arrFrom) {
			break
		}
		if s.send >= lossFrom && (!s.lost || s.send <= latestSend-int64(lossSettle/time.Microsecond)) {
			n++
			if s.lost {
				lost++
			}
		}
		if s.lost || s.arrival < arrFrom {
			continue
		}
		recvN++
		recvBytes += s.size()
		if s.arrival < firstArr {
			firstArr, firstSize = s.arrival, s.size()
		}
		if s.arrival-s.send > queuedFrom { // it found a queue: it left the bottleneck at its rate
			qN++
			qBytes += s.size()
			if s.arrival < qFirst {
				qFirst, qFirstSize = s.arrival, s.size()
			}
			qLast = max(qLast, s.arrival)
		}
		firstSend, lastSend = min(firstSend, s.send), max(lastSend, s.send)
		if s.arrival >= recentFrom {
			recentOWD += s.arrival - s.send
			recentN++
		}
	}
	arrSpan, sendSpan := latestArr-firstArr, lastSend-firstSend
	if recvN < 10 || n < 10 || arrSpan < int64(minRateSpan/time.Microsecond) || sendSpan <= 0 {
		return 0, 0, 0, 0, 0, false
	}
	// What was sent over the same stretch: the packets received and those lost in between.
	var sentBytes int
	for i := len(e.samples) - 1; i >= 0; i-- {
		s := e.samples[i]
		if s.send < firstSend {
			if s.send < firstSend-int64(estimateWindow/time.Microsecond) {
				break
			}

			continue
		}
		if s.send <= lastSend && (s.lost || s.arrival >= arrFrom) {
			sentBytes += s.size()
		}
	}
	recvBps = float64(recvBytes-firstSize) * 8e6 / float64(arrSpan)
	sendBps = float64(sentBytes-firstSize) * 8e6 / float64(max(sendSpan, 1))
	loss = float64(lost) / float64(n)
	if recentN > 0 {
		queue = max(recentOWD/recentN-base, 0)
	}
	// The packets that found a queue left the bottleneck back to back: their rate is its
	// capacity. Without them, what was delivered is what is known.
	capBps = recvBps
	if qN >= 8 && qLast-qFirst >= int64(minQueuedSpan/time.Microsecond) {
		capBps = float64(qBytes-qFirstSize) * 8e6 / float64(qLast-qFirst)
	}

	return sendBps, recvBps, capBps, loss, queue, true
}

// update moves the estimate after a feedback; callers hold mu.
func (e *estimator) update(nowUs int64) {
	dt := float64(nowUs-e.lastUpdate) / 1e6
	if e.lastUpdate == 0 || dt > 0.5 {
		dt = 0.1
	}
	e.lastUpdate = nowUs
	e.evalProbe(nowUs, false)
	sendBps, recvBps, capBps, loss, queue, ok := e.windowStats()
	if !ok {
		return
	}
	before := e.est
	queueing := queue > int64(overuseDelay/time.Microsecond) && recvBps < 0.9*sendBps
	switch {
	case queueing || loss > overuseLoss:
		cut := e.est
		if queueing { // the queued packets left the bottleneck at its rate
			cut = min(cut, 0.85*capBps)
		}
		if loss > overuseLoss && nowUs >= e.lossCutAt+int64(lossCutInterval/time.Microsecond) {
			// Loss without a queue to measure (a policer), or on top of one: step down by half
			// the loss, at most once per loss window, but not below what is being delivered.
			cut = min(cut, max(e.est*(1-0.5*loss), 0.85*capBps))
			e.lossCutAt = nowUs
		}
		if cut < e.est {
			e.est = cut
			if e.log != nil {
				e.log.Debug("downlink overuse", "estimate", int64(e.est), "sent", int64(sendBps),
					"delivered", int64(recvBps), "loss", loss, "queue", time.Duration(queue)*time.Microsecond)
			}
		}
		e.holdUntil = nowUs + int64(holdAfterOveruse/time.Microsecond)
	case loss <= calmLoss && queue < int64(calmDelay/time.Microsecond) && nowUs >= e.holdUntil:
		grown := e.est * (1 + growthPerSecond*dt)
		e.est = max(e.est, min(grown, 1.5*recvBps))
	}
	e.est = min(max(e.est, minEstimate), maxEstimate)
	if e.est < 0.95*before && e.dropped != nil {
		e.dropped() // the allocator acts at once, not at its next round
	}
}

// startProbe opens a probe cluster: padding sent from now on carries its id.
func (e *estimator) startProbe(target int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.probeID = e.probeID%31 + 1
	e.probe = probeStats{target: target, pkts: e.probe.pkts[:0]}
	if e.probe.pkts == nil {
		e.probe.pkts = make([]feedbackSample, 0, probeBursts*maxPadBurst)
	}
	e.probeLast.Store(0)
	e.cluster.Store(e.probeID)
}

// stopProbe ends the cluster.
func (e *estimator) stopProbe() {
	e.cluster.Store(0)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.probe.target != 0 && e.probe.end == 0 {
		e.probe.end = max(e.probeLast.Load(), 1)
	}
}

// probeOutcome returns whether the probe is decided, and how; at deadline it is decided either
// way.
func (e *estimator) probeOutcome(now int64, deadline bool) (done, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evalProbe(now/1000, deadline)

	return e.probe.done, e.probe.ok
}

// evalProbe decides an ended probe once the feedback covers packets sent after its last
// padding: the link took the probe if it delivered the padding at (nearly) the rate it was
// sent, with little loss. The padding went out in bursts at frame ends, so both rates are over
// the span from the first packet to the last, less one packet. A probe the link took raises
// the estimate to the rate it meant to prove. Callers hold mu.
func (e *estimator) evalProbe(nowUs int64, deadline bool) {
	p := &e.probe
	if p.done || p.end == 0 {
		return
	}
	covered := len(e.samples) > 0 && e.samples[len(e.samples)-1].send > p.end+20_000
	if !covered && !deadline {
		return
	}
	p.done = true
	sendBps, recvBps, loss, measured := p.rates()
	if !measured {
		e.ctr.probesFailed.Add(1) // too little went out to tell (a track without frames)

		return
	}
	p.ok = loss < 0.05 && recvBps >= 0.9*sendBps
	if e.log != nil {
		e.log.Debug("bandwidth probe", "target", p.target, "sent", int64(sendBps), "delivered", int64(recvBps),
			"loss", loss, "ok", p.ok)
	}
	if !p.ok {
		e.ctr.probesFailed.Add(1)

		return
	}
	e.ctr.probesOK.Add(1)
	e.est = min(max(e.est, float64(p.target)), maxEstimate)
	e.holdUntil = nowUs
}
