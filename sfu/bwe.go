package sfu

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
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
//   - over the last second of reported packets it measures the loss, the rate sent, the rate
//     delivered (bytes over the span of their arrival times) and the queueing delay (one-way
//     delay above its minimum of the last ten seconds);
//   - overuse is loss above 10%, or a queue building (delay above 80 ms) while less is delivered
//     than sent: the estimate drops to 85% of the delivered rate and holds for two seconds. A
//     delay spike alone (a busy receiver catching up) is not overuse: what it delays still
//     arrives within the second;
//   - otherwise, with little loss and no queue, the estimate grows 8% a second, but never past
//     1.5 times what is delivered: more than that is unproven, and proven only by a probe;
//   - a probe (the allocator starts one) sends padding on top of the media for probeDuration;
//     if the link delivered it at the rate it was sent, the estimate rises to that rate.
const (
	histSize          = 4096 // packets remembered for feedback, a power of two
	initialEstimate   = 1_000_000
	minEstimate       = 50_000
	maxEstimate       = 50_000_000
	estimateWindow    = time.Second
	minRateSpan       = 250 * time.Millisecond
	baseDelayWindow   = 10 // seconds the minimum one-way delay is kept for
	overuseDelay      = 80 * time.Millisecond
	calmDelay         = 40 * time.Millisecond
	overuseLoss       = 0.10
	calmLoss          = 0.02
	holdAfterOveruse  = 2 * time.Second
	growthPerSecond   = 0.08
	probeDuration     = 300 * time.Millisecond
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
	send    int64 // µs, monoNow clock
	arrival int64 // µs, the subscriber's clock
	size    int
	lost    bool
}

// probeStats gathers the feedback on one probe cluster.
type probeStats struct {
	start, end           int64 // when the cluster was sent, µs
	firstSend, lastSend  int64
	firstArr, lastArr    int64
	firstSize            int
	sentBytes, recvBytes int
	sent, lost           int
	done, ok             bool
}

type estimator struct {
	ctr       *counters
	hist      [histSize]atomic.Uint64
	cluster   atomic.Uint32 // the probe cluster packets sent now belong to (0: none)
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
	lastUpdate   int64 // µs
	probe        probeStats
	probeID      uint32
}

func newEstimator(ctr *counters) *estimator {
	return &estimator{ctr: ctr, est: initialEstimate, samples: make([]feedbackSample, 0, 2048)}
}

