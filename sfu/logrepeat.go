package sfu

import (
	"strconv"
	"strings"

	"github.com/pion/logging"

	"github.com/parleyhq/parley/internal/lograte"
)

// repeatedPion lists Pion's log lines that anyone who can reach the media port provokes once per
// datagram (the prefix of the format), with the cause each is counted under: through
// lograte, each is counted in parley_log_events_total and logged at most once per interval,
// whatever level Pion's warnings are logged at.
var repeatedPion = []struct{ prefix, cause string }{
	{"No Username attribute in STUN message", "stun_no_username"},
	{"Failed to handle decode ICE", "stun_undecodable"},
	{"Not a STUN message", "stun_not_stun"},
	{"Incoming unhandled RTCP ssrc", "rtcp_unknown_ssrc"},
}

func repeatedCause(format string) (string, bool) {
	for _, r := range repeatedPion {
		if strings.HasPrefix(format, r.prefix) {
			return r.cause, true
		}
	}
	return "", false
}

// repeatLogger passes Pion's lines on to next, those in repeatedPion through the limiter.
type repeatLogger struct {
	logging.LeveledLogger
	lim *lograte.Limiter
}

// pass reports whether a line of format may go out, and the suffix that says how many events it
// stands for.
func (l repeatLogger) pass(format string) (suffix string, ok bool) {
	cause, limited := repeatedCause(format)
	if !limited {
		return "", true
	}
	n, ok := l.lim.Allow(cause)
	if !ok {
		return "", false
	}
	if n > 1 {
		return " (" + strconv.Itoa(n) + " like it in the last " + l.lim.Interval().String() + ")", true
	}
	return "", true
}

func (l repeatLogger) Warn(msg string) {
	if suffix, ok := l.pass(msg); ok {
		l.LeveledLogger.Warn(msg + suffix)
	}
}

func (l repeatLogger) Warnf(format string, args ...any) {
	if suffix, ok := l.pass(format); ok {
		l.LeveledLogger.Warnf(format+strings.ReplaceAll(suffix, "%", "%%"), args...)
	}
}

func (l repeatLogger) Error(msg string) {
	if suffix, ok := l.pass(msg); ok {
		l.LeveledLogger.Error(msg + suffix)
	}
}

func (l repeatLogger) Errorf(format string, args ...any) {
	if suffix, ok := l.pass(format); ok {
		l.LeveledLogger.Errorf(format+strings.ReplaceAll(suffix, "%", "%%"), args...)
	}
}
