package cluster_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/parleyhq/parley/cluster"
	"github.com/parleyhq/parley/internal/redistest"
	"github.com/parleyhq/parley/meeting"
)

// closedURL is the URL of a loopback port nothing listens on (connections are refused, as to a
// killed process's).
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String()
	_ = ln.Close()
	return u
}

// liveMember joins an in-process node at url whose TTL is long: only OwnerUnreachable can declare
// it dead within a test.
func liveMember(t *testing.T, rs *redistest.Server, id, url string, load int) *cluster.Cluster {
	t.Helper()
	c, err := cluster.Join(t.Context(), cluster.Config{RedisURL: rs.URL(), NodeID: id, NodeURL: url,
		Participants: func() int { return load }, Heartbeat: 100 * time.Millisecond, TTL: time.Minute})
	if err != nil {
		t.Fatalf("join %s: %v", id, err)
	}
	t.Cleanup(func() { _ = c.Leave(context.Background()) })
	return c
}

// meetingOn creates a meeting through c, placed on the node with no load.
func meetingOn(t *testing.T, c *cluster.Cluster, want string) string {
	t.Helper()
	created, err := meeting.NewService(meeting.Config{Store: c.Store()}).Create(t.Context(), "Ada")
	if err != nil {
		t.Fatal(err)
	}
	if owner, _ := c.Records().Owner(t.Context(), created.MeetingID); owner != want {
		t.Fatalf("meeting placed on %q, want %q", owner, want)
	}
	return created.MeetingID
}

var errCut = errors.New("connection reset by peer")

// A node that cannot reach a meeting's owner, whose heartbeats stopped, declares it dead at
// once (long before its one-minute TTL) and takes the meeting over on its next Route; but not
// for a failed certificate, which means the owner answered (asked first: with any other cause
// this owner would be declared dead).
func TestOwnerUnreachableAndSilent(t *testing.T) {
	rs := redistest.Start(t)
	owner := liveMember(t, rs, "owner", closedURL(t), 0)
	other := liveMember(t, rs, "other", closedURL(t), 5)
	id := meetingOn(t, other, "owner")
	cluster.StopHeartbeats(owner)

	certErr := fmt.Errorf("dial: %w", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}})
	if other.OwnerUnreachable(t.Context(), id, certErr) {
		t.Fatal("an owner whose certificate failed (it answered) was declared dead")
	}
	start := time.Now()
	if !other.OwnerUnreachable(t.Context(), id, errCut) {
		t.Fatal("a silent owner refusing connections was not declared dead")
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Fatalf("declared dead after %v: that is its TTL's doing, not the check's", took)
	}
	if url, err := other.Route(t.Context(), id); err != nil || url != "" {
		t.Fatalf("after the owner was declared dead, Route = %q, %v; want here (taken over)", url, err)
	}
	if got, _ := other.Records().Owner(t.Context(), id); got != "other" {
		t.Fatalf("owner after the takeover: %q", got)
	}
}

// A live owner never loses its meeting: unreachable from another node (its address refuses) but
// heartbeating, it is not declared dead; silent but answering connections (a stalled process),
// it is left to its TTL.
func TestLiveOwnerKeepsItsMeeting(t *testing.T) {
	rs := redistest.Start(t)
	answering := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(answering.Close)

	beating := liveMember(t, rs, "beating", closedURL(t), 0)
	other := liveMember(t, rs, "other", closedURL(t), 5)
	id := meetingOn(t, other, "beating")
	if other.OwnerUnreachable(t.Context(), id, errCut) {
		t.Fatal("an owner whose heartbeats go on was declared dead")
	}
	if got, _ := other.Records().Owner(t.Context(), id); got != "beating" {
		t.Fatalf("the live owner lost its meeting to %q", got)
	}

	stalled := liveMember(t, rs, "stalled", answering.URL, 0)
	_ = beating.Leave(t.Context()) // out of placement's way: the next meeting goes to stalled
	id2 := meetingOn(t, other, "stalled")
	cluster.StopHeartbeats(stalled)
	if other.OwnerUnreachable(t.Context(), id2, errCut) {
		t.Fatal("an owner that still accepts connections was declared dead")
	}
	if url, err := other.Route(t.Context(), id2); err != nil || url != answering.URL {
		t.Fatalf("Route to the stalled owner = %q, %v; want its URL until its TTL", url, err)
	}
}