// sent records a packet written to the subscriber (any goroutine, once per packet: one atomic
// store and one add).
func (e *estimator) sent(tseq uint16, size int, now int64) {
	wire := uint64(min((size+wireOverhead+1)/2, 1023))
	v := uint64(tseq)<<48 | wire<<histSizeShift | uint64(e.cluster.Load()&31)<<histClusShift | uint64(uint32(now/1000))
	e.hist[int(tseq)&(histSize-1)].Store(v)
	e.sentBytes.Add(wire * 2)
	if e.firstSent.Load() == 0 {
		e.firstSent.CompareAndSwap(0, now)
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

// feedback takes one TWCC feedback message (the subscriber's RTCP goroutines).
func (e *estimator) feedback(fb *rtcp.TransportLayerCC, now int64) {
	nowUs := now / 1000
	e.mu.Lock()
	defer e.mu.Unlock()
	ref := int64(fb.ReferenceTime & 0xffffff)
	if e.feedbackSeen { // the nearest epoch of the 24-bit reference time
		ref = e.refEpoch + (ref-e.refEpoch+(1<<23))&0xffffff - (1 << 23)
	}
	e.refEpoch, e.feedbackSeen = ref, true
	arr := ref * 64000
	seq, remaining, di := fb.BaseSequenceNumber, int(fb.PacketStatusCount), 0
	status := func(sym uint16) bool {
		received := sym == rtcp.TypeTCCPacketReceivedSmallDelta || sym == rtcp.TypeTCCPacketReceivedLargeDelta
		if received {
			if di >= len(fb.RecvDeltas) {
				return false
			}
			arr += fb.RecvDeltas[di].Delta
			di++
		}
		e.note(seq, received, arr, nowUs)
		seq++
		remaining--

		return remaining > 0
	}
chunks:
	for _, c := range fb.PacketChunks {
		switch c := c.(type) {
		case *rtcp.RunLengthChunk:
			for range c.RunLength {
				if !status(c.PacketStatusSymbol) {
					break chunks
				}
			}
		case *rtcp.StatusVectorChunk:
			for _, sym := range c.SymbolList {
				if !status(sym) {
					break chunks
				}
			}
		}
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
	s := feedbackSample{send: send, arrival: arrival, size: int(v>>histSizeShift&1023) * 2, lost: !received}
	if len(e.samples) == cap(e.samples) {
		n := copy(e.samples, e.samples[len(e.samples)/2:])
		e.samples = e.samples[:n]
	}
	e.samples = append(e.samples, s)
	if c := uint32(v>>histClusShift) & 31; c != 0 && c == e.probeID&31 {
		e.probe.add(s)
	}
	if received {
		sec := send / 1e6
		if sec != e.baseSec {
			for i := e.baseSec + 1; i <= sec && i <= e.baseSec+baseDelayWindow; i++ {
				e.baseMin[i%baseDelayWindow] = 1<<62 - 1
			}
			e.baseSec = sec
		}
		if owd := arrival - send; owd < e.baseMin[sec%baseDelayWindow] {
			e.baseMin[sec%baseDelayWindow] = owd
		}
	}
}

func (p *probeStats) add(s feedbackSample) {
	p.sent++
	p.sentBytes += s.size
	if p.firstSend == 0 || s.send < p.firstSend {
		p.firstSend = s.send
	}
	p.lastSend = max(p.lastSend, s.send)
	if s.lost {
		p.lost++

		return
	}
	p.recvBytes += s.size
	if p.firstArr == 0 || s.arrival < p.firstArr {
		p.firstArr, p.firstSize = s.arrival, s.size
	}
	p.lastArr = max(p.lastArr, s.arrival)
}

// windowStats measures the last estimateWindow of reported packets; callers hold mu.
func (e *estimator) windowStats() (sendBps, recvBps, loss float64, queue int64, ok bool) {
	if len(e.samples) == 0 {
		return 0, 0, 0, 0, false
	}
	latest := e.samples[len(e.samples)-1].send
	for _, s := range e.samples[max(len(e.samples)-64, 0):] {
		latest = max(latest, s.send)
	}
	from := latest - int64(estimateWindow/time.Microsecond)
	var sentBytes, recvBytes, n, lost int
	firstSend, lastSend, firstArr, lastArr := int64(1<<62), int64(0), int64(1<<62), int64(0)
	var recentOWD, recentN int64
	recentFrom := latest - 100_000
	for i := len(e.samples) - 1; i >= 0; i-- {
		s := e.samples[i]
		if s.send < from {
			break
		}
		n++
		sentBytes += s.size
		firstSend, lastSend = min(firstSend, s.send), max(lastSend, s.send)
		if s.lost {
			lost++

			continue
		}
		recvBytes += s.size
		firstArr, lastArr = min(firstArr, s.arrival), max(lastArr, s.arrival)
		if s.send >= recentFrom {
			recentOWD += s.arrival - s.send
			recentN++
		}
	}
	if n < 10 || lastSend-firstSend < int64(minRateSpan/time.Microsecond) {
		return 0, 0, 0, 0, false
	}
	sendBps = float64(sentBytes) * 8e6 / float64(lastSend-firstSend)
	if lastArr > firstArr {
		recvBps = float64(recvBytes) * 8e6 / float64(max(lastArr-firstArr, lastSend-firstSend))
	}
	loss = float64(lost) / float64(n)
	if recentN > 0 {
		base := int64(1<<62 - 1)
		for _, m := range e.baseMin {
			base = min(base, m)
		}
		queue = max(recentOWD/recentN-base, 0)
	}

	return sendBps, recvBps, loss, queue, true
}

// update moves the estimate after a feedback; callers hold mu.
func (e *estimator) update(nowUs int64) {
	dt := float64(nowUs-e.lastUpdate) / 1e6
	if e.lastUpdate == 0 || dt > 0.5 {
		dt = 0.1
	}
	e.lastUpdate = nowUs
	e.evalProbe(nowUs, false)
	sendBps, recvBps, loss, queue, ok := e.windowStats()
	if !ok {
		return
	}
	queueing := queue > int64(overuseDelay/time.Microsecond) && recvBps < 0.9*sendBps
	switch {
	case loss > overuseLoss || queueing:
		if recvBps > 0 {
			e.est = min(e.est, 0.85*recvBps)
		}
		e.holdUntil = nowUs + int64(holdAfterOveruse/time.Microsecond)
	case loss <= calmLoss && queue < int64(calmDelay/time.Microsecond) && nowUs >= e.holdUntil:
		grown := e.est * (1 + growthPerSecond*dt)
		e.est = max(e.est, min(grown, 1.5*recvBps))
	}
	e.est = min(max(e.est, minEstimate), maxEstimate)
}

// startProbe opens a probe cluster: the packets sent from now until end carry its id.
func (e *estimator) startProbe(now, end int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.probeID = e.probeID%31 + 1
	e.probe = probeStats{start: now / 1000, end: end / 1000}
	e.cluster.Store(e.probeID)
}

// stopProbe ends the cluster's packets.
func (e *estimator) stopProbe() { e.cluster.Store(0) }

// probeOutcome returns whether the probe is decided, and how; at deadline it is decided either
// way.
func (e *estimator) probeOutcome(now int64, deadline bool) (done, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evalProbe(now/1000, deadline)

	return e.probe.done, e.probe.ok
}

// evalProbe decides the probe once the feedback covers packets sent after it ended: the link
// took the probe if it delivered it at (nearly) the rate it was sent, with little loss. Then the
// estimate rises to what was delivered. Callers hold mu.
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
	sendSpan, arrSpan := p.lastSend-p.firstSend, p.lastArr-p.firstArr
	if p.sent < 10 || sendSpan < int64(probeDuration/time.Microsecond)/2 || arrSpan <= 0 {
		e.ctr.probesFailed.Add(1)

		return
	}
	sendBps := float64(p.sentBytes) * 8e6 / float64(sendSpan)
	recvBps := float64(p.recvBytes-p.firstSize) * 8e6 / float64(arrSpan)
	loss := float64(p.lost) / float64(p.sent)
	p.ok = loss < 0.05 && recvBps >= 0.9*sendBps
	if !p.ok {
		e.ctr.probesFailed.Add(1)

		return
	}
	e.ctr.probesOK.Add(1)
	e.est = min(max(e.est, 0.95*min(sendBps, recvBps)), maxEstimate)
	e.holdUntil = nowUs
}
