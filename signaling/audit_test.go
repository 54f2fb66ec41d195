package signaling_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/wire"
)

// TestAuditOverHTTP: the meeting log answers the bearer of the hostKey with every host action,
// join, leave, removal and lobby decision, oldest first, names as they were; anyone else gets
// 403, an unknown meeting 404.
func TestAuditOverHTTP(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m := e.create("Ada")
	host, grace, linus := e.dial(""), e.dial(""), e.dial("")
	hid := host.join(m.MeetingID, "Ada", m.HostKey)["participantId"].(string)
	gid := grace.join(m.MeetingID, "Grace", "")["participantId"].(string)
	lid := linus.join(m.MeetingID, "Linus", "")["participantId"].(string)
	host.ok("a1", map[string]any{"type": "muteParticipant", "participantId": gid, "allowSelfUnmute": true})
	host.ok("a2", map[string]any{"type": "kick", "participantId": lid})
	host.ok("a3", map[string]any{"type": "setLobby", "enabled": true})
	ken, bo := e.dial(""), e.dial("")
	ken.holdJoin(m.MeetingID, "Ken")
	_, ids := host.waitingList()
	host.ok("a4", map[string]any{"type": "admit", "requestId": ids[0]})
	kid := ken.next(answerTo("j"))["participantId"].(string)
	bo.holdJoin(m.MeetingID, "Bo")
	_, ids = host.waitingList()
	host.ok("a5", map[string]any{"type": "deny", "requestId": ids[0]})
	grace.ok("a6", map[string]any{"type": "leave"})

	api := client.API{BaseURL: e.url}
	entries, err := api.Audit(ctx, m.MeetingID, m.HostKey)
	if err != nil {
		t.Fatal(err)
	}
	type line struct{ action, by, byName, target, targetName string }
	want := []line{
		{"join", hid, "Ada", "", ""},
		{"join", gid, "Grace", "", ""},
		{"join", lid, "Linus", "", ""},
		{"muteParticipant", hid, "Ada", gid, "Grace"},
		{"kick", hid, "Ada", lid, "Linus"},
		{"setLobby", hid, "Ada", "", ""},
		{"admit", hid, "Ada", kid, "Ken"},
		{"join", kid, "Ken", "", ""},
		{"deny", hid, "Ada", "", "Bo"},
		{"leave", gid, "Grace", "", ""},
	}
	if len(entries) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(entries), len(want), entries)
	}
	var last int64
	for i, e := range entries {
		if got := (line{e.Action, e.By, e.ByName, e.Target, e.TargetName}); got != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got, want[i])
		}
		if e.At < last || e.At == 0 {
			t.Errorf("entry %d at %d, after %d: not oldest first", i, e.At, last)
		}
		last = e.At
	}
	if entries[3].Detail["allowSelfUnmute"] != true {
		t.Errorf("muteParticipant detail %v", entries[3].Detail)
	}

	for _, tc := range []struct {
		name, meetingID, auth string
		status                int
		code                  wire.Code
	}{
		{"no key", m.MeetingID, "", http.StatusForbidden, wire.CodeForbidden},
		{"wrong key", m.MeetingID, "Bearer nope", http.StatusForbidden, wire.CodeForbidden},
		{"key not as a bearer token", m.MeetingID, "Basic " + m.HostKey, http.StatusForbidden, wire.CodeForbidden},
		{"bare key", m.MeetingID, m.HostKey, http.StatusForbidden, wire.CodeForbidden},
		{"another meeting's key", e.create("Bob").MeetingID, "Bearer " + m.HostKey, http.StatusForbidden, wire.CodeForbidden},
		{"unknown meeting", "nosuchmeeting", "Bearer " + m.HostKey, http.StatusNotFound, wire.CodeNotFound},
		{"scheme in lower case", m.MeetingID, "bearer " + m.HostKey, http.StatusOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/api/meetings/"+tc.meetingID+"/audit", nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				wire.HTTPError
				Entries []wire.AuditEntry `json:"entries"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || body.Error.Code != tc.code {
				t.Fatalf("%d %+v, want %d %s", resp.StatusCode, body.Error, tc.status, tc.code)
			}
			if tc.status == http.StatusOK && len(body.Entries) != len(want) {
				t.Fatalf("%d entries", len(body.Entries))
			}
			if tc.status != http.StatusOK && len(body.Entries) != 0 {
				t.Fatal("entries in a refusal")
			}
		})
	}
	// The key never shows in the log.
	if raw, _ := json.Marshal(entries); strings.Contains(string(raw), m.HostKey) {
		t.Fatal("the host key is in the log")
	}

	// Every other host request, a disconnect, and the end: each is in the log, which outlives the
	// meeting.
	for i, req := range []map[string]any{
		{"type": "muteAll", "allowSelfUnmute": false},
		{"type": "allowUnmute"},
		{"type": "startTimer", "timerId": "t15"},
		{"type": "cancelTimer"},
		{"type": "setLocked", "locked": true},
		{"type": "setChatAllowed", "allowed": false},
		{"type": "lowerHand"},
		{"type": "admitAll"},
		{"type": "setScreenShareAllowed", "allowed": false},
		{"type": "stopScreenShare", "participantId": kid},
	} {
		host.ok(fmt.Sprintf("more-%d", i), req)
	}
	ken.conn.CloseNow()
	host.next(func(m map[string]any) bool { return m["type"] == "participantLeft" && m["participantId"] == kid })
	host.ok("end", map[string]any{"type": "endMeeting"})
	entries, err = api.Audit(ctx, m.MeetingID, m.HostKey)
	if err != nil {
		t.Fatalf("the log after the end: %v", err)
	}
	logged := map[string]bool{}
	for _, e := range entries {
		logged[e.Action] = true
	}
	for _, kind := range meeting.RequestKinds() {
		if meeting.HostOnly(kind) && !logged[string(kind)] {
			t.Errorf("host request %s is not in the log", kind)
		}
	}
	for _, action := range []string{"join", "leave", "disconnect"} {
		if !logged[action] {
			t.Errorf("no %s in the log", action)
		}
	}
	if last := entries[len(entries)-1]; last.Action != "endMeeting" || last.ByName != "Ada" {
		t.Errorf("the last entry is %+v, want the end", last)
	}
}
