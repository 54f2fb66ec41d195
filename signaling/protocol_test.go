package signaling_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/signaling"
	"github.com/parleyhq/parley/wire"
)

func TestCreateAndGetMeeting(t *testing.T) {
	e := newEnv(t, func(c *signaling.Config) { c.PublicURL = "https://meet.example.com/" })
	c := e.create("  Ada  ")
	if len(c.MeetingID) < 11 || strings.ContainsAny(c.MeetingID, "/+=?#") {
		t.Errorf("meetingId %q is not URL-safe with >= 64 bits", c.MeetingID)
	}
	if len(c.HostKey) < 22 {
		t.Errorf("hostKey %q is too short for 128 bits", c.HostKey)
	}
	if c.JoinURL != "https://meet.example.com/m/"+c.MeetingID {
		t.Errorf("joinUrl = %q", c.JoinURL)
	}
	status, body := e.get("/api/meetings/" + c.MeetingID)
	if status != http.StatusOK {
		t.Fatalf("get: %d %s", status, body)
	}
	var info map[string]any
	if err := json.Unmarshal(body, &info); err != nil {
		t.Fatalf("info %s: %v", body, err)
	}
	if info["meetingId"] != c.MeetingID || info["state"] != "open" || info["locked"] != false || info["participantCount"] != float64(0) {
		t.Fatalf("info = %s", body)
	}
	if strings.Contains(string(body), c.HostKey) {
		t.Fatal("the hostKey leaked into GET")
	}
}

func TestHTTPErrors(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name   string
		do     func() (int, []byte)
		status int
		code   string
	}{
		{"unknown meeting", func() (int, []byte) { return e.get("/api/meetings/nope") }, 404, "not_found"},
		{"malformed body", func() (int, []byte) { return e.post("/api/meetings", `{"hostName":`) }, 400, "bad_request"},
		{"missing name", func() (int, []byte) { return e.post("/api/meetings", `{}`) }, 400, "bad_request"},
		// Field names are exact: "HostName" is not "hostName" (encoding/json alone would take it).
		{"name under another casing", func() (int, []byte) { return e.post("/api/meetings", `{"HostName":"Ada"}`) }, 400, "bad_request"},
		{"empty name", func() (int, []byte) { return e.post("/api/meetings", `{"hostName":"   "}`) }, 400, "bad_request"},
		{"name too long", func() (int, []byte) {
			return e.post("/api/meetings", `{"hostName":"`+strings.Repeat("é", 65)+`"}`)
		}, 400, "bad_request"},
		{"bidi override", func() (int, []byte) { return e.post("/api/meetings", `{"hostName":"Ada\u202e"}`) }, 400, "bad_request"},
		{"control character", func() (int, []byte) { return e.post("/api/meetings", `{"hostName":"A\u0007da"}`) }, 400, "bad_request"},
		{"huge body", func() (int, []byte) {
			return e.post("/api/meetings", `{"hostName":"`+strings.Repeat("a", 70<<10)+`"}`)
		}, 413, "bad_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := tc.do()
			if status != tc.status {
				t.Fatalf("status = %d, want %d (%s)", status, tc.status, body)
			}
			var eb struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(body, &eb); err != nil || eb.Error.Code != tc.code || eb.Error.Message == "" {
				t.Fatalf("body = %s, want error code %s with a message", body, tc.code)
			}
		})
	}
}

func TestCreateRateLimited(t *testing.T) {
	e := newEnv(t, func(c *signaling.Config) { c.CreatesPerMinute = 2 })
	e.create("Ada")
	e.create("Ada")
	status, body := e.post("/api/meetings", `{"hostName":"Ada"}`)
	if status != http.StatusTooManyRequests || !strings.Contains(string(body), "rate_limited") {
		t.Fatalf("third create: %d %s", status, body)
	}
}

func TestHealthAndReady(t *testing.T) {
	e := newEnv(t)
	if s, _ := e.get("/healthz"); s != 200 {
		t.Fatalf("healthz %d", s)
	}
	if s, _ := e.get("/readyz"); s != 200 {
		t.Fatalf("readyz %d", s)
	}
	if s, body := e.get("/metrics"); s != 200 || !strings.Contains(string(body), "parley_websocket_sessions") ||
		!strings.Contains(string(body), "parley_meetings_live") || !strings.Contains(string(body), "parley_participants") {
		t.Fatalf("metrics %d: %s", s, body)
	}
	if s, body := e.get("/m/abc"); s != 200 || !strings.Contains(string(body), "<html") {
		t.Fatalf("web client page: %d %s", s, body)
	}
}

