package signaling_test

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// These tests read the server as an independent client built from PROTOCOL.md alone would: raw
// JSON, exact key names and JSON types, nothing through our Go types.

// wantKeys fails unless m has exactly the keys want (in any order).
func wantKeys(t *testing.T, what string, m map[string]any, want ...string) {
	t.Helper()
	want = slices.Sorted(slices.Values(want)) // not in place: callers pass shared lists
	if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, want) {
		t.Errorf("%s keys = %v, want %v (%v)", what, got, want, m)
	}
}

// participantKeys are a Participant's keys: version 1's and 1.1's (handRaisedAt, our addition,
// only while a hand is up).
var participantKeys = []string{"participantId", "name", "role", "audioMuted", "videoMuted", "mutedByHost", "canUnmute",
	"handRaised", "screenSharing", "reconnecting"}

func wantParticipant(t *testing.T, what string, v any) map[string]any {
	t.Helper()
	p, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s is %T, want an object", what, v)
	}
	wantKeys(t, what, p, participantKeys...)
	for _, k := range []string{"participantId", "name", "role"} {
		if _, ok := p[k].(string); !ok {
			t.Errorf("%s.%s = %v, want a string", what, k, p[k])
		}
	}
	for _, k := range participantKeys[3:] {
		if _, ok := p[k].(bool); !ok {
			t.Errorf("%s.%s = %v, want a boolean", what, k, p[k])
		}
	}
	return p
}

var meetingKeys = []string{"meetingId", "state", "locked", "screenShareAllowed", "chatAllowed", "lobby"}

