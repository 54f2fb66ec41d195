package wire_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/parleyhq/parley/wire"
)

// TestChatHandsLobbyMessages decodes each request of chat, hands and the lobby, well formed and
// not, and pins the JSON of their events and of the audit log.
func TestChatHandsLobbyMessages(t *testing.T) {
	for _, in := range []string{
		`{"type":"sendChat","text":" hi\n"}`,
		`{"type":"sendChat","text":"x","to":"p"}`,
		`{"type":"sendChat","text":"x","to":null}`,
		`{"type":"setChatAllowed","allowed":false}`,
		`{"type":"setHandRaised","raised":true}`,
		`{"type":"lowerHand"}`,
		`{"type":"lowerHand","participantId":"p"}`,
		`{"type":"setLobby","enabled":true}`,
		`{"type":"admit","requestId":"r"}`,
		`{"type":"deny","requestId":"r"}`,
		`{"type":"admitAll"}`,
	} {
		if _, err := wire.Decode([]byte(in)); err != nil {
			t.Errorf("Decode(%s): %v", in, err)
		}
	}
	for in, reason := range map[string]string{
		`{"type":"sendChat"}`:                        `"text" is required`,
		`{"type":"sendChat","text":5}`:               `"text" must be a string`,
		`{"type":"sendChat","text":"x","to":5}`:      `"to" must be a string`,
		`{"type":"setChatAllowed"}`:                  `"allowed" is required`,
		`{"type":"setHandRaised","raised":"yes"}`:    `"raised" must be a boolean`,
		`{"type":"lowerHand","participantId":false}`: `"participantId" must be a string`,
		`{"type":"setLobby"}`:                        `"enabled" is required`,
		`{"type":"admit"}`:                           `"requestId" is required`,
		`{"type":"deny","requestId":1}`:              `"requestId" must be a string`,
	} {
		_, err := wire.Decode([]byte(in))
		var de *wire.DecodeError
		if !errors.As(err, &de) || !de.Known || !strings.Contains(de.Error(), reason) {
			t.Errorf("Decode(%s) = %v, want a known-type error about %s", in, err, reason)
		}
	}

	for _, tc := range []struct {
		ev   wire.Event
		typ  string
		want string
	}{
		{wire.Chat{MessageID: "1", From: "p", Name: "Ada", Text: "<b>hi</b>", SentAt: 5, Private: true}, "chat",
			`{"messageId":"1","from":"p","name":"Ada","text":"\u003cb\u003ehi\u003c/b\u003e","sentAt":5,"private":true}`},
		{wire.LobbyWaiting{}, "lobbyWaiting", `{}`},
		{wire.LobbyUpdated{Waiting: []wire.LobbyEntry{{RequestID: "r", Name: "Bo", Since: 7}}}, "lobbyUpdated",
			`{"waiting":[{"requestId":"r","name":"Bo","since":7}]}`},
		{wire.LobbyUpdated{Waiting: []wire.LobbyEntry{}}, "lobbyUpdated", `{"waiting":[]}`},
	} {
		if tc.ev.EventType() != tc.typ || !wire.IsEvent(tc.typ) {
			t.Errorf("%T: type %q", tc.ev, tc.ev.EventType())
		}
		b, _ := json.Marshal(tc.ev)
		if string(b) != tc.want {
			t.Errorf("%s JSON %s, want %s", tc.typ, b, tc.want)
		}
		data, err := wire.NewEventMessage(tc.ev).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		back, err := wire.DecodeEvent(tc.typ, data)
		if err != nil || !reflect.DeepEqual(back, tc.ev) {
			t.Errorf("DecodeEvent(%s) = %#v, %v", data, back, err)
		}
	}

	p := wire.Participant{ID: "p", HandRaised: true, HandRaisedAt: 9}
	if b, _ := json.Marshal(p); !strings.Contains(string(b), `"handRaised":true,"handRaisedAt":9`) {
		t.Errorf("participant JSON %s", b)
	}
	if b, _ := json.Marshal(wire.Participant{}); strings.Contains(string(b), "handRaisedAt") {
		t.Errorf("a lowered hand's participant JSON %s says when it was raised", b)
	}
	// The host's joined always carries the lobby, [] when nobody waits; the others' none.
	if b, _ := json.Marshal(wire.Joined{Lobby: []wire.LobbyEntry{}}); !strings.HasSuffix(string(b), `,"lobby":[]}`) {
		t.Errorf("the host's joined JSON %s", b)
	}
	if b, _ := json.Marshal(wire.Joined{}); strings.Contains(string(b), `"lobby":[`) || strings.Contains(string(b), `"lobby":null`) {
		t.Errorf("a participant's joined JSON %s", b)
	}
	entry := wire.AuditEntry{At: 1, Action: "join", By: "p", ByName: "Ada"}
	if b, _ := json.Marshal(wire.AuditLog{Entries: []wire.AuditEntry{entry}}); string(b) != `{"entries":[{"at":1,"action":"join","by":"p","byName":"Ada"}]}` {
		t.Errorf("audit JSON %s", b)
	}
	if wire.CodeDenied != "denied" || wire.CodeLobbyTimeout != "lobby_timeout" {
		t.Errorf("lobby codes %q %q", wire.CodeDenied, wire.CodeLobbyTimeout)
	}
}
