package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/parleyhq/parley/internal/rtpstats"
	"github.com/parleyhq/parley/wire"
)

// result is a run's figures, as printed and as written with -json.
type result struct {
	Date     string      `json:"date"`
	Scenario string      `json:"scenario"`
	URL      string      `json:"url"`
	Config   configFacts `json:"config"`
	Joins    joinResult  `json:"joins"`
	// WindowSeconds is the measurement window's length; Received and Server cover it.
	WindowSeconds float64        `json:"windowSeconds"`
	Received      receivedResult `json:"received"`
	Server        *serverResult  `json:"server,omitempty"`
	LoadGenerator processResult  `json:"loadGenerator"`
	// Machine is the CPU used by every process of the machine in the window, and by the
	// processes other than the server and the load generator (when the server's CPU is known):
	// on a shared machine, figures taken while others are busy are starved.
	Machine *machineResult `json:"machine,omitempty"`
	Notes   []string       `json:"notes,omitempty"`
}

type configFacts struct {
	Meetings         int            `json:"meetings"`
	Publishers       int            `json:"publishersPerMeeting"`
	Subscribers      int            `json:"subscribersPerMeeting"`
	AudioOnly        bool           `json:"audioOnly"`
	VideoCodec       string         `json:"videoCodec,omitempty"`
	VideoBitrate     int            `json:"videoBitrate,omitempty"`
	FPS              int            `json:"fps,omitempty"`
	KeyframeInterval string         `json:"keyframeInterval,omitempty"`
	Ramp             float64        `json:"rampJoinsPerSecond"`
	Warmup           string         `json:"warmup"`
	Loopback         bool           `json:"loopback"`
	Interceptors     string         `json:"interceptors"`
	SpreadSources    bool           `json:"spreadSources"`
	Simulcast        bool           `json:"simulcast,omitempty"`
	Qualities        []wire.Quality `json:"qualities,omitempty"`
}

type latency struct {
	Count uint64  `json:"count"`
	P50Ms float64 `json:"p50Ms"`
	P99Ms float64 `json:"p99Ms"`
	MaxMs float64 `json:"maxMs"`
}

