package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/procfs"
)

// processSample is a process's CPU time and resident memory.
type processSample struct {
	ok         bool
	cpuSeconds float64
	rssBytes   float64
}

// serverSample is what the server's PID and metrics tell at one moment.
type serverSample struct {
	process processSample
	// From /metrics.
	metricsOK bool
	forwarded float64            // parley_sfu_packets_forwarded_total, all kinds
	dropped   map[string]float64 // parley_sfu_packets_dropped_total by reason
	peers     float64
}

// Metric names the server exposes (sfu and Go process collectors).
const (
	metricForwarded = "parley_sfu_packets_forwarded_total"
	metricDropped   = "parley_sfu_packets_dropped_total"
	metricPeers     = "parley_sfu_peers"
	metricCPU       = "process_cpu_seconds_total"
	metricRSS       = "process_resident_memory_bytes"
)

// serverProbe samples the server's figures from its PID and/or metrics URL.
type serverProbe struct {
	pid        int
	metricsURL string
	hc         *http.Client
}

func (p *serverProbe) enabled() bool { return p.pid > 0 || p.metricsURL != "" }

func (p *serverProbe) sample(ctx context.Context) (serverSample, error) {
	var s serverSample
	var errs []error
	if p.pid > 0 {
		ps, err := pidSample(p.pid)
		if err != nil {
			errs = append(errs, err)
		}
		s.process = ps
	}
	if p.metricsURL != "" {
		fams, err := p.scrape(ctx)
		if err != nil {
			errs = append(errs, err)
		} else {
			s.metricsOK = true
			s.forwarded = sum(fams[metricForwarded])
			s.peers = sum(fams[metricPeers])
			s.dropped = byLabel(fams[metricDropped], "reason")
			if !s.process.ok {
				if cpu, rss := fams[metricCPU], fams[metricRSS]; cpu != nil && rss != nil {
					s.process = processSample{ok: true, cpuSeconds: sum(cpu), rssBytes: sum(rss)}
				}
			}
		}
	}
	if len(errs) > 0 {
		return s, fmt.Errorf("server figures: %v", errs)
	}
	return s, nil
}

func (p *serverProbe) scrape(ctx context.Context) (map[string]*dto.MetricFamily, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.metricsURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain")
	// Uncompressed: gzipping the metrics every second made the server allocate a compressor
	// each time (a sixth of its garbage at 1 x 100), work a real Prometheus scraping every 15 s
	// does not cause, which the figures must not include.
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := p.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", p.metricsURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: HTTP %d", p.metricsURL, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", p.metricsURL, err)
	}
	return fams, nil
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return 0
}

func sum(f *dto.MetricFamily) float64 {
	if f == nil {
		return 0
	}
	var v float64
	for _, m := range f.Metric {
		v += value(m)
	}
	return v
}

func byLabel(f *dto.MetricFamily, label string) map[string]float64 {
	out := map[string]float64{}
	if f == nil {
		return out
	}
	for _, m := range f.Metric {
		for _, l := range m.Label {
			if l.GetName() == label {
				out[l.GetValue()] += value(m)
			}
		}
	}
	return out
}

// pidSample reads a process's CPU time and RSS from /proc.
func pidSample(pid int) (processSample, error) {
	proc, err := procfs.NewProc(pid)
	if err != nil {
		return processSample{}, fmt.Errorf("process %d: %w", pid, err)
	}
	st, err := proc.Stat()
	if err != nil {
		return processSample{}, fmt.Errorf("process %d: %w", pid, err)
	}
	return processSample{ok: true, cpuSeconds: st.CPUTime(), rssBytes: float64(st.ResidentMemory())}, nil
}

// selfSample is the load generator's own CPU time (from getrusage, to the microsecond) and RSS.
func selfSample() processSample {
	s := processSample{ok: true, cpuSeconds: selfCPU()}
	if proc, err := procfs.Self(); err == nil {
		if st, err := proc.Stat(); err == nil {
			s.rssBytes = float64(st.ResidentMemory())
		}
	}
	return s
}

// machineBusy is the CPU time all processes of this machine have used, in seconds (all CPUs
// together): with the server's and the load generator's own, it tells how much CPU others took
// during a run on a shared machine.
func machineBusy() (float64, bool) {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return 0, false
	}
	st, err := fs.Stat()
	if err != nil {
		return 0, false
	}
	c := st.CPUTotal
	return c.User + c.Nice + c.System + c.IRQ + c.SoftIRQ + c.Steal, true
}

// udpDrops counts the datagrams the kernel dropped on the server's and on the load
// generator's UDP sockets (full receive buffers): loss that happens before any process reads.
type udpDrops struct {
	ok           bool
	server, load uint64
}

func readUDPDrops(serverPID int) udpDrops {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return udpDrops{}
	}
	table, err := fs.NetUDP()
	if err != nil {
		return udpDrops{}
	}
	serverSockets := socketInodes(serverPID)
	loadSockets := socketInodes(os.Getpid())
	var d udpDrops
	d.ok = true
	for _, line := range table {
		if line.Drops == nil {
			continue
		}
		switch {
		case serverSockets[line.Inode]:
			d.server += *line.Drops
		case loadSockets[line.Inode]:
			d.load += *line.Drops
		}
	}
	return d
}

// socketInodes returns the inodes of the sockets process pid has open.
func socketInodes(pid int) map[uint64]bool {
	out := map[uint64]bool{}
	if pid <= 0 {
		return out
	}
	proc, err := procfs.NewProc(pid)
	if err != nil {
		return out
	}
	targets, err := proc.FileDescriptorTargets()
	if err != nil {
		return out
	}
	for _, t := range targets {
		var inode uint64
		if _, err := fmt.Sscanf(t, "socket:[%d]", &inode); err == nil {
			out[inode] = true
		}
	}
	return out
}
