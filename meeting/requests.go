package meeting

import (
	"slices"

	"github.com/parleyhq/parley/wire"
)

// Request is one request a member makes through Member.Do. Each request type validates and
// applies itself; the table below decides who may make it.
type Request interface {
	RequestKind() RequestKind
	// apply runs with the meeting locked, after authorization.
	apply(a *action) error
}

// RequestKind names a request: the protocol's message type (wire.TypeMuteAll, ...). Leaving is
// Member.Leave, not a request.
type RequestKind string

// requestSpec is all the domain declares about one request type.
type requestSpec struct {
	roles []wire.Role
	what  string // completes "only the host may ..."
	// fromWire turns the decoded message (wire checked its fields) into the domain's request.
	fromWire func(wire.Request) Request
}

var (
	anyone   = []wire.Role{wire.RoleHost, wire.RoleParticipant}
	onlyHost = []wire.Role{wire.RoleHost}
)

// requests is the one table of the requests the domain carries out: who may make each, and how
// its message becomes a Request. Signaling hands every message it has no handler of its own for
// to this table (FromWire), so a new domain request needs its row here and nothing in signaling.
var requests = map[RequestKind]requestSpec{
	wire.TypeSetMuted: {anyone, "change this mute state", from(func(m *wire.SetMuted) Request {
		return SetMuted{Kind: m.Kind, Muted: *m.Muted}
	})},
	wire.TypeMuteAll: {onlyHost, "mute everyone", from(func(m *wire.MuteAll) Request {
		return MuteAll{AllowSelfUnmute: *m.AllowSelfUnmute}
	})},
	wire.TypeMuteParticipant: {onlyHost, "mute other participants", from(func(m *wire.MuteParticipant) Request {
		return MuteParticipant{ParticipantID: *m.ParticipantID, AllowSelfUnmute: *m.AllowSelfUnmute}
	})},
	wire.TypeAllowUnmute: {onlyHost, "allow participants to unmute", from(func(m *wire.AllowUnmute) Request {
		if m.ParticipantID == nil {
			return AllowUnmute{}
		}
		return AllowUnmute{ParticipantID: *m.ParticipantID}
	})},
	wire.TypeStartTimer: {onlyHost, "start the timer", from(func(m *wire.StartTimer) Request {
		return StartTimer{TimerID: *m.TimerID}
	})},
	wire.TypeCancelTimer: {onlyHost, "cancel the timer", from(func(*wire.CancelTimer) Request { return CancelTimer{} })},
	wire.TypeKick: {onlyHost, "remove participants", from(func(m *wire.Kick) Request {
		return Kick{ParticipantID: *m.ParticipantID, Ban: m.Ban != nil && *m.Ban}
	})},
	wire.TypeSetLocked: {onlyHost, "lock or unlock the meeting", from(func(m *wire.SetLocked) Request {
		return SetLocked{Locked: *m.Locked}
	})},
	wire.TypeEndMeeting: {onlyHost, "end the meeting", from(func(*wire.EndMeeting) Request { return EndMeeting{} })},
	wire.TypeSendChat: {anyone, "chat", from(func(m *wire.SendChat) Request {
		return SendChat{Text: *m.Text, To: deref(m.To)}
	})},
	wire.TypeSetChatAllowed: {onlyHost, "allow or stop chat", from(func(m *wire.SetChatAllowed) Request {
		return SetChatAllowed{Allowed: *m.Allowed}
	})},
	wire.TypeSetHandRaised: {anyone, "raise or lower this hand", from(func(m *wire.SetHandRaised) Request {
		return SetHandRaised{Raised: *m.Raised}
	})},
	wire.TypeLowerHand: {onlyHost, "lower other participants' hands", from(func(m *wire.LowerHand) Request {
		return LowerHand{ParticipantID: deref(m.ParticipantID)}
	})},
	wire.TypeSetLobby: {onlyHost, "turn the waiting room on or off", from(func(m *wire.SetLobby) Request {
		return SetLobby{Enabled: *m.Enabled}
	})},
	wire.TypeAdmit:    {onlyHost, "let people in", from(func(m *wire.Admit) Request { return Admit{RequestID: *m.RequestID} })},
	wire.TypeDeny:     {onlyHost, "turn people away", from(func(m *wire.Deny) Request { return Deny{RequestID: *m.RequestID} })},
	wire.TypeAdmitAll: {onlyHost, "let people in", from(func(*wire.AdmitAll) Request { return AdmitAll{} })},
	wire.TypeSetScreenShareAllowed: {onlyHost, "allow or stop screen sharing", from(func(m *wire.SetScreenShareAllowed) Request {
		return SetScreenShareAllowed{Allowed: *m.Allowed}
	})},
	wire.TypeStopScreenShare: {onlyHost, "stop other participants' screen shares", from(func(m *wire.StopScreenShare) Request {
		return StopScreenShare{ParticipantID: *m.ParticipantID}
	})},
}

// deref is an optional field's value, "" when absent.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// from adapts a conversion of one message type to the table's signature.
func from[W any, P interface {
	*W
	wire.Request
}](f func(P) Request) func(wire.Request) Request {
	return func(r wire.Request) Request { return f(r.(P)) }
}

// FromWire returns the domain request a decoded client message asks for; ok is false for the
// messages the domain does not carry out (join, offer, leave, ...).
func FromWire(r wire.Request) (req Request, ok bool) {
	spec, ok := requests[RequestKind(r.MessageType())]
	if !ok {
		return nil, false
	}
	return spec.fromWire(r), true
}

// Allowed reports whether a member with role may make requests of kind. Unknown kinds are not
// allowed to anyone.
func Allowed(role wire.Role, kind RequestKind) bool {
	p, ok := requests[kind]
	if !ok {
		return false
	}
	return slices.Contains(p.roles, role)
}

// HostOnly reports whether kind is a request the host alone may make.
func HostOnly(kind RequestKind) bool {
	return Allowed(wire.RoleHost, kind) && !Allowed(wire.RoleParticipant, kind)
}

// RequestKinds returns every kind in the table, sorted, so tests can walk it.
func RequestKinds() []RequestKind {
	kinds := make([]RequestKind, 0, len(requests))
	for k := range requests {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds
}

func describe(kind RequestKind) string {
	if p, ok := requests[kind]; ok {
		return p.what
	}
	return "do that"
}
