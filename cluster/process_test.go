package cluster_test

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/internal/redistest"
)

// binary is the parley server built from ./cmd/parley once for the package's tests, or the
// one PARLEY_TEST_SERVER names (to measure another build: BenchmarkFailover).
var binary string

func buildServer() (cleanup func(), err error) {
	if b := os.Getenv("PARLEY_TEST_SERVER"); b != "" {
		binary = b
		return func() {}, nil
	}
	dir, err := os.MkdirTemp("", "parley-cluster-test")
	if err != nil {
		return nil, err
	}
	binary = filepath.Join(dir, "parley")
	cmd := exec.Command("go", "build", "-o", binary, "github.com/parleyhq/parley/cmd/parley")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("build the server: %w", err)
	}
	return func() { _ = os.RemoveAll(dir) }, nil
}

// proc is one server process of the cluster.
type proc struct {
	t    testing.TB
	name string
	cmd  *exec.Cmd
	URL  string // http://127.0.0.1:port
	ID   string // its node id
	// http makes the test's own requests (status, metric); nil: http.DefaultClient.
	http *http.Client

	mu    sync.Mutex
	lines []string
	exit  chan struct{}
}

// threeNodes starts a redis-server and three nodes on it (node-1, node-2, node-3), and returns
// a client of that Redis, to look at what the nodes keep there.
func threeNodes(t testing.TB) (*redis.Client, []*proc) {
	t.Helper()
	rs := redistest.Start(t)
	return redisClient(t, rs), []*proc{startNode(t, "node-1", rs.URL()), startNode(t, "node-2", rs.URL()), startNode(t, "node-3", rs.URL())}
}

// startNode runs the server binary as a cluster member on redisURL, on free loopback ports,
// until the test ends (SIGTERM, then SIGKILL if it does not stop).
func startNode(t testing.TB, name, redisURL string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"-listen", "127.0.0.1:0", "-udp-port", "0", "-loopback-only", "-log-format", "json",
		"-joins-per-minute", "1000", "-creates-per-minute", "1000", "-drain-timeout", "3s",
		"-redis-url", redisURL, "-node-id", name}, extra...)
	p := &proc{t: t, name: name, ID: name, cmd: exec.Command(binary, args...), exit: make(chan struct{})}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go p.read(stderr)
	t.Cleanup(func() {
		p.stop(syscall.SIGTERM)
		if t.Failed() {
			t.Logf("%s log:\n%s", name, p.log())
		}
	})
	await.Until(t, name+"'s startup line", func() bool {
		select {
		case <-p.exit:
			t.Fatalf("%s exited at startup:\n%s", name, p.log())
		default:
		}
		for _, l := range p.logLines() {
			var m struct{ Msg, Listen, Scheme string }
			if json.Unmarshal([]byte(l), &m) == nil && m.Msg == "parley is ready" {
				p.URL = cmp.Or(m.Scheme, "http") + "://" + m.Listen
				return true
			}
		}
		return false
	})
	return p
}

func (p *proc) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		p.mu.Lock()
		p.lines = append(p.lines, sc.Text())
		p.mu.Unlock()
	}
	_ = p.cmd.Wait()
	close(p.exit)
}

func (p *proc) logLines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

func (p *proc) log() string { return strings.Join(p.logLines(), "\n") }

// stop signals the process and waits for it to exit (SIGKILL after 15 s).
func (p *proc) stop(sig syscall.Signal) {
	select {
	case <-p.exit:
		return
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exit:
	case <-time.After(15 * time.Second):
		p.t.Errorf("%s did not stop on %v", p.name, sig)
		_ = p.cmd.Process.Kill()
		<-p.exit
	}
}

// status GETs path on the node and returns the status code.
func (p *proc) status(ctx context.Context, path string) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+path, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	resp, err := cmp.Or(p.http, http.DefaultClient).Do(req)
	if err != nil {
		return 0
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// metric reads one unlabelled metric from the node's /metrics (-1000 when absent).
func (p *proc) metric(ctx context.Context, name string) float64 {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/metrics", nil)
	if err != nil {
		p.t.Fatal(err)
	}
	resp, err := cmp.Or(p.http, http.DefaultClient).Do(req)
	if err != nil {
		p.t.Fatalf("%s /metrics: %v", p.name, err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f
			}
		}
	}
	return -1000
}
