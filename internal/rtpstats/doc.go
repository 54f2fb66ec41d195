// Package rtpstats keeps the receive-side bookkeeping of RTP streams: packet and byte counts,
// loss and non-consecutive sequence numbers (from 16-bit sequence numbers extended across
// wrap-around), keyframes, and one-way delay in a small fixed-size histogram that merges cheaply.
//
// It lives under internal/ because its users are all in this module: the Go client (package
// client), the tests and the load generator's reports. It owns counting only: it parses no
// payload and touches no socket. Callers hand it the header
// fields and what they learned from the payload.
package rtpstats
