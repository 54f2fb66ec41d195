package sfu

import "github.com/prometheus/client_golang/prometheus"

// writeCollector exports the batched write path's counters: how many datagrams each sendmmsg
// carried (sent / batches), how often writers waited for the flusher (it is the bottleneck) and
// what the kernel refused.
type writeCollector struct {
	stats                                     *writeStats
	sent, gso, batches, fullWaits, sendErrors *prometheus.Desc
}

// withWriteMetrics adds the batched writes' metrics to c; with batching off it returns c.
func withWriteMetrics(c prometheus.Collector, stats *writeStats) prometheus.Collector {
	if stats == nil {
		return c
	}

	return collectors{c, &writeCollector{
		stats: stats,
		sent: prometheus.NewDesc("parley_sfu_udp_datagrams_sent_total",
			"Datagrams the media sockets' flushers handed to the kernel.", nil, nil),
		gso: prometheus.NewDesc("parley_sfu_udp_gso_datagrams_total",
			"Of the datagrams sent, those sent several to one address in one message (UDP GSO).", nil, nil),
		batches: prometheus.NewDesc("parley_sfu_udp_write_batches_total",
			"sendmmsg calls of the media sockets' flushers (datagrams sent / batches = mean batch size).", nil, nil),
		fullWaits: prometheus.NewDesc("parley_sfu_udp_write_queue_waits_total",
			"Writes that waited for a media socket's flusher because its queue was full.", nil, nil),
		sendErrors: prometheus.NewDesc("parley_sfu_udp_write_errors_total",
			"Datagrams the kernel refused, or still queued when a media socket closed.", nil, nil),
	}}
}

func (w *writeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- w.sent
	ch <- w.gso
	ch <- w.batches
	ch <- w.fullWaits
	ch <- w.sendErrors
}

func (w *writeCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range []struct {
		d *prometheus.Desc
		v uint64
	}{
		{w.sent, w.stats.sent.Load()},
		{w.gso, w.stats.gso.Load()},
		{w.batches, w.stats.batches.Load()},
		{w.fullWaits, w.stats.fullWaits.Load()},
		{w.sendErrors, w.stats.sendErrors.Load()},
	} {
		ch <- prometheus.MustNewConstMetric(m.d, prometheus.CounterValue, float64(m.v))
	}
}

// collectors registers and unregisters as one collector.
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
