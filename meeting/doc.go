// Package meeting is Parley's domain: meetings, participants, roles, who may do what, the
// meeting timer, state changes and the events they cause.
//
// It owns the rules of the wire protocol's requests (PROTOCOL.md): the join checks and their
// order, name validation, the host's powers (mute all, mute one, allow unmute, timers, kick, lock,
// end) and the events each change sends to whom. It keeps live participants in memory, one mutex
// per live meeting, and the durable meeting record behind the Store interface.
//
// It must not touch HTTP, WebSocket or Pion, and never imports signaling or sfu. Where a change
// needs a media effect (closing a participant's audio gate, dropping a participant) it calls the
// small Media interface declared here, which the sfu satisfies through an adapter wired in cmd.
// Events go to one Sink per connection; signaling turns them into protocol messages.
package meeting
