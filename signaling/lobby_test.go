package signaling_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/wire"
)

// holdJoin sends a join that the lobby must hold: lobbyWaiting comes, and no answer.
func (r *raw) holdJoin(meetingID, name string) {
	r.t.Helper()
	r.send(map[string]any{"type": "join", "id": "j", "meetingId": meetingID, "name": name})
	if m := r.next(func(m map[string]any) bool { return m["type"] == "lobbyWaiting" || answerTo("j")(m) }); m["type"] != "lobbyWaiting" {
		r.t.Fatalf("a join to a meeting with the lobby on answered %v", m)
	}
}

// waitingList waits for the host's next lobbyUpdated and returns its names and request ids.
func (r *raw) waitingList() (names, ids []string) {
	r.t.Helper()
	ev := r.next(ofType("lobbyUpdated"))
	for _, w := range ev["waiting"].([]any) {
		w := w.(map[string]any)
		if w["since"].(float64) <= 0 {
			r.t.Fatalf("lobby entry without since: %v", w)
		}
		names = append(names, w["name"].(string))
		ids = append(ids, w["requestId"].(string))
	}
	return names, ids
}

func (e *env) participantCount(meetingID string) float64 {
	e.t.Helper()
	_, body := e.get("/api/meetings/" + meetingID)
	var info map[string]any
	if err := json.Unmarshal(body, &info); err != nil {
		e.t.Fatalf("GET meeting: %s", body)
	}
	return info["participantCount"].(float64)
}

