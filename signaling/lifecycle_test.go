package signaling_test

import (
	"bytes"
	"net/http/httptest"
	"runtime/pprof"
	"testing"

	"go.uber.org/goleak"

	"github.com/parleyhq/parley/internal/node"
)

// TestSessionGoroutinesEndWithTheSession: when the server says its sessions have ended (Close
// returns), none of their goroutines is left: not the reader, writer or pinger, and not the
// watcher of the session's peer connections, which used to be started and never waited for. And
// the node, once closed, leaves no goroutine behind (goleak).
func TestSessionGoroutinesEndWithTheSession(t *testing.T) {
	before := goleak.IgnoreCurrent()
	cfg := node.Config{}
	cfg.Media.LoopbackOnly = true
	n, err := node.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(n.Handler())
	e := &env{t: t, url: hs.URL, srv: n.Server, meetings: n.Meetings, media: n.SFU, reg: n.Registry}
	m := e.create("Ada")
	host, guest := e.dial(""), e.dial("")
	host.join(m.MeetingID, "Ada", m.HostKey)
	guest.join(m.MeetingID, "Grace", "")
	if st := n.SFU.Stats(); st.Peers != 2 {
		t.Fatalf("sfu peers = %d, want a peer (and its watcher) for each member", st.Peers)
	}

	n.Server.Close()
	if left := sessionGoroutines(t); left != "" {
		t.Errorf("goroutines of ended sessions still running:\n%s", left)
	}
	host.closed()
	guest.closed()
	hs.Close()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	goleak.VerifyNone(t, before)
}

// sessionGoroutines returns the stacks of the goroutines running a session's code.
func sessionGoroutines(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 2); err != nil {
		t.Fatal(err)
	}
	var left []byte
	for _, g := range bytes.Split(buf.Bytes(), []byte("\n\n")) {
		if bytes.Contains(g, []byte("signaling.(*session)")) {
			left = append(append(left, g...), "\n\n"...)
		}
	}
	return string(left)
}
