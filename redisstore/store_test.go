package redisstore_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/parleyhq/parley/internal/redistest"
	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/redisstore"
	"github.com/parleyhq/parley/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The Redis store is a meeting.Store that also deletes records.
var (
	_ meeting.Store         = (*redisstore.Store)(nil)
	_ meeting.RecordDeleter = (*redisstore.Store)(nil)
)

func client(t testing.TB, srv *redistest.Server) redis.UniversalClient {
	t.Helper()
	opt, err := redis.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// downStore returns a store on a Redis server that is stopped (Restart brings it back), with a
// client that gives up quickly: a call fails fast rather than waiting out the default timeouts.
func downStore(t *testing.T) (*redisstore.Store, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t)
	opt, _ := redis.ParseURL(srv.URL())
	opt.DialTimeout, opt.MaxRetries = 500*time.Millisecond, 0
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	srv.Stop()
	return redisstore.New(rdb, nil), srv
}

func TestRecordRoundTrip(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := client(t, srv)
	s := redisstore.New(rdb, func(context.Context) (string, error) { return "node-a", nil })

	_, err := s.Get(ctx, "m1")
	if meeting.CodeOf(err) != wire.CodeNotFound {
		t.Fatalf("Get of a missing meeting: %v, want not_found", err)
	}
	if err := s.Update(ctx, meeting.Record{ID: "m1", State: wire.StateOpen}); meeting.CodeOf(err) != wire.CodeNotFound {
		t.Fatalf("Update of a missing meeting: %v, want not_found", err)
	}

	rec := meeting.Record{ID: "m1", HostKeyHash: meeting.HashHostKey("secret-key"), HostName: "Ada",
		CreatedAt: time.UnixMilli(1764200000123), State: wire.StateOpen}
	if err := s.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, meeting.Record{ID: "m1", HostName: "Eve", State: wire.StateOpen}); err == nil {
		t.Fatal("Create overwrote an existing meeting")
	}
	got, err := s.Get(ctx, "m1")
	if err != nil || !reflect.DeepEqual(got, rec) {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, rec)
	}
	// The key itself is nowhere in Redis: only its hash.
	h, err := rdb.HGetAll(ctx, redisstore.Key("m1")).Result()
	if err != nil {
		t.Fatal(err)
	}
	for f, v := range h {
		if v == "secret-key" {
			t.Fatalf("the host key is stored in field %s", f)
		}
	}
	if owner, err := s.Owner(ctx, "m1"); err != nil || owner != "node-a" {
		t.Fatalf("Owner = %q, %v; want node-a", owner, err)
	}
	if n, err := s.OpenMeetings(ctx); err != nil || n != 1 {
		t.Fatalf("OpenMeetings = %d, %v; want 1", n, err)
	}

	rec.Locked, rec.Lobby, rec.ChatDisabled, rec.ScreenShareDisabled = true, true, true, true
	rec.BannedBrowsers = []string{meeting.BrowserHash("b1"), meeting.BrowserHash("b2")}
	if err := s.Update(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, "m1"); !reflect.DeepEqual(got, rec) {
		t.Fatalf("after Update: %+v, want %+v", got, rec)
	}
	if owner, _ := s.Owner(ctx, "m1"); owner != "node-a" {
		t.Fatalf("Update changed the owner to %q", owner)
	}

	rec.State = wire.StateEnded
	if err := s.Update(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.OpenMeetings(ctx); n != 0 {
		t.Fatalf("OpenMeetings after the end = %d, want 0", n)
	}
	if ttl := rdb.PTTL(ctx, redisstore.Key("m1")).Val(); ttl <= 0 || ttl > redisstore.EndedTTL {
		t.Fatalf("an ended meeting's TTL is %v, want (0, %v]", ttl, redisstore.EndedTTL)
	}
	// A node that still thinks the meeting open (it raced the end) cannot reopen it.
	rec.State, rec.Locked = wire.StateOpen, false
	if err := s.Update(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, "m1"); got.State != wire.StateEnded {
		t.Fatalf("an update reopened an ended meeting: %+v", got)
	}
	if err := s.Delete(ctx, "m1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "m1"); meeting.CodeOf(err) != wire.CodeNotFound {
		t.Fatalf("Get after Delete: %v, want not_found", err)
	}
}

// Many nodes creating meetings and racing to claim one: every create counts once, and one claim
// wins, the others learn the winner.
func TestRaces(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	s := redisstore.New(client(t, srv), nil)
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() {
			id := "m" + string(rune('a'+i))
			errs <- s.Create(ctx, meeting.Record{ID: id, State: wire.StateOpen, CreatedAt: time.Now()})
		})
	}
	wg.Wait()
	if count, err := s.OpenMeetings(ctx); err != nil || count != n {
		t.Fatalf("OpenMeetings = %d, %v; want %d", count, err, n)
	}
	if owner, _ := s.Owner(ctx, "ma"); owner != "" {
		t.Fatalf("unplaced meeting has owner %q", owner)
	}
	winners := make(chan string, n)
	for i := range n {
		wg.Go(func() {
			node := "node-" + string(rune('a'+i))
			got, err := s.Claim(ctx, "ma", "", node)
			errs <- err
			if got == node {
				winners <- node
			}
		})
	}
	wg.Wait()
	close(errs)
	close(winners)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var won []string
	for w := range winners {
		won = append(won, w)
	}
	owner, _ := s.Owner(ctx, "ma")
	if len(won) != 1 || won[0] != owner {
		t.Fatalf("claims won by %v, owner %q: want exactly one winner, the owner", won, owner)
	}
	if _, err := s.Claim(ctx, "nope", "", "node-a"); !errors.Is(err, redisstore.ErrNoMeeting) {
		t.Fatalf("Claim of a missing meeting: %v, want ErrNoMeeting", err)
	}
}

// With Redis down, every call fails with the protocol's unavailable code, quickly; once Redis
// is back, the store works again without a new client.
func TestOutage(t *testing.T) {
	ctx := context.Background()
	s, srv := downStore(t)
	_, err := s.Get(ctx, "m1")
	if meeting.CodeOf(err) != wire.CodeUnavailable {
		t.Fatalf("Get with Redis down: %v, want unavailable", err)
	}
	if err := s.Create(ctx, meeting.Record{ID: "m1", State: wire.StateOpen}); meeting.CodeOf(err) != wire.CodeUnavailable {
		t.Fatalf("Create with Redis down: %v, want unavailable", err)
	}
	srv.Restart()
	if err := s.Create(ctx, meeting.Record{ID: "m1", State: wire.StateOpen}); err != nil {
		t.Fatalf("Create after Redis came back: %v", err)
	}
}
