package redisstore_test

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleyhq/parley/internal/redistest"
	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/redisstore"
	"github.com/parleyhq/parley/wire"
)

// The Redis store keeps what a takeover needs: the takeover state with the roster, chat
// history and audit log.
var (
	_ meeting.TakeoverStore = (*redisstore.Store)(nil)
	_ meeting.HistoryStore  = (*redisstore.Store)(nil)
)

func open(t testing.TB, s *redisstore.Store, id string) {
	t.Helper()
	if err := s.Create(context.Background(), meeting.Record{ID: id, State: wire.StateOpen, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

// storeWithMeeting returns a store (no placer) on a redis-server of its own with the open
// meeting "m1" in it, and the store's client.
func storeWithMeeting(t testing.TB) (*redisstore.Store, redis.UniversalClient) {
	t.Helper()
	rdb := client(t, redistest.Start(t))
	s := redisstore.New(rdb, nil)
	open(t, s, "m1")
	return s, rdb
}

// The roster goes to Redis and back whole: each seat's participant state, browser id and
// token hash, the host's id and the chat sequence; nothing is written for a missing meeting.
func TestTakeoverRosterRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, rdb := storeWithMeeting(t)

	tok := [32]byte{1, 2, 3, 31: 9}
	want := meeting.Takeover{
		MuteLock: true, TimerID: "t30", TimerEndsAt: time.UnixMilli(1764200000123),
		HostMutes: map[string]bool{"browser-grace": false},
		HostID:    "p-host",
		Seats: []meeting.SavedSeat{
			{Participant: wire.Participant{ID: "p-host", Name: "Ada", Role: wire.RoleHost, CanUnmute: true}, BrowserID: "browser-ada", TokenHash: tok},
			{Participant: wire.Participant{ID: "p-grace", Name: "Grace", Role: wire.RoleParticipant, AudioMuted: true, MutedByHost: true},
				BrowserID: "browser-grace"},
			{Participant: wire.Participant{ID: "p-linus", Name: "Linus", Role: wire.RoleParticipant, CanUnmute: true,
				HandRaised: true, HandRaisedAt: 1764200000999, VideoMuted: true}},
		},
		ChatSeq: 42,
	}
	if err := s.SaveTakeover(ctx, "m1", want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.LoadTakeover(ctx, "m1")
	if err != nil || !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("LoadTakeover = %+v, %v, %v; want %+v", got, ok, err, want)
	}
	// A newer snapshot replaces the older one whole.
	want.Seats = want.Seats[:1]
	if err := s.SaveTakeover(ctx, "m1", want); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.LoadTakeover(ctx, "m1"); !reflect.DeepEqual(got, want) {
		t.Fatalf("after a second save: %+v, want %+v", got, want)
	}
	// The token itself is nowhere: only the hash, as hex.
	raw := rdb.HGet(ctx, redisstore.Key("m1"), "takeover").Val()
	if want := fmt.Sprintf("%x", tok); !strings.Contains(raw, want) {
		t.Fatalf("stored takeover %s lacks the token hash %s", raw, want)
	}

	if err := s.SaveTakeover(ctx, "gone", want); err != nil {
		t.Fatal(err)
	}
	if n := rdb.Exists(ctx, redisstore.Key("gone")).Val(); n != 0 {
		t.Fatal("SaveTakeover made a record for a meeting that does not exist")
	}
	if _, ok, err := s.LoadTakeover(ctx, "gone"); ok || err != nil {
		t.Fatalf("LoadTakeover of a missing meeting: ok %v, %v", ok, err)
	}
}

func chats(from, to int) []wire.Chat {
	var out []wire.Chat
	for i := from; i < to; i++ {
		out = append(out, wire.Chat{MessageID: strconv.Itoa(i), From: "p1", Name: "Ada", Text: "hello " + strconv.Itoa(i), SentAt: int64(i)})
	}
	return out
}

func entries(by string, from, to int) []wire.AuditEntry {
	var out []wire.AuditEntry
	for i := from; i < to; i++ {
		out = append(out, wire.AuditEntry{At: int64(i), Action: wire.AuditJoin, By: by, ByName: by,
			Detail: map[string]any{"n": float64(i), "locked": true}})
	}
	return out
}

// Chat and audit are appended in order, trimmed to their caps (the chat to
// meeting.ChatHistoryLength, the log to the cap given), dropped (chat) on request, expired with
// an ended record and deleted with a deleted one; nothing is written for a missing meeting.
func TestHistory(t *testing.T) {
	ctx := context.Background()
	s, rdb := storeWithMeeting(t)

	if err := s.AppendHistory(ctx, "m1", chats(0, 60), entries("a", 0, 3), 5); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendHistory(ctx, "m1", chats(60, 150), entries("a", 3, 8), 5); err != nil {
		t.Fatal(err)
	}
	chat, audit, err := s.LoadHistory(ctx, "m1")
	if err != nil {
		t.Fatal(err)
	}
	if want := chats(50, 150); !reflect.DeepEqual(chat, want) {
		t.Fatalf("chat kept %d messages, first %+v; want the last %d in order", len(chat), chat[0], len(want))
	}
	if want := entries("a", 3, 8); !reflect.DeepEqual(audit, want) {
		t.Fatalf("audit = %+v, want %+v", audit, want)
	}

	if err := s.DropChat(ctx, "m1"); err != nil {
		t.Fatal(err)
	}
	if chat, audit, _ := s.LoadHistory(ctx, "m1"); len(chat) != 0 || len(audit) != 5 {
		t.Fatalf("after DropChat: %d messages, %d entries; want 0 and the log kept", len(chat), len(audit))
	}

	if err := s.AppendHistory(ctx, "gone", chats(0, 1), entries("a", 0, 1), 5); err != nil {
		t.Fatal(err)
	}
	if n := rdb.Exists(ctx, redisstore.ChatKey("gone"), redisstore.AuditKey("gone")).Val(); n != 0 {
		t.Fatal("AppendHistory made lists for a meeting that does not exist")
	}

	// Ended: the lists expire with the record, including what is appended after the end.
	if err := s.AppendHistory(ctx, "m1", chats(150, 151), nil, 5); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, meeting.Record{ID: "m1", State: wire.StateEnded, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendHistory(ctx, "m1", nil, entries("a", 8, 9), 5); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{redisstore.ChatKey("m1"), redisstore.AuditKey("m1")} {
		if ttl := rdb.PTTL(ctx, k).Val(); ttl <= 0 || ttl > redisstore.EndedTTL {
			t.Fatalf("%s of an ended meeting has TTL %v, want (0, %v]", k, ttl, redisstore.EndedTTL)
		}
	}
	if err := s.Delete(ctx, "m1"); err != nil {
		t.Fatal(err)
	}
	if n := rdb.Exists(ctx, redisstore.ChatKey("m1"), redisstore.AuditKey("m1")).Val(); n != 0 {
		t.Fatalf("%d lists left after Delete", n)
	}
}

// Writers racing (two nodes during a takeover, or one node's saver against a Delete): appends
// lose nothing below the cap, keep each writer's order and trim to the cap above it; a save
// racing a Delete never leaves a record behind.
func TestHistoryRaces(t *testing.T) {
	ctx := context.Background()
	s, rdb := storeWithMeeting(t)
	const writers, batches, per = 8, 10, 3
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches)
	for w := range writers {
		wg.Go(func() {
			by := "w" + strconv.Itoa(w)
			for b := range batches {
				errs <- s.AppendHistory(ctx, "m1", nil, entries(by, b*per, (b+1)*per), 10_000)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	_, audit, err := s.LoadHistory(ctx, "m1")
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != writers*batches*per {
		t.Fatalf("%d entries after the race, want %d", len(audit), writers*batches*per)
	}
	next := map[string]int64{}
	for _, e := range audit {
		if e.At != next[e.By] {
			t.Fatalf("writer %s: entry %d where %d was next: out of order", e.By, e.At, next[e.By])
		}
		next[e.By]++
	}
	// Above the cap, the list is exactly the cap long.
	for w := range writers {
		wg.Go(func() { _ = s.AppendHistory(ctx, "m1", chats(w*20, w*20+20), nil, 10_000) })
	}
	wg.Wait()
	if n := rdb.LLen(ctx, redisstore.ChatKey("m1")).Val(); n != meeting.ChatHistoryLength {
		t.Fatalf("chat is %d long after racing appends, want %d", n, meeting.ChatHistoryLength)
	}

	for i := range 20 {
		id := "r" + strconv.Itoa(i)
		open(t, s, id)
		wg.Go(func() { _ = s.SaveTakeover(ctx, id, meeting.Takeover{HostID: "p"}) })
		wg.Go(func() { _ = s.AppendHistory(ctx, id, chats(0, 1), nil, 10) })
		wg.Go(func() { _ = s.Delete(ctx, id) })
		wg.Wait()
		if n := rdb.Exists(ctx, redisstore.Key(id), redisstore.ChatKey(id), redisstore.AuditKey(id)).Val(); n != 0 {
			t.Fatalf("%s: %d keys left after a save and an append raced its Delete", id, n)
		}
	}
}

// With Redis down, the takeover and history calls fail with unavailable, quickly.
func TestHistoryOutage(t *testing.T) {
	ctx := context.Background()
	s, _ := downStore(t)
	for what, err := range map[string]error{
		"SaveTakeover":  s.SaveTakeover(ctx, "m1", meeting.Takeover{}),
		"AppendHistory": s.AppendHistory(ctx, "m1", chats(0, 1), nil, 10),
		"DropChat":      s.DropChat(ctx, "m1"),
	} {
		if meeting.CodeOf(err) != wire.CodeUnavailable {
			t.Errorf("%s with Redis down: %v, want unavailable", what, err)
		}
	}
	if _, _, err := s.LoadHistory(ctx, "m1"); meeting.CodeOf(err) != wire.CodeUnavailable {
		t.Errorf("LoadHistory with Redis down: %v, want unavailable", err)
	}
}

// A fenced store writes a meeting's takeover state and history only while its node owns the
// meeting (or nobody does): once another node has claimed it, the old owner's writes are
// dropped and the new owner's stand.
func TestFencedWrites(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := client(t, srv)
	s := redisstore.New(rdb, func(context.Context) (string, error) { return "node-a", nil })
	open(t, s, "m1")
	a, b := s.Fenced("node-a"), s.Fenced("node-b")

	write := func(st *redisstore.Store, who string) {
		t.Helper()
		if err := st.SaveTakeover(ctx, "m1", meeting.Takeover{HostID: who}); err != nil {
			t.Fatal(err)
		}
		if err := st.AppendHistory(ctx, "m1", []wire.Chat{{MessageID: who, Text: who}}, nil, 10); err != nil {
			t.Fatal(err)
		}
	}
	state := func() (string, []string) {
		t.Helper()
		tk, _, err := s.LoadTakeover(ctx, "m1")
		if err != nil {
			t.Fatal(err)
		}
		chat, _, err := s.LoadHistory(ctx, "m1")
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, m := range chat {
			texts = append(texts, m.Text)
		}
		return tk.HostID, texts
	}
	write(a, "a1")
	write(b, "b1") // not the owner: dropped
	if host, chat := state(); host != "a1" || !reflect.DeepEqual(chat, []string{"a1"}) {
		t.Fatalf("with node-a the owner: takeover by %q, chat %v; want a1 only", host, chat)
	}
	if owner, err := s.Claim(ctx, "m1", "node-a", "node-b"); err != nil || owner != "node-b" {
		t.Fatalf("claim: %q, %v", owner, err)
	}
	write(b, "b2")
	write(a, "a2") // the old owner writing behind: dropped
	if err := a.DropChat(ctx, "m1"); err != nil {
		t.Fatal(err)
	}
	if host, chat := state(); host != "b2" || !reflect.DeepEqual(chat, []string{"a1", "b2"}) {
		t.Fatalf("after node-b claimed it: takeover by %q, chat %v; want b2, [a1 b2]", host, chat)
	}
	if err := b.DropChat(ctx, "m1"); err != nil {
		t.Fatal(err)
	}
	if _, chat := state(); len(chat) != 0 {
		t.Fatalf("the owner's DropChat left %v", chat)
	}

	// Racing: the old owner writes while the new one claims; whatever the old one wrote
	// before the claim, after it only the new owner's writes land.
	open(t, s, "m2")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				_ = a.SaveTakeover(ctx, "m2", meeting.Takeover{HostID: "a"})
			}
		}
	})
	if _, err := s.Claim(ctx, "m2", "node-a", "node-b"); err != nil {
		t.Fatal(err)
	}
	if err := b.SaveTakeover(ctx, "m2", meeting.Takeover{HostID: "b"}); err != nil {
		t.Fatal(err)
	}
	for range 50 {
		_ = a.SaveTakeover(ctx, "m2", meeting.Takeover{HostID: "a"})
	}
	close(stop)
	wg.Wait()
	if tk, _, _ := s.LoadTakeover(ctx, "m2"); tk.HostID != "b" {
		t.Fatalf("after the claim the old owner's write stands: %+v", tk)
	}
}
