package rtpstats

import (
	"math"
	"testing"
	"time"
)

func TestHistogramQuantilesWithinPrecision(t *testing.T) {
	var h Histogram
	// 1..10000 µs uniformly: p50 = 5000 µs, p99 = 9900 µs.
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5000 * time.Microsecond}, {0.99, 9900 * time.Microsecond}, {0.001, 10 * time.Microsecond}} {
		got := h.Quantile(tc.q)
		if rel := math.Abs(float64(got-tc.want)) / float64(tc.want); rel > 0.035 {
			t.Errorf("Quantile(%v) = %v, want %v within 3.5%%", tc.q, got, tc.want)
		}
	}
	if h.Count() != 10000 || h.Max() != 10*time.Millisecond {
		t.Errorf("count %d max %v", h.Count(), h.Max())
	}
	if m := h.Mean(); m < 5000*time.Microsecond || m > 5001*time.Microsecond {
		t.Errorf("mean %v, want 5000.5µs", m)
	}
}

func TestHistogramSmallValuesAreExact(t *testing.T) {
	var h Histogram
	for _, us := range []int{0, 3, 7, 7, 15} {
		h.Record(time.Duration(us) * time.Microsecond)
	}
	if got := h.Quantile(0.5); got != 7*time.Microsecond {
		t.Errorf("p50 = %v, want 7µs", got)
	}
	h.Record(-time.Second) // clock skew: counts as zero
	if got := h.Quantile(0); got != 0 {
		t.Errorf("p0 = %v, want 0", got)
	}
}

func TestHistogramHugeValueIsClamped(t *testing.T) {
	var h Histogram
	h.Record(1000 * 24 * time.Hour)
	if h.Quantile(1) != h.Max() {
		t.Errorf("quantile of a single clamped value %v, want its max %v", h.Quantile(1), h.Max())
	}
}

func TestHistogramMergeAndSub(t *testing.T) {
	var a, b Histogram
	for i := 0; i < 100; i++ {
		a.Record(time.Millisecond)
		b.Record(100 * time.Millisecond)
	}
	before := a
	a.Merge(&b)
	if a.Count() != 200 || a.Quantile(0.99) < 90*time.Millisecond || a.Quantile(0.25) > 2*time.Millisecond {
		t.Fatalf("merged: %+v", a.Summary())
	}
	a.Sub(&before)
	if a.Count() != 100 || a.Quantile(0.5) < 90*time.Millisecond {
		t.Errorf("after Sub: %+v, want only the 100 ms ones", a.Summary())
	}
}

func TestEmptyHistogram(t *testing.T) {
	var h Histogram
	if s := h.Summary(); s != (Summary{}) {
		t.Errorf("empty summary %+v", s)
	}
}
