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

	// dropSkip is a packet of a layer the subscriber is not forwarding: not a drop, not counted.
	dropSkip dropReason = 255
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
	nackBudget                         // the subscriber's resend budget (bytes per second) is spent
	numNackOutcomes
)

var nackOutcomeNames = [numNackOutcomes]string{
	nackUnavailable: "unavailable",
	nackCongested:   "congested",
	nackTooOld:      "too_old",
	nackRepeated:    "repeated",
	nackBudget:      "budget",
}

// pliCause says why a keyframe was asked of a publisher.
type pliCause uint8

const (
	pliSubscriber pliCause = iota // a subscriber's PLI or FIR, passed on
	pliStart                      // a subscriber starts receiving the track
	pliSwitch                     // a subscriber switches to another layer
	pliResume                     // forwarding resumes after a pause (gate, off, bandwidth)
	pliLoss                       // the server dropped part of a keyframe (overload)
	pliRestart                    // the publisher restarted a stream with another SSRC
	pliRequest                    // RequestKeyframe (the domain asked)
	numPLICauses
)

var pliCauseNames = [numPLICauses]string{
	pliSubscriber: "subscriber",
	pliStart:      "start",
	pliSwitch:     "switch",
	pliResume:     "resume",
	pliLoss:       "loss",
	pliRestart:    "restart",
	pliRequest:    "request",
}

// bweBuckets are the upper bounds (bits per second) of the estimated bandwidth histogram.
var bweBuckets = []float64{100e3, 250e3, 500e3, 1e6, 2e6, 4e6, 8e6, 16e6}

// laneCounters are written only by the goroutine that runs one lane, so per-packet counting
// never contends with other tracks or lanes; a scrape sums them. The padding keeps two lanes'
// counters off one cache line.
type laneCounters struct {
	forwarded atomic.Uint64
	byLayer   [numLayers]atomic.Uint64
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
	// "too_old", "repeated", "budget"); a resend that failed to write is in none of them.
	NACKsIgnored map[string]uint64
	// BytesResent counts RTP payload bytes resent to subscribers for their NACKs.
	BytesResent uint64
	// CandidatesRefused counts clients' ICE candidates dropped for their address (candidates.go).
	CandidatesRefused uint64
	// PLIsSent counts keyframe requests sent to publishers; PLIsByCause splits them by why
	// ("subscriber", "start", "switch", "resume", "loss", "restart", "request").
	PLIsSent    uint64
	PLIsByCause map[string]uint64
	// ForwardedByLayer splits the video packets forwarded by simulcast layer ("q", "h", "f"; a
	// track sent as one encoding is "f").
	ForwardedByLayer map[string]uint64
	// LayerSwitches counts switches of a subscriber's track from one layer to another.
	LayerSwitches uint64
	// RefusedStreams counts RTP streams (SSRCs) publishers sent that no offer declared.
	RefusedStreams uint64
	// StreamRestarts counts declared streams that continued under a new SSRC.
	StreamRestarts uint64
	// PaddingPackets counts padding packets sent to probe subscribers' links; Probes counts the
	// probes, by result ("success", "failure").
	PaddingPackets uint64
	Probes         map[string]uint64
}

// counters holds the totals of tracks that have ended and the counters that are not per packet.
type counters struct {
	mu      sync.Mutex
	live    map[*upTrack]struct{}
	retired struct {
		forwarded [2]uint64 // by kindIndex
		byLayer   [numLayers]uint64
		bytes     [2]uint64
		dropped   [numDropReasons]uint64
	}
	nacksReceived     atomic.Uint64
	nacksAnswered     atomic.Uint64
	nacksIgnored      [numNackOutcomes]atomic.Uint64
	resentBytes       atomic.Uint64
	candidatesRefused atomic.Uint64
	plis              [numPLICauses]atomic.Uint64
	switches          atomic.Uint64
	refused           atomic.Uint64
	restarts          atomic.Uint64
	paddingSent       atomic.Uint64
	probesOK          atomic.Uint64
	probesFailed      atomic.Uint64
	bweBuckets        [9]atomic.Uint64 // len(bweBuckets)+1
	bweSumKbps        atomic.Uint64
	bweObservation    atomic.Uint64
}

// observeEstimate adds one subscriber's bandwidth estimate to the histogram.
func (c *counters) observeEstimate(bps int64) {
	i := 0
	for i < len(bweBuckets) && float64(bps) > bweBuckets[i] {
		i++
	}
	c.bweBuckets[i].Add(1)
	c.bweSumKbps.Add(uint64(bps / 1000))
	c.bweObservation.Add(1)
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
		for i := range c.retired.byLayer {
			if t.kind == KindVideo {
				c.retired.byLayer[i] += l.c.byLayer[i].Load()
			}
		}
		c.retired.bytes[k] += l.c.bytes.Load()
		for r := range c.retired.dropped {
			c.retired.dropped[r] += l.c.dropped[r].Load()
		}
	}
}

// laneSums are the per-lane counters added up.
type laneSums struct {
	fwd, bytes [2]uint64
	byLayer    [numLayers]uint64
	dropped    [numDropReasons]uint64
	tracks     int
}

// sums adds up retired and live counters.
func (c *counters) sums() (s laneSums) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s.fwd, s.bytes, s.dropped, s.byLayer = c.retired.forwarded, c.retired.bytes, c.retired.dropped, c.retired.byLayer
	fwd, bytes, dropped, byLayer := &s.fwd, &s.bytes, &s.dropped, &s.byLayer
	for t := range c.live {
		if t.kind == KindVideo {
			for _, l := range t.allLanes() {
				for i := range byLayer {
					byLayer[i] += l.c.byLayer[i].Load()
				}
			}
		}
		k := kindIndex(t.kind)
		for _, l := range t.allLanes() {
			fwd[k] += l.c.forwarded.Load()
			bytes[k] += l.c.bytes.Load()
			for r := range dropped {
				dropped[r] += l.c.dropped[r].Load()
			}
		}
	}

	s.tracks = len(c.live)

	return s
}

