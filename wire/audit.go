package wire

// The audit log (PROTOCOL.md 1.1, "Audit log"): the body of GET /api/meetings/{meetingId}/audit.

// AuditEntry is one line of a meeting's audit log (GET /api/meetings/{meetingId}/audit).
type AuditEntry struct {
	At         int64          `json:"at"` // Unix milliseconds
	Action     string         `json:"action"`
	By         string         `json:"by"`
	ByName     string         `json:"byName"`
	Target     string         `json:"target,omitempty"`
	TargetName string         `json:"targetName,omitempty"`
	Detail     map[string]any `json:"detail,omitempty"`
}

// AuditLog is the body of GET /api/meetings/{meetingId}/audit: the entries, oldest first.
type AuditLog struct {
	Entries []AuditEntry `json:"entries"`
}

// The audit log's actions besides the host's requests (whose action is the request's type).
const (
	AuditJoin       = "join"
	AuditLeave      = "leave"
	AuditDisconnect = "disconnect"
)