// TestLobbyOverTheWire: with the lobby on, joins without the host key wait (lobbyWaiting, no
// answer, not counted, no events) until the host admits (joined), denies (error denied, closed)
// or lets everyone in by turning the lobby off; the host hears of every change and its joined
// lists who waits.
func TestLobbyOverTheWire(t *testing.T) {
	e := newEnv(t)
	m := e.create("Ada")
	host, guest := e.dial(""), e.dial("")
	hj := host.join(m.MeetingID, "Ada", m.HostKey)
	if !isEmptyList(hj["lobby"]) {
		t.Fatalf("the host's joined lobby is %v, want []", hj["lobby"])
	}
	if _, ok := guest.join(m.MeetingID, "Guest", "")["lobby"]; ok {
		t.Fatal("a participant's joined carries the lobby")
	}
	wantError(t, guest.request("l0", map[string]any{"type": "setLobby", "enabled": true}), "forbidden")
	for _, typ := range []string{"admit", "deny", "admitAll"} {
		wantError(t, guest.request("l-"+typ, map[string]any{"type": typ, "requestId": "x"}), "forbidden")
	}
	wantError(t, host.request("l1", map[string]any{"type": "setLobby"}), "bad_request")
	wantError(t, host.request("l2", map[string]any{"type": "admit"}), "bad_request")
	mu := host.okWith("l3", map[string]any{"type": "setLobby", "enabled": true}, "meetingUpdated")
	if mu["meeting"].(map[string]any)["lobby"] != true {
		t.Fatalf("meetingUpdated %v", mu)
	}
	if guest.next(ofType("meetingUpdated"))["meeting"].(map[string]any)["lobby"] != true {
		t.Fatal("the guest was not told the lobby is on")
	}

	grace := e.dial("")
	grace.holdJoin(m.MeetingID, "Grace")
	names, ids := host.waitingList()
	if len(names) != 1 || names[0] != "Grace" {
		t.Fatalf("waiting %v", names)
	}
	if n := e.participantCount(m.MeetingID); n != 2 {
		t.Fatalf("participantCount %v with one waiting, want 2", n)
	}
	// While held: other requests are refused and the connection stays; the meeting's events do
	// not reach it.
	wantError(t, grace.request("g1", map[string]any{"type": "setMuted", "kind": "audio", "muted": true}), "bad_request")
	wantError(t, grace.request("g2", map[string]any{"type": "join", "meetingId": m.MeetingID, "name": "Again"}), "bad_request")
	host.okWith("h1", map[string]any{"type": "sendChat", "text": "while you wait"}, "chat")
	host.ok("h2", map[string]any{"type": "startTimer", "timerId": "t45"})

	// The host reconnects: its joined says who waits.
	host2 := e.dial("")
	lobby := host2.join(m.MeetingID, "Ada", m.HostKey)["lobby"].([]any)
	if len(lobby) != 1 || lobby[0].(map[string]any)["requestId"] != ids[0] || lobby[0].(map[string]any)["name"] != "Grace" {
		t.Fatalf("the host's joined lobby %v", lobby)
	}
	host = host2

	evs := host.okAfter("h3", map[string]any{"type": "admit", "requestId": ids[0]}, "participantJoined", "lobbyUpdated")
	if p := evs[0]["participant"].(map[string]any); p["name"] != "Grace" {
		t.Fatalf("admitted %v", p)
	}
	if w := evs[1]["waiting"].([]any); len(w) != 0 {
		t.Fatalf("still waiting after admit: %v", w)
	}
	// The held join is answered with joined, and nothing of the meeting came before it.
	var before []string
	gj := grace.next(func(m map[string]any) bool {
		if m["id"] == "j" {
			return true
		}
		before = append(before, m["type"].(string))
		return false
	})
	if gj["type"] != "joined" || gj["role"] != "participant" || len(before) != 0 {
		t.Fatalf("admitted: %v after %v", gj, before)
	}
	if chat := gj["chat"].([]any); len(chat) != 1 || gj["timer"] == nil {
		t.Fatalf("admitted without the meeting's state: chat %v timer %v", chat, gj["timer"])
	}
	if n := e.participantCount(m.MeetingID); n != 3 {
		t.Fatalf("participantCount %v after admit, want 3", n)
	}
	grace.ok("g3", map[string]any{"type": "setHandRaised", "raised": true})
	wantError(t, host.request("h4", map[string]any{"type": "admit", "requestId": ids[0]}), "not_found")
	wantError(t, host.request("h5", map[string]any{"type": "deny", "requestId": "nobody"}), "not_found")

	// Denied: the join's error, then the close.
	linus := e.dial("")
	linus.holdJoin(m.MeetingID, "Linus")
	_, ids = host.waitingList()
	if w := host.okWith("h6", map[string]any{"type": "deny", "requestId": ids[0]}, "lobbyUpdated")["waiting"].([]any); len(w) != 0 {
		t.Fatalf("still waiting after deny: %v", w)
	}
	wantError(t, linus.next(answerTo("j")), "denied")
	linus.closed()

	// Locked: refused rather than held. Held before the lock: still waiting, then let in.
	ken := e.dial("")
	ken.holdJoin(m.MeetingID, "Ken")
	host.waitingList()
	host.ok("h7", map[string]any{"type": "setLocked", "locked": true})
	locked := e.dial("")
	locked.send(map[string]any{"type": "join", "id": "j", "meetingId": m.MeetingID, "name": "Late"})
	wantError(t, locked.next(answerTo("j")), "meeting_locked")
	locked.closed()
	bo := e.dial("")
	host.ok("h8", map[string]any{"type": "setLocked", "locked": false})
	bo.holdJoin(m.MeetingID, "Bo")
	if names, _ := host.waitingList(); len(names) != 2 || names[0] != "Ken" || names[1] != "Bo" {
		t.Fatalf("waiting %v, want Ken then Bo", names)
	}

	// Turning the lobby off lets everyone waiting in.
	host.okAfter("h9", map[string]any{"type": "setLobby", "enabled": false}, "meetingUpdated", "participantJoined", "participantJoined", "lobbyUpdated")
	for _, r := range []*raw{ken, bo} {
		if j := r.next(answerTo("j")); j["type"] != "joined" {
			t.Fatalf("lobby off answered %v", j)
		}
	}
	if n := e.participantCount(m.MeetingID); n != 5 {
		t.Fatalf("participantCount %v, want 5", n)
	}
}

