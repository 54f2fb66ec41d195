package pionlog

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// fault indexes faultList.
type fault int

// faultList is what Pion says when a connection fails for a reason an operator can act on (a
// firewall, a middlebox breaking DTLS, a socket the server cannot open), each under the name
// its counter has. Everything else Pion warns about is a connection's ordinary life.
var faultList = []struct{ name, prefix string }{
	// webrtc: ICE did not connect or the DTLS handshake did not complete (a firewall, a
	// middlebox, a fingerprint that does not match the SDP).
	{"transport_start", "Failed to start manager"},
	// webrtc: DTLS completed but the keys for media could not be set up.
	{"srtp_start", "Failed to start SRTP"},
	{"sctp_start", "Failed to start SCTP"},
	// webrtc: the demultiplexer of a connection's socket stopped on a read error.
	{"mux_read", "mux: ending readLoop"},
	// ice: sockets or interfaces the server needs are not there.
	{"listen", "Failed to listen"},
	{"interfaces", "Failed to iterate local interfaces"},
	{"address_rewrite", "Address rewrite mapping is enabled but"},
}

// Faults counts the faults Pion reported, by kind, for the metric parley_pion_faults_total. It is
// a prometheus.Collector; the zero value is not usable, use NewFaults.
type Faults struct {
	counts []atomic.Uint64
	desc   *prometheus.Desc
}

// NewFaults returns a counter of every fault kind, all at zero.
func NewFaults() *Faults {
	return &Faults{
		counts: make([]atomic.Uint64, len(faultList)),
		desc: prometheus.NewDesc("parley_pion_faults_total",
			"Connection failures Pion reported that an operator may act on (ICE or DTLS not completing, SRTP setup, sockets), by kind; each is also logged as a warning.",
			[]string{"fault"}, nil),
	}
}

func (f *Faults) add(k fault) {
	if f != nil {
		f.counts[k].Add(1)
	}
}

// Count returns how many faults of the kind named (as in the metric's label) were reported.
func (f *Faults) Count(name string) uint64 {
	for i, x := range faultList {
		if x.name == name {
			return f.counts[i].Load()
		}
	}
	return 0
}

// Describe implements prometheus.Collector.
func (f *Faults) Describe(ch chan<- *prometheus.Desc) { ch <- f.desc }

// Collect implements prometheus.Collector: every kind, zeros included, so a dashboard sees the
// series before the first fault.
func (f *Faults) Collect(ch chan<- prometheus.Metric) {
	for i, x := range faultList {
		ch <- prometheus.MustNewConstMetric(f.desc, prometheus.CounterValue, float64(f.counts[i].Load()), x.name)
	}
}