func latencyOf(h *rtpstats.Histogram) latency {
	return latency{Count: h.Count(), P50Ms: ms(h.Quantile(0.5)), P99Ms: ms(h.Quantile(0.99)), MaxMs: ms(h.Max())}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type joinResult struct {
	Planned   int            `json:"planned"`
	Joined    int            `json:"joined"`
	Failed    int            `json:"failed"`
	Errors    map[string]int `json:"errors,omitempty"`
	PerSecond float64        `json:"perSecond"`
	// Latency is from dialing to the joined answer (publishers: before publishing).
	Latency latency `json:"latency"`
	// FirstPacket is from dialing to the first media packet received, for the clients that
	// joined while another publisher of their meeting was already publishing.
	FirstPacket latency `json:"firstPacket"`
	// NoMedia counts such clients that received nothing at all.
	NoMedia int `json:"noMedia"`
}

type receivedResult struct {
	Packets          uint64  `json:"packets"`
	Expected         uint64  `json:"expected"`
	PacketsPerSecond float64 `json:"packetsPerSecond"`
	BitsPerSecond    float64 `json:"bitsPerSecond"`
	LossRatio        float64 `json:"lossRatio"`
	// Delay is the one-way delay from the publisher's send stamp to the subscriber's read:
	// on one machine, the delay the server (and both clients' stacks) add.
	Delay            latency `json:"delay"`
	DelayMeanMs      float64 `json:"delayMeanMs"`
	SubscribedTracks int     `json:"subscribedTracks"`
	// Audio and Video split the figures by kind (audio is not retransmitted: its delay is the
	// forwarding path's alone).
	Audio kindResult  `json:"audio"`
	Video *kindResult `json:"video,omitempty"`
	// KernelDrops counts datagrams the kernel dropped for full receive buffers, on the server's
	// sockets (known with -server-pid) and on the load generator's, in the window.
	KernelDrops *kernelDrops `json:"kernelDrops,omitempty"`
}

type kernelDrops struct {
	Server        uint64 `json:"server"`
	LoadGenerator uint64 `json:"loadGenerator"`
}

type kindResult struct {
	PacketsPerSecond float64 `json:"packetsPerSecond"`
	LossRatio        float64 `json:"lossRatio"`
	Delay            latency `json:"delay"`
}

func kindOf(end, start rtpstats.Totals, win float64) kindResult {
	end.Sub(&start)
	k := kindResult{LossRatio: end.LossRatio(), Delay: latencyOf(&end.Delay)}
	if win > 0 {
		k.PacketsPerSecond = float64(end.Packets) / win
	}
	return k
}

type serverResult struct {
	CPUCores float64 `json:"cpuCores"`
	// CPUMicrosPerPacket is CPU time per forwarded packet; PacketsPerSecondSource says whether
	// forwarded packets came from the server's metrics or from what the clients received.
	CPUMicrosPerPacket     float64 `json:"cpuMicrosPerPacket"`
	PacketsPerSecond       float64 `json:"forwardedPacketsPerSecond"`
	PacketsPerSecondSource string  `json:"forwardedPacketsSource"`
	RSSBytes               float64 `json:"rssBytes"`
	BaselineRSSBytes       float64 `json:"baselineRssBytes"`
	RSSPerParticipant      float64 `json:"rssPerParticipantBytes"`
	RSSPerSubscribedTrack  float64 `json:"rssPerSubscribedTrackBytes"`
	// RSSAddedPerSubscriber is (RSS − baseline) / subscribers: what one more subscriber costs
	// (per client when the run has no subscribers, e.g. everyone publishing).
	RSSAddedPerSubscriber float64            `json:"rssAddedPerSubscriberBytes"`
	Dropped               map[string]float64 `json:"droppedInWindow,omitempty"`
}

type machineResult struct {
	CPUs        int     `json:"cpus"`
	BusyCores   float64 `json:"busyCores"`
	OthersCores float64 `json:"othersCores"`
}

type processResult struct {
	CPUCores float64 `json:"cpuCores"`
	RSSBytes float64 `json:"rssBytes"`
}

func (r *runner) results(before, start, end sample, rampTime time.Duration) *result {
	cfg := r.cfg
	members := r.fleet.clients()
	res := &result{
		Date:     time.Now().UTC().Format(time.RFC3339),
		Scenario: cfg.describe(),
		URL:      cfg.url,
		Config: configFacts{
			Meetings: cfg.meetings, Publishers: cfg.publishers, Subscribers: cfg.subscribers,
			AudioOnly: cfg.audioOnly, Ramp: cfg.ramp, Warmup: cfg.warmup.String(), Loopback: cfg.loopback,
			Interceptors: cfg.interceptors, SpreadSources: cfg.spreadSources,
			Simulcast: cfg.simulcast, Qualities: cfg.qualities,
		},
	}
	if !cfg.audioOnly {
		res.Config.VideoCodec, res.Config.VideoBitrate, res.Config.FPS = cfg.videoCodec, cfg.videoBitrate, cfg.fps
		res.Config.KeyframeInterval = cfg.keyframeInterval.String()
	}

	// Joins.
	join, first, noMedia := joinFigures(members)
	_, failed := r.fleet.counts()
	res.Joins = joinResult{
		Planned: len(r.fleet.members), Joined: len(members), Failed: failed,
		Latency: latencyOf(&join), FirstPacket: latencyOf(&first), NoMedia: noMedia,
	}
	if rampTime > 0 {
		res.Joins.PerSecond = float64(len(members)) / rampTime.Seconds()
	}
	for _, m := range r.fleet.members {
		if m.err != nil {
			if res.Joins.Errors == nil {
				res.Joins.Errors = map[string]int{}
			}
			res.Joins.Errors[errorKey(m.err)]++
		}
	}

	// Media in the window.
	win := end.at.Sub(start.at).Seconds()
	res.WindowSeconds = win
	rx := end.rx
	rx.Sub(&start.rx)
	res.Received = receivedResult{
		Packets: rx.Packets, Expected: rx.Expected, LossRatio: rx.LossRatio(),
		Delay: latencyOf(&rx.Delay), DelayMeanMs: ms(rx.Delay.Mean()),
		SubscribedTracks: subscribedTracks(members),
	}
	if start.drops.ok && end.drops.ok {
		res.Received.KernelDrops = &kernelDrops{
			Server:        end.drops.server - min(end.drops.server, start.drops.server),
			LoadGenerator: end.drops.load - min(end.drops.load, start.drops.load),
		}
	}
	res.Received.Audio = kindOf(end.audio, start.audio, win)
	if !cfg.audioOnly {
		v := kindOf(end.video, start.video, win)
		res.Received.Video = &v
	}
	if win > 0 {
		res.Received.PacketsPerSecond = float64(rx.Packets) / win
		res.Received.BitsPerSecond = float64(rx.Bytes) * 8 / win
	}

	// The server.
	if r.probe.enabled() && end.server.process.ok && start.server.process.ok && win > 0 {
		s := &serverResult{
			CPUCores:         (end.server.process.cpuSeconds - start.server.process.cpuSeconds) / win,
			RSSBytes:         end.server.process.rssBytes,
			BaselineRSSBytes: before.server.process.rssBytes,
		}
		fwd, source := float64(rx.Packets), "packets received by the clients"
		if end.server.metricsOK && start.server.metricsOK {
			fwd, source = end.server.forwarded-start.server.forwarded, "server metrics"
			s.Dropped = map[string]float64{}
			for reason, v := range end.server.dropped {
				if d := v - start.server.dropped[reason]; d > 0 {
					s.Dropped[reason] = d
				}
			}
		}
		s.PacketsPerSecond, s.PacketsPerSecondSource = fwd/win, source
		if fwd > 0 {
			s.CPUMicrosPerPacket = (end.server.process.cpuSeconds - start.server.process.cpuSeconds) * 1e6 / fwd
		}
		if n := len(members); n > 0 {
			s.RSSPerParticipant = s.RSSBytes / float64(n)
		}
		if n := res.Received.SubscribedTracks; n > 0 && before.server.process.ok {
			s.RSSPerSubscribedTrack = (s.RSSBytes - s.BaselineRSSBytes) / float64(n)
		}
		subs := min(cfg.meetings*cfg.subscribers, len(members))
		if subs == 0 {
			subs = len(members)
		}
		if subs > 0 && before.server.process.ok {
			s.RSSAddedPerSubscriber = (s.RSSBytes - s.BaselineRSSBytes) / float64(subs)
		}
		res.Server = s
	} else if r.probe.enabled() {
		res.Notes = append(res.Notes, fmt.Sprintf("no server figures: %v", end.serverErr))
	}
	if win > 0 {
		res.LoadGenerator = processResult{CPUCores: (end.self.cpuSeconds - start.self.cpuSeconds) / win, RSSBytes: end.self.rssBytes}
	}
	if win > 0 && start.machineOK && end.machineOK {
		m := &machineResult{CPUs: runtime.NumCPU(), BusyCores: (end.machine - start.machine) / win}
		m.OthersCores = m.BusyCores - res.LoadGenerator.CPUCores
		if res.Server != nil {
			m.OthersCores -= res.Server.CPUCores
		}
		m.OthersCores = max(0, m.OthersCores)
		res.Machine = m
		if m.OthersCores > 0.25 {
			res.Notes = append(res.Notes, fmt.Sprintf("other processes used %.2f of the %d CPUs during the window: the figures are those of a shared, busier machine", m.OthersCores, m.CPUs))
		}
	}
	return res
}

func progressLine(t0 time.Time, prev, cur sample, planned int) string {
	var b strings.Builder
	dt := cur.at.Sub(prev.at).Seconds()
	rx := cur.rx
	rx.Sub(&prev.rx)
	fmt.Fprintf(&b, "[%4.0fs] joined %d/%d", cur.at.Sub(t0).Seconds(), cur.joined, planned)
	if cur.failed > 0 {
		fmt.Fprintf(&b, " (%d failed)", cur.failed)
	}
	fmt.Fprintf(&b, " +%d/s | rx %s pkt/s %s | loss %.3f%% | delay p50 %s p99 %s",
		int(float64(cur.joined-prev.joined)/dt+0.5), si(float64(rx.Packets)/dt), bitrate(float64(rx.Bytes)*8/dt),
		100*rx.LossRatio(), shortDur(rx.Delay.Quantile(0.5)), shortDur(rx.Delay.Quantile(0.99)))
	if p, q := prev.server, cur.server; p.process.ok && q.process.ok {
		cpu := q.process.cpuSeconds - p.process.cpuSeconds
		fmt.Fprintf(&b, " | server %.2f cores", cpu/dt)
		fwd := float64(rx.Packets)
		if p.metricsOK && q.metricsOK {
			fwd = q.forwarded - p.forwarded
		}
		if fwd > 0 {
			fmt.Fprintf(&b, " %.1f µs/pkt", cpu*1e6/fwd)
		}
		fmt.Fprintf(&b, " rss %s", mib(q.process.rssBytes))
	}
	fmt.Fprintf(&b, " | load %.2f cores", (cur.self.cpuSeconds-prev.self.cpuSeconds)/dt)
	if prev.machineOK && cur.machineOK {
		fmt.Fprintf(&b, " | machine %.2f cores", (cur.machine-prev.machine)/dt)
	}
	return b.String()
}

func printTable(w io.Writer, r *result) {
	fmt.Fprintf(w, "\n%s, window %.1f s\n", r.Scenario, r.WindowSeconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "  %s\t%s\n", k, fmt.Sprintf(format, args...)) }
	j := r.Joins
	row("joins", "%d of %d (%d failed), %.1f joins/s", j.Joined, j.Planned, j.Failed, j.PerSecond)
	for _, k := range slices.Sorted(maps.Keys(j.Errors)) {
		row("  join error", "%dx %s", j.Errors[k], k)
	}
	row("join latency", "p50 %.1f ms, p99 %.1f ms", j.Latency.P50Ms, j.Latency.P99Ms)
	row("join to first packet", "p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d clients; %d without media)",
		j.FirstPacket.P50Ms, j.FirstPacket.P99Ms, j.FirstPacket.MaxMs, j.FirstPacket.Count, j.NoMedia)
	rx := r.Received
	row("received", "%s pkt/s, %s (%d subscribed tracks)", si(rx.PacketsPerSecond), bitrate(rx.BitsPerSecond), rx.SubscribedTracks)
	row("loss", "%.4f%% (%d of %d expected)", 100*rx.LossRatio, int64(rx.Expected)-int64(rx.Packets), rx.Expected)
	row("one-way delay", "p50 %.2f ms, p99 %.2f ms, max %.1f ms, mean %.2f ms", rx.Delay.P50Ms, rx.Delay.P99Ms, rx.Delay.MaxMs, rx.DelayMeanMs)
	kindRow := func(name string, k kindResult) {
		row("  "+name, "%s pkt/s, loss %.4f%%, delay p50 %.2f ms, p99 %.2f ms", si(k.PacketsPerSecond), 100*k.LossRatio, k.Delay.P50Ms, k.Delay.P99Ms)
	}
	if d := rx.KernelDrops; d != nil && (d.Server > 0 || d.LoadGenerator > 0) {
		row("  kernel UDP drops", "server sockets %d, load generator sockets %d (full receive buffers)", d.Server, d.LoadGenerator)
	}
	kindRow("audio", rx.Audio)
	if rx.Video != nil {
		kindRow("video", *rx.Video)
	}
	if s := r.Server; s != nil {
		row("server CPU", "%.2f cores", s.CPUCores)
		row("server CPU per packet", "%.2f µs (%s pkt/s forwarded, from %s)", s.CPUMicrosPerPacket, si(s.PacketsPerSecond), s.PacketsPerSecondSource)
		row("server memory", "RSS %s (baseline %s): %s added per subscriber, %s per subscribed track, %s per participant",
			mib(s.RSSBytes), mib(s.BaselineRSSBytes), kib(s.RSSAddedPerSubscriber), kib(s.RSSPerSubscribedTrack), kib(s.RSSPerParticipant))
		for _, k := range slices.Sorted(maps.Keys(s.Dropped)) {
			row("  server dropped", "%s: %.0f", k, s.Dropped[k])
		}
	}
	row("load generator", "%.2f cores, RSS %s", r.LoadGenerator.CPUCores, mib(r.LoadGenerator.RSSBytes))
	if m := r.Machine; m != nil {
		row("machine", "%.2f of %d cores busy, %.2f by other processes", m.BusyCores, m.CPUs, m.OthersCores)
	}
	tw.Flush()
	for _, n := range r.Notes {
		fmt.Fprintln(w, "  note:", n)
	}
}

func writeJSON(path string, r *result) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

func si(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func bitrate(bps float64) string { return fmt.Sprintf("%.2f Mbit/s", bps/1e6) }

func mib(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }

func kib(b float64) string { return fmt.Sprintf("%.0f KiB", b/(1<<10)) }

func shortDur(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%dµs", d.Microseconds())
	}
	return fmt.Sprintf("%.1fms", ms(d))
}