// TestLobbyEndsOverTheWire: a held join ends when its client leaves (by closing, or by leave),
// when the lobby timeout passes (lobby_timeout), or when the meeting ends (meeting_ended).
func TestLobbyEndsOverTheWire(t *testing.T) {
	e := newNodeEnv(t, func(c *node.Config) { c.Meetings.LobbyTimeout = 2 * time.Second })
	m := e.create("Ada")
	host := e.dial("")
	host.join(m.MeetingID, "Ada", m.HostKey)
	host.ok("l", map[string]any{"type": "setLobby", "enabled": true})

	gone := e.dial("")
	gone.holdJoin(m.MeetingID, "Gone")
	host.waitingList()
	gone.conn.CloseNow()
	if names, _ := host.waitingList(); len(names) != 0 {
		t.Fatalf("a client that went away still waits: %v", names)
	}

	leaver := e.dial("")
	leaver.holdJoin(m.MeetingID, "Leaver")
	host.waitingList()
	leaver.send(map[string]any{"type": "leave", "id": "bye"})
	wantError(t, leaver.next(answerTo("j")), "not_found")
	if ok := leaver.next(answerTo("bye")); ok["type"] != "ok" {
		t.Fatalf("leave answered %v", ok)
	}
	leaver.closed()
	if names, _ := host.waitingList(); len(names) != 0 {
		t.Fatalf("a client that left still waits: %v", names)
	}

	slow := e.dial("")
	slow.holdJoin(m.MeetingID, "Slow")
	host.waitingList()
	wantError(t, slow.next(answerTo("j")), "lobby_timeout")
	slow.closed()
	if names, _ := host.waitingList(); len(names) != 0 {
		t.Fatalf("a timed out join still waits: %v", names)
	}

	last := e.dial("")
	last.holdJoin(m.MeetingID, "Last")
	host.waitingList()
	host.ok("end", map[string]any{"type": "endMeeting"})
	wantError(t, last.next(answerTo("j")), "meeting_ended")
	last.closed()
}

// TestKickedParticipantComesBackToTheLobby: a participant the host removed comes back by the
// link while the lobby is on: it waits, the host denies, and it stays out.
func TestKickedParticipantComesBackToTheLobby(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m := e.create("Ada")
	host := e.member(t, m.MeetingID, "Ada", m.HostKey, false)
	mallory := e.member(t, m.MeetingID, "Mallory", "", false)
	request(t, host, wire.TypeSetLobby, map[string]any{"enabled": true})
	request(t, host, wire.TypeKick, map[string]any{"participantId": mallory.ParticipantID()})
	waitEvent(t, mallory, "kicked", nil)

	again, err := client.New(client.Options{BaseURL: e.url, MeetingID: m.MeetingID, Name: "Mallory", Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(again.Close)
	joined := make(chan error, 1)
	go func() { joined <- again.Join(ctx) }()
	if _, err := again.WaitFor(ctx, client.OfType("lobbyWaiting")); err != nil {
		t.Fatalf("the kicked participant did not wait: %v", err)
	}
	ev := waitEvent(t, host, "lobbyUpdated", func(m client.Message) bool {
		var u wire.LobbyUpdated
		return m.Decode(&u) == nil && len(u.Waiting) == 1
	})
	var u wire.LobbyUpdated
	decode(t, ev, &u)
	if u.Waiting[0].Name != "Mallory" {
		t.Fatalf("waiting %+v", u.Waiting)
	}
	if n := e.participantCount(m.MeetingID); n != 1 {
		t.Fatalf("participantCount %v while Mallory waits, want 1", n)
	}
	request(t, host, wire.TypeDeny, map[string]any{"requestId": u.Waiting[0].RequestID})
	if err := <-joined; client.ErrorCode(err) != string(wire.CodeDenied) {
		t.Fatalf("Mallory's join ended with %v, want denied", err)
	}
	<-again.Done()
	if n := e.participantCount(m.MeetingID); n != 1 {
		t.Fatalf("participantCount %v after the denial, want 1", n)
	}
	status, _ := e.get("/api/meetings/" + m.MeetingID)
	if status != http.StatusOK {
		t.Fatalf("GET meeting %d", status)
	}
}
