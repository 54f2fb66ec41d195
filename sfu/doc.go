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
package sfu
