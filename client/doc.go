// Package client is a Go client of the Parley protocol (PROTOCOL.md, version 1): the HTTP API,
// the WebSocket control plane with request ids and event bookkeeping, and real Pion peer
// connections that publish synthetic media and receive, count and time everyone else's.
//
// It serves the server's end-to-end tests, bots and the load generator. It owns the client's
// side of the protocol only: it must not reach into the server's packages (meeting, signaling,
// sfu); it speaks the protocol through package wire, and `make vet` fails if it imports more.
//
// A Client keeps a log of every server message that is not the answer to one of its pending
// requests (events, offers, candidates, unsolicited errors), in arrival order; WaitFor waits on
// that log. Its subscriber connection counts every received RTP packet per publisher and kind
// (and apart, per source, a screen share's two tracks): loss and order from sequence numbers,
// one-way delay from the send time each packet of this package's publishers carries (package
// synth). A publisher may add a screen and its audio (named in the offer's sources) and puts the
// microphone's audio level on its packets (SetAudioLevel), for the server's active speakers
// (screen.go).
package client
