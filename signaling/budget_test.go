package signaling_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/signaling"
)

// publisherOffer is a well-formed publisher offer (one receive-only audio section): it passes
// every cheap check and costs the server a scratch peer connection and a renegotiation.
func publisherOffer() string {
	return "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" +
		"a=ice-ufrag:abcd\r\na=ice-pwd:" + strings.Repeat("p", 24) + "\r\n" +
		"a=fingerprint:sha-256 " + strings.TrimSuffix(strings.Repeat("AB:", 32), ":") + "\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=setup:actpass\r\na=recvonly\r\na=rtpmap:111 opus/48000/2\r\n"
}

// answers reads r's answers to n requests whose ids start with prefix (and any error without an
// id) and counts them by outcome: the answer's type, or the error's code.
func (r *raw) answers(prefix string, n int) map[string]int {
	r.t.Helper()
	got := map[string]int{}
	total := 0
	for total < n {
		m := r.next(func(m map[string]any) bool {
			id, _ := m["id"].(string)
			return (m["type"] == "error" && m["id"] == nil) || strings.HasPrefix(id, prefix) && m["type"] != "offer"
		})
		total++
		if m["type"] == "error" {
			got[m["code"].(string)]++
			continue
		}
		got[m["type"].(string)]++
	}
	return got
}

// Five connections from one address sending offers as fast as they can, and one sending 60 KB
// junk messages, get what their address's budget and their byte budget allow, and the rest is
// refused as rate_limited (the junk without being decoded); another meeting's media flows on.
func TestRequestBudgets(t *testing.T) {
	e := newEnv(t, func(c *signaling.Config) { c.AddrCostPerSecond = signaling.DefaultAddrCostPerSecond })
	other := e.create("Bob")
	bob := e.memberFrom(t, "127.0.0.2", other.MeetingID, "Bob", other.HostKey, true)
	barbara := e.memberFrom(t, "127.0.0.3", other.MeetingID, "Barbara", "", false)
	grows(t, barbara, bob, client.Audio, 25)

	m := e.create("Mallory")
	var conns []*raw
	for i := range 5 {
		r := e.dial("")
		r.join(m.MeetingID, fmt.Sprintf("Bot %d", i), "")
		conns = append(conns, r)
	}
	const perConn = 60
	offer := publisherOffer()
	start := time.Now()
	for i := range perConn {
		for c, r := range conns {
			r.send(map[string]any{"type": "offer", "id": fmt.Sprintf("o%d-%d", c, i), "target": "publisher", "sdp": offer})
		}
	}
	junk := e.dial("")
	junk.join(m.MeetingID, "Junk", "")
	const junkMessages = 40
	blob := `{"type":"setHandRaised","id":"j","raised":"` + strings.Repeat("x", 60000) + `"}`
	for range junkMessages {
		junk.send(blob)
	}
	outcomes := map[string]int{}
	for _, r := range conns {
		for k, v := range r.answers("o", perConn) {
			outcomes[k] += v
		}
	}
	junkOutcomes := junk.answers("j", junkMessages)
	elapsed := time.Since(start)
	t.Logf("%d offers from one address over %v: %v; %d junk messages: %v", 5*perConn, elapsed, outcomes, junkMessages, junkOutcomes)

	// The address's budget: a burst of 4 s worth, then 100 a second; an offer costs 10 (the
	// joins spent none of it).
	served := 5*perConn - outcomes["rate_limited"]
	if limit := int(400+100*elapsed.Seconds())/10 + 1; served > limit {
		t.Errorf("%d offers served in %v from one address; the budget allows %d", served, elapsed, limit)
	}
	if outcomes["rate_limited"] == 0 {
		t.Error("no offer refused")
	}
	// The byte budget: 256 KiB at once, then 64 KiB a second; 60 KB messages.
	decoded := junkMessages - junkOutcomes["rate_limited"]
	if limit := int((256<<10+64<<10*elapsed.Seconds())/60000) + 1; decoded > limit || junkOutcomes["bad_request"] != decoded {
		t.Errorf("%d junk messages decoded in %v (%v); the byte budget allows %d", decoded, elapsed, junkOutcomes, limit)
	}
	grows(t, barbara, bob, client.Audio, 50)
	grows(t, barbara, bob, client.Video, 30)
	if !strings.Contains(metricText(t, e), `parley_requests_limited_total{budget="address"}`) {
		t.Error("no refused request counted")
	}
}
