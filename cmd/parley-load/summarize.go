package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// summarize prints the results of earlier runs (their -json files) as one markdown table, for
// docs/benchmarks.md.
func summarize(w io.Writer, files []string) error {
	if len(files) == 0 {
		return fmt.Errorf("summarize: no result files given")
	}
	fmt.Fprintln(w, "| scenario | clients | joins/s | join→first packet p50 / p99 | received | loss | one-way delay p50 / p99 | server CPU | CPU per forwarded packet | server RSS added per subscriber / per subscribed track | load generator CPU | other processes |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("summarize: %w", err)
		}
		var r result
		if err := json.Unmarshal(data, &r); err != nil {
			return fmt.Errorf("summarize %s: %w", f, err)
		}
		server, perPkt, mem := "–", "–", "–"
		if s := r.Server; s != nil {
			server = fmt.Sprintf("%.2f cores", s.CPUCores)
			perPkt = fmt.Sprintf("%.1f µs (%s pkt/s)", s.CPUMicrosPerPacket, si(s.PacketsPerSecond))
			mem = fmt.Sprintf("%s / %s", kib(s.RSSAddedPerSubscriber), kib(s.RSSPerSubscribedTrack))
		}
		others := "–"
		if m := r.Machine; m != nil {
			others = fmt.Sprintf("%.2f cores", m.OthersCores)
		}
		fmt.Fprintf(w, "| %s | %d/%d | %.1f | %.0f / %.0f ms | %s pkt/s, %s | %.3f%% | %.2f / %.2f ms | %s | %s | %s | %.2f cores | %s |\n",
			r.Scenario, r.Joins.Joined, r.Joins.Planned, r.Joins.PerSecond, r.Joins.FirstPacket.P50Ms, r.Joins.FirstPacket.P99Ms,
			si(r.Received.PacketsPerSecond), bitrate(r.Received.BitsPerSecond), 100*r.Received.LossRatio,
			r.Received.Delay.P50Ms, r.Received.Delay.P99Ms, server, perPkt, mem, r.LoadGenerator.CPUCores, others)
	}
	return nil
}
