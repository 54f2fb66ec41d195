package cluster_test

import (
	"context"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/redisstore"
	"github.com/parleyhq/parley/wire"
)

// resumeThrough resumes the participant of token through url, as a reloaded page does (new
// peer connections: the node that took the meeting over has none of the old ones), retrying
// while the cluster answers unavailable (dialUntil), and publishes anew.
func resumeThrough(t *testing.T, url, meetingID, name, browser, token string) *client.Client {
	t.Helper()
	c, _ := dialUntil(t, "resume", client.Options{BaseURL: url, MeetingID: meetingID, Name: name, BrowserID: browser, ResumeToken: token})
	t.Cleanup(c.Close)
	if j := c.Joined(); !j.Resumed {
		t.Fatalf("%s: joined %+v, want resumed", name, j)
	}
	publish(t, c)
	return c
}

// knock joins through url while the lobby is on: it returns the client, waiting, and the
// channel its join's outcome comes on.
func knock(t *testing.T, url, meetingID, name string) (*client.Client, chan error) {
	t.Helper()
	c, err := client.New(client.Options{BaseURL: url, MeetingID: meetingID, Name: name, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	joined := make(chan error, 1)
	go func() { joined <- c.Join(t.Context()) }()
	ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
	defer cancel()
	if _, err := c.WaitFor(ctx, client.OfType("lobbyWaiting")); err != nil {
		t.Fatalf("%s did not wait in the lobby: %v", name, err)
	}
	return c, joined
}

// waiting waits for the host to be told of a held join by name and returns its request id.
func waiting(t *testing.T, host *client.Client, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
	defer cancel()
	var id string
	_, err := host.WaitFor(ctx, func(m client.Message) bool {
		var u wire.LobbyUpdated
		if m.Type != "lobbyUpdated" || m.Decode(&u) != nil {
			return false
		}
		for _, e := range u.Waiting {
			if e.Name == name {
				id = e.RequestID
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("the host was not told %s waits: %v", name, err)
	}
	return id
}

// TestNodeLossResume kills (SIGKILL) the node that holds a meeting: its participants resume
// through the surviving nodes with their tokens, one of which takes the meeting over with its
// roster from Redis: each is the same participant again, with its hand, its own unmute (its
// microphone forwarded) or the host's mute (nothing forwarded), and the host its role; the chat
// from before reaches a newcomer, the host's audit log keeps its earlier entries, and the
// lobby (on before the loss) holds a knock that the host then admits.
func TestNodeLossResume(t *testing.T) {
	rdb, nodes := threeNodes(t)
	store := redisstore.New(rdb, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	created, owner, survivors := ownedBy(t, store, nodes, nodes[0])
	id, a, b := created.MeetingID, survivors[0], survivors[1]
	host := dialBrowser(t, a.URL, id, "Ada", created.HostKey, "browser-ada")
	grace := dialBrowser(t, b.URL, id, "Grace", "", "browser-grace")
	linus := dialBrowser(t, owner.URL, id, "Linus", "", "browser-linus")
	grows(t, host, linus, client.Audio, 20)

	// The host mutes Grace for good and Linus with leave to unmute, which he does; his hand
	// goes up; two chat messages; the lobby goes on and Mary knocks.
	request(t, host, "muteParticipant", map[string]any{"participantId": grace.ParticipantID(), "allowSelfUnmute": false})
	request(t, host, "muteParticipant", map[string]any{"participantId": linus.ParticipantID(), "allowSelfUnmute": true})
	request(t, linus, "setMuted", map[string]any{"kind": "audio", "muted": false})
	request(t, linus, "setHandRaised", map[string]any{"raised": true})
	request(t, host, "sendChat", map[string]any{"text": "before the loss"})
	request(t, linus, "sendChat", map[string]any{"text": "me too"})
	request(t, host, "setLobby", map[string]any{"enabled": true})
	grows(t, host, linus, client.Audio, 20) // his own unmute: forwarded
	_, knocked := knock(t, b.URL, id, "Mary")
	waiting(t, host, "Mary")

	// Behind the meeting, its roster reaches Redis (the host's requests were there before
	// their answers; Linus's unmute, hand and chat follow them).
	await.Until(t, "the roster with Linus's own unmute and hand in Redis", func() bool {
		tk, ok, err := store.LoadTakeover(ctx, id)
		if err != nil || !ok {
			return false
		}
		chat, _, err := store.LoadHistory(ctx, id)
		if err != nil || len(chat) != 2 {
			return false
		}
		for _, s := range tk.Seats {
			p := s.Participant
			if p.ID == linus.ParticipantID() {
				return p.HandRaised && !p.AudioMuted && !p.MutedByHost && s.TokenHash != [32]byte{}
			}
		}
		return false
	})
	beforeAudit, err := client.API{BaseURL: a.URL}.Audit(ctx, id, created.HostKey)
	if err != nil {
		t.Fatal(err)
	}

	owner.stop(syscall.SIGKILL)
	for _, c := range []*client.Client{host, grace} {
		select {
		case <-c.Done():
		case <-time.After(await.Limit):
			t.Fatalf("%s's relayed session outlived the meeting's node", name(c))
		}
	}
	if err := <-knocked; err == nil {
		t.Fatal("Mary's knock was answered joined by a dead node")
	}

	// The host resumes through node a: the same participant, the host.
	ada := resumeThrough(t, a.URL, id, "Ada", "browser-ada", host.Joined().ResumeToken)
	if j := ada.Joined(); j.ParticipantID != host.ParticipantID() || j.Role != wire.RoleHost {
		t.Fatalf("the host resumed as %s, %s; want %s, host", j.ParticipantID, j.Role, host.ParticipantID())
	}
	var reconnecting []string
	for _, p := range ada.Joined().Participants {
		if p.Reconnecting {
			reconnecting = append(reconnecting, p.Name)
		}
	}
	if slices.Sort(reconnecting); !slices.Equal(reconnecting, []string{"Grace", "Linus"}) {
		t.Errorf("after the takeover the host sees %v reconnecting, want Grace and Linus", reconnecting)
	}

	linus2 := resumeThrough(t, b.URL, id, "Linus", "browser-linus", linus.Joined().ResumeToken)
	if s := linus2.Joined().Self; s.ID != linus.ParticipantID() || !s.HandRaised || s.AudioMuted || s.MutedByHost || !s.CanUnmute {
		t.Errorf("Linus resumed as %+v: want himself (%s), hand up, unmuted by himself", s, linus.ParticipantID())
	}
	grace2 := resumeThrough(t, a.URL, id, "Grace", "browser-grace", grace.Joined().ResumeToken)
	if s := grace2.Joined().Self; s.ID != grace.ParticipantID() || !s.MutedByHost || s.CanUnmute || !s.AudioMuted {
		t.Errorf("Grace resumed as %+v: want herself (%s), muted by the host without permission", s, grace.ParticipantID())
	}

	// At the packet level, through the new owner: Linus's microphone is forwarded, Grace's is
	// not (her camera is).
	grows(t, ada, linus2, client.Audio, 30)
	grows(t, ada, grace2, client.Video, 30)
	grows(t, linus2, grace2, client.Video, 15)
	if n := ada.Received(grace2.ParticipantID(), client.Audio).Packets; n != 0 {
		t.Errorf("the host received %d audio packets of Grace, muted by the host", n)
	}
	if n := linus2.Received(grace2.ParticipantID(), client.Audio).Packets; n != 0 {
		t.Errorf("Linus received %d audio packets of Grace, muted by the host", n)
	}
	t.Logf("after resuming: the host got %d audio packets of Linus, %d video and 0 audio packets of Grace",
		ada.Received(linus2.ParticipantID(), client.Audio).Packets, ada.Received(grace2.ParticipantID(), client.Video).Packets)

	// Mary knocks again through node b: the lobby holds her, the host admits her, and she gets
	// the chat from before the loss.
	mary, admitted := knock(t, b.URL, id, "Mary")
	request(t, ada, "admit", map[string]any{"requestId": waiting(t, ada, "Mary")})
	if err := <-admitted; err != nil {
		t.Fatalf("Mary admitted after the takeover: %v", err)
	}
	var texts []string
	for _, m := range mary.Joined().Chat {
		texts = append(texts, m.Text)
	}
	if want := []string{"before the loss", "me too"}; !slices.Equal(texts, want) {
		t.Errorf("Mary's chat history after the takeover: %v, want %v", texts, want)
	}

	// The host's log holds every entry from before the loss, then the resumes and the admit.
	after, err := client.API{BaseURL: b.URL}.Audit(ctx, id, created.HostKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) <= len(beforeAudit) {
		t.Fatalf("audit log after the takeover has %d entries, before it %d", len(after), len(beforeAudit))
	}
	for i, e := range beforeAudit {
		if e.At != after[i].At || e.Action != after[i].Action || e.Target != after[i].Target {
			t.Fatalf("audit entry %d after the takeover: %+v, before: %+v", i, after[i], e)
		}
	}
	if !slices.ContainsFunc(after[len(beforeAudit):], func(e wire.AuditEntry) bool { return e.Action == wire.TypeAdmit }) {
		t.Errorf("the admit after the takeover is not in the log: %+v", after[len(beforeAudit):])
	}
	if got := a.metric(ctx, "parley_cluster_takeovers_total") + b.metric(ctx, "parley_cluster_takeovers_total"); got != 1 {
		t.Errorf("the survivors counted %v takeovers, want 1", got)
	}
	for _, n := range survivors {
		if f := n.metric(ctx, "parley_meeting_state_save_failures_total"); f != 0 {
			t.Errorf("%s counted %v failed state writes", n.name, f)
		}
	}
}
