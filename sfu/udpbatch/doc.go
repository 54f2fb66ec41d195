// Package udpbatch is a UDP socket whose writes leave in batches: a Conn queues each datagram, and
// while a caller holds the writes (Group.Hold, around a fan-out) they wait; the last holder to
// release hands everything queued to the kernel in one sendmmsg, with every run of datagrams to
// one destination as one UDP GSO message where the kernel allows. It
// stands under Pion's ICE UDP mux in place of a *net.UDPConn (Conn for one socket, Net for the
// mux that opens one per interface address), and exports its counters (Group, NewCollector).
//
// It owns the socket it is given (closing the Conn closes it) and the write queue; it has no
// goroutine of its own (a write is sent by its writer or by the releaser of a hold).
// It sees datagrams and addresses only: it must not know about RTP, tracks, peers or rooms, nor
// import the sfu; what a write carries and whether to drop it is its caller's business. Reads
// pass through untouched.
package udpbatch
