// Package signaling is the server's edge: the echo HTTP server, the REST API, one WebSocket
// session per client, and the web client's files.
//
// It turns protocol messages (package wire) into calls on the meeting domain and the sfu, and
// the domain's events into messages. It owns connection lifecycles, rate limits, the origin
// check and the message size limit. It must not decide who may do what (package meeting does)
// nor touch RTP (package sfu does).
package signaling
