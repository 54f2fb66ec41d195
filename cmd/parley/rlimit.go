package main

import "log/slog"

// fileReserve is what the server keeps of its file limit for other than HTTP connections: the
// media sockets, TURN, logs, the web client's files.
const fileReserve = 1024

// fitFileLimit raises the process's open-file limit to its hard limit (an idle connection costs
// one descriptor: a low soft limit is reached long before memory or CPU), and returns maxConns,
// lowered if the limit leaves no room for it.
func fitFileLimit(maxConns int, log *slog.Logger) int {
	limit, err := raiseFileLimit()
	if err != nil {
		log.Warn("could not raise the open-file limit", "err", err)
	}
	if limit == 0 {
		return maxConns // unknown here
	}
	room := int(min(limit, 1<<30)) - fileReserve
	if room < 1 {
		room = 1
	}
	if maxConns > room {
		log.Warn("the open-file limit leaves room for fewer connections than -max-conns; using fewer",
			"open_file_limit", limit, "max_conns", room)
		return room
	}
	log.Debug("open-file limit", "limit", limit)
	return maxConns
}
