package meeting_test

import (
	"testing"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/meeting/meetingtest"
	"github.com/parleyhq/parley/wire"
)

// heldConn is a join the lobby holds, and what its connection has been told.
type heldConn struct {
	name string
	h    *meeting.Held
	sink *meetingtest.Sink
}

// hold joins without a host key and expects the lobby to hold the join.
func (e *env) hold(meetingID, name string) *heldConn {
	e.t.Helper()
	hc := &heldConn{name: name, sink: meetingtest.NewSink(name, e.trace)}
	m, res, err := e.svc.Join(e.ctx, meeting.JoinRequest{MeetingID: meetingID, Name: name}, hc.sink)
	if err != nil || m != nil || res.Held == nil {
		e.t.Fatalf("Join(%q) = %v, %+v, %v; want it held", name, m, res, err)
	}
	hc.h = res.Held
	return hc
}

func (r *room) hold(name string) *heldConn { return r.env.hold(r.id(), name) }

// decided returns the held join's outcome, failing if it is not decided yet.
func (hc *heldConn) decided(t testing.TB) (*meeting.Member, meeting.JoinResult, error) {
	t.Helper()
	select {
	case <-hc.h.Done():
	default:
		t.Fatalf("%s's join is not decided", hc.name)
	}
	return hc.h.Outcome()
}

// pending reports whether the held join still waits.
func (hc *heldConn) pending() bool {
	select {
	case <-hc.h.Done():
		return false
	default:
		return true
	}
}

// admitted turns an admitted held join into a conn of the env, so that its events are checked
// like everyone's.
func (e *env) admitted(hc *heldConn) *conn {
	e.t.Helper()
	m, res, err := hc.decided(e.t)
	if err != nil {
		e.t.Fatalf("%s was not admitted: %v", hc.name, err)
	}
	c := &conn{name: hc.name, m: m, sink: hc.sink, res: res}
	e.conns = append(e.conns, c)
	return c
}

// auditEntries reads the meeting's audit log as its host.
func (r *room) auditEntries() []wire.AuditEntry {
	r.t.Helper()
	entries, err := r.svc.Audit(r.ctx, r.id(), r.created.HostKey)
	if err != nil {
		r.t.Fatalf("Audit: %v", err)
	}
	return entries
}
