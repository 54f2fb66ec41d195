package cluster_test

import (
	"context"
	"encoding/json"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/cluster"
	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/internal/redistest"
	"github.com/parleyhq/parley/redisstore"
	"github.com/parleyhq/parley/wire"
)

// rejoin dials through url until the cluster takes the join (dialUntil: while the dead
// owner's heartbeat has not expired, a join is answered unavailable), and publishes anew.
func rejoin(t *testing.T, url, meetingID, name, hostKey, browser string) *client.Client {
	t.Helper()
	c, _ := dialUntil(t, "join again", client.Options{BaseURL: url, MeetingID: meetingID, Name: name, HostKey: hostKey, BrowserID: browser})
	t.Cleanup(c.Close)
	publish(t, c)
	return c
}

func dialBrowser(t *testing.T, url, meetingID, name, hostKey, browser string) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{BaseURL: url, MeetingID: meetingID, Name: name, HostKey: hostKey, BrowserID: browser, Loopback: true})
	if err != nil {
		t.Fatalf("%s: dial: %v", name, err)
	}
	t.Cleanup(c.Close)
	publish(t, c)
	return c
}

// TestNodeLoss kills (SIGKILL) the node that holds a meeting: its clients join again through the
// surviving nodes, one of which takes the meeting over from Redis with what the host decided:
// the lock, the running timer (which then ends once, at its deadline), and each participant's
// host mute and permission to unmute (by the browser id the client sends). A meeting on another node never
// notices.
func TestNodeLoss(t *testing.T) {
	rdb, nodes := threeNodes(t)
	store := redisstore.New(rdb, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	created, owner, survivors := ownedBy(t, store, nodes, nodes[0])
	ownerID, a, b := owner.ID, survivors[0], survivors[1]
	host := dialBrowser(t, a.URL, created.MeetingID, "Ada", created.HostKey, "browser-ada")
	grace := dialBrowser(t, b.URL, created.MeetingID, "Grace", "", "browser-grace")
	linus := dialBrowser(t, owner.URL, created.MeetingID, "Linus", "", "browser-linus")
	grows(t, host, grace, client.Audio, 20)
	grows(t, grace, linus, client.Audio, 20)

	// A second meeting, placed on a survivor (the owner has the participants), once the
	// owner's heartbeat has told the cluster its load.
	await.Until(t, "the owner's heartbeat to carry its participants", func() bool {
		var n cluster.Node
		b, err := rdb.Get(ctx, "parley:node:"+ownerID).Bytes()
		return err == nil && json.Unmarshal(b, &n) == nil && n.Participants == 3
	})
	other, err := client.CreateMeeting(ctx, a.URL, "Eve")
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := store.Owner(ctx, other.MeetingID); id == ownerID {
		t.Fatalf("the second meeting was placed on the loaded node %s", id)
	}
	eve := member(t, a.URL, other.MeetingID, "Eve", other.HostKey)
	bob := member(t, b.URL, other.MeetingID, "Bob", "")
	grows(t, eve, bob, client.Audio, 20)

	// The host decides: Grace muted for good, Linus muted but allowed to unmute himself, a
	// timer, the lock. (The mute-all policy's takeover is meeting's TestTakeover: a mute lock
	// overrides any one participant's permission for whoever joins.)
	request(t, host, "muteParticipant", map[string]any{"participantId": grace.ParticipantID(), "allowSelfUnmute": false})
	request(t, host, "muteParticipant", map[string]any{"participantId": linus.ParticipantID(), "allowSelfUnmute": true})
	request(t, host, "startTimer", map[string]any{"timerId": "t30"})
	request(t, host, "setLocked", map[string]any{"locked": true})
	var started wire.TimerStarted
	if err := waitType(t, grace, 0, "timerStarted").Decode(&started); err != nil {
		t.Fatal(err)
	}

	owner.stop(syscall.SIGKILL)
	// The relayed host is told its meeting's node went away.
	select {
	case <-host.Done():
	case <-time.After(await.Limit):
		t.Fatal("the host's relayed session outlived the meeting's node")
	}

	ada := rejoin(t, a.URL, created.MeetingID, "Ada", created.HostKey, "browser-ada")
	j := ada.Joined()
	if j.Role != wire.RoleHost || !j.Meeting.Locked {
		t.Fatalf("after the takeover the host joined as %q, meeting %+v: want host, locked", j.Role, j.Meeting)
	}
	if j.Timer == nil || j.Timer.TimerID != "t30" || j.Timer.EndsAt != started.EndsAt {
		t.Fatalf("after the takeover the timer is %+v, want t30 ending at %d", j.Timer, started.EndsAt)
	}
	newOwner, err := store.Owner(ctx, created.MeetingID)
	if err != nil || (newOwner != a.ID && newOwner != b.ID) {
		t.Fatalf("the meeting's owner after the loss: %q, %v; want a survivor", newOwner, err)
	}
	request(t, ada, "setLocked", map[string]any{"locked": false})
	if got := a.metric(ctx, "parley_cluster_takeovers_total") + b.metric(ctx, "parley_cluster_takeovers_total"); got != 1 {
		t.Errorf("the survivors counted %v takeovers, want 1", got)
	}

	grace2 := rejoin(t, b.URL, created.MeetingID, "Grace", "", "browser-grace")
	if s := grace2.Joined().Self; !s.MutedByHost || s.CanUnmute {
		t.Errorf("Grace came back as %+v: want muted by the host, without permission to unmute", s)
	}
	linus2 := rejoin(t, a.URL, created.MeetingID, "Linus", "", "browser-linus")
	if s := linus2.Joined().Self; !s.MutedByHost || !s.CanUnmute {
		t.Errorf("Linus came back as %+v: want muted by the host, allowed to unmute", s)
	}
	newcomer := rejoin(t, b.URL, created.MeetingID, "Mary", "", "")
	if s := newcomer.Joined().Self; s.MutedByHost {
		t.Errorf("a newcomer joined as %+v: nobody muted her", s)
	}

	// Media through the new owner; the host mute holds at the packet level.
	grows(t, grace2, ada, client.Audio, 30)
	grows(t, ada, grace2, client.Video, 15)
	grows(t, linus2, ada, client.Audio, 30)
	if n := ada.Received(grace2.ParticipantID(), client.Audio).Packets; n != 0 {
		t.Errorf("the host received %d audio packets of Grace, muted by the host", n)
	}

	// The timer ends once, at its deadline, for the sessions on both survivors.
	endsAt := time.UnixMilli(started.EndsAt)
	for _, c := range []*client.Client{ada, grace2, linus2} {
		wctx, cancel := context.WithTimeout(t.Context(), time.Until(endsAt)+await.Limit)
		m, err := c.WaitFor(wctx, client.OfType("timerEnded"))
		cancel()
		if err != nil {
			t.Fatalf("%s: no timerEnded: %v", name(c), err)
		}
		if m.At.Before(endsAt) || m.At.After(endsAt.Add(3*time.Second)) {
			t.Errorf("%s: timerEnded at %v, endsAt %v", name(c), m.At.Format(time.StampMilli), endsAt.Format(time.StampMilli))
		}
	}
	grows(t, grace2, ada, client.Audio, 50)
	for _, c := range []*client.Client{ada, grace2, linus2} {
		n := 0
		for _, m := range c.Messages() {
			if m.Type == "timerEnded" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s got %d timerEnded, want 1", name(c), n)
		}
	}

	// The second meeting never noticed.
	grows(t, eve, bob, client.Audio, 50)
	grows(t, bob, eve, client.Audio, 50)
	for _, c := range []*client.Client{eve, bob} {
		select {
		case <-c.Done():
			t.Errorf("%s's session in the other meeting ended", name(c))
		default:
		}
		for _, m := range c.Messages() {
			if m.Type == "participantLeft" || m.Type == "serverShutdown" {
				t.Errorf("%s got %s", name(c), m.Raw)
			}
		}
	}
}

// TestDrain sends SIGTERM to the node that holds a meeting: it leaves the registry, tells its
// clients (relayed ones included) to reconnect, and they join again (or resume with their
// tokens) through the other node at once, where the meeting goes on with what the host decided.
func TestDrain(t *testing.T) {
	rs := redistest.Start(t)
	store := redisstore.New(redisClient(t, rs), nil)
	n1 := startNode(t, "node-1", rs.URL())
	n2 := startNode(t, "node-2", rs.URL())
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	created, owner, others := ownedBy(t, store, []*proc{n1, n2}, n1)
	other := others[0]
	host := dialBrowser(t, other.URL, created.MeetingID, "Ada", created.HostKey, "browser-ada")
	grace := dialBrowser(t, owner.URL, created.MeetingID, "Grace", "", "browser-grace")
	linus := dialBrowser(t, owner.URL, created.MeetingID, "Linus", "", "browser-linus")
	grows(t, host, grace, client.Audio, 20)
	request(t, host, "muteParticipant", map[string]any{"participantId": grace.ParticipantID(), "allowSelfUnmute": false})
	request(t, linus, "setHandRaised", map[string]any{"raised": true})

	go owner.stop(syscall.SIGTERM)
	for _, c := range []*client.Client{host, grace, linus} {
		waitType(t, c, 0, "serverShutdown")
		select {
		case <-c.Done():
		case <-time.After(await.Limit):
			t.Fatalf("%s's connection was not closed by the drain", name(c))
		}
	}
	// The drained node left the registry: the first join through the other node takes the
	// meeting over (one try: without the retirement, the drained node would count as alive
	// until its heartbeat expired, and this join would be answered unavailable).
	ada := dialBrowser(t, other.URL, created.MeetingID, "Ada", created.HostKey, "browser-ada")
	grace2 := dialBrowser(t, other.URL, created.MeetingID, "Grace", "", "browser-grace")
	if s := grace2.Joined().Self; !s.MutedByHost || s.CanUnmute {
		t.Errorf("Grace after the drain: %+v, want muted by the host", s)
	}
	if id, _ := store.Owner(ctx, created.MeetingID); id != other.ID {
		t.Errorf("the meeting's owner after the drain is %q, want %s", id, other.ID)
	}
	// Linus resumes with his token: his seat, with his hand, waits for him on the new owner.
	linus2 := resumeThrough(t, other.URL, created.MeetingID, "Linus", "browser-linus", linus.Joined().ResumeToken)
	if s := linus2.Joined().Self; s.ID != linus.ParticipantID() || !s.HandRaised {
		t.Errorf("Linus resumed after the drain as %+v, want himself (%s) with his hand up", s, linus.ParticipantID())
	}
	grows(t, grace2, ada, client.Audio, 30)
	grows(t, ada, grace2, client.Video, 15)
	grows(t, ada, linus2, client.Audio, 30)
	if n := ada.Received(grace2.ParticipantID(), client.Audio).Packets; n != 0 {
		t.Errorf("the host received %d audio packets of Grace, muted by the host", n)
	}
	<-owner.exit
}
