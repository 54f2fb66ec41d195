// Package sfu is Parley's media plane, built on Pion: it owns the two WebRTC peer connections of
// every participant (publisher: the client sends; subscriber: the server sends), receives the
// published tracks, forwards each one to every other participant of the same room, gates
// forwarding per participant and kind (server-enforced mute), and handles RTCP (PLI, NACK, reports,
// transport-wide congestion control feedback).
//
// It knows participants and rooms only by id. It must not know about hosts, roles, timers,
// meetings or the wire protocol: it imports neither meeting nor signaling, and reaches clients only
// through the Signal callback given to Join.
//
// The forwarding path (upTrack.handle -> lane.forward -> downTrack.write) is the hot loop: one
// goroutine per published track reads RTP into a reused buffer, keeps one copy in a per-track
// packet cache, and fans out through copy-on-write subscriber lists behind atomic pointers. Each
// subscriber's downTrack is our own webrtc.TrackLocal that rewrites SSRC, payload type, sequence
// number and timestamp (continuous across pauses) and writes to its binding's stream. Nothing on
// that path allocates per packet, and the fan-out takes no lock. With Config.BatchWrites the
// final socket write is a short critical section on the socket's queue (package udpbatch), shared by
// every track that sends through that socket, in exchange for one sendmmsg per batch.
//
// Short of CPU, the server sheds work instead of queueing it (delay.go): a packet that waited too
// long since it arrived is dropped by the reader or the writer lane that finds it, a lost part of
// a keyframe is replaced by asking the publisher for a new one, and NACKs are not answered while a
// track drops; resends are bounded per packet and subscriber at all times (downtrack.go).
//
// # Locks
//
// A goroutine may take a mutex while it holds only mutexes listed above it here, never one listed
// below; and it holds the mutexes of one Peer at most.
//
//	Peer.pubMu       serializes the publisher connection's negotiation: Offer, its candidates
//	Peer.subMu       serializes every change to the subscriber connection: attach, unsubscribe,
//	                 negotiate, Answer, its candidates
//	Peer.sigMu       serializes what goes to the client: signal, which calls the Signal callback
//	room.mu          the room's peers, gates and published tracks
//	counters.mu      the live tracks whose lane counters Stats sums
//	Peer.mu          closed, the peer's published tracks, its WaitGroup
//	upTrack.mu       the track's subscribers and lanes
//	SFU.mu, arrivals.mu, arrivalBuffer.mu, and each udpbatch.Conn's queue: nothing is taken under them
//
// Pion's connections are called under pubMu or subMu (that is what serializes a negotiation) and
// under no other sfu mutex. Pion calls back (OnTrack, OnICECandidate, state changes, Bind and
// Unbind, the buffer factory) on goroutines of its own and sometimes from inside the call we
// made, holding its own locks: so a callback takes only mutexes from sigMu down, except OnTrack,
// which Pion runs on a fresh goroutine and which subscribes the room's other peers (their
// subMu). The Signal callback runs under subMu and sigMu: it must not block or call back into the
// sfu.
//
// Never called under any sfu mutex: Peer.Close, upTrack.close and room.close (they take the
// locks above one after the other, and close Pion connections), and every wait for the
// forwarding path, upTrack.waitIdle, lane.waitIdle and removeDown, which spin until a lane has
// finished the packet it started (up to 2 s if a write is stuck in the kernel). The forwarding
// path itself takes no sfu mutex: gates, subscriber lists and bindings are atomics; upTrack.mu is
// for subscribing and closing only. Offer alone waits under a lock: for its candidates, under
// pubMu, bounded by its context and by Close.
package sfu
