// Package sfu is Parley's media plane, built on Pion: it owns the two WebRTC peer connections of
// every participant (publisher: the client sends; subscriber: the server sends), receives the
// published tracks, forwards each one to every other participant of the same room, gates
// forwarding per participant and source (server-enforced mute, stopped screen share), picks the
// simulcast layer and estimates the downlink of every subscriber, and handles RTCP (PLI, NACK,
// reports, transport-wide congestion control feedback).
//
// It knows participants and rooms only by id. It must not know about hosts, roles, timers,
// meetings or the wire protocol: it imports neither meeting nor signaling, and reaches clients only
// through the Signal callback given to Join.
//
// A peer outlives its participant's signaling connection when asked (resume.go): Resume hands
// it to a new one, which gets a subscriber offer; RestartICE makes that offer restart ICE.
//
// What a publisher may send (source.go, admission.go, arrival.go): exactly what its last offer
// declares, one track per sending section, each carrying a Source (microphone, camera, screen,
// screenAudio: named by the offer, or the default microphone and camera), video on up to three
// simulcast layers (RIDs q, h, f). Pion routes streams by the MID, RID and repaired-RID header
// extensions; every other SSRC is refused and counted, its buffer emptied, without a log line of
// its own, and a publisher past a bound is disconnected. The track id a subscriber sees is the
// source's name; the stream id is the publisher's participant id.
//
// The forwarding path (upLayer.handle -> lane.forward -> downTrack.write) is the hot loop: one
// goroutine per received stream (a track, or one of its layers) reads RTP into a reused buffer,
// keeps one copy in the layer's packet cache (allocated as packets arrive), and fans out through
// copy-on-write subscriber lists behind atomic pointers: inline for the first subscribers of a
// single-layer track, through writer lanes beyond them, and always through writer lanes for a
// simulcast track, whose layers' readers must not share a subscriber's state (a lane is given
// only the layers its subscribers forward or switch to). Each subscriber's downTrack is our own
// webrtc.TrackLocal: it forwards one layer at a time, switches at a keyframe of the new one
// (asking the publisher for it), and keeps one continuous stream across switches and pauses:
// one SSRC, sequence numbers rewritten by offset (real upstream loss still shows as a gap, a
// switch does not), timestamps mapped from one layer's base to the other's and only moving
// forward, and for VP8 the picture id and TL0PICIDX rewritten in place. Nothing on that path
// allocates per packet, and the fan-out takes no lock per packet (the layer cache's and, with
// Config.BatchWrites, the socket queue's in package udpbatch are short).
//
// Each subscriber's bandwidth (bwe.go, allocator.go, probe.go): every packet sent carries a
// transport-wide sequence number and is recorded with one atomic store; the subscriber's TWCC
// feedback gives an estimate of its downlink (loss, delivery rate, queueing delay), which an
// allocator shares among its tracks every 250 ms (audio first, then screens, then cameras by the
// quality asked with SFU.SetVideoQuality), pausing video rather than starving audio and probing
// with padding to climb back. Dynacast (dynacast.go) tells each publisher which layers some
// subscriber needs.
//
// Active speakers (speakers.go): publishers put each audio packet's level in the RFC 6464 header
// extension; a microphone's reader keeps the loudest level in an atomic (no lock, nothing
// allocated), and one goroutine of the SFU judges every room every 100 ms (peak, decay, threshold,
// hangover; a closed microphone gate takes its owner out at once) and hands the list, loudest
// first, to Config.ActiveSpeakers when it changes, at most every ActiveSpeakerInterval per room,
// holding no sfu lock. Gates are per source (gates.go): a closed gate's track is dropped for
// every subscriber and takes none of their bandwidth (allocator.go).
//
// Short of CPU, the server sheds work instead of queueing it (delay.go): a packet that waited too
// long since it arrived is dropped by the reader or the writer lane that finds it, a lost part of
// a keyframe is replaced by asking the publisher for a new one, and NACKs are not answered while a
// track drops; resends are bounded per packet and subscriber at all times, and by a byte budget
// per subscriber and second (nack.go), so a hostile subscriber's NACKs cannot amplify.
//
// # Locks
//
// A goroutine may take a mutex while it holds only mutexes listed above it here, never one listed
// below; and it holds the mutexes of one Peer at most.
//
//	Peer.pubMu       serializes the publisher connection's negotiation: Offer, its candidates
//	Peer.subMu       serializes every change to the subscriber connection: attach, unsubscribe,
//	                 negotiate, Answer, its candidates, the qualities asked (setQuality)
//	Peer.sigMu       serializes what goes to the client: signal, which calls the Signal callback
//	room.mu          the room's peers, gates and published tracks
//	counters.mu      the live tracks whose lane counters Stats sums
//	Peer.mu          closed, the peer's published tracks (by source), its WaitGroup
//	upTrack.mu       the track's subscribers, layers, lanes and dynacast state
//	pubStreams.mu    a publisher's SRTP read buffers by SSRC and its refused streams
//	SFU.mu, arrivalBuffer.mu, estimator.mu, downTrack.epMu, packetCache.mu, and each
//	udpbatch.Conn's send and queue locks: nothing is taken under them (under the send lock a
//	                 write may send the queue: one sendmmsg, which does not block)
//
// Pion's connections are called under pubMu or subMu (that is what serializes a negotiation) and
// under no other sfu mutex. Pion calls back (OnTrack, OnICECandidate, state changes, Bind and
// Unbind, the buffer factory) on goroutines of its own and sometimes from inside the call we
// made, holding its own locks: so a callback takes only mutexes from sigMu down, except OnTrack,
// which Pion runs on a fresh goroutine and which subscribes the room's other peers (their
// subMu). An arrivalBuffer's first packet (Pion's SRTP goroutine) takes Peer.mu to screen the
// stream before the buffer's own mutex. The Signal callback runs under subMu and sigMu: it must
// not block or call back into the sfu. Dynacast reports go out from a timer's goroutine holding
// no sfu mutex but sigMu.
//
// Never called under any sfu mutex: Peer.Close, upTrack.close and room.close (they take the
// locks above one after the other, and close Pion connections), and every wait for the
// forwarding path, upTrack.waitIdle, lane.waitIdle and removeDown, which spin until a lane has
// finished the packet it started (up to 2 s if a write is stuck in the kernel). The forwarding
// path itself takes no sfu mutex but the layer cache's: gates, subscriber lists, layer targets
// and bindings are atomics; upTrack.mu is for subscribing, switching needs and closing only.
// Offer alone waits under a lock: for its candidates, under pubMu, bounded by its context and by
// Close.
package sfu
