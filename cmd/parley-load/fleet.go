package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/wire"
)

// member is one client of the run.
type member struct {
	index     int
	meeting   *meetingState
	publisher bool
	host      bool
	name      string

	// Filled by join.
	c            *client.Client
	expectsMedia bool // another publisher of its meeting was publishing when it started
	err          error
}

type meetingState struct {
	index      int
	created    wire.Created
	publishing atomic.Int32
}

// fleet is every client of the run.
type fleet struct {
	cfg     config
	log     *slog.Logger
	members []*member

	mu     sync.Mutex
	joined []*member // members whose join (and publish) succeeded, in completion order
	failed []*member
}

// createMeetings creates the run's meetings.
func createMeetings(ctx context.Context, cfg config) ([]*meetingState, error) {
	meetings := make([]*meetingState, cfg.meetings)
	for i := range meetings {
		hc, done := sourceClient(cfg, sourceCreate, i)
		created, err := client.API{BaseURL: cfg.url, HTTPClient: hc}.CreateMeeting(ctx, fmt.Sprintf("Load host %d", i+1))
		done()
		if err != nil {
			return nil, fmt.Errorf("meeting %d: %w", i+1, err)
		}
		meetings[i] = &meetingState{index: i, created: created}
	}
	return meetings, nil
}

// plan orders the joins: every meeting's publishers first (the host leading), then the
// subscribers, spread over the meetings in turn.
func plan(cfg config, meetings []*meetingState) []*member {
	var ms []*member
	add := func(m *member) {
		m.index = len(ms)
		ms = append(ms, m)
	}
	for _, mt := range meetings {
		for p := 0; p < cfg.publishers; p++ {
			add(&member{meeting: mt, publisher: true, host: p == 0, name: fmt.Sprintf("Publisher %d-%d", mt.index+1, p+1)})
		}
	}
	for s := 0; s < cfg.subscribers; s++ {
		for _, mt := range meetings {
			add(&member{meeting: mt, name: fmt.Sprintf("Subscriber %d-%d", mt.index+1, s+1)})
		}
	}
	return ms
}

// rampJoins starts one join every 1/ramp seconds and returns when all have finished.
func (f *fleet) rampJoins(ctx context.Context) {
	interval := time.Duration(float64(time.Second) / f.cfg.ramp)
	start := time.Now()
	var wg sync.WaitGroup
	timer := time.NewTimer(0)
	defer timer.Stop()
	for i, m := range f.members {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				wg.Wait()
				return
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.join(ctx, m)
		}()
	}
	wg.Wait()
}

// joinTimeout bounds one join with its publish.
const joinTimeout = 30 * time.Second

func (f *fleet) join(ctx context.Context, m *member) {
	ctx, cancel := context.WithTimeout(ctx, joinTimeout)
	defer cancel()
	m.expectsMedia = m.meeting.publishing.Load() > 0
	hc, done := sourceClient(f.cfg, sourceJoin, m.index)
	defer done()
	opts := client.Options{
		BaseURL: f.cfg.url, MeetingID: m.meeting.created.MeetingID, Name: m.name,
		Loopback: f.cfg.loopback, Logger: f.log, MaxLog: 64, HTTPClient: hc,
		Interceptors: f.cfg.clientInterceptors(),
	}
	if m.host {
		opts.HostKey = m.meeting.created.HostKey
	}
	c, err := client.Dial(ctx, opts)
	if err == nil {
		m.c = c
		if m.publisher {
			if err = c.Publish(ctx, f.cfg.publishOptions()); err == nil {
				m.meeting.publishing.Add(1)
			}
		} else if len(f.cfg.qualities) > 0 && m.expectsMedia {
			err = askQuality(ctx, c, f.cfg.qualities[m.index%len(f.cfg.qualities)])
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		m.err = err
		f.failed = append(f.failed, m)
		return
	}
	f.joined = append(f.joined, m)
}

// clients returns the members that joined.
func (f *fleet) clients() []*member {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*member(nil), f.joined...)
}

func (f *fleet) counts() (joined, failed int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.joined), len(f.failed)
}

// closeAll closes every client, a few at a time.
func (f *fleet) closeAll() {
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for _, m := range f.members {
		if m.c == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			m.c.Close()
		}()
	}
	wg.Wait()
}

// Source address kinds: meeting creations and joins get addresses from separate ranges.
const (
	sourceCreate = 2
	sourceJoin   = 1
)

// sourceClient returns the HTTP client for the i-th creation or join: with -spread-sources
// its connections come from an address of its own in 127.0.0.0/8, as distinct users' would
// (a server limits joins and creations per address); otherwise the default client. done
// releases its idle connections.
func sourceClient(cfg config, kind, i int) (*http.Client, func()) {
	if !cfg.spreadSources {
		return nil, func() {}
	}
	ip := net.IPv4(127, byte(kind), byte(i/250), byte(i%250+2))
	tr := &http.Transport{
		DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 10 * time.Second}).DialContext,
	}
	return &http.Client{Transport: tr}, tr.CloseIdleConnections
}

// askQuality waits for the cameras c receives and asks each for q.
func askQuality(ctx context.Context, c *client.Client, q wire.Quality) error {
	hasVideo := func(m map[client.TrackKey]client.TrackInfo) bool {
		for k := range m {
			if k.Kind == client.Video {
				return true
			}
		}
		return false
	}
	if err := c.WaitTracks(ctx, hasVideo); err != nil {
		return fmt.Errorf("ask quality %s: %w", q, err)
	}
	for k := range c.Tracks() {
		if k.Kind != client.Video {
			continue
		}
		if err := c.SetVideoQuality(ctx, k.StreamID, wire.SourceCamera, q); err != nil {
			return err
		}
	}
	return nil
}
