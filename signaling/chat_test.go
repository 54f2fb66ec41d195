package signaling_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/node"
)

// chatOrAnswer matches a chat event or the answer to the request with id.
func chatOrAnswer(id string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["type"] == "chat" || answerTo(id)(m) }
}

// okWith sends a request that must cause an event of type typ to the sender before its ok, and
// returns that event.
func (r *raw) okWith(id string, req map[string]any, typ string) map[string]any {
	r.t.Helper()
	return r.okAfter(id, req, typ)[0]
}

// okAfter sends a request that must cause events of the given types to the sender, in that
// order, before its ok, and returns them. Other messages between them are skipped.
func (r *raw) okAfter(id string, req map[string]any, types ...string) []map[string]any {
	r.t.Helper()
	req["id"] = id
	r.send(req)
	var evs []map[string]any
	for _, typ := range types {
		ev := r.next(func(m map[string]any) bool { return m["type"] == typ || answerTo(id)(m) })
		if ev["type"] != typ {
			r.t.Fatalf("%v answered %v before a %s", req, ev, typ)
		}
		evs = append(evs, ev)
	}
	if ok := r.next(answerTo(id)); ok["type"] != "ok" {
		r.t.Fatalf("%v answered %v", req, ok)
	}
	return evs
}

// TestChatOverTheWire: public messages reach everyone (the sender's event before its ok),
// private ones the addressee and the sender only, a late joiner gets the public history, and
// every rule of the text and the addressee is answered with its error.
func TestChatOverTheWire(t *testing.T) {
	e := newNodeEnv(t, func(c *node.Config) { c.Meetings.ChatBurst, c.Meetings.ChatRate = 4, 1e-6 })
	m := e.create("Ada")
	host := e.dial("")
	hj := host.join(m.MeetingID, "Ada", m.HostKey)
	if hj["protocol"] != "1.1" || !isEmptyList(hj["chat"]) {
		t.Fatalf("joined: protocol %v, chat %v", hj["protocol"], hj["chat"])
	}
	if mv := hj["meeting"].(map[string]any); mv["chatAllowed"] != true || mv["lobby"] != false {
		t.Fatalf("joined.meeting %v", mv)
	}
	grace, linus := e.dial(""), e.dial("")
	gid := grace.join(m.MeetingID, "Grace", "")["participantId"].(string)
	lid := linus.join(m.MeetingID, "Linus", "")["participantId"].(string)

	grace.send(map[string]any{"type": "sendChat", "id": "c1", "text": "hello <b>all</b>\nsecond line"})
	ev := grace.next(chatOrAnswer("c1"))
	if ev["type"] != "chat" {
		t.Fatalf("the sender got %v before its own chat event", ev)
	}
	if ok := grace.next(answerTo("c1")); ok["type"] != "ok" {
		t.Fatalf("sendChat answered %v", ok)
	}
	for _, rx := range []*raw{host, linus} {
		got := rx.next(ofType("chat"))
		if got["from"] != gid || got["name"] != "Grace" || got["text"] != "hello <b>all</b>\nsecond line" || got["private"] != false {
			t.Fatalf("chat %v", got)
		}
		if id, _ := got["messageId"].(string); id == "" || got["sentAt"].(float64) <= 0 {
			t.Fatalf("chat without messageId or sentAt: %v", got)
		}
	}

	own := linus.okWith("c2", map[string]any{"type": "sendChat", "text": "psst", "to": gid}, "chat")
	if own["private"] != true || own["text"] != "psst" {
		t.Fatalf("private chat at the sender: %v", own)
	}
	priv := grace.next(ofType("chat"))
	if priv["private"] != true || priv["from"] != lid || priv["text"] != "psst" {
		t.Fatalf("private chat at the addressee: %v", priv)
	}
	// The host's next chat is the next public one: the private one never reached it.
	if got := host.okWith("c3", map[string]any{"type": "sendChat", "text": "from the host"}, "chat"); got["text"] != "from the host" {
		t.Fatalf("the host got %v", got)
	}

	for _, tc := range []struct {
		name string
		req  map[string]any
		code string
	}{
		{"too long", map[string]any{"text": strings.Repeat("é", 2001)}, "bad_request"},
		{"control character", map[string]any{"text": "a\u0007b"}, "bad_request"},
		{"carriage return", map[string]any{"text": "a\r\nb"}, "bad_request"},
		{"blank", map[string]any{"text": " \n\t "}, "bad_request"},
		{"empty", map[string]any{"text": ""}, "bad_request"},
		{"no text", map[string]any{}, "bad_request"},
		{"text not a string", map[string]any{"text": 5}, "bad_request"},
		{"unknown addressee", map[string]any{"text": "x", "to": "nobody"}, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req["type"] = "sendChat"
			wantError(t, grace.request("e-"+tc.name, tc.req), tc.code)
		})
	}
	// 2000 code points, counted as sent, with newline and tab: fine.
	grace.ok("c4", map[string]any{"type": "sendChat", "text": "\t" + strings.Repeat("😀", 1998) + "\n"})

	late := e.dial("")
	chat, _ := late.join(m.MeetingID, "Late", "")["chat"].([]any)
	var texts []string
	for _, c := range chat {
		texts = append(texts, c.(map[string]any)["text"].(string))
	}
	if len(texts) != 3 || texts[0] != "hello <b>all</b>\nsecond line" || texts[1] != "from the host" || !strings.HasPrefix(texts[2], "\t😀") {
		t.Fatalf("a late joiner's chat: %q", texts)
	}

	// Grace has sent 2 of her 4 (refused ones do not count); beyond them, rate_limited and not
	// delivered: the others' next chat is Linus's.
	grace.ok("c5", map[string]any{"type": "sendChat", "text": "three"})
	grace.ok("c6", map[string]any{"type": "sendChat", "text": "four"})
	wantError(t, grace.request("c7", map[string]any{"type": "sendChat", "text": "five"}), "rate_limited")
	linus.ok("c8", map[string]any{"type": "sendChat", "text": "linus again"})
	for _, want := range []string{"three", "four", "linus again"} {
		if got := late.next(ofType("chat")); got["text"] != want {
			t.Fatalf("late joiner got %v, want %q", got, want)
		}
	}
}

