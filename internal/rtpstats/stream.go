package rtpstats

import (
	"sync"
	"time"
)

// Packet is what a receiver learned from one RTP packet.
type Packet struct {
	Seq       uint16
	Timestamp uint32
	Size      int   // bytes of the whole RTP packet
	SentAt    int64 // send time from the payload's stamp, Unix nanoseconds; 0 when unstamped
	Keyframe  bool
}

// Counts is a snapshot of one stream.
type Counts struct {
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
	// First and Last are the arrival times of the first and latest packets.
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// Expected is how many packets the sequence numbers span, summed over the stream's tracks;
	// Lost is Expected minus Packets (negative when packets were duplicated).
	Expected uint64 `json:"expected"`
	Lost     int64  `json:"lost"`
	// Gaps counts forward jumps of the sequence number by more than one; MaxGap is the most
	// packets missing in one jump.
	Gaps   uint64 `json:"gaps"`
	MaxGap uint64 `json:"maxGap"`
	// Late counts packets at or below the highest sequence number already seen (reordered or
	// duplicated).
	Late uint64 `json:"late"`
	// NonConsecutive counts packets whose sequence number is not the previous packet's plus
	// one, within a track: any gap, reorder or duplicate.
	NonConsecutive uint64 `json:"nonConsecutive"`
	LastSeq        uint16 `json:"lastSeq"`
	LastTimestamp  uint32 `json:"lastTimestamp"`
	Keyframes      uint64 `json:"keyframes"`
	// Tracks is how many tracks have fed the stream (a publisher that publishes anew starts a
	// new track with its own sequence numbers).
	Tracks int `json:"tracks"`
	// Delay is the one-way delay of stamped packets.
	Delay Summary `json:"delay"`
}

// Stream counts one received stream. Observe is called by the stream's reader; the others may
// be called from any goroutine.
type Stream struct {
	mu    sync.Mutex
	c     Counts
	delay Histogram

	inTrack     bool  // seq state below belongs to the current track
	maxExt      int64 // highest extended sequence number of the current track
	baseExt     int64 // first extended sequence number of the current track
	expectedOld uint64
}

// StartTrack marks the start of a new track on the stream: sequence numbers start afresh.
func (s *Stream) StartTrack() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeTrack()
	s.c.Tracks++
}

func (s *Stream) closeTrack() {
	if s.inTrack {
		s.expectedOld += uint64(s.maxExt - s.baseExt + 1)
		s.inTrack = false
	}
}

// Observe counts one packet that arrived at now.
func (s *Stream) Observe(p Packet, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &s.c
	if c.Packets == 0 {
		c.First = now
	}
	c.Packets++
	c.Bytes += uint64(p.Size)
	c.Last = now
	if p.Keyframe {
		c.Keyframes++
	}
	if p.SentAt != 0 {
		s.delay.Record(now.Sub(time.Unix(0, p.SentAt)))
	}
	if !s.inTrack {
		s.inTrack = true
		s.maxExt = int64(p.Seq)
		s.baseExt = s.maxExt
		c.LastSeq, c.LastTimestamp = p.Seq, p.Timestamp
		if c.Tracks == 0 {
			c.Tracks = 1
		}
		return
	}
	if p.Seq != c.LastSeq+1 {
		c.NonConsecutive++
	}
	// The 16-bit difference from the highest number seen, read as signed, extends the number
	// across wrap-around.
	ext := s.maxExt + int64(int16(p.Seq-uint16(s.maxExt)))
	if ext > s.maxExt {
		if missing := uint64(ext - s.maxExt - 1); missing > 0 {
			c.Gaps++
			c.MaxGap = max(c.MaxGap, missing)
		}
		s.maxExt = ext
	} else {
		c.Late++
	}
	c.LastSeq, c.LastTimestamp = p.Seq, p.Timestamp
}

func (s *Stream) expected() uint64 {
	e := s.expectedOld
	if s.inTrack {
		e += uint64(s.maxExt - s.baseExt + 1)
	}
	return e
}

// Counts returns a snapshot.
func (s *Stream) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.c
	c.Expected = s.expected()
	c.Lost = int64(c.Expected) - int64(c.Packets)
	c.Delay = s.delay.Summary()
	return c
}

// AddTo adds the stream's totals to t.
func (s *Stream) AddTo(t *Totals) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Packets += s.c.Packets
	t.Bytes += s.c.Bytes
	t.Expected += s.expected()
	t.Delay.Merge(&s.delay)
}

// Totals sums streams: what a load generator reports.
type Totals struct {
	Packets  uint64
	Bytes    uint64
	Expected uint64
	Delay    Histogram
}

// Add adds o to t.
func (t *Totals) Add(o *Totals) {
	t.Packets += o.Packets
	t.Bytes += o.Bytes
	t.Expected += o.Expected
	t.Delay.Merge(&o.Delay)
}

// Sub removes an earlier snapshot o of the same totals, leaving what happened since.
func (t *Totals) Sub(o *Totals) {
	t.Packets -= o.Packets
	t.Bytes -= o.Bytes
	t.Expected -= o.Expected
	t.Delay.Sub(&o.Delay)
}

// LossRatio is the fraction of expected packets that did not arrive (0 when none expected or
// when duplicates outnumber losses).
func (t *Totals) LossRatio() float64 {
	if t.Expected == 0 || t.Packets >= t.Expected {
		return 0
	}
	return float64(t.Expected-t.Packets) / float64(t.Expected)
}
