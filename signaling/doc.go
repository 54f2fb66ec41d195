// Package signaling is the server's edge: the echo HTTP server, the REST API, one WebSocket
// session per client, and the web client's files.
//
// It turns protocol messages (package wire) into calls on the meeting domain and the sfu, and
// the domain's events into messages. A join the meeting's lobby holds keeps its connection
// reading (the client may leave) while a helper waits for the host's decision and answers the
// join with it (lobby.go). The host's audit log is served over HTTP to the bearer of the hostKey
// (audit.go). A participant's peer belongs to its seat, not to one connection: a dropped
// connection leaves it to the domain's resume grace, and a resumed session takes it over
// (resume.go). A publisher offer is judged by the domain before it goes to the sfu (a screen
// while sharing is off is forbidden), and the sources the sfu then receives reach the domain
// through a latest-value box off the sfu's locks (published.go). Messages of the negotiation
// (offer, answer, candidate, iceRestart) and
// leave have handlers here; every other request goes to the domain's request table
// (meeting.FromWire), so a new domain request needs nothing in this package. It owns connection
// lifecycles (a session's goroutines end with it), rate limits, the origin check, the message
// size limit and the order of what a connection is sent: events caused by a request before its
// answer, each session's messages in the order they were queued. Events are queued as shared
// *wire.EventMessage values and encoded by the session's writer, off the meeting's lock and once
// per broadcast.
//
// It must not decide who may do what (package meeting does) nor touch RTP (package sfu does).
// It is assembled with the domain and the sfu by package internal/node, which also holds the
// adapter through which the domain acts on the sfu.
package signaling
