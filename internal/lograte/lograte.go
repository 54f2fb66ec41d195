// Package lograte keeps repetitive log lines from flooding the log: events a remote party can
// provoke at will (a STUN datagram without USERNAME, a stream nobody declared, a WebSocket that
// never joins, a connection over a cap) are counted, one metric series per cause, and logged at
// most once per cause and interval, the line saying how many events it stands for.
//
// It owns that limiter and its counter, for the sfu (Pion's per-packet warnings) and the edge
// (per-connection lines); it must not know about either. Causes are constants chosen by the
// callers, so the metric's series are bounded.
package lograte

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultInterval is how often one cause may log a line.
const DefaultInterval = 10 * time.Second

// maxCauses bounds the causes tracked; beyond it every new cause shares OtherCause.
const maxCauses = 256

// OtherCause is where causes beyond maxCauses are counted.
const OtherCause = "other"

// Limiter counts events by cause and lets one log line per cause through per interval. A nil
// Limiter logs every line and counts nothing. Its methods are safe for concurrent use.
type Limiter struct {
	interval time.Duration
	events   *prometheus.CounterVec
	now      func() time.Time

	mu     sync.Mutex
	causes map[string]*cause
}

type cause struct {
	last    time.Time // when a line last went out
	pending int       // events since then, not logged
	counter prometheus.Counter
}

// New returns a limiter letting one line per cause through every interval (DefaultInterval if
// 0). Its counter, parley_log_events_total{cause}, is registered with Collector.
func New(interval time.Duration) *Limiter {
	if interval <= 0 {
		interval = DefaultInterval
	}
	return &Limiter{
		interval: interval,
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_log_events_total",
			Help: "Repetitive events (a remote party can provoke them at will), by cause; logged at most once per cause and interval.",
		}, []string{"cause"}),
		now:    time.Now,
		causes: map[string]*cause{},
	}
}

// Collector is the limiter's counter, for a registry.
func (l *Limiter) Collector() prometheus.Collector { return l.events }

// Interval is how often one cause may log a line.
func (l *Limiter) Interval() time.Duration {
	if l == nil {
		return 0
	}
	return l.interval
}

// Allow counts one event of cause and reports whether a line may be logged for it now, and how
// many events (this one included) that line stands for.
func (l *Limiter) Allow(name string) (events int, ok bool) {
	if l == nil {
		return 1, true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	c, found := l.causes[name]
	if !found {
		if len(l.causes) >= maxCauses {
			name = OtherCause
			c, found = l.causes[name]
		}
		if !found {
			c = &cause{counter: l.events.WithLabelValues(name)}
			l.causes[name] = c
		}
	}
	c.counter.Inc()
	c.pending++
	if !c.last.IsZero() && now.Sub(c.last) < l.interval {
		return 0, false
	}
	events, c.pending, c.last = c.pending, 0, now
	return events, true
}

// Log counts one event of cause and logs msg with args at level, unless a line for cause went
// out less than an interval ago; a line standing for more than one event carries "events".
func (l *Limiter) Log(log *slog.Logger, level slog.Level, cause, msg string, args ...any) {
	n, ok := l.Allow(cause)
	if !ok || !log.Enabled(context.Background(), level) {
		return
	}
	if n > 1 {
		args = append(args, "events", n, "since", l.interval.String())
	}
	log.Log(context.Background(), level, msg, args...)
}
