package meeting

import "slices"

// Request is one request a member makes through Member.Do. Each request type validates and
// applies itself; the permissions table decides who may make it.
type Request interface {
	RequestKind() RequestKind
	// apply runs with the meeting locked, after authorization.
	apply(a *action) error
}

// RequestKind names a request; the values are the protocol's message types.
type RequestKind string

// The request kinds. Leaving is Member.Leave, not a request.
const (
	RequestSetMuted        RequestKind = "setMuted"
	RequestMuteAll         RequestKind = "muteAll"
	RequestMuteParticipant RequestKind = "muteParticipant"
	RequestAllowUnmute     RequestKind = "allowUnmute"
	RequestStartTimer      RequestKind = "startTimer"
	RequestCancelTimer     RequestKind = "cancelTimer"
	RequestKick            RequestKind = "kick"
	RequestSetLocked       RequestKind = "setLocked"
	RequestEndMeeting      RequestKind = "endMeeting"
)

// permission is who may make a request, and how the refusal describes it.
type permission struct {
	roles []Role
	what  string // completes "only the host may ..."
}

var (
	anyone   = []Role{RoleHost, RoleParticipant}
	hostOnly = []Role{RoleHost}
)

// permissions is the one table of who may do what.
var permissions = map[RequestKind]permission{
	RequestSetMuted:        {anyone, "change this mute state"},
	RequestMuteAll:         {hostOnly, "mute everyone"},
	RequestMuteParticipant: {hostOnly, "mute other participants"},
	RequestAllowUnmute:     {hostOnly, "allow participants to unmute"},
	RequestStartTimer:      {hostOnly, "start the timer"},
	RequestCancelTimer:     {hostOnly, "cancel the timer"},
	RequestKick:            {hostOnly, "remove participants"},
	RequestSetLocked:       {hostOnly, "lock or unlock the meeting"},
	RequestEndMeeting:      {hostOnly, "end the meeting"},
}

// Allowed reports whether a member with role may make requests of kind. Unknown kinds are not
// allowed to anyone.
func Allowed(role Role, kind RequestKind) bool {
	p, ok := permissions[kind]
	if !ok {
		return false
	}
	return slices.Contains(p.roles, role)
}

// RequestKinds returns every kind in the permissions table, sorted, so tests can walk it.
func RequestKinds() []RequestKind {
	kinds := make([]RequestKind, 0, len(permissions))
	for k := range permissions {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds
}

func describe(kind RequestKind) string {
	if p, ok := permissions[kind]; ok {
		return p.what
	}
	return "do that"
}
