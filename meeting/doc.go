// Package meeting is Parley's domain: meetings, participants, roles, who may do what, the
// meeting timer, state changes and the events they cause.
//
// It owns the rules of the wire protocol's requests (PROTOCOL.md): the join checks and their
// order, name validation, the host's powers (mute all, mute one, allow unmute, timers, kick, lock,
// end) and the events each change sends to whom. Version 1.1's chat (chat.go: text rules, private
// routing, history, per-participant rate), raised hands (hands.go), the lobby that holds joins
// for the host's decision (lobby.go), the audit log (audit.go), resume after a dropped
// connection (resume.go: tokens, the grace period, reconnecting), the host's decisions that
// stick to a browser (decisions.go: mute, removal, ban) and screen sharing with the active
// speakers (screen.go: each participant's screen gates, the host's stop and setting, what a
// publisher offer may send, the speakers list the media server reports) are each in a file of
// their own; their state sits behind small types (chatLog, lobby, auditLog) so that it can move to
// shared storage. The audit log is written in one place for requests (Member.Do, host requests
// that were carried out) and where joins and leaves happen; it lives in the Service, beyond a
// meeting's memory, bounded and released a while after the meeting ends. It keeps live
// participants in memory, one mutex per live meeting, and the durable meeting record (state,
// lock, lobby, chat allowed) behind the Store interface.
//
// In a cluster, a meeting lives on one node at a time; what that node holds in memory and another
// node needs to take the meeting over after a crash (the mute-all policy, the running timer, the
// host's mutes by browser, the roster with each seat's state and resume token hash) is saved
// through the optional TakeoverStore, before the answer of every host request and behind every
// other change, and the chat history and audit log are appended through HistoryStore
// (persist.go); the node taking over loads them with the record and seats the participants
// reconnecting, for a resume (takeover.go).
//
// It speaks the protocol's own types (package wire) rather than domain copies of them: a
// participant's state is a wire.Participant, the events are wire events, the error codes wire
// codes. The domain decides what the protocol says, and there is one protocol, so a second set
// of types and a mapping at the edge would only triple the cost of every new message; wire holds
// shapes and no behaviour, so nothing of the server leaks into clients through it. Events are
// handed to one Sink per connection as *wire.EventMessage, shared by all the recipients of a
// broadcast, so that the event is encoded once and not under the meeting's lock. The domain's
// request table (requests.go) turns decoded messages into requests and says who may make them.
//
// It must not touch HTTP, WebSocket or Pion, and never imports signaling or sfu. Where a change
// needs a media effect (closing a participant's microphone or screen gate, dropping a
// participant, freeing a meeting's media) it calls the small Media interface declared here, which the sfu satisfies
// through the adapter in package internal/node, where a node is assembled.
package meeting
