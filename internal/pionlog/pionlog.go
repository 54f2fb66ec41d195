// Package pionlog routes Pion's logs into a log/slog logger, with each of Pion's levels mapped to
// the level it deserves in the program that uses Pion, and counts the few Pion messages that say
// a connection failed for a reason worth an operator's attention (Faults).
//
// Pion warns freely about what is normal on a server: a candidate pair checked before any
// exists ("Failed to ping without candidate pairs"), RTCP for a stream not negotiated yet
// ("Incoming unhandled RTCP ssrc"), a connection's timers racing its teardown ("closed pipe").
// In a 5-person meeting those were nine lines in ten of the log. So on a server Pion's warnings
// and errors are debug lines, except the faults, which stay warnings and are counted.
//
// It is the one adapter between Pion's logging and ours, for the sfu and for the Go client. It
// owns only that mapping and the fault list, and must not know about peers, tracks or meetings.
package pionlog

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"

	"github.com/pion/logging"
)

// Off as a level drops the messages of that Pion level.
const Off slog.Level = math.MinInt

// Levels says at which slog level each of Pion's levels is logged, and at which level a fault
// (a warning or error in the fault list) is. Pion's trace and debug are always dropped: they are
// per packet.
type Levels struct {
	Info, Warn, Error, Fault slog.Level
}

// Server suits a server: Pion's info is a protocol step and its warnings and errors are, but
// for the faults, what every connection's life and teardown normally produce: debug lines. A
// fault is a warning.
var Server = Levels{Info: slog.LevelDebug, Warn: slog.LevelDebug, Error: slog.LevelDebug, Fault: slog.LevelWarn}

// Client suits a client that may run by the hundred (a load generator): Pion's info dropped,
// its warnings and errors at debug, a fault a warning.
var Client = Levels{Info: Off, Warn: slog.LevelDebug, Error: slog.LevelDebug, Fault: slog.LevelWarn}

// New returns a Pion logger factory writing to log at the levels lv, each logger tagged with its
// Pion scope ("pion": "ice", ...). Faults are counted in faults, if not nil, whatever the level.
func New(log *slog.Logger, lv Levels, faults *Faults) logging.LoggerFactory {
	return factory{log: log, lv: lv, faults: faults}
}

type factory struct {
	log    *slog.Logger
	lv     Levels
	faults *Faults
}

func (f factory) NewLogger(scope string) logging.LeveledLogger {
	return logger{log: f.log.With("pion", scope), lv: f.lv, faults: f.faults}
}

type logger struct {
	log    *slog.Logger
	lv     Levels
	faults *Faults
}

func (l logger) logf(level slog.Level, format string, args ...any) {
	if level == Off || !l.log.Enabled(context.Background(), level) {
		return
	}
	l.log.Log(context.Background(), level, fmt.Sprintf(format, args...))
}

// problemf logs a Pion warning or error: at the fault level, counted, if it is a fault; else at
// level. Faults are told by their leading words, which are the format's, so the others cost
// nothing when the level is off.
func (l logger) problemf(level slog.Level, format string, args ...any) {
	if !faultPrefix(format) {
		l.logf(level, format, args...)
		return
	}
	l.problem(level, fmt.Sprintf(format, args...))
}

func (l logger) problem(level slog.Level, msg string) {
	if f, ok := faultOf(msg); ok {
		l.faults.add(f)
		level = l.lv.Fault
	}
	l.logf(level, "%s", msg)
}

func (logger) Trace(string)                        {}
func (logger) Tracef(string, ...any)               {}
func (logger) Debug(string)                        {}
func (logger) Debugf(string, ...any)               {}
func (l logger) Info(msg string)                   { l.logf(l.lv.Info, "%s", msg) }
func (l logger) Infof(format string, args ...any)  { l.logf(l.lv.Info, format, args...) }
func (l logger) Warn(msg string)                   { l.problem(l.lv.Warn, msg) }
func (l logger) Warnf(format string, args ...any)  { l.problemf(l.lv.Warn, format, args...) }
func (l logger) Error(msg string)                  { l.problem(l.lv.Error, msg) }
func (l logger) Errorf(format string, args ...any) { l.problemf(l.lv.Error, format, args...) }

// faultOf says which fault msg reports, if any. A fault's message about a connection already
// closing ("closed", "connecting canceled by caller": the client left mid-handshake) is teardown,
// not a fault.
func faultOf(msg string) (fault, bool) {
	for i, f := range faultList {
		if strings.HasPrefix(msg, f.prefix) {
			if strings.Contains(msg, "closed") || strings.Contains(msg, "canceled") {
				return 0, false
			}
			return fault(i), true
		}
	}
	return 0, false
}

func faultPrefix(s string) bool {
	for _, f := range faultList {
		if strings.HasPrefix(s, f.prefix) {
			return true
		}
	}
	return false
}
