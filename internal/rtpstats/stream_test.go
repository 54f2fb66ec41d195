package rtpstats

import (
	"testing"
	"time"
)

func observeSeqs(s *Stream, seqs ...uint16) {
	now := time.Unix(1000, 0)
	for _, q := range seqs {
		s.Observe(Packet{Seq: q, Timestamp: uint32(q) * 960, Size: 100}, now)
		now = now.Add(20 * time.Millisecond)
	}
}

func TestStreamCountsLossAndOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		seqs []uint16
		want Counts
	}{
		{name: "consecutive", seqs: []uint16{10, 11, 12, 13},
			want: Counts{Packets: 4, Expected: 4, Lost: 0, LastSeq: 13}},
		{name: "wraps around", seqs: []uint16{65534, 65535, 0, 1},
			want: Counts{Packets: 4, Expected: 4, LastSeq: 1}},
		{name: "one gap of two", seqs: []uint16{1, 2, 5, 6},
			want: Counts{Packets: 4, Expected: 6, Lost: 2, Gaps: 1, MaxGap: 2, NonConsecutive: 1, LastSeq: 6}},
		{name: "gap across wrap", seqs: []uint16{65535, 2},
			want: Counts{Packets: 2, Expected: 4, Lost: 2, Gaps: 1, MaxGap: 2, NonConsecutive: 1, LastSeq: 2}},
		{name: "reordered", seqs: []uint16{1, 3, 2, 4},
			want: Counts{Packets: 4, Expected: 4, Lost: 0, Gaps: 1, MaxGap: 1, Late: 1, NonConsecutive: 3, LastSeq: 4}},
		{name: "duplicate", seqs: []uint16{1, 2, 2, 3},
			want: Counts{Packets: 4, Expected: 3, Lost: -1, Late: 1, NonConsecutive: 1, LastSeq: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s Stream
			observeSeqs(&s, tc.seqs...)
			got := s.Counts()
			if got.Packets != tc.want.Packets || got.Expected != tc.want.Expected || got.Lost != tc.want.Lost ||
				got.Gaps != tc.want.Gaps || got.MaxGap != tc.want.MaxGap || got.Late != tc.want.Late ||
				got.NonConsecutive != tc.want.NonConsecutive || got.LastSeq != tc.want.LastSeq {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
			if got.Bytes != 100*uint64(len(tc.seqs)) || got.Tracks != 1 {
				t.Errorf("bytes %d tracks %d", got.Bytes, got.Tracks)
			}
		})
	}
}

func TestStreamNewTrackRestartsSequence(t *testing.T) {
	var s Stream
	s.StartTrack()
	observeSeqs(&s, 100, 101, 102)
	s.StartTrack()
	observeSeqs(&s, 7, 8)
	c := s.Counts()
	if c.Tracks != 2 || c.Expected != 5 || c.Lost != 0 || c.Gaps != 0 || c.NonConsecutive != 0 {
		t.Errorf("two tracks: %+v", c)
	}
}

func TestStreamDelayAndKeyframes(t *testing.T) {
	var s Stream
	arrive := time.Unix(2000, 0)
	for i := 0; i < 100; i++ {
		sent := arrive.Add(-time.Duration(i+1) * time.Millisecond)
		s.Observe(Packet{Seq: uint16(i), SentAt: sent.UnixNano(), Size: 1200, Keyframe: i%50 == 0}, arrive)
	}
	s.Observe(Packet{Seq: 100, Size: 50}, arrive) // unstamped: no delay sample
	c := s.Counts()
	if c.Delay.Count != 100 || c.Keyframes != 2 {
		t.Fatalf("counts %+v", c)
	}
	if c.Delay.P50 < 48*time.Millisecond || c.Delay.P50 > 52*time.Millisecond ||
		c.Delay.P99 < 96*time.Millisecond || c.Delay.P99 > 100*time.Millisecond {
		t.Errorf("delay %+v, want p50≈50ms p99≈99ms", c.Delay)
	}
	if !c.First.Equal(arrive) || !c.Last.Equal(arrive) {
		t.Errorf("first %v last %v", c.First, c.Last)
	}
}

func TestTotalsIntervals(t *testing.T) {
	var s1, s2 Stream
	observeSeqs(&s1, 1, 2, 4) // one lost
	observeSeqs(&s2, 1, 2, 3)
	var t1 Totals
	s1.AddTo(&t1)
	s2.AddTo(&t1)
	if t1.Packets != 6 || t1.Expected != 7 || t1.Bytes != 600 {
		t.Fatalf("totals %+v", t1)
	}
	if r := t1.LossRatio(); r < 0.142 || r > 0.143 {
		t.Errorf("loss ratio %v, want 1/7", r)
	}
	observeSeqs(&s2, 4, 5)
	var t2 Totals
	s1.AddTo(&t2)
	s2.AddTo(&t2)
	t2.Sub(&t1)
	if t2.Packets != 2 || t2.Expected != 2 || t2.LossRatio() != 0 {
		t.Errorf("interval %+v", t2)
	}
	var sum Totals
	sum.Add(&t1)
	sum.Add(&t2)
	if sum.Packets != 8 {
		t.Errorf("sum %+v", sum)
	}
}
