package meeting_test

import (
	"context"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/wire"
)

func TestCreate(t *testing.T) {
	e := newEnv(t)
	c := e.create("  Ada  ")
	if c.HostName != "Ada" {
		t.Errorf("HostName = %q, want the trimmed name", c.HostName)
	}
	if len(c.MeetingID) != 16 || strings.ContainsAny(c.MeetingID, "+/=") {
		t.Errorf("meetingId %q is not 16 URL-safe characters", c.MeetingID)
	}
	if key, err := base64.RawURLEncoding.DecodeString(c.HostKey); err != nil || len(key) < 16 {
		t.Errorf("hostKey %q is not >= 128 bits of base64url (%v)", c.HostKey, err)
	}
	rec, err := e.store.Get(e.ctx, c.MeetingID)
	if err != nil {
		t.Fatal(err)
	}
	want := meeting.Record{ID: c.MeetingID, HostKeyHash: meeting.HashHostKey(c.HostKey), HostName: "Ada", CreatedAt: t0, State: wire.StateOpen}
	if !reflect.DeepEqual(rec, want) {
		t.Errorf("record %+v, want %+v", rec, want)
	}
	if strings.Contains(string(rec.HostKeyHash[:]), c.HostKey) {
		t.Error("the record holds the host key itself")
	}
	if c2 := e.create("Ada"); c2.MeetingID == c.MeetingID || c2.HostKey == c.HostKey {
		t.Error("two meetings share an id or a host key")
	}
	if e.svc.LiveMeetings() != 0 {
		t.Error("Create made a live meeting; only a join should")
	}
}

func TestCreateRejectsBadNames(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"", "  ", "a\u202eb", strings.Repeat("x", 65), "a\x00"} {
		_, err := e.svc.Create(e.ctx, name)
		wantCode(t, err, wire.CodeBadRequest)
	}
}

type failingStore struct {
	meeting.Store
	failCreate, failUpdate bool
}

var errStoreDown = errors.New("store down")

func (s *failingStore) Create(ctx context.Context, r meeting.Record) error {
	if s.failCreate {
		return errStoreDown
	}
	return s.Store.Create(ctx, r)
}

func (s *failingStore) Update(ctx context.Context, r meeting.Record) error {
	if s.failUpdate {
		return errStoreDown
	}
	return s.Store.Update(ctx, r)
}

func TestCreateStoreFailureIsInternal(t *testing.T) {
	e := newEnv(t, func(c *meeting.Config) { c.Store = &failingStore{Store: meeting.NewMemoryStore(), failCreate: true} })
	_, err := e.svc.Create(e.ctx, "Ada")
	wantCodeInternalWrapping(t, err)
}

func wantCodeInternalWrapping(t *testing.T, err error) {
	t.Helper()
	if meeting.CodeOf(err) != wire.CodeInternal || !errors.Is(err, errStoreDown) {
		t.Fatalf("error %v: want internal, wrapping the store's error", err)
	}
}

func TestInfo(t *testing.T) {
	e := newEnv(t)
	_, err := e.svc.Info(e.ctx, "nope")
	wantCode(t, err, wire.CodeNotFound)

	c := e.create("Ada")
	info := func() wire.MeetingInfo {
		t.Helper()
		i, err := e.svc.Info(e.ctx, c.MeetingID)
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	want := wire.MeetingInfo{MeetingID: c.MeetingID, State: wire.StateOpen, ChatAllowed: true, ScreenShareAllowed: true}
	if got := info(); got != want {
		t.Fatalf("fresh meeting: %+v, want %+v", got, want)
	}
	host := e.join(c.MeetingID, "Ada", c.HostKey)
	p1 := e.join(c.MeetingID, "Bo", "")
	e.join(c.MeetingID, "Cy", "")
	want.ParticipantCount = 3
	if got := info(); got != want {
		t.Fatalf("three joined: %+v, want %+v", got, want)
	}
	// A replaced host connection is still one participant.
	host2 := e.join(c.MeetingID, "Ada", c.HostKey)
	if got := info(); got != want {
		t.Fatalf("after host replacement: %+v, want %+v", got, want)
	}
	p1.m.Leave()
	if err := host2.m.Do(e.ctx, meeting.SetLocked{Locked: true}); err != nil {
		t.Fatal(err)
	}
	want.ParticipantCount, want.Locked = 2, true
	if got := info(); got != want {
		t.Fatalf("after a leave and a lock: %+v, want %+v", got, want)
	}
	if err := host2.m.Do(e.ctx, meeting.EndMeeting{}); err != nil {
		t.Fatal(err)
	}
	want.ParticipantCount, want.State = 0, wire.StateEnded
	if got := info(); got != want {
		t.Fatalf("ended: %+v, want %+v", got, want)
	}
	_ = host
}
