package signaling_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/signaling"
)

// fromAddr is an HTTP client whose connections come from ip (any 127.x address is loopback), so
// that a test can be several client addresses at once.
func fromAddr(t *testing.T, ip string) *http.Client {
	t.Helper()
	tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// memberFrom joins like e.member, from the client address ip.
func (e *env) memberFrom(t *testing.T, ip, meetingID, name, hostKey string, publish bool) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{BaseURL: e.url, MeetingID: meetingID, Name: name, HostKey: hostKey,
		Loopback: true, HTTPClient: fromAddr(t, ip)})
	if err != nil {
		t.Fatalf("%s: dial: %v", name, err)
	}
	t.Cleanup(c.Close)
	if publish {
		if err := c.Publish(ctx, client.PublishOptions{Audio: true, Video: true, VideoBitrate: 300_000, FPS: 15}); err != nil {
			t.Fatalf("%s: publish: %v", name, err)
		}
	}
	return c
}

// openFDs counts the process's open file descriptors (the test's and the server's together).
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// closedByPeer reports whether the server has closed c (a read sees EOF or a reset); it never
// waits more than a moment.
func closedByPeer(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
	var b [512]byte
	_, err := c.Read(b[:])
	var ne net.Error
	return err != nil && (!errors.As(err, &ne) || !ne.Timeout())
}

// attackers are raw TCP connections a test opened; they are closed when the server closed them.
type attackers struct {
	mu    sync.Mutex
	conns []net.Conn
}

// open counts the connections the server has not closed yet, closing the others.
func (a *attackers) open() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	kept := a.conns[:0]
	for _, c := range a.conns {
		if closedByPeer(c) {
			c.Close()
			continue
		}
		kept = append(kept, c)
	}
	a.conns = kept
	return len(kept)
}

func (a *attackers) closeAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.conns {
		c.Close()
	}
	a.conns = nil
}

// One address opening idle TCP connections, pre-join WebSockets, slow bodies and idle keep-alive
// connections gets no more than its cap, and each is closed by its deadline; meanwhile a meeting
// of other addresses keeps its media and a newcomer from another address joins. Afterwards the
// process's file descriptors and goroutines are back where they were.
func TestConnectionFlood(t *testing.T) {
	const perAddr, total = 20, 60
	e := newEnv(t, func(c *signaling.Config) {
		c.MaxConnectionsPerAddr, c.MaxConnections = perAddr, total
		c.JoinTimeout, c.ReadTimeout, c.IdleTimeout = time.Second, time.Second, time.Second
	})
	m := e.create("Ada")
	host := e.memberFrom(t, "127.0.0.2", m.MeetingID, "Ada", m.HostKey, true)
	guest := e.memberFrom(t, "127.0.0.3", m.MeetingID, "Grace", "", false)
	grows(t, guest, host, client.Video, 30)
	http.DefaultClient.CloseIdleConnections() // the create's keep-alive: not part of the baseline
	fds, goroutines := openFDs(t), runtime.NumGoroutine()
	addr := strings.TrimPrefix(e.url, "http://")
	attacker := fromAddr(t, "127.0.0.1")

	// Idle TCP connections without a request: at most perAddr stay, the rest are closed at once.
	var a attackers
	defer a.closeAll()
	for range 5 * perAddr {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		a.conns = append(a.conns, c)
	}
	await.Until(t, "the connections over the cap closed", func() bool { return a.open() <= perAddr })
	// Over the cap, a WebSocket from the same address is refused too, and so is a request.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	if ws, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws", &websocket.DialOptions{HTTPClient: attacker}); err == nil {
		ws.CloseNow()
		t.Error("a WebSocket was accepted from an address at its cap")
	}
	cancel()
	// The idle ones are closed once the header deadline (ReadTimeout here) has passed.
	await.Until(t, "the idle connections closed", func() bool { return a.open() == 0 })

	// Pre-join WebSockets: at most perAddr open, each closed after JoinTimeout.
	var wss []*websocket.Conn
	for range 2 * perAddr {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		ws, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws", &websocket.DialOptions{HTTPClient: attacker})
		cancel()
		if err == nil {
			wss = append(wss, ws)
		}
	}
	if len(wss) == 0 || len(wss) > perAddr {
		t.Errorf("%d pre-join WebSockets from one address accepted; want 1 to %d", len(wss), perAddr)
	}
	for _, ws := range wss {
		ctx, cancel := context.WithTimeout(t.Context(), await.Limit)
		_, _, err := ws.Read(ctx)
		cancel()
		if err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("a WebSocket that never joined is still open: %v", err)
		}
		ws.CloseNow()
	}

	// A slow body and an idle keep-alive connection are cut by their deadlines.
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(slow, "POST /api/meetings HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", addr)
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(idle, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	a.conns = append(a.conns, slow, idle)
	await.Until(t, "the slow body and the idle connection closed", func() bool { return a.open() == 0 })

	// A newcomer from another address joins the meeting, and everyone's media flows.
	late := e.memberFrom(t, "127.0.0.4", m.MeetingID, "Linus", "", false)
	grows(t, late, host, client.Video, 30)
	grows(t, guest, host, client.Audio, 25)
	if !strings.Contains(metricText(t, e), `parley_connections_refused_total{reason="address"}`) {
		t.Error("no refused connection counted")
	}
	late.Close()
	attacker.CloseIdleConnections()
	http.DefaultClient.CloseIdleConnections()
	// What the attack opened is gone: the descriptors and goroutines are back (a little slack
	// for the runtime and Pion's timers).
	await.Until(t, "file descriptors and goroutines back to their level before the attack", func() bool {
		return openFDs(t) <= fds+4 && runtime.NumGoroutine() <= goroutines+10
	})
}
