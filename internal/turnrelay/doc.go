// Package turnrelay is the TURN relay (RFC 8656, pion/turn) built into the server, for clients
// whose network lets no media straight through to the server: one port for TURN over UDP and
// TCP (default 3478), and another for TURN over TLS when a certificate is configured.
//
// It is not an open relay. A client may relay only to the server's own media addresses: the
// permission handler refuses a permission or channel to any other IP, and every relayed socket
// (mediaConn) drops a datagram to any address but the media port's and one from anyone else.
// Credentials follow the TURN REST scheme (draft-uberti-behave-turn-rest): the username is
// "expiry:participantId" (expiry in Unix seconds), the password the base64 HMAC-SHA1 of the
// username under a secret (one per process unless configured), so the relay checks them
// without storing any. Allocations are bounded per credential (each peer connection of a
// browser makes one per TURN URL it is given).
//
// A datagram for the media port's public address (the server behind 1:1 NAT announces its
// public IP) is delivered to the media socket's local address instead, and its answers are
// shown to the client as coming from the public address: no NAT hairpinning is needed.
//
// The package owns the relay's sockets, its credentials and the iceServers entries that name
// it. It must not know about meetings, signaling or the SFU: the node gives it the media
// addresses and asks it for a participant's iceServers.
package turnrelay
