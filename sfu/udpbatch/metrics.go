package udpbatch

import "github.com/prometheus/client_golang/prometheus"

// collector exports the batched write path's counters: how many datagrams each sendmmsg carried
// (sent / batches), why queues were sent, how often writers found a queue full and what the
// kernel refused.
type collector struct {
	group                                              *Group
	sent, gso, batches, fullWaits, sendErrors, flushes *prometheus.Desc
}

// NewCollector exports group's counters to Prometheus as counters named prefix + "_udp_datagrams_sent_total",
// "_udp_gso_datagrams_total", "_udp_write_batches_total", "_udp_write_queue_waits_total",
// "_udp_write_errors_total" and "_udp_write_flushes_total" (by cause), read at scrape time.
func NewCollector(prefix string, group *Group) prometheus.Collector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prefix+"_udp_"+name, help, nil, nil)
	}

	return &collector{
		group:   group,
		sent:    d("datagrams_sent_total", "Datagrams the media sockets handed to the kernel."),
		gso:     d("gso_datagrams_total", "Of the datagrams sent, those sent several to one address in one message (UDP GSO)."),
		batches: d("write_batches_total", "sendmmsg calls of the media sockets (datagrams sent / batches = mean batch size)."),
		fullWaits: d("write_queue_waits_total",
			"Writes that found a media socket's queue full (and sent it, or waited for the goroutine sending)."),
		sendErrors: d("write_errors_total", "Datagrams the kernel refused, or still queued when a media socket closed."),
		flushes: prometheus.NewDesc(prefix+"_udp_write_flushes_total",
			"Write queues sent, by cause: unheld (a write while no fan-out held the sockets), released (the last "+
				"holder released), overdue (a datagram waited the longest hold), full, close.", []string{"cause"}, nil),
	}
}

func (w *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- w.sent
	ch <- w.gso
	ch <- w.batches
	ch <- w.fullWaits
	ch <- w.sendErrors
	ch <- w.flushes
}

func (w *collector) Collect(ch chan<- prometheus.Metric) {
	c := w.group.Snapshot()
	for _, m := range []struct {
		d *prometheus.Desc
		v uint64
	}{
		{w.sent, c.Sent},
		{w.gso, c.GSO},
		{w.batches, c.Batches},
		{w.fullWaits, c.FullWaits},
		{w.sendErrors, c.SendErrors},
	} {
		ch <- prometheus.MustNewConstMetric(m.d, prometheus.CounterValue, float64(m.v))
	}
	for i, n := range c.Flushes {
		ch <- prometheus.MustNewConstMetric(w.flushes, prometheus.CounterValue, float64(n), causeNames[i])
	}
}