func TestMessageShapesOnTheWire(t *testing.T) {
	e := newEnv(t)
	c := e.create("Ada")
	host := e.dial("")
	h := host.join(c.MeetingID, "Ada", c.HostKey)

	// joined: version 1's fields, 1.1's (protocol, chat, iceServers, resumeToken; lobby for the
	// host), and our self. A fresh join is not a resume: no resumed, no mediaKept.
	wantKeys(t, "host joined", h, "type", "id", "participantId", "role", "meeting", "participants", "timer", "timers",
		"self", "protocol", "chat", "iceServers", "resumeToken", "lobby")
	if h["id"] != "j" || h["role"] != "host" || h["protocol"] != "1.1" {
		t.Errorf("host joined = %v", h)
	}
	if h["timer"] != nil {
		t.Errorf("joined.timer = %v, want null with no timer running", h["timer"])
	}
	if l, ok := h["lobby"].([]any); !ok || len(l) != 0 {
		t.Errorf("host joined.lobby = %#v, want [] while nobody waits", h["lobby"])
	}
	for _, k := range []string{"participants", "chat", "iceServers"} {
		if l, ok := h[k].([]any); !ok || len(l) != 0 {
			t.Errorf("joined.%s = %#v, want []", k, h[k])
		}
	}
	meetingView := h["meeting"].(map[string]any)
	wantKeys(t, "joined.meeting", meetingView, meetingKeys...)
	if meetingView["state"] != "open" || meetingView["locked"] != false || meetingView["screenShareAllowed"] != true ||
		meetingView["chatAllowed"] != true || meetingView["lobby"] != false {
		t.Errorf("joined.meeting = %v, want open, unlocked, with the 1.1 defaults", meetingView)
	}
	want := []any{
		map[string]any{"timerId": "t15", "seconds": 15.0},
		map[string]any{"timerId": "t30", "seconds": 30.0},
		map[string]any{"timerId": "t45", "seconds": 45.0},
	}
	if !equalJSON(h["timers"], want) {
		t.Errorf("joined.timers = %v, want %v", h["timers"], want)
	}
	wantParticipant(t, "joined.self", h["self"])

	guest := e.dial("")
	g := guest.join(c.MeetingID, "Grace", "")
	wantKeys(t, "guest joined", g, "type", "id", "participantId", "role", "meeting", "participants", "timer", "timers",
		"self", "protocol", "chat", "iceServers", "resumeToken")
	others := g["participants"].([]any)
	if len(others) != 1 {
		t.Fatalf("guest's joined.participants = %v, want the host only", others)
	}
	if p := wantParticipant(t, "joined.participants[0]", others[0]); p["participantId"] != h["participantId"] || p["role"] != "host" {
		t.Errorf("guest sees %v", p)
	}

	pj := host.next(ofType("participantJoined"))
	wantKeys(t, "participantJoined", pj, "type", "participant")
	if p := wantParticipant(t, "participantJoined.participant", pj["participant"]); p["participantId"] != g["participantId"] ||
		p["name"] != "Grace" || p["role"] != "participant" || p["canUnmute"] != true {
		t.Errorf("participantJoined = %v", pj)
	}

	// ok: exactly type and the id as sent, a number stays a number.
	host.send(`{"type":"setLocked","id":7,"locked":false}`)
	ok := host.next(answerTo(7.0))
	wantKeys(t, "ok", ok, "type", "id")
	if ok["type"] != "ok" {
		t.Errorf("setLocked (no change) answered %v", ok)
	}
	// error: type, id, code, message.
	guest.send(`{"type":"startTimer","id":"x","timerId":"t15"}`)
	er := guest.next(answerTo("x"))
	wantKeys(t, "error", er, "type", "id", "code", "message")
	wantError(t, er, "forbidden")

	// Timer events, as everyone gets them.
	host.send(`{"type":"startTimer","id":"s","timerId":"t30"}`)
	ts := guest.next(ofType("timerStarted"))
	wantKeys(t, "timerStarted", ts, "type", "timerId", "seconds", "endsAt")
	if ts["timerId"] != "t30" || ts["seconds"] != 30.0 {
		t.Errorf("timerStarted = %v", ts)
	}
	if at, ok := ts["endsAt"].(float64); !ok || at < 1e12 {
		t.Errorf("timerStarted.endsAt = %v, want Unix milliseconds", ts["endsAt"])
	}
	host.next(answerTo("s"))
	late := e.dial("")
	lj := late.join(c.MeetingID, "Linus", "")
	timer, _ := lj["timer"].(map[string]any)
	wantKeys(t, "joined.timer", timer, "timerId", "seconds", "endsAt")
	if timer["timerId"] != "t30" || timer["endsAt"] != ts["endsAt"] {
		t.Errorf("joined.timer = %v, want the running timer of %v", timer, ts)
	}
	host.ok("c", map[string]any{"type": "cancelTimer"})
	wantKeys(t, "timerCancelled", guest.next(ofType("timerCancelled")), "type")

	// meetingUpdated carries the whole meeting object.
	host.ok("l", map[string]any{"type": "setLocked", "locked": true})
	mu := guest.next(ofType("meetingUpdated"))
	wantKeys(t, "meetingUpdated", mu, "type", "meeting")
	wantKeys(t, "meetingUpdated.meeting", mu["meeting"].(map[string]any), meetingKeys...)

	// participantLeft: participantId and reason.
	late.ok("bye", map[string]any{"type": "leave"})
	pl := guest.next(ofType("participantLeft"))
	wantKeys(t, "participantLeft", pl, "type", "participantId", "reason")
	if pl["participantId"] != lj["participantId"] || pl["reason"] != "left" {
		t.Errorf("participantLeft = %v", pl)
	}

	// meetingEnded: bare, to everyone, then the close; the host's ok comes after its event.
	host.send(`{"type":"endMeeting","id":"end"}`)
	wantKeys(t, "meetingEnded", guest.next(ofType("meetingEnded")), "type")
	first := host.next(func(m map[string]any) bool { return m["type"] == "meetingEnded" || m["id"] == "end" })
	if first["type"] != "meetingEnded" {
		t.Errorf("the host got %v before meetingEnded", first)
	}
	if m := host.next(answerTo("end")); m["type"] != "ok" {
		t.Errorf("endMeeting answered %v", m)
	}
	if st := guest.closed(); st != websocket.StatusNormalClosure {
		t.Errorf("guest closed with %d after meetingEnded", st)
	}
	host.closed()

	// GET /api/meetings/{id} of an ended meeting.
	status, body := e.get("/api/meetings/" + c.MeetingID)
	var info map[string]any
	if err := json.Unmarshal(body, &info); status != http.StatusOK || err != nil {
		t.Fatalf("GET meeting: %d %s", status, body)
	}
	wantKeys(t, "meeting info", info, append([]string{"participantCount"}, meetingKeys...)...)
	if info["state"] != "ended" || info["participantCount"] != 0.0 {
		t.Errorf("ended meeting info = %v", info)
	}
}

