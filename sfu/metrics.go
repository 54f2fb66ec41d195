package sfu

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// dropReason says why a packet was not forwarded to one subscriber.
type dropReason uint8

const (
	dropNone         dropReason = iota
	dropMuted                   // the publisher's gate for this kind is closed
	dropQueueFull               // a writer lane's queue was full
	dropWaitKeyframe            // video held back until a keyframe after a start or pause
	dropNotBound                // the subscriber has not answered the offer carrying this track yet
	dropStale                   // a late packet from before a pause
	dropWriteError              // the subscriber's transport refused the packet
	dropCacheMiss               // a writer lane found the packet already evicted
	dropLate                    // waited too long in the server (see waitGate)
	numDropReasons
)

var dropReasonNames = [numDropReasons]string{
	dropNone:         "none",
	dropMuted:        "muted",
	dropQueueFull:    "queue_full",
	dropWaitKeyframe: "wait_keyframe",
	dropNotBound:     "not_bound",
	dropStale:        "stale",
	dropWriteError:   "write_error",
	dropCacheMiss:    "cache_miss",
	dropLate:         "late",
}

// nackOutcome says why a sequence number a subscriber NACKed was not resent.
type nackOutcome uint8

const (
	nackUnavailable nackOutcome = iota // never sent, no longer cached, or the track is paused
	nackCongested                      // the track is congested (see congestionHold)
	nackTooOld                         // the packet arrived more than maxResendAge ago
	nackRepeated                       // resent maxResends times, or less than resendInterval ago
	numNackOutcomes
)

var nackOutcomeNames = [numNackOutcomes]string{
	nackUnavailable: "unavailable",
	nackCongested:   "congested",
	nackTooOld:      "too_old",
	nackRepeated:    "repeated",
}

// laneCounters are written only by the goroutine that runs one lane, so per-packet counting
// never contends with other tracks or lanes; a scrape sums them. The padding keeps two lanes'
// counters off one cache line.
type laneCounters struct {
	forwarded atomic.Uint64
	bytes     atomic.Uint64
	dropped   [numDropReasons]atomic.Uint64
	_         [64]byte
}

// Stats is a snapshot of the forwarding counters since New, for tests and diagnostics.
type Stats struct {
	Rooms, Peers, Tracks int
	// PacketsForwarded counts packets written to subscribers (one per subscriber and packet).
	PacketsForwarded uint64
	// ForwardedByKind splits PacketsForwarded by the track's kind.
	ForwardedByKind map[Kind]uint64
	// BytesForwarded counts RTP payload bytes written to subscribers.
	BytesForwarded uint64
	// PacketsDropped counts packets not written to a subscriber, by reason ("muted",
	// "queue_full", "wait_keyframe", "not_bound", "stale", "write_error", "cache_miss", "late").
	PacketsDropped map[string]uint64
	// NACKsReceived counts sequence numbers subscribers asked to be resent; NACKsAnswered those
	// resent from the cache.
	NACKsReceived, NACKsAnswered uint64
	// NACKsIgnored counts sequence numbers not resent, by reason ("unavailable", "congested",
	// "too_old", "repeated"); a resend that failed to write is in none of them.
	NACKsIgnored map[string]uint64
	// PLIsSent counts keyframe requests sent to publishers.
	PLIsSent uint64
}

// counters holds the totals of tracks that have ended and the counters that are not per packet.
type counters struct {
	mu      sync.Mutex
	live    map[*upTrack]struct{}
	retired struct {
		forwarded [2]uint64 // by kindIndex
		bytes     [2]uint64
		dropped   [numDropReasons]uint64
	}
	nacksReceived atomic.Uint64
	nacksAnswered atomic.Uint64
	nacksIgnored  [numNackOutcomes]atomic.Uint64
	plisSent      atomic.Uint64
}

func newCounters() *counters { return &counters{live: map[*upTrack]struct{}{}} }

func kindIndex(k Kind) int {
	if k == KindVideo {
		return 1
	}

	return 0
}

func (c *counters) addTrack(t *upTrack) {
	c.mu.Lock()
	c.live[t] = struct{}{}
	c.mu.Unlock()
}

// retireTrack folds an ended track's lane counters into the totals.
func (c *counters) retireTrack(t *upTrack) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.live[t]; !ok {
		return
	}
	delete(c.live, t)
	k := kindIndex(t.kind)
	for _, l := range t.allLanes() {
		c.retired.forwarded[k] += l.c.forwarded.Load()
		c.retired.bytes[k] += l.c.bytes.Load()
		for r := range c.retired.dropped {
			c.retired.dropped[r] += l.c.dropped[r].Load()
		}
	}
}

