package signaling_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/node/nodetest"
	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/sfu"
	"github.com/parleyhq/parley/signaling"
	"github.com/parleyhq/parley/wire"
)

// Pion's SRTP reader can block for good handing a new SSRC to a PeerConnection that stopped
// accepting streams while closing (pion/webrtc's undeclaredRTPMediaProcessor returns when the
// SRTCP session closed first; pion/srtp's decrypt then sends on newStream with no receiver): a
// goroutine of Pion's, after our Close returned, that this code cannot reach.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/pion/srtp/v3.(*SessionSRTP).decrypt"))
}

// env is one whole node (domain, sfu on loopback, edge) behind a real HTTP listener.
type env struct {
	t        *testing.T
	url      string
	srv      *signaling.Server
	meetings *meeting.Service
	media    *sfu.SFU
	reg      *prometheus.Registry
}

// newEnv starts a node; each tweak may change the edge's configuration. The edge keeps its
// default liveness check (pings every 10 s, 10 s to answer): a shorter one cut sessions of
// clients starved of CPU on a loaded machine (their tracks then ended mid-test), and the test
// of dead clients sets its own.
func newEnv(t *testing.T, tweak ...func(*signaling.Config)) *env {
	t.Helper()
	return newNodeEnv(t, func(c *node.Config) {
		for _, f := range tweak {
			f(&c.Edge)
		}
	})
}

// newNodeEnv is newEnv with a tweak of the whole node's configuration.
func newNodeEnv(t *testing.T, tweak func(*node.Config)) *env {
	t.Helper()
	n := nodetest.Start(t, tweak)
	return &env{t: t, url: n.URL, srv: n.Server, meetings: n.Meetings, media: n.SFU, reg: n.Registry}
}

// create makes a meeting through the API.
func (e *env) create(hostName string) wire.Created {
	e.t.Helper()
	status, body := e.post("/api/meetings", `{"hostName":`+quote(hostName)+`}`)
	if status != http.StatusCreated {
		e.t.Fatalf("create: %d %s", status, body)
	}
	var c wire.Created
	if err := json.Unmarshal(body, &c); err != nil {
		e.t.Fatalf("create body %s: %v", body, err)
	}
	return c
}

func (e *env) post(path, body string) (int, []byte) {
	e.t.Helper()
	resp, err := http.Post(e.url+path, "application/json", strings.NewReader(body))
	if err != nil {
		e.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (e *env) get(path string) (int, []byte) {
	e.t.Helper()
	resp, err := http.Get(e.url + path)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// raw is a bare WebSocket client for protocol-level tests (no media).
type raw struct {
	t    *testing.T
	conn *websocket.Conn
	msgs chan map[string]any
	done chan error
}

func (e *env) dial(origin string) *raw { return e.dialT(e.t, origin) }

// dialT is dial for a subtest, whose failures must be reported on its own t.
func (e *env) dialT(t *testing.T, origin string) *raw {
	t.Helper()
	if origin == "" {
		origin = e.url
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http")+"/ws", &websocket.DialOptions{
		HTTPHeader: http.Header{"Origin": []string{origin}},
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	conn.SetReadLimit(16 << 20)
	r := &raw{t: t, conn: conn, msgs: make(chan map[string]any, 1024), done: make(chan error, 1)}
	go func() {
		for {
			_, data, err := conn.Read(context.Background())
			if err != nil {
				r.done <- err
				close(r.msgs)
				return
			}
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				r.done <- err
				close(r.msgs)
				return
			}
			r.msgs <- m
		}
	}()
	t.Cleanup(func() { conn.CloseNow() })
	return r
}

func (r *raw) send(v any) {
	r.t.Helper()
	var data []byte
	switch x := v.(type) {
	case string:
		data = []byte(x)
	case []byte:
		data = x
	default:
		var err error
		if data, err = json.Marshal(v); err != nil {
			r.t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.conn.Write(ctx, websocket.MessageText, data); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// next returns the next message that satisfies match, skipping others (offers, candidates).
func (r *raw) next(match func(map[string]any) bool) map[string]any {
	r.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-r.msgs:
			if !ok {
				r.t.Fatalf("connection closed while waiting for a message")
			}
			if match(m) {
				return m
			}
		case <-deadline:
			r.t.Fatalf("no matching message within 10 s")
		}
	}
}

func ofType(typ string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["type"] == typ }
}

// answerTo matches the ok or error answering the request with id.
func answerTo(id any) func(map[string]any) bool {
	return func(m map[string]any) bool {
		return (m["type"] == "ok" || m["type"] == "error" || m["type"] == "joined" || m["type"] == "answer") && m["id"] == id
	}
}

// closed waits for the server to close the connection and returns the close status.
func (r *raw) closed() websocket.StatusCode {
	r.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-r.msgs:
			if !ok {
				return websocket.CloseStatus(<-r.done)
			}
		case <-deadline:
			r.t.Fatalf("connection still open after 10 s")
		}
	}
}

// join sends a join and returns the joined message.
func (r *raw) join(meetingID, name, hostKey string) map[string]any {
	r.t.Helper()
	req := map[string]any{"type": "join", "id": "j", "meetingId": meetingID, "name": name}
	if hostKey != "" {
		req["hostKey"] = hostKey
	}
	r.send(req)
	m := r.next(answerTo("j"))
	if m["type"] != "joined" {
		r.t.Fatalf("join answered %v", m)
	}
	return m
}

// request sends a request with an id and returns its answer.
func (r *raw) request(id string, req map[string]any) map[string]any {
	r.t.Helper()
	req["id"] = id
	r.send(req)
	return r.next(answerTo(id))
}

// ok sends a request that must be answered ok.
func (r *raw) ok(id string, req map[string]any) {
	r.t.Helper()
	if m := r.request(id, req); m["type"] != "ok" {
		r.t.Fatalf("%v answered %v, want ok", req, m)
	}
}

func wantError(t *testing.T, m map[string]any, code string) {
	t.Helper()
	if m["type"] != "error" || m["code"] != code {
		t.Fatalf("got %v, want error %s", m, code)
	}
	if msg, _ := m["message"].(string); msg == "" {
		t.Fatalf("error %v has no message", m)
	}
}

func metricText(t *testing.T, e *env) string {
	t.Helper()
	_, body := e.get("/metrics")
	return string(body)
}