// TestFieldNamesAreExactOnTheWire: "Field names are camelCase", and they are matched as written.
// A key in another casing is an unknown field (ignored), so a required field spelled only that
// way is missing: bad_request.
func TestFieldNamesAreExactOnTheWire(t *testing.T) {
	e := newEnv(t)
	c := e.create("Ada")

	// A first message whose "type" is spelled "TYPE" is not a join.
	r := e.dial("")
	r.send(`{"TYPE":"join","id":1,"MeetingId":"` + c.MeetingID + `","NAME":"Grace"}`)
	wantError(t, r.next(answerTo(1.0)), "bad_request")
	if st := r.closed(); st != websocket.StatusNormalClosure {
		t.Fatalf("close status %d after a failed join", st)
	}

	host := e.dial("")
	host.join(c.MeetingID, "Ada", c.HostKey)
	guest := e.dial("")
	guest.join(c.MeetingID, "Grace", "")
	wantError(t, guest.request("a", map[string]any{"type": "setMuted", "Kind": "audio", "Muted": true}), "bad_request")
	wantError(t, host.request("b", map[string]any{"type": "setLocked", "LOCKED": true}), "bad_request")
	// A twin in another casing does not override the field.
	guest.send(`{"type":"setMuted","id":"c","kind":"video","muted":true,"Muted":false}`)
	upd := host.next(ofType("participantUpdated"))
	if p := upd["participant"].(map[string]any); p["videoMuted"] != true {
		t.Errorf(`"Muted": false overrode "muted": true: %v`, p)
	}
	if m := guest.next(answerTo("c")); m["type"] != "ok" {
		t.Errorf("setMuted answered %v", m)
	}
	// A host-only request from a participant is forbidden first, whatever its fields: an
	// ill-typed id included (the error then has no id to carry).
	guest.send(`{"type":"muteAll","id":[1],"allowSelfUnmute":true}`)
	m := guest.next(ofType("error"))
	wantError(t, m, "forbidden")
	if _, has := m["id"]; has {
		t.Errorf("error %v carries an id the request did not have", m)
	}
}

// TestWebSocketHandshakeErrorIsJSON: "Every HTTP error body is {"error": {"code", "message"}}",
// /ws's included when the request is no WebSocket handshake.
func TestWebSocketHandshakeErrorIsJSON(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"plain GET", nil, http.StatusUpgradeRequired},
		{"no key", map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13"}, http.StatusBadRequest},
		{"old version", map[string]string{"Connection": "keep-alive, Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "8",
			"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.url+"/ws", nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			var eb struct {
				Error struct{ Code, Message string }
			}
			if resp.StatusCode != tc.status || json.Unmarshal(body, &eb) != nil || eb.Error.Code != "bad_request" || eb.Error.Message == "" {
				t.Fatalf("got %d %s, want %d with a bad_request error body", resp.StatusCode, body, tc.status)
			}
		})
	}
}

// TestMessageSizeBoundary: "A client's message is at most 64 KiB": one of exactly 65536 bytes is
// served, one byte more closes the connection with 1009 and no answer.
func TestMessageSizeBoundary(t *testing.T) {
	e := newEnv(t)
	c := e.create("Ada")
	host := e.dial("")
	host.join(c.MeetingID, "Ada", c.HostKey)
	sized := func(id string, n int) string {
		head := `{"type":"setLocked","id":"` + id + `","locked":true,"pad":"`
		return head + strings.Repeat("x", n-len(head)-2) + `"}`
	}
	host.send(sized("fits", 64<<10))
	if m := host.next(answerTo("fits")); m["type"] != "ok" {
		t.Fatalf("a 64 KiB message was answered %v", m)
	}
	host.send(sized("over", 64<<10+1))
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-host.msgs:
			if !ok {
				if st := websocket.CloseStatus(<-host.done); st != websocket.StatusMessageTooBig {
					t.Fatalf("close status %d after a message of 64 KiB + 1, want 1009", st)
				}
				return
			}
			if m["id"] == "over" || m["type"] == "error" {
				t.Fatalf("an oversized message was answered %v", m)
			}
		case <-deadline:
			t.Fatal("the connection is still open after an oversized message")
		}
	}
}

// TestCandidateFields: a trickled candidate is {"candidate", "sdpMid", "sdpMLineIndex",
// "usernameFragment"}; only usernameFragment may be null or absent, and an empty candidate
// string (not a missing one) marks the end of candidates.
func TestCandidateFields(t *testing.T) {
	e := newEnv(t)
	c := e.create("Ada")
	host := e.dial("")
	host.join(c.MeetingID, "Ada", c.HostKey)
	wantError(t, host.request("1", map[string]any{"type": "candidate", "target": "subscriber",
		"candidate": map[string]any{"sdpMid": "0", "sdpMLineIndex": 0}}), "bad_request")
	wantError(t, host.request("2", map[string]any{"type": "candidate", "target": "subscriber",
		"candidate": map[string]any{"candidate": nil, "sdpMid": "0", "sdpMLineIndex": 0}}), "bad_request")
	host.ok("3", map[string]any{"type": "candidate", "target": "subscriber",
		"candidate": map[string]any{"candidate": "", "sdpMid": "0", "sdpMLineIndex": 0}})
	host.ok("4", map[string]any{"type": "candidate", "target": "subscriber",
		"candidate": map[string]any{"candidate": "", "sdpMid": "0", "sdpMLineIndex": 0, "usernameFragment": nil}})
}