func TestJoinErrors(t *testing.T) {
	e := newEnv(t)
	c := e.create("Ada")
	cases := []struct {
		name string
		msg  string
		code string
	}{
		{"unknown meeting", `{"type":"join","id":1,"meetingId":"nope","name":"Grace"}`, "not_found"},
		{"not a join first", `{"type":"setMuted","id":1,"kind":"audio","muted":true}`, "bad_request"},
		{"malformed JSON first", `{"type":"join",`, "bad_request"},
		{"bad name", `{"type":"join","id":1,"meetingId":"` + c.MeetingID + `","name":""}`, "bad_request"},
		{"wrong host key", `{"type":"join","id":1,"meetingId":"` + c.MeetingID + `","name":"Eve","hostKey":"guess"}`, "forbidden"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.dialT(t, "")
			r.send(tc.msg)
			m := r.next(ofType("error"))
			wantError(t, m, tc.code)
			if st := r.closed(); st != websocket.StatusNormalClosure {
				t.Fatalf("close status %d", st)
			}
		})
	}
}

func TestJoinAndEvents(t *testing.T) {
	e := newEnv(t)
	c := e.create("Ada")
	host := e.dial("")
	j := host.join(c.MeetingID, "Ada", c.HostKey)
	if j["role"] != "host" || j["participantId"] == "" {
		t.Fatalf("host joined = %v", j)
	}
	if timers, _ := j["timers"].([]any); len(timers) != 3 {
		t.Fatalf("timers = %v", j["timers"])
	}
	guest := e.dial("")
	g := guest.join(c.MeetingID, " Grace ", "")
	if g["role"] != "participant" {
		t.Fatalf("guest joined = %v", g)
	}
	others, _ := g["participants"].([]any)
	if len(others) != 1 || others[0].(map[string]any)["name"] != "Ada" {
		t.Fatalf("guest sees %v", g["participants"])
	}
	pj := host.next(ofType("participantJoined"))
	p := pj["participant"].(map[string]any)
	if p["name"] != "Grace" || p["participantId"] != g["participantId"] {
		t.Fatalf("participantJoined = %v", pj)
	}
	_, body := e.get("/api/meetings/" + c.MeetingID)
	if !strings.Contains(string(body), `"participantCount":2`) {
		t.Fatalf("info = %s", body)
	}
	if m := metricText(t, e); !strings.Contains(m, "parley_participants 2") || !strings.Contains(m, "parley_meetings_live 1") {
		t.Fatalf("metrics do not count the participants and the meeting:\n%s", m)
	}

	// A second join on a joined connection is bad_request, and the connection stays.
	m := guest.request("again", map[string]any{"type": "join", "meetingId": c.MeetingID, "name": "Grace"})
	wantError(t, m, "bad_request")
	guest.ok("mute", map[string]any{"type": "setMuted", "kind": "video", "muted": true})

	// leave: ok before the close; the host sees participantLeft with reason left.
	guest.ok("bye", map[string]any{"type": "leave"})
	if st := guest.closed(); st != websocket.StatusNormalClosure {
		t.Fatalf("leave close status %d", st)
	}
	left := host.next(ofType("participantLeft"))
	if left["participantId"] != g["participantId"] || left["reason"] != "left" {
		t.Fatalf("participantLeft = %v", left)
	}
}

func TestBadInputKeepsServing(t *testing.T) {
	e := newEnv(t)
	c := e.create("Ada")
	host := e.dial("")
	host.join(c.MeetingID, "Ada", c.HostKey)
	guest := e.dial("")
	guest.join(c.MeetingID, "Grace", "")

	other := e.create("Bob")
	bob := e.dial("")
	bob.join(other.MeetingID, "Bob", other.HostKey)

	bad := []struct {
		msg  string
		code string
	}{
		{`{"type":`, "bad_request"},
		{`[]`, "bad_request"},
		{`{"type":"fly","id":1}`, "bad_request"},
		{`{"type":"setMuted","id":2,"kind":"audio"}`, "bad_request"},
		{`{"type":"setMuted","id":3,"kind":"audio","muted":"no"}`, "bad_request"},
		{`{"type":"offer","id":4,"target":"publisher","sdp":"this is not SDP"}`, "bad_request"},
		{`{"type":"answer","id":5,"target":"subscriber","sdp":"v=0"}`, "bad_request"},
		{`{"type":"kick","id":6,"participantId":"x"}`, "forbidden"},
	}
	for _, b := range bad {
		guest.send(b.msg)
		wantError(t, guest.next(ofType("error")), b.code)
	}
	// Everyone is still served: the guest itself, its meeting, and the other meeting.
	guest.ok("g", map[string]any{"type": "setMuted", "kind": "audio", "muted": true})
	host.ok("h", map[string]any{"type": "setLocked", "locked": true})
	bob.ok("b", map[string]any{"type": "startTimer", "timerId": "t15"})
}

