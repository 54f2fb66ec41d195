package sfu

import (
	"fmt"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"github.com/parleyhq/parley/sfu/rtcpscan"
)

// fbPacket is one packet as a TWCC feedback reports it: arrival on the subscriber's clock (µs),
// or -1 for not received.
type fbPacket struct {
	seq     uint16
	arrival int64
}

// linkRun drives an estimator as a subscriber's link would for d: a packet of 1100 bytes every
// gap from monoNow start on, and a TWCC feedback every 100 ms on what arrived since. Each packet
// arrives clockOffset after it was sent (the subscriber's clock is its own); late(seq) packets
// are overtaken: the feedback of their time reports them missing, the next one received.
func linkRun(e *estimator, start int64, gap, d time.Duration, clockOffset int64, late func(seq uint16) bool) {
	const fbEvery = int64(100 * time.Millisecond)
	var (
		seq  uint16
		this []fbPacket // reported by the next feedback
		next []fbPacket // reported by the one after (overtaken packets)
	)
	due := start + fbEvery
	for now := start; now < start+int64(d); now += int64(gap) {
		for now >= due {
			if len(this) > 0 {
				e.feedback(buildFeedback(this), due)
			}
			this, next, due = next, nil, due+fbEvery
		}
		e.sent(seq, 1100, now)
		p := fbPacket{seq: seq, arrival: now/1000 + clockOffset}
		if late(seq) {
			this = append(this, fbPacket{seq: seq, arrival: -1})
			next = append(next, p)
		} else {
			this = append(this, p)
		}
		seq++
	}
}

// buildFeedback is one TWCC feedback on pkts, by sequence number from the lowest to the highest
// (the ones between that pkts does not name are reported missing, as a receiver does).
func buildFeedback(pkts []fbPacket) *rtcpscan.Feedback {
	byseq := map[uint16]int64{}
	lo, hi := pkts[0].seq, pkts[0].seq
	for _, p := range pkts {
		byseq[p.seq] = p.arrival
		if int16(p.seq-lo) < 0 {
			lo = p.seq
		}
		if int16(p.seq-hi) > 0 {
			hi = p.seq
		}
	}
	fb := &rtcp.TransportLayerCC{BaseSequenceNumber: lo, PacketStatusCount: hi - lo + 1}
	last := int64(-1)
	for s := lo; ; s++ {
		sym := rtcp.TypeTCCPacketNotReceived
		if arr, ok := byseq[s]; ok && arr >= 0 {
			if last < 0 {
				fb.ReferenceTime = uint32(arr / 64000)
				last = arr / 64000 * 64000
			}
			sym = rtcp.TypeTCCPacketReceivedLargeDelta
			fb.RecvDeltas = append(fb.RecvDeltas, &rtcp.RecvDelta{Type: rtcp.TypeTCCPacketReceivedLargeDelta, Delta: arr - last})
			last = arr
		}
		fb.PacketChunks = append(fb.PacketChunks, &rtcp.RunLengthChunk{PacketStatusSymbol: sym, RunLength: 1})
		if s == hi {
			break
		}
	}

	return scanFeedback(fb)
}

// scanFeedback puts fb on the wire and reads it back as downTrack.readRTCP does, so that the
// estimator's tests go through real bytes. A feedback that does not survive the trip is a broken
// test rig: it panics.
func scanFeedback(fb *rtcp.TransportLayerCC) *rtcpscan.Feedback {
	fb.Header = rtcp.Header{Type: rtcp.TypeTransportSpecificFeedback, Count: rtcp.FormatTCC}
	fb.Header.Length = uint16(fb.MarshalSize()/4 - 1)
	b, err := fb.Marshal()
	if err != nil {
		panic(fmt.Sprintf("marshal TWCC feedback: %v", err))
	}
	var s rtcpscan.Scanner
	if s.Reset(b); !s.Next() || s.Packet().Kind() != rtcpscan.TWCC {
		panic(fmt.Sprintf("scan TWCC feedback %x: %v", b, s.Err()))
	}
	f := s.Packet().TWCC()

	return &f
}

// A link that delivers everything at once lets the estimate grow, from the first second of the
// process on (no second of its ten-second minimum delay counts before it saw a packet), whatever
// the subscriber's clock says.
func TestEstimatorGrowsOnAClearLink(t *testing.T) {
	for _, start := range []time.Duration{time.Second, time.Minute} {
		e := newEstimator(newCounters())
		const threeHours = int64(3 * time.Hour / time.Microsecond)
		// 1100 bytes every 8 ms: about 1.1 Mbit/s, more than the first estimate.
		linkRun(e, int64(start), 8*time.Millisecond, 5*time.Second, threeHours, func(uint16) bool { return false })
		est, _ := e.estimate(int64(start + 5*time.Second))
		if est < initialEstimate*6/5 {
			t.Errorf("process at %v: estimate %d after 5 s of a clear link, want it grown from %d", start, est, initialEstimate)
		}
	}
}

// Packets overtaken on their way (reported missing, then received by the next feedback) are no
// loss: with a fifth of them so, the estimate grows on a link that carries more, as it does not
// when a fifth is really lost.
func TestEstimatorOvertakenPacketsAreNoLoss(t *testing.T) {
	start := int64(time.Minute)
	e := newEstimator(newCounters())
	linkRun(e, start, 8*time.Millisecond, 5*time.Second, 0, func(seq uint16) bool { return seq%5 == 2 })
	if est, _ := e.estimate(start + int64(5*time.Second)); est < initialEstimate*6/5 {
		t.Errorf("estimate %d: held back by packets that arrived late", est)
	}
	lossy := newEstimator(newCounters())
	linkRunLossy(lossy, start, 8*time.Millisecond, 5*time.Second, func(seq uint16) bool { return seq%5 == 2 })
	if est, _ := lossy.estimate(start + int64(5*time.Second)); est > initialEstimate {
		t.Errorf("estimate %d with a fifth of the packets lost", est)
	}
}

// linkRunLossy is linkRun where lost(seq) packets never arrive.
func linkRunLossy(e *estimator, start int64, gap, d time.Duration, lost func(seq uint16) bool) {
	const fbEvery = int64(100 * time.Millisecond)
	var seq uint16
	var this []fbPacket
	due := start + fbEvery
	for now := start; now < start+int64(d); now += int64(gap) {
		for now >= due {
			if len(this) > 0 {
				e.feedback(buildFeedback(this), due)
			}
			this, due = nil, due+fbEvery
		}
		e.sent(seq, 1100, now)
		arr := now / 1000
		if lost(seq) {
			arr = -1
		}
		this = append(this, fbPacket{seq: seq, arrival: arr})
		seq++
	}
}