func TestChatAllowedOverTheWire(t *testing.T) {
	e := newEnv(t)
	m := e.create("Ada")
	host, grace := e.dial(""), e.dial("")
	host.join(m.MeetingID, "Ada", m.HostKey)
	grace.join(m.MeetingID, "Grace", "")

	// Host only, forbidden whatever the fields.
	wantError(t, grace.request("a1", map[string]any{"type": "setChatAllowed", "allowed": false}), "forbidden")
	wantError(t, grace.request("a2", map[string]any{"type": "setChatAllowed"}), "forbidden")
	wantError(t, host.request("a3", map[string]any{"type": "setChatAllowed"}), "bad_request")

	for _, mu := range []map[string]any{
		host.okWith("a4", map[string]any{"type": "setChatAllowed", "allowed": false}, "meetingUpdated"),
		grace.next(ofType("meetingUpdated")),
	} {
		if mu["meeting"].(map[string]any)["chatAllowed"] != false {
			t.Fatalf("meetingUpdated %v", mu)
		}
	}
	wantError(t, grace.request("a5", map[string]any{"type": "sendChat", "text": "hi"}), "forbidden")
	host.okWith("a6", map[string]any{"type": "sendChat", "text": "host only"}, "chat")
	if got := grace.next(ofType("chat")); got["text"] != "host only" {
		t.Fatalf("grace got %v", got)
	}
	status, body := e.get("/api/meetings/" + m.MeetingID)
	var info map[string]any
	if err := json.Unmarshal(body, &info); status != http.StatusOK || err != nil || info["chatAllowed"] != false || info["lobby"] != false {
		t.Fatalf("GET meeting: %d %s", status, body)
	}
	host.ok("a7", map[string]any{"type": "setChatAllowed", "allowed": true})
	grace.ok("a8", map[string]any{"type": "sendChat", "text": "back"})
}

func TestHandsOverTheWire(t *testing.T) {
	e := newEnv(t)
	m := e.create("Ada")
	host, grace := e.dial(""), e.dial("")
	host.join(m.MeetingID, "Ada", m.HostKey)
	gj := grace.join(m.MeetingID, "Grace", "")
	gid := gj["participantId"].(string)
	if gj["self"].(map[string]any)["handRaised"] != false {
		t.Fatalf("joined.self %v", gj["self"])
	}

	wantError(t, grace.request("h0", map[string]any{"type": "setHandRaised"}), "bad_request")
	for _, ev := range []map[string]any{
		grace.okWith("h1", map[string]any{"type": "setHandRaised", "raised": true}, "participantUpdated"),
		host.next(ofType("participantUpdated")),
	} {
		p := ev["participant"].(map[string]any)
		if p["participantId"] != gid || p["handRaised"] != true || p["handRaisedAt"].(float64) <= 0 {
			t.Fatalf("participantUpdated %v", p)
		}
	}
	late := e.dial("")
	for _, p := range late.join(m.MeetingID, "Late", "")["participants"].([]any) {
		if p := p.(map[string]any); p["participantId"] == gid && p["handRaised"] != true {
			t.Fatalf("a late joiner sees %v", p)
		}
	}

	wantError(t, grace.request("h2", map[string]any{"type": "lowerHand", "participantId": gid}), "forbidden")
	wantError(t, host.request("h3", map[string]any{"type": "lowerHand", "participantId": "nobody"}), "not_found")
	for _, ev := range []map[string]any{
		host.okWith("h4", map[string]any{"type": "lowerHand", "participantId": gid}, "participantUpdated"),
		grace.next(ofType("participantUpdated")),
	} {
		p := ev["participant"].(map[string]any)
		if p["participantId"] != gid || p["handRaised"] != false {
			t.Fatalf("participantUpdated %v", p)
		}
		if _, ok := p["handRaisedAt"]; ok {
			t.Fatalf("a lowered hand still says when it was raised: %v", p)
		}
	}
	grace.ok("h5", map[string]any{"type": "setHandRaised", "raised": true})
	host.ok("h6", map[string]any{"type": "lowerHand"})
	grace.next(func(m map[string]any) bool {
		return m["type"] == "participantUpdated" && m["participant"].(map[string]any)["handRaised"] == false
	})
}

func isEmptyList(v any) bool {
	l, ok := v.([]any)
	return ok && len(l) == 0
}