func TestFrameLimits(t *testing.T) {
	e := newEnv(t)
	c := e.create("Ada")

	big := e.dial("")
	big.join(c.MeetingID, "Ada", c.HostKey)
	big.send(`{"type":"leave","pad":"` + strings.Repeat("x", 65<<10) + `"}`)
	if st := big.closed(); st != websocket.StatusMessageTooBig {
		t.Fatalf("oversized frame: close status %d, want 1009", st)
	}

	bin := e.dial("")
	bin.join(c.MeetingID, "Grace", "")
	if err := bin.conn.Write(t.Context(), websocket.MessageBinary, []byte(`{"type":"leave"}`)); err != nil {
		t.Fatal(err)
	}
	if st := bin.closed(); st != websocket.StatusUnsupportedData {
		t.Fatalf("binary frame: close status %d, want 1003", st)
	}
}

func TestOriginCheck(t *testing.T) {
	e := newEnv(t)
	_, resp, err := websocket.Dial(t.Context(), "ws"+strings.TrimPrefix(e.url, "http")+"/ws", &websocket.DialOptions{
		HTTPHeader: http.Header{"Origin": []string{"https://evil.example"}},
	})
	if err == nil {
		t.Fatal("a foreign origin was accepted")
	}
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %v %v", resp, err)
	}
}

