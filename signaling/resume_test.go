package signaling_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/node"
)

func withResumeGrace(c *node.Config) { c.Meetings.ResumeGrace = 30 * time.Second }

// resume sends a join with a resume token and returns its answer.
func (r *raw) resume(meetingID, name, token string) map[string]any {
	r.t.Helper()
	r.send(map[string]any{"type": "join", "id": "r", "meetingId": meetingID, "name": name, "resumeToken": token})
	return r.next(answerTo("r"))
}

func participantOf(m map[string]any) map[string]any {
	p, _ := m["participant"].(map[string]any)
	return p
}

// reconnectingUpdate matches participantUpdated of pid with reconnecting as given.
func reconnectingUpdate(pid string, on bool) func(map[string]any) bool {
	return func(m map[string]any) bool {
		p := participantOf(m)
		return m["type"] == "participantUpdated" && p["participantId"] == pid && p["reconnecting"] == on
	}
}

// TestResumeOverTheWire: a dropped guest is reconnecting for the others; its resume token takes
// it back into a meeting locked meanwhile, with a fresh token; a used, wrong or kicked
// participant's token is forbidden and closes the connection; a resume into an ended meeting is
// meeting_ended.
func TestResumeOverTheWire(t *testing.T) {
	e := newNodeEnv(t, withResumeGrace)
	c := e.create("Ada")
	host := e.dial("")
	host.join(c.MeetingID, "Ada", c.HostKey)
	guest := e.dial("")
	joined := guest.join(c.MeetingID, "Grace", "")
	pid, _ := joined["participantId"].(string)
	token, _ := joined["resumeToken"].(string)
	if len(token) < 22 || joined["resumed"] != nil {
		t.Fatalf("joined %v: want a resumeToken of at least 128 bits, no resumed", joined)
	}
	host.ok("l", map[string]any{"type": "setLocked", "locked": true})

	guest.conn.CloseNow() // no close frame, as a dropped network
	host.next(reconnectingUpdate(pid, true))

	back := e.dial("")
	m := back.resume(c.MeetingID, "Someone Else", token)
	self, _ := m["self"].(map[string]any)
	if m["type"] != "joined" || m["resumed"] != true || m["participantId"] != pid || self["name"] != "Grace" || self["reconnecting"] != false {
		t.Fatalf("resume answered %v", m)
	}
	fresh, _ := m["resumeToken"].(string)
	if fresh == "" || fresh == token {
		t.Fatalf("resume token after the resume %q", fresh)
	}
	host.next(reconnectingUpdate(pid, false))
	if text := metricText(t, e); !strings.Contains(text, `parley_resumes_total{media="kept"} 1`) {
		t.Errorf("metrics after a resume:\n%s", grepLines(text, "parley_resumes_total"))
	}

	for _, tok := range []string{token, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} { // used, wrong
		r := e.dial("")
		wantError(t, r.resume(c.MeetingID, "Grace", tok), "forbidden")
		r.closed()
	}

	back.conn.CloseNow()
	host.next(reconnectingUpdate(pid, true))
	host.ok("k", map[string]any{"type": "kick", "participantId": pid})
	r := e.dial("")
	wantError(t, r.resume(c.MeetingID, "Grace", fresh), "forbidden")
	r.closed()

	// The host's own token, into an ended meeting: meeting_ended comes before forbidden.
	other := e.dial("")
	j := other.join(c.MeetingID, "Ada", c.HostKey) // replaces the host's first connection
	hostToken, _ := j["resumeToken"].(string)
	other.ok("end", map[string]any{"type": "endMeeting"})
	late := e.dial("")
	wantError(t, late.resume(c.MeetingID, "Ada", hostToken), "meeting_ended")
	late.closed()
}

// TestIceRestartTarget: iceRestart is for the subscriber connection only.
func TestIceRestartTarget(t *testing.T) {
	e := newEnv(t)
	c := e.create("Ada")
	host := e.dial("")
	host.join(c.MeetingID, "Ada", c.HostKey)
	wantError(t, host.request("1", map[string]any{"type": "iceRestart", "target": "publisher"}), "bad_request")
	wantError(t, host.request("2", map[string]any{"type": "iceRestart"}), "bad_request")
	host.ok("3", map[string]any{"type": "iceRestart", "target": "subscriber"})
}

// TestResumeResendsTheOfferInFlight: a subscriber offer whose answer the dropped connection took
// with it is sent again on the resumed connection (Pion cannot take an offer back, so it is the
// only one the server can send).
func TestResumeResendsTheOfferInFlight(t *testing.T) {
	e := newNodeEnv(t, withResumeGrace)
	c := e.create("Ada")
	e.member(t, c.MeetingID, "Ada", c.HostKey, true) // publishes: the guest is offered its tracks
	guest := e.dial("")
	joined := guest.join(c.MeetingID, "Grace", "")
	first := guest.next(ofType("offer")) // not answered
	guest.conn.CloseNow()

	back := e.dial("")
	if m := back.resume(c.MeetingID, "Grace", joined["resumeToken"].(string)); m["type"] != "joined" || m["mediaKept"] != true {
		t.Fatalf("resume answered %v: want joined with mediaKept", m)
	}
	again := back.next(ofType("offer"))
	// The same offer; it now carries the candidates that were trickled to the dropped connection.
	if again["target"] != "subscriber" || withoutCandidates(again["sdp"]) != withoutCandidates(first["sdp"]) {
		t.Fatalf("offer after the resume differs from the one in flight:\n%v\n%v", first["sdp"], again["sdp"])
	}
}

// withoutCandidates is an SDP (a JSON string) without its candidate lines.
func withoutCandidates(sdp any) string {
	s, _ := sdp.(string)
	var keep []string
	for _, l := range strings.Split(s, "\r\n") {
		if l != "" && !strings.HasPrefix(l, "a=candidate:") && l != "a=end-of-candidates" {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\r\n")
}

func grepLines(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
