package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// MaxClientMessage is the largest text message a client may send (64 KiB).
const MaxClientMessage = 64 << 10

// Message types only the server sends, besides the events (events.go) and the offers, answers
// and candidates it sends on its side of the negotiation.
const (
	TypeOK     = "ok"
	TypeError  = "error"
	TypeJoined = "joined"
	// TypeServerShutdown is this server's addition: sent to every client before the server
	// closes its connection to shut down, so clients can reconnect elsewhere or later.
	TypeServerShutdown = "serverShutdown"
)

// Targets of offers, answers and candidates.
const (
	TargetPublisher  = "publisher"
	TargetSubscriber = "subscriber"
)

// ID is a request's "id" as the client sent it (a JSON string or number), echoed verbatim.
// A nil ID means the request had none.
type ID = json.RawMessage

// Envelope is what every message has.
type Envelope struct {
	Type string `json:"type"`
	ID   ID     `json:"id,omitempty"`
}

// DecodeError is a client message that is not well formed. ID is the request's id when it could
// be read, so the error can still answer the request.
type DecodeError struct {
	ID   ID
	Type string
	// Known is true when Type is a message type of the protocol (its fields were at fault), so
	// the server can still refuse a host-only request as forbidden before judging its fields.
	Known  bool
	Reason string
}

func (e *DecodeError) Error() string {
	if e.Type == "" {
		return e.Reason
	}
	return e.Type + ": " + e.Reason
}

// ErrUnknownType is wrapped by the DecodeError of a message whose type is not in the protocol.
var ErrUnknownType = errors.New("unknown message type")

// Request is a decoded client message.
type Request interface {
	// MessageType is the protocol's "type".
	MessageType() string
	// validate reports the first missing or ill-typed field.
	validate() error
}

// Decoded is a well-formed client message with its id.
type Decoded struct {
	ID      ID
	Request Request
}

// Decode parses one client message. Every failure is a *DecodeError.
func Decode(data []byte) (Decoded, error) {
	// Keys are matched exactly (exact.go): {"TYPE": "join"} has no type.
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return Decoded{}, &DecodeError{Reason: "malformed JSON: the message must be one JSON object"}
	}
	id, idErr := checkID(obj["id"])
	var typ string
	if rawType := obj["type"]; len(rawType) == 0 || json.Unmarshal(rawType, &typ) != nil || typ == "" {
		return Decoded{}, &DecodeError{ID: id, Reason: `"type" must be a non-empty string`}
	}
	newReq, ok := requestTypes[typ]
	if idErr != nil {
		// An ill-typed id is a field at fault like any other: a host-only request from anyone
		// else is still refused as forbidden first (Known).
		return Decoded{}, &DecodeError{Type: typ, Known: ok, Reason: idErr.Error()}
	}
	if !ok {
		return Decoded{}, &DecodeError{ID: id, Type: typ, Reason: ErrUnknownType.Error()}
	}
	req := newReq()
	fields, err := exactJSON(data, obj, reflect.TypeOf(req).Elem())
	if err != nil {
		return Decoded{}, &DecodeError{ID: id, Type: typ, Known: true, Reason: "malformed fields"}
	}
	if err := strictUnmarshal(fields, req); err != nil {
		return Decoded{}, &DecodeError{ID: id, Type: typ, Known: true, Reason: err.Error()}
	}
	if err := req.validate(); err != nil {
		return Decoded{}, &DecodeError{ID: id, Type: typ, Known: true, Reason: err.Error()}
	}
	return Decoded{ID: id, Request: req}, nil
}

// checkID accepts a JSON string or number; null counts as absent.
func checkID(raw json.RawMessage) (ID, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return raw, nil
		}
	default:
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			return raw, nil
		}
	}
	return nil, errors.New(`"id" must be a string or a number`)
}

// strictUnmarshal decodes the fields of req, reporting ill-typed ones by name. Unknown fields are
// allowed so that clients of later versions still work.
func strictUnmarshal(data []byte, req Request) error {
	if err := json.Unmarshal(data, req); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return fmt.Errorf("field %q must be %s", typeErr.Field, kindName(typeErr.Type.Kind().String()))
		}
		return fmt.Errorf("malformed fields: %w", err)
	}
	return nil
}

func kindName(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "ptr", "struct", "map":
		return "an object"
	case "int", "int64", "uint16", "uint32", "float64":
		return "a number"
	}
	return "of another type"
}

func missing(field string) error { return fmt.Errorf("field %q is required", field) }
