// Package pionlog routes Pion's logs into a log/slog logger, with each of Pion's levels mapped to
// the level it deserves in the program that uses Pion.
//
// It is the one adapter between Pion's logging and ours, for the sfu and for the Go client. It
// owns only that mapping and must not know about peers, tracks or meetings.
package pionlog

import (
	"context"
	"fmt"
	"log/slog"
	"math"

	"github.com/pion/logging"
)

// Off as a level drops the messages of that Pion level.
const Off slog.Level = math.MinInt

// Levels says at which slog level each of Pion's levels is logged. Pion's trace and debug are
// always dropped: they are per packet.
type Levels struct {
	Info, Warn, Error slog.Level
}

// Server suits a server: Pion's info is a protocol step (our debug), and its errors are our
// warnings, since most are a connection's teardown racing its timers ("closed pipe"), nothing
// an operator acts on; the server logs its own failures as errors.
var Server = Levels{Info: slog.LevelDebug, Warn: slog.LevelWarn, Error: slog.LevelWarn}

// Client suits a client that may run by the hundred (a load generator): a level lower than
// Pion's, so that what every closing connection normally produces does not flood the terminal.
var Client = Levels{Info: Off, Warn: slog.LevelInfo, Error: slog.LevelWarn}

// New returns a Pion logger factory writing to log at the levels lv, each logger tagged with
// its Pion scope ("pion": "ice", ...).
func New(log *slog.Logger, lv Levels) logging.LoggerFactory { return factory{log: log, lv: lv} }

type factory struct {
	log *slog.Logger
	lv  Levels
}

func (f factory) NewLogger(scope string) logging.LeveledLogger {
	return logger{log: f.log.With("pion", scope), lv: f.lv}
}

type logger struct {
	log *slog.Logger
	lv  Levels
}

func (l logger) logf(level slog.Level, format string, args ...any) {
	if level == Off || !l.log.Enabled(context.Background(), level) {
		return
	}
	l.log.Log(context.Background(), level, fmt.Sprintf(format, args...))
}

func (logger) Trace(string)                        {}
func (logger) Tracef(string, ...any)               {}
func (logger) Debug(string)                        {}
func (logger) Debugf(string, ...any)               {}
func (l logger) Info(msg string)                   { l.logf(l.lv.Info, "%s", msg) }
func (l logger) Infof(format string, args ...any)  { l.logf(l.lv.Info, format, args...) }
func (l logger) Warn(msg string)                   { l.logf(l.lv.Warn, "%s", msg) }
func (l logger) Warnf(format string, args ...any)  { l.logf(l.lv.Warn, format, args...) }
func (l logger) Error(msg string)                  { l.logf(l.lv.Error, "%s", msg) }
func (l logger) Errorf(format string, args ...any) { l.logf(l.lv.Error, format, args...) }
