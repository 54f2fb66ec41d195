package wire

// The lobby, or waiting room (PROTOCOL.md 1.1, "Lobby (waiting room)"): the host's requests, the
// events to the held client and to the host, and the lobby's error codes.

// Message types a client sends for the lobby.
const (
	TypeSetLobby = "setLobby"
	TypeAdmit    = "admit"
	TypeDeny     = "deny"
	TypeAdmitAll = "admitAll"
)

// SetLobby turns the lobby (waiting room) on or off (host only).
type SetLobby struct {
	Enabled *bool `json:"enabled"`
}

// MessageType implements Request.
func (*SetLobby) MessageType() string { return TypeSetLobby }

func (s *SetLobby) validate() error {
	if s.Enabled == nil {
		return missing("enabled")
	}
	return nil
}

// Admit lets one held join in (host only).
type Admit struct {
	RequestID *string `json:"requestId"`
}

// MessageType implements Request.
func (*Admit) MessageType() string { return TypeAdmit }

func (a *Admit) validate() error {
	if a.RequestID == nil {
		return missing("requestId")
	}
	return nil
}

// Deny refuses one held join (host only).
type Deny struct {
	RequestID *string `json:"requestId"`
}

// MessageType implements Request.
func (*Deny) MessageType() string { return TypeDeny }

func (d *Deny) validate() error {
	if d.RequestID == nil {
		return missing("requestId")
	}
	return nil
}

// AdmitAll lets everyone waiting in (host only).
type AdmitAll struct{}

// MessageType implements Request.
func (*AdmitAll) MessageType() string { return TypeAdmitAll }
func (*AdmitAll) validate() error     { return nil }

// LobbyWaiting goes to a join the lobby holds; its answer comes when the host decides.
type LobbyWaiting struct{}

// LobbyEntry is one held join as the host sees it.
type LobbyEntry struct {
	RequestID string `json:"requestId"`
	Name      string `json:"name"`
	Since     int64  `json:"since"` // Unix milliseconds
}

// LobbyUpdated goes to the host whenever the list of held joins changes.
type LobbyUpdated struct {
	Waiting []LobbyEntry `json:"waiting"`
}

// EventType returns "lobbyWaiting".
func (LobbyWaiting) EventType() string { return "lobbyWaiting" }

// EventType returns "lobbyUpdated".
func (LobbyUpdated) EventType() string { return "lobbyUpdated" }

// The error codes of the lobby.
const (
	// CodeDenied answers a held join the host refused.
	CodeDenied Code = "denied"
	// CodeLobbyTimeout answers a held join nobody decided on within the lobby timeout.
	CodeLobbyTimeout Code = "lobby_timeout"
)
