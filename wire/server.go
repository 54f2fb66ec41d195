package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// ErrorBody is the payload of an "error" message and of HTTP error bodies.
type ErrorBody struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

// HTTPError is every HTTP error response body.
type HTTPError struct {
	Error ErrorBody `json:"error"`
}

// SessionDescription is the body of server-sent "offer" and "answer" messages.
type SessionDescription struct {
	Target string `json:"target"`
	SDP    string `json:"sdp"`
}

// CandidateBody is the body of a server-sent "candidate" message.
type CandidateBody struct {
	Target    string       `json:"target"`
	Candidate ICECandidate `json:"candidate"`
}

// Encode renders one server message: the fields of body (a struct or nil), with "type" and,
// when id is not nil, "id" placed first.
func Encode(typ string, id ID, body any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"type":`)
	t, err := json.Marshal(typ)
	if err != nil {
		return nil, fmt.Errorf("encode type: %w", err)
	}
	buf.Write(t)
	if len(id) > 0 {
		buf.WriteString(`,"id":`)
		buf.Write(id)
	}
	if body != nil {
		fields, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", typ, err)
		}
		if len(fields) < 2 || fields[0] != '{' {
			return nil, fmt.Errorf("encode %s: body is not a JSON object", typ)
		}
		if inner := bytes.TrimSpace(fields[1 : len(fields)-1]); len(inner) > 0 {
			buf.WriteByte(',')
			buf.Write(inner)
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// EncodeError renders an "error" answer.
func EncodeError(id ID, code Code, message string) []byte {
	b, err := Encode(TypeError, id, ErrorBody{Code: code, Message: message})
	if err != nil {
		// ErrorBody always marshals; reaching here is a programming error.
		panic(err)
	}
	return b
}

// Joined answers a successful join. Self is this project's addition to the protocol: the
// joiner's own state (it may join muted by the host).
type Joined struct {
	ParticipantID string        `json:"participantId"`
	Role          Role          `json:"role"`
	Meeting       MeetingView   `json:"meeting"`
	Participants  []Participant `json:"participants"`
	Timer         *TimerView    `json:"timer"`
	Timers        []TimerView   `json:"timers"`
	Self          Participant   `json:"self"`
	// Protocol is the protocol version the server speaks (ProtocolVersion).
	Protocol string `json:"protocol"`
	// Chat is the meeting's last public chat messages, oldest first.
	Chat []Chat `json:"chat"`
	// ICEServers are the STUN and TURN servers for this participant's peer connections (the
	// server's own relay, with credentials that expire); empty, not absent, when it runs none.
	ICEServers []ICEServer `json:"iceServers"`
	// Lobby is the held joins, for the host only (empty, not absent, when nobody waits).
	Lobby []LobbyEntry `json:"lobby,omitzero"`
	// ResumeToken is the secret that takes this participant back after its connection drops
	// (PROTOCOL.md 1.1, "Staying connected"); a fresh one on every joined.
	ResumeToken string `json:"resumeToken,omitempty"`
	// Resumed is true when this join resumed an earlier participant.
	Resumed bool `json:"resumed,omitempty"`
	// MediaKept is this server's addition, on a resume only: true when the participant's peer
	// connections on the server still live and carry on (the client renegotiates them: a new
	// publisher offer, and the server sends a new subscriber offer); false when the client must
	// make new ones, as after a fresh join.
	MediaKept *bool `json:"mediaKept,omitempty"`
}

// ICEServer is one entry of joined.iceServers, shaped as the browser's RTCIceServer.
type ICEServer struct {
	// URLs are stun:, turn: or turns: URLs (RFC 7064, RFC 7065), e.g.
	// "turn:203.0.113.7:3478?transport=tcp".
	URLs []string `json:"urls"`
	// Username and Credential authenticate to the TURN URLs; absent for a STUN entry.
	Username   string `json:"username,omitempty"`
	Credential string `json:"credential,omitempty"`
}

// ProtocolVersion is the version of PROTOCOL.md this server speaks, sent in joined.protocol.
const ProtocolVersion = "1.1"

// CreateMeeting is the body of POST /api/meetings. HostName is a pointer so that a missing
// name is told apart from an empty one.
type CreateMeeting struct {
	HostName *string `json:"hostName"`
}

// Created answers POST /api/meetings.
type Created struct {
	MeetingID string `json:"meetingId"`
	HostKey   string `json:"hostKey"`
	JoinURL   string `json:"joinUrl"`
}
