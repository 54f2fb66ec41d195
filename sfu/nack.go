package sfu

import (
	"math/bits"
	"time"

	"golang.org/x/time/rate"

	"github.com/parleyhq/parley/sfu/rtcpscan"
)

// Resends are bounded: a subscriber gets a packet again at most maxResends times, not twice within
// resendInterval (a repeated NACK that crossed the resend), and not once it arrived more than
// maxResendAge ago (the subscriber's jitter buffer has given up on it; sending it would only add
// load). Under overload no NACK is answered at all (see congestionHold): every subscriber of a
// lane that dropped a packet NACKs it, and answering them all is how a short overload used to
// become a collapse.
//
// A subscriber is hostile as often as it is lossy: the marks are only written by a resend (a NACK
// of a packet we do not have must not clear the mark of the packet sharing its slot, or NACKing
// {hi, hi-256} in turn would resend hi without end), a slot held by another packet resent within
// maxResendAge refuses rather than forgets it, and all of a subscriber's resends draw on one byte
// budget per second (Config.ResendBytesPerSecond): what NACKs can make the server send is bounded
// whatever they ask for.
const (
	maxResends     = 2
	resendInterval = 100 * time.Millisecond
	maxResendAge   = 500 * time.Millisecond
	resendHistory  = 256 // sequence numbers remembered per subscriber; a power of two
)

// resendMark remembers the resends of one downstream sequence number.
type resendMark struct {
	at  int64 // last resend, monoNow
	seq uint16
	n   uint8
}

// nackResult is what became of one NACK message's sequence numbers.
type nackResult struct {
	asked, answered int
	ignored         [numNackOutcomes]int
}

// retransmit answers a subscriber's NACK from the cache of the layer each requested sequence
// number was sent from, mapping it back to the publisher's through its epoch. Runs on the
// sender's RTCP goroutine; now is monoNow. nacks is the message's (PID, BLP) pairs, read in place.
func (d *downTrack) retransmit(nacks rtcpscan.Nacks, now int64) (r nackResult) {
	for i := range nacks.Len() {
		_, blp := nacks.Pair(i)
		r.asked += 1 + bits.OnesCount16(blp)
	}
	b := d.binding.Load()
	d.epMu.Lock()
	none := d.epLen == 0
	d.epMu.Unlock()
	switch {
	case b == nil || none || !d.up.gate.Load() || d.detached.Load():
		r.ignored[nackUnavailable] = r.asked

		return r
	case d.up.congested(now):
		r.ignored[nackCongested] = r.asked

		return r
	}
	if d.nackBuf == nil {
		d.nackBuf = make([]byte, maxPacketSize)
		d.resends = make([]resendMark, resendHistory)
	}
	highest := uint16(d.highest.Load())
	for k := range nacks.Len() {
		pid, lost := nacks.Pair(k)
		for i := range uint16(17) { // PID, then one bit per following sequence number
			if i > 0 && lost&(1<<(i-1)) == 0 {
				continue
			}
			if o, sent := d.resend(b, highest, pid+i, now); sent {
				r.answered++
			} else if o < numNackOutcomes {
				r.ignored[o]++
			}
		}
	}

	return r
}

// resend sends one NACKed packet again unless a bound forbids it. It returns why not, or sent;
// a failed write is neither (outcome numNackOutcomes).
func (d *downTrack) resend(b *binding, highest, seq uint16, now int64) (nackOutcome, bool) {
	if highest-seq >= 0x8000 {
		return nackUnavailable, false // never sent
	}
	ep, ok := d.epochOf(seq, highest)
	if !ok || ep.layer == nil || ep.layer.genNow.Load() != ep.gen {
		return nackUnavailable, false // sent in no epoch we still know, or from a stream since restarted
	}
	mark := &d.resends[seq&(resendHistory-1)]
	live := mark.n > 0 && now-mark.at < int64(maxResendAge) // a resend that still counts
	switch {
	case live && mark.seq != seq:
		return nackRepeated, false // the slot is another packet's, resent lately: keep its count
	case live && (mark.n >= maxResends || now-mark.at < int64(resendInterval)):
		return nackRepeated, false
	}
	n, at := ep.layer.cache.get(seq-ep.off.seq, d.nackBuf)
	if n == 0 || d.nackPkt.Unmarshal(d.nackBuf[:n]) != nil {
		return nackUnavailable, false
	}
	if now-at > int64(maxResendAge) {
		return nackTooOld, false
	}
	if !takeBudget(d.resendBudget, n, now) {
		return nackBudget, false
	}
	if d.up.vp8 {
		v := parseVP8(d.nackPkt.Payload)
		d.rewriteVP8(d.nackPkt.Payload, &v, ep.off)
	}
	tseq, twcc := d.fillHeader(&d.nackHdr, d.nackExt[:0], d.nackTWCC[:], b, d.nackPkt.Marker, seq, d.nackPkt.Timestamp+ep.off.ts)
	w, err := b.ws.WriteRTP(&d.nackHdr, d.nackPkt.Payload)
	if err != nil {
		return numNackOutcomes, false
	}
	if twcc {
		d.sub.bwe.sent(tseq, w, now)
	}
	if !live {
		*mark = resendMark{seq: seq}
	}
	mark.n++
	mark.at = now
	if d.resendBytes != nil {
		d.resendBytes.Add(uint64(n))
	}

	return 0, true
}

// startedAfter reports whether an epoch starting at downStart began after seq was sent. Both lie
// within half the sequence space below highest, or the epoch is so long that seq is inside it.
func startedAfter(seq, downStart, highest uint16) bool {
	return highest-downStart < 0x8000 && int16(seq-downStart) < 0
}

// DefaultResendBytesPerSecond is the resend budget of one subscriber when Config leaves it
// unset: 1 Mbit/s, ten times what a subscriber losing 10% of 1 Mbit/s of video asks for.
const DefaultResendBytesPerSecond = 128 << 10

// newResendBudget is a subscriber's resend budget: a token bucket of bytes, perSecond a second,
// at most one second's worth saved, shared by the RTCP goroutines of its tracks.
func newResendBudget(perSecond int) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(perSecond), perSecond)
}

// takeBudget spends n bytes of b at now (monoNow) if it has them; a nil budget allows everything.
func takeBudget(b *rate.Limiter, n int, now int64) bool {
	return b == nil || b.AllowN(clockBase.Add(time.Duration(now)), n)
}
