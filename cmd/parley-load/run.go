package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/internal/rtpstats"
)

// sample is the state of the run at one moment.
type sample struct {
	at             time.Time
	joined, failed int
	rx             rtpstats.Totals // audio and video
	audio, video   rtpstats.Totals
	server         serverSample
	serverErr      error
	self           processSample
	machine        float64 // CPU seconds used by every process of the machine
	machineOK      bool
	drops          udpDrops
}

// runner holds a run's parts.
type runner struct {
	cfg   config
	out   io.Writer
	fleet *fleet
	probe serverProbe
}

// run performs one load run and returns its results; progress goes to out.
func run(ctx context.Context, cfg config, out io.Writer) (*result, error) {
	plannedClients := cfg.meetings * (cfg.publishers + cfg.subscribers)
	// Every run ends by itself: joins at the ramp rate, each bounded, then the window.
	bound := time.Duration(float64(plannedClients)/cfg.ramp*float64(time.Second)) + joinTimeout + cfg.warmup + cfg.duration + time.Minute
	ctx, cancel := context.WithTimeout(ctx, bound+cfg.waitReady)
	defer cancel()

	logLevel := slog.LevelError
	if cfg.verbose {
		logLevel = slog.LevelWarn
	}
	r := &runner{
		cfg:   cfg,
		out:   out,
		probe: serverProbe{pid: cfg.serverPID, metricsURL: cfg.metricsURL, hc: &http.Client{}},
	}
	if cfg.waitReady > 0 {
		if err := waitReady(ctx, cfg.url, cfg.waitReady); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(out, "parley-load: %s against %s (loopback media: %v)\n", cfg.describe(), cfg.url, cfg.loopback)

	before := r.take(ctx)
	if before.serverErr != nil {
		return nil, before.serverErr
	}
	meetings, err := createMeetings(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create meetings: %w", err)
	}
	r.fleet = &fleet{cfg: cfg, members: plan(cfg, meetings),
		log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel}))}
	defer r.fleet.closeAll()

	progressCtx, stopProgress := context.WithCancel(ctx)
	var progressDone sync.WaitGroup
	progressDone.Add(1)
	go func() {
		defer progressDone.Done()
		r.progress(progressCtx, before)
	}()
	stopAndWait := func() {
		stopProgress()
		progressDone.Wait()
	}
	defer stopAndWait()

	rampStart := time.Now()
	r.fleet.rampJoins(ctx)
	rampTime := time.Since(rampStart)
	sleep(ctx, cfg.warmup)
	if !r.fleet.waitTracks(ctx, settleTimeout) {
		fmt.Fprintf(out, "parley-load: not every client receives every track %v after the warm-up; measuring anyway\n", settleTimeout)
	}

	stopProfile, err := startProfile(cfg.cpuProfile)
	if err != nil {
		return nil, err
	}
	winStart := r.take(ctx)
	sleep(ctx, cfg.duration)
	winEnd := r.take(ctx)
	stopProfile()
	stopAndWait()

	res := r.results(before, winStart, winEnd, rampTime)
	if err := ctx.Err(); err != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("the run was cut short (%v): the window is %.1f s", context.Cause(ctx), res.WindowSeconds))
	}
	printTable(out, res)
	return res, nil
}

// take samples the run now.
func (r *runner) take(ctx context.Context) sample {
	s := sample{at: time.Now(), self: selfSample()}
	s.machine, s.machineOK = machineBusy()
	s.drops = readUDPDrops(r.cfg.serverPID)
	if r.fleet != nil {
		s.joined, s.failed = r.fleet.counts()
		for _, m := range r.fleet.clients() {
			m.c.AddKindTotals(client.Audio, &s.audio)
			m.c.AddKindTotals(client.Video, &s.video)
		}
		s.rx = s.audio
		s.rx.Add(&s.video)
	}
	if r.probe.enabled() {
		s.server, s.serverErr = r.probe.sample(ctx)
	}
	return s
}

// progress prints a line every second until ctx ends.
func (r *runner) progress(ctx context.Context, first sample) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	prev := first
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur := r.take(ctx)
		if ctx.Err() != nil {
			return
		}
		fmt.Fprintln(r.out, progressLine(first.at, prev, cur, len(r.fleet.members)))
		prev = cur
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// startProfile starts a CPU profile of this process into path ("" profiles nothing).
func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// waitReady polls the server's /readyz until it answers 200.
func waitReady(ctx context.Context, base string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		last = err
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("server at %s not ready after %v: %w", base, limit, errors.Join(last, ctx.Err()))
		}
	}
}

// joinFigures gathers join latency and join-to-first-packet latency of the joined clients.
func joinFigures(members []*member) (join, first rtpstats.Histogram, noMedia int) {
	for _, m := range members {
		tm := m.c.Timing()
		join.Record(tm.Joined.Sub(tm.DialStart))
		if !m.expectsMedia {
			continue
		}
		if tm.FirstPacket.IsZero() {
			noMedia++
			continue
		}
		first.Record(tm.FirstPacket.Sub(tm.DialStart))
	}
	return join, first, noMedia
}

// settleTimeout bounds the wait, after the warm-up, for every joined client to receive every
// track of its meeting: on a busy machine negotiations finish late, and a window opened before
// them measures joins, not forwarding.
const settleTimeout = 30 * time.Second

// waitTracks waits until every joined client has a track from each kind of every other joined
// publisher of its meeting, or d passes; it reports whether they all did.
func (f *fleet) waitTracks(ctx context.Context, d time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	kinds := 2
	if f.cfg.audioOnly {
		kinds = 1
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		members := f.clients()
		publishers := map[*meetingState]int{}
		for _, m := range members {
			if m.publisher {
				publishers[m.meeting]++
			}
		}
		want := 0
		for _, m := range members {
			others := publishers[m.meeting]
			if m.publisher {
				others--
			}
			want += others * kinds
		}
		if subscribedTracks(members) >= want {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}

func subscribedTracks(members []*member) int {
	n := 0
	for _, m := range members {
		n += len(m.c.Tracks())
	}
	return n
}

// errorKey names a failed join for the report: its protocol code, or its text.
func errorKey(err error) string {
	if code := client.ErrorCode(err); code != "" {
		return code
	}
	s := err.Error()
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}
