package rtpstats

import (
	"math/bits"
	"time"
)

// subBits sets the precision: 2^subBits buckets per power of two, so a quantile is off by at
// most 1/2^(subBits+1) of its value (about 3%) above 16 µs, and exact below.
const subBits = 4

const subCount = 1 << subBits

// maxExp covers values up to 2^40 µs (12 days).
const maxExp = 40

const nBuckets = (maxExp - subBits + 2) * subCount

// Histogram counts durations in log-linear microsecond buckets. Its zero value is empty and
// ready; it is a plain value (about 5 KiB) so it copies, merges and subtracts cheaply. It is not
// safe for concurrent use.
type Histogram struct {
	counts [nBuckets]uint32
	n      uint64
	sum    time.Duration
	max    time.Duration
}

func bucketOf(us uint64) int {
	if us < subCount {
		return int(us)
	}
	e := bits.Len64(us) - subBits - 1
	i := (e+1)<<subBits + int((us>>e)&(subCount-1))
	if i >= nBuckets {
		return nBuckets - 1
	}
	return i
}

// bucketMid is the middle of bucket i, in microseconds.
func bucketMid(i int) float64 {
	if i < subCount {
		return float64(i)
	}
	e := i>>subBits - 1
	low := uint64(subCount+i&(subCount-1)) << e
	return float64(low) + float64(uint64(1)<<e)/2
}

// Record adds one duration; negative ones count as zero.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d/time.Microsecond))]++
	h.n++
	h.sum += d
	if d > h.max {
		h.max = d
	}
}

// Count is the number of durations recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Max is the largest duration recorded (after Sub, the largest of the minuend).
func (h *Histogram) Max() time.Duration { return h.max }

// Mean is the average duration, zero when empty.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// Quantile returns the duration below which a fraction q (0 to 1) of the recorded ones fall,
// zero when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += uint64(c)
		if seen >= rank {
			if i == nBuckets-1 {
				return h.max // the last bucket holds everything too large to bucket
			}
			d := time.Duration(bucketMid(i) * float64(time.Microsecond))
			if h.max > 0 && d > h.max {
				d = h.max
			}
			return d
		}
	}
	return h.max
}

// Merge adds o's durations to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// Sub removes an earlier snapshot o of the same histogram from h, leaving what was recorded
// since. Max stays h's.
func (h *Histogram) Sub(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] -= c
	}
	h.n -= o.n
	h.sum -= o.sum
}

// Summary is a histogram's figures.
type Summary struct {
	Count uint64        `json:"count"`
	P50   time.Duration `json:"p50"`
	P99   time.Duration `json:"p99"`
	Max   time.Duration `json:"max"`
	Mean  time.Duration `json:"mean"`
}

// Summary returns the count, median, 99th percentile, maximum and mean.
func (h *Histogram) Summary() Summary {
	return Summary{Count: h.n, P50: h.Quantile(0.5), P99: h.Quantile(0.99), Max: h.max, Mean: h.Mean()}
}