// TestHostOnlyRequestsForbidden walks the domain's permission table over the wire: each host
// request from a participant, with and without its fields, is forbidden and changes nothing.
func TestHostOnlyRequestsForbidden(t *testing.T) {
	e := newEnv(t)
	c := e.create("Ada")
	host := e.dial("")
	host.join(c.MeetingID, "Ada", c.HostKey)
	guest := e.dial("")
	g := guest.join(c.MeetingID, "Grace", "")
	// Someone waits in the lobby, so that admit and deny have a real request to refuse.
	guest.ok("hand", map[string]any{"type": "setHandRaised", "raised": true})
	host.ok("lobby", map[string]any{"type": "setLobby", "enabled": true})
	e.dial("").holdJoin(c.MeetingID, "Waiting")
	_, waiting := host.waitingList()
	before, _ := e.meetings.Snapshot(c.MeetingID)

	fields := map[string]map[string]any{
		"muteAll":         {"allowSelfUnmute": false},
		"muteParticipant": {"participantId": g["participantId"], "allowSelfUnmute": false},
		"allowUnmute":     {},
		"startTimer":      {"timerId": "t15"},
		"cancelTimer":     {},
		"kick":            {"participantId": g["participantId"]},
		"setLocked":       {"locked": true},
		"endMeeting":      {},
		"setChatAllowed":  {"allowed": false},
		"lowerHand":       {"participantId": g["participantId"]},
		"setLobby":        {"enabled": false},
		"admit":           {"requestId": waiting[0]},
		"deny":            {"requestId": waiting[0]},
		"admitAll":        {},

		"setScreenShareAllowed": {"allowed": false},
		"stopScreenShare":       {"participantId": g["participantId"]},
	}
	walked := 0
	for _, kind := range meeting.RequestKinds() {
		if meeting.Allowed(wire.RoleParticipant, kind) {
			continue
		}
		walked++
		full := map[string]any{"type": string(kind)}
		for k, v := range fields[string(kind)] {
			full[k] = v
		}
		wantError(t, guest.request(string(kind)+"-full", full), "forbidden")
		wantError(t, guest.request(string(kind)+"-bare", map[string]any{"type": string(kind)}), "forbidden")
	}
	if walked != len(fields) {
		t.Fatalf("walked %d host-only requests, want %d", walked, len(fields))
	}
	after, _ := e.meetings.Snapshot(c.MeetingID)
	if !equalJSON(before, after) {
		t.Fatalf("state changed:\nbefore %+v\nafter  %+v", before, after)
	}
	// The host saw nothing of it.
	host.ok("probe", map[string]any{"type": "setMuted", "kind": "video", "muted": false})
	if !strings.Contains(metricText(t, e), `parley_requests_forbidden_total{type="kick"} 2`) {
		t.Fatal("forbidden requests are not counted")
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestDeadClientIsDisconnected(t *testing.T) {
	e := newEnv(t, func(c *signaling.Config) {
		c.PingInterval = 200 * time.Millisecond
		c.PingTimeout = 300 * time.Millisecond
	})
	c := e.create("Ada")
	host := e.dial("")
	host.join(c.MeetingID, "Ada", c.HostKey)

	// A client that never reads never answers pings.
	ctx := t.Context()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http")+"/ws", &websocket.DialOptions{
		HTTPHeader: http.Header{"Origin": []string{e.url}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"join","meetingId":"`+c.MeetingID+`","name":"Zed"}`)); err != nil {
		t.Fatal(err)
	}
	host.next(ofType("participantJoined"))
	left := host.next(ofType("participantLeft"))
	if left["reason"] != "disconnected" {
		t.Fatalf("participantLeft = %v", left)
	}
}

func TestHostReplaced(t *testing.T) {
	e := newEnv(t)
	c := e.create("Ada")
	old := e.dial("")
	j1 := old.join(c.MeetingID, "Ada", c.HostKey)
	guest := e.dial("")
	guest.join(c.MeetingID, "Grace", "")

	fresh := e.dial("")
	j2 := fresh.join(c.MeetingID, "Ada (laptop)", c.HostKey)
	if j2["participantId"] != j1["participantId"] || j2["role"] != "host" {
		t.Fatalf("replacement joined as %v, was %v", j2, j1)
	}
	old.next(ofType("replaced"))
	old.closed()
	up := guest.next(ofType("participantUpdated"))
	if p := up["participant"].(map[string]any); p["name"] != "Ada (laptop)" {
		t.Fatalf("participantUpdated = %v", up)
	}
	fresh.ok("t", map[string]any{"type": "startTimer", "timerId": "t30"})
}

func TestDrain(t *testing.T) {
	e := newEnv(t)
	c := e.create("Ada")
	host := e.dial("")
	host.join(c.MeetingID, "Ada", c.HostKey)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := e.srv.Drain(ctx); err != nil {
		t.Fatalf("drain: %v", err)
	}
	host.next(ofType("serverShutdown"))
	if st := host.closed(); st != websocket.StatusGoingAway {
		t.Fatalf("close status %d, want 1001", st)
	}
	if s, _ := e.get("/readyz"); s != http.StatusServiceUnavailable {
		t.Fatalf("readyz while draining: %d", s)
	}
	if s, body := e.post("/api/meetings", `{"hostName":"Bob"}`); s != http.StatusServiceUnavailable {
		t.Fatalf("create while draining: %d %s", s, body)
	}
	if s, _ := e.get("/healthz"); s != http.StatusOK {
		t.Fatalf("healthz while draining: %d", s)
	}
}

// TestFloodIsRateLimited: a client flooding requests gets rate_limited errors, stays
// connected, and the others in its meeting are not flooded with its events.
func TestFloodIsRateLimited(t *testing.T) {
	e := newEnv(t, func(c *signaling.Config) { c.MessagesPerSecond = 5; c.MessageBurst = 20 })
	c := e.create("Ada")
	host := e.dial("")
	host.join(c.MeetingID, "Ada", c.HostKey)
	guest := e.dial("")
	guest.join(c.MeetingID, "Grace", "")

	const sent = 200
	for i := range sent {
		guest.send(map[string]any{"type": "setMuted", "id": i, "kind": "video", "muted": i%2 == 0})
	}
	limited, ok := 0, 0
	for range sent {
		m := guest.next(func(m map[string]any) bool { return m["type"] == "ok" || m["type"] == "error" })
		switch {
		case m["type"] == "ok":
			ok++
		case m["code"] == "rate_limited":
			limited++
		default:
			t.Fatalf("unexpected answer %v", m)
		}
	}
	if limited == 0 || ok < 20 || ok+limited != sent {
		t.Fatalf("%d ok, %d rate_limited of %d", ok, limited, sent)
	}
	// Still connected and served once the flood stops.
	await.Until(t, "the limit to refill", func() bool {
		m := guest.request("after", map[string]any{"type": "setMuted", "kind": "video", "muted": false})
		return m["type"] == "ok"
	})
	// The host saw one update per request carried out, not one per request sent.
	updates := 0
	for len(host.msgs) > 0 {
		if m := <-host.msgs; m["type"] == "participantUpdated" {
			updates++
		}
	}
	if updates > ok+1 {
		t.Fatalf("host got %d updates for %d requests carried out", updates, ok)
	}
}
