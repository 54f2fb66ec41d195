package signaling_test

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/internal/node"
)

// TestEmptiedMeetingsFreeTheirRooms: meetings that are created, filled and then simply left (not
// ended) give back their media once the domain releases them: the sfu's rooms and peers return
// to 0, in its Stats and in the parley_sfu_rooms and parley_sfu_peers gauges. Every member joins
// over the real protocol, so the sfu makes each one its peer connections.
func TestEmptiedMeetingsFreeTheirRooms(t *testing.T) {
	const meetings, members = 100, 3
	e := newNodeEnv(t, func(c *node.Config) { c.Meetings.IdleTimeout = 50 * time.Millisecond })
	for i := range meetings {
		m := e.create(fmt.Sprintf("Host %d", i))
		conns := make([]*raw, members)
		for j := range conns {
			conns[j] = e.dial("")
			key := ""
			if j == 0 {
				key = m.HostKey
			}
			conns[j].join(m.MeetingID, fmt.Sprintf("P%d-%d", i, j), key)
		}
		if i == 0 {
			// Filled: the sfu holds the meeting's room and a peer for each member.
			if st := e.media.Stats(); st.Rooms != 1 || st.Peers != members {
				t.Fatalf("with one meeting filled: sfu stats %+v", st)
			}
		}
		for j, c := range conns {
			c.ok(fmt.Sprintf("leave-%d", j), map[string]any{"type": "leave"})
			c.closed()
		}
	}
	await.Until(t, "every emptied meeting to be released with its room", func() bool {
		st := e.media.Stats()
		return e.meetings.LiveMeetings() == 0 && st.Rooms == 0 && st.Peers == 0
	})
	metrics := metricText(t, e)
	for _, gauge := range []string{"parley_sfu_rooms", "parley_sfu_peers", "parley_meetings_live", "parley_participants"} {
		if !regexp.MustCompile(`(?m)^` + gauge + ` 0$`).MatchString(metrics) {
			t.Errorf("%s is not 0:\n%s", gauge, regexp.MustCompile(`(?m)^`+gauge+` .*$`).FindString(metrics))
		}
	}
}
