package wire

// Chat (PROTOCOL.md 1.1, "Chat"): the requests, the "chat" event and joined.chat's entries.
// Like every message, their lines in the request table are in requests.go and the event's zero
// value in events.go.

// Message types a client sends for chat.
const (
	TypeSendChat       = "sendChat"
	TypeSetChatAllowed = "setChatAllowed"
)

// SendChat sends a chat message: to everyone, or privately to the participant To names.
type SendChat struct {
	Text *string `json:"text"`
	// To is optional; null counts as absent.
	To *string `json:"to"`
}

// MessageType implements Request.
func (*SendChat) MessageType() string { return TypeSendChat }

func (c *SendChat) validate() error {
	if c.Text == nil {
		return missing("text")
	}
	return nil
}

// SetChatAllowed allows or stops chat for everyone but the host (host only).
type SetChatAllowed struct {
	Allowed *bool `json:"allowed"`
}

// MessageType implements Request.
func (*SetChatAllowed) MessageType() string { return TypeSetChatAllowed }

func (s *SetChatAllowed) validate() error {
	if s.Allowed == nil {
		return missing("allowed")
	}
	return nil
}

// Chat is one chat message: the "chat" event, and (without its type) an entry of joined.chat.
type Chat struct {
	MessageID string `json:"messageId"`
	From      string `json:"from"` // the sender's participantId
	Name      string `json:"name"` // the sender's name when it was sent
	Text      string `json:"text"`
	SentAt    int64  `json:"sentAt"` // Unix milliseconds
	Private   bool   `json:"private"`
}

// EventType returns "chat".
func (Chat) EventType() string { return "chat" }