// sums adds up retired and live counters.
func (c *counters) sums() (fwd, bytes [2]uint64, dropped [numDropReasons]uint64, tracks int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fwd, bytes, dropped = c.retired.forwarded, c.retired.bytes, c.retired.dropped
	for t := range c.live {
		k := kindIndex(t.kind)
		for _, l := range t.allLanes() {
			fwd[k] += l.c.forwarded.Load()
			bytes[k] += l.c.bytes.Load()
			for r := range dropped {
				dropped[r] += l.c.dropped[r].Load()
			}
		}
	}

	return fwd, bytes, dropped, len(c.live)
}

// Stats returns the current counters.
func (s *SFU) Stats() Stats {
	fwd, bytes, dropped, tracks := s.counters.sums()
	rooms, peers := s.population()
	st := Stats{
		Rooms: rooms, Peers: peers, Tracks: tracks,
		PacketsForwarded: fwd[0] + fwd[1],
		ForwardedByKind:  map[Kind]uint64{KindAudio: fwd[0], KindVideo: fwd[1]},
		BytesForwarded:   bytes[0] + bytes[1],
		PacketsDropped:   map[string]uint64{},
		NACKsReceived:    s.counters.nacksReceived.Load(),
		NACKsAnswered:    s.counters.nacksAnswered.Load(),
		NACKsIgnored:     map[string]uint64{},
		PLIsSent:         s.counters.plisSent.Load(),
	}
	for r := dropMuted; r < numDropReasons; r++ {
		st.PacketsDropped[dropReasonNames[r]] = dropped[r]
	}
	for o := range numNackOutcomes {
		st.NACKsIgnored[nackOutcomeNames[o]] = s.counters.nacksIgnored[o].Load()
	}

	return st
}

// collector exports Stats to Prometheus at scrape time, so the forwarding path only touches its
// own lane's counters.
type collector struct {
	s                                 *SFU
	rooms, peers, tracks              *prometheus.Desc
	forwarded, bytes, dropped         *prometheus.Desc
	nacksReceived, nacksAnswered, pli *prometheus.Desc
	nacksIgnored                      *prometheus.Desc
}

func newCollector(s *SFU) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("parley_sfu_"+name, help, labels, nil)
	}

	return &collector{
		s:             s,
		rooms:         d("rooms", "Rooms with media state."),
		peers:         d("peers", "Participants with peer connections."),
		tracks:        d("published_tracks", "Tracks being received from publishers."),
		forwarded:     d("packets_forwarded_total", "RTP packets written to subscribers.", "kind"),
		bytes:         d("bytes_forwarded_total", "RTP payload bytes written to subscribers.", "kind"),
		dropped:       d("packets_dropped_total", "RTP packets not written to a subscriber.", "reason"),
		nacksReceived: d("nacks_received_total", "Sequence numbers subscribers asked to be resent."),
		nacksAnswered: d("nacks_answered_total", "Packets resent to subscribers from the cache."),
		nacksIgnored:  d("nacks_ignored_total", "Sequence numbers subscribers asked for and were not resent.", "reason"),
		pli:           d("plis_sent_total", "Keyframe requests sent to publishers."),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.rooms, c.peers, c.tracks, c.forwarded, c.bytes, c.dropped,
		c.nacksReceived, c.nacksAnswered, c.nacksIgnored, c.pli} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Stats()
	gauge := func(d *prometheus.Desc, v int) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(c.rooms, st.Rooms)
	gauge(c.peers, st.Peers)
	gauge(c.tracks, st.Tracks)
	fwd, bytes, _, _ := c.s.counters.sums()
	for _, k := range []Kind{KindAudio, KindVideo} {
		counter(c.forwarded, fwd[kindIndex(k)], string(k))
		counter(c.bytes, bytes[kindIndex(k)], string(k))
	}
	for reason, v := range st.PacketsDropped {
		counter(c.dropped, v, reason)
	}
	counter(c.nacksReceived, st.NACKsReceived)
	counter(c.nacksAnswered, st.NACKsAnswered)
	for reason, v := range st.NACKsIgnored {
		counter(c.nacksIgnored, v, reason)
	}
	counter(c.pli, st.PLIsSent)
}

// collectors registers and unregisters as one collector (the sfu's own and, with batched
// writes, its sockets').
type collectors []prometheus.Collector

func (cs collectors) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range cs {
		c.Describe(ch)
	}
}

func (cs collectors) Collect(ch chan<- prometheus.Metric) {
	for _, c := range cs {
		c.Collect(ch)
	}
}
