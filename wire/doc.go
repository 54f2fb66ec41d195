// Package wire is the one home of Parley's wire contract (PROTOCOL.md and docs/protocol.md):
// the JSON shape of every message a client sends and of everything the server sends back (the
// Participant, meeting and timer objects, the events, joined, the HTTP bodies), the error codes,
// and the strict decoding of client messages (known type, required fields present and of the
// right type).
//
// It is a top-level package, not part of signaling, because it is shared by both ends: the
// server's signaling and meeting packages, and every client (package client, the load
// generator, bots). A client imports wire and nothing of the server.
//
// The meeting domain emits these types directly: its participant state is a Participant, its
// events are the events below, and it hands them out wrapped in an EventMessage that a
// broadcast shares. There is one protocol and the domain decides what it says, so a second set
// of domain types with a mapping at the edge would make every message of version 1.1 cost three
// declarations instead of one, for no gain. What stays out of wire is behaviour: wire imports no
// package of the server and knows nothing of sessions, meetings or media.
//
// Adding a message:
//   - a client request: its Type constant, its struct with MessageType and validate (the field
//     checks that make it well formed) in requests.go or the file of its feature (chat.go,
//     hands.go, lobby.go), and its line in requestTypes in requests.go. If the
//     meeting domain carries it out, its row in the domain's request table (meeting/requests.go)
//     is the only other place; signaling then routes it there by itself.
//   - a server event: its struct and EventType in events.go, and its zero value in eventTypes.
//   - a field: on the struct, with its JSON name.
package wire
