// Package redistest runs a real redis-server for tests: on 127.0.0.1, on a free port, with its
// data in the test's temporary directory, killed when the test ends. A test may stop it and
// start it again on the same port (a Redis outage mid-meeting).
//
// It owns the redis-server process and nothing else; it must not be imported by non-test code.
package redistest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Binary is the redis-server executable (Debian's package installs it here; `make test`
// installs it when missing).
const Binary = "/usr/bin/redis-server"

// Server is one redis-server process.
type Server struct {
	t    testing.TB
	dir  string
	port int

	mu  sync.Mutex
	cmd *exec.Cmd
}

// Start runs redis-server until t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		t.Fatalf("redis-server is not installed (%v): run `make redis` (apt-get install redis-server)", err)
	}
	s := &Server{t: t, dir: t.TempDir(), port: freePort(t)}
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL is the redis:// URL of the server.
func (s *Server) URL() string { return "redis://" + s.Addr() }

// Stop kills the server (SIGKILL: an outage, not a shutdown) and waits for it to exit.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the server (again) on its port and waits until it answers.
func (s *Server) Restart() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	// Append-only persistence, synced on every write: a restarted server has what it had, as a
	// production Redis with persistence does.
	cmd := exec.Command(Binary, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--dir", s.dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--protected-mode", "no")
	out, err := cmd.StdoutPipe()
	if err != nil {
		s.t.Fatalf("redis-server stdout: %v", err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		once := sync.Once{}
		for sc.Scan() {
			if testing.Verbose() {
				fmt.Fprintln(os.Stderr, "redis:", sc.Text())
			}
			if strings.Contains(sc.Text(), "Ready to accept connections") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		s.t.Fatalf("redis-server on port %d did not become ready", s.port)
	}
	s.cmd = cmd
}

// freePort finds a TCP port nobody listens on now.
func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