// Stats returns the current counters.
func (s *SFU) Stats() Stats {
	c := s.counters
	sum := c.sums()
	rooms, peers := s.population()
	st := Stats{
		Rooms: rooms, Peers: peers, Tracks: sum.tracks,
		PacketsForwarded:  sum.fwd[0] + sum.fwd[1],
		ForwardedByKind:   map[Kind]uint64{KindAudio: sum.fwd[0], KindVideo: sum.fwd[1]},
		BytesForwarded:    sum.bytes[0] + sum.bytes[1],
		PacketsDropped:    map[string]uint64{},
		NACKsReceived:     c.nacksReceived.Load(),
		NACKsAnswered:     c.nacksAnswered.Load(),
		NACKsIgnored:      map[string]uint64{},
		BytesResent:       c.resentBytes.Load(),
		CandidatesRefused: c.candidatesRefused.Load(),
		PLIsByCause:       map[string]uint64{},
		ForwardedByLayer:  map[string]uint64{},
		LayerSwitches:     c.switches.Load(),
		RefusedStreams:    c.refused.Load(),
		StreamRestarts:    c.restarts.Load(),
		PaddingPackets:    c.paddingSent.Load(),
		Probes:            map[string]uint64{"success": c.probesOK.Load(), "failure": c.probesFailed.Load()},
	}
	for r := dropMuted; r < numDropReasons; r++ {
		st.PacketsDropped[dropReasonNames[r]] = sum.dropped[r]
	}
	for o := range numNackOutcomes {
		st.NACKsIgnored[nackOutcomeNames[o]] = c.nacksIgnored[o].Load()
	}
	for cause := range numPLICauses {
		n := c.plis[cause].Load()
		st.PLIsByCause[pliCauseNames[cause]] = n
		st.PLIsSent += n
	}
	for i, rid := range layerRIDs {
		st.ForwardedByLayer[rid] = sum.byLayer[i]
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
	nacksIgnored, resentBytes         *prometheus.Desc
	candidatesRefused                 *prometheus.Desc
	byLayer, switches, refused        *prometheus.Desc
	restarts, padding, probes, bwe    *prometheus.Desc
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
		resentBytes:   d("resent_bytes_total", "RTP payload bytes resent to subscribers for their NACKs."),
		candidatesRefused: d("remote_candidates_refused_total",
			"Clients' ICE candidates dropped for naming a loopback, private or link-local address, or a name."),
		pli:      d("plis_sent_total", "Keyframe requests sent to publishers.", "cause"),
		byLayer:  d("layer_packets_forwarded_total", "Video packets written to subscribers, by simulcast layer.", "layer"),
		switches: d("layer_switches_total", "Switches of a subscriber's track from one simulcast layer to another."),
		refused:  d("refused_streams_total", "RTP streams (SSRCs) from publishers that no offer declared."),
		restarts: d("stream_restarts_total", "Declared streams that continued under a new SSRC."),
		padding:  d("padding_packets_total", "Padding packets sent to probe subscribers' links."),
		probes:   d("bandwidth_probes_total", "Probes of subscribers' links, by result.", "result"),
		bwe: d("subscriber_bandwidth_estimate_bits_per_second",
			"Subscribers' estimated downlink bandwidth, sampled once a second per subscriber."),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.rooms, c.peers, c.tracks, c.forwarded, c.bytes, c.dropped,
		c.nacksReceived, c.nacksAnswered, c.nacksIgnored, c.resentBytes, c.candidatesRefused, c.pli, c.byLayer, c.switches, c.refused,
		c.restarts, c.padding, c.probes, c.bwe} {
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
	sum := c.s.counters.sums()
	for _, k := range []Kind{KindAudio, KindVideo} {
		counter(c.forwarded, sum.fwd[kindIndex(k)], string(k))
		counter(c.bytes, sum.bytes[kindIndex(k)], string(k))
	}
	for reason, v := range st.PacketsDropped {
		counter(c.dropped, v, reason)
	}
	counter(c.nacksReceived, st.NACKsReceived)
	counter(c.nacksAnswered, st.NACKsAnswered)
	for reason, v := range st.NACKsIgnored {
		counter(c.nacksIgnored, v, reason)
	}
	counter(c.resentBytes, st.BytesResent)
	counter(c.candidatesRefused, st.CandidatesRefused)
	for cause, v := range st.PLIsByCause {
		counter(c.pli, v, cause)
	}
	for layer, v := range st.ForwardedByLayer {
		counter(c.byLayer, v, layer)
	}
	counter(c.switches, st.LayerSwitches)
	counter(c.refused, st.RefusedStreams)
	counter(c.restarts, st.StreamRestarts)
	counter(c.padding, st.PaddingPackets)
	for result, v := range st.Probes {
		counter(c.probes, v, result)
	}
	ctr := c.s.counters
	buckets := make(map[float64]uint64, len(bweBuckets))
	var cum uint64
	for i, ub := range bweBuckets {
		cum += ctr.bweBuckets[i].Load()
		buckets[ub] = cum
	}
	ch <- prometheus.MustNewConstHistogram(c.bwe, ctr.bweObservation.Load(), float64(ctr.bweSumKbps.Load())*1000, buckets)
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
