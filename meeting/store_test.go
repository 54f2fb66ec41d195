package meeting_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/wire"
)

func TestMemoryStore(t *testing.T) {
	ctx := context.Background()
	s := meeting.NewMemoryStore()
	_, err := s.Get(ctx, "m1")
	wantCode(t, err, wire.CodeNotFound)
	wantCode(t, s.Update(ctx, meeting.Record{ID: "m1"}), wire.CodeNotFound)

	rec := meeting.Record{ID: "m1", HostKeyHash: meeting.HashHostKey("k"), HostName: "Ada", CreatedAt: t0, State: wire.StateOpen}
	if err := s.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, meeting.Record{ID: "m1", HostName: "Eve"}); err == nil {
		t.Fatal("Create overwrote an existing meeting")
	}
	if got, err := s.Get(ctx, "m1"); err != nil || !reflect.DeepEqual(got, rec) {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, rec)
	}
	rec.Locked, rec.State = true, wire.StateEnded
	if err := s.Update(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, "m1"); !reflect.DeepEqual(got, rec) {
		t.Fatalf("after Update: %+v, want %+v", got, rec)
	}
}
