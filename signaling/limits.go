package signaling

import (
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleyhq/parley/internal/lograte"
	"github.com/parleyhq/parley/wire"
)

// Connection limits. What one client can hold open is bounded at every stage: its TCP
// connections (in total and per address, counted by the listener: Listener), a request's headers,
// body and response (HTTPServer's timeouts, bodyLimit), an idle keep-alive connection
// (IdleTimeout), a WebSocket that has not joined yet (Config.JoinTimeout) and the WebSockets of
// one address (Config.MaxConnectionsPerAddr, counted by client address, so also behind a
// proxy). A connection over a cap is closed at once, counted in
// parley_connections_refused_total and logged once in a while (Config.Repeats).
const (
	// DefaultMaxConnections bounds the server's TCP connections: well below the file limit the
	// server raises itself to at start (cmd/parley lowers it further if the limit is low).
	DefaultMaxConnections = 10000
	// DefaultMaxConnectionsPerAddr bounds one client address's TCP connections and WebSockets:
	// room for a large office behind one NAT address, and nowhere near the total.
	DefaultMaxConnectionsPerAddr = 200
	// DefaultJoinTimeout is how long a fresh WebSocket may take to send its join.
	DefaultJoinTimeout = 5 * time.Second
	// DefaultReadTimeout bounds reading one HTTP request, body included.
	DefaultReadTimeout = 30 * time.Second
	// DefaultIdleTimeout closes a keep-alive connection without a request for that long.
	DefaultIdleTimeout = 60 * time.Second
	// readHeaderTimeout bounds reading one request's headers; httpWriteTimeout writing a
	// response (the web client's largest file to a slow phone included); maxHeaderBytes the
	// headers' size.
	readHeaderTimeout = 10 * time.Second
	httpWriteTimeout  = 60 * time.Second
	maxHeaderBytes    = 32 << 10
)

// connGuard counts open connections, in total and per client address, and refuses those over
// the caps.
type connGuard struct {
	maxTotal, maxPerAddr int
	refused              *prometheus.CounterVec

	mu     sync.Mutex
	total  int
	byAddr map[string]int
}

func newConnGuard(maxTotal, maxPerAddr int, refused *prometheus.CounterVec) *connGuard {
	return &connGuard{maxTotal: maxTotal, maxPerAddr: maxPerAddr, refused: refused, byAddr: map[string]int{}}
}

// acquire takes one connection from addr ("" counts in the total only), or reports which cap
// refuses it.
func (g *connGuard) acquire(addr string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	reason := ""
	switch {
	case g.maxTotal > 0 && g.total >= g.maxTotal:
		reason = "total"
	case addr != "" && g.maxPerAddr > 0 && g.byAddr[addr] >= g.maxPerAddr:
		reason = "address"
	}
	if reason != "" {
		g.refused.WithLabelValues(reason).Inc()
		return false
	}
	g.total++
	if addr != "" {
		g.byAddr[addr]++
	}
	return true
}

func (g *connGuard) release(addr string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.total--
	if addr == "" {
		return
	}
	if g.byAddr[addr]--; g.byAddr[addr] <= 0 {
		delete(g.byAddr, addr)
	}
}

func (g *connGuard) open() float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return float64(g.total)
}

// limits are the edge's connection caps and their metrics.
type limits struct {
	tcp *connGuard // by remote address of the TCP connection (unless behind a proxy)
	ws  *connGuard // WebSockets by client address (c.RealIP)
}

func newLimits(cfg Config) *limits {
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_connections_refused_total",
		Help: "TCP connections and WebSockets closed at once for a cap: reason total or address.",
	}, []string{"reason"})
	l := &limits{
		tcp: newConnGuard(cfg.MaxConnections, cfg.MaxConnectionsPerAddr, refused),
		ws:  newConnGuard(0, cfg.MaxConnectionsPerAddr, refused),
	}
	cfg.Registry.MustRegister(refused, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "parley_connections_open", Help: "TCP connections open on the server's listener.",
	}, l.tcp.open))
	return l
}

// Listener wraps the server's listener so that it keeps at most Config.MaxConnections
// connections open, and at most Config.MaxConnectionsPerAddr from one remote address (that cap
// is left to the WebSocket count when TrustProxy says every connection comes from a proxy).
// A connection over a cap is closed as soon as it is accepted.
func (s *Server) Listener(ln net.Listener) net.Listener {
	// In a cluster the other nodes' relayed sessions share their node's address: connections
	// are then counted per client address by the WebSocket limit only, as behind a proxy.
	return &guardedListener{Listener: ln, g: s.limits.tcp, perAddr: !s.cfg.TrustProxy && s.cfg.Cluster == nil, log: s.cfg.Logger, repeats: s.cfg.Repeats}
}

type guardedListener struct {
	net.Listener
	g       *connGuard
	perAddr bool
	log     *slog.Logger
	repeats *lograte.Limiter
}

func (l *guardedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := ""
		if l.perAddr {
			addr = hostOf(c.RemoteAddr())
		}
		if !l.g.acquire(addr) {
			_ = c.Close()
			l.repeats.Log(l.log, slog.LevelWarn, "connection_over_cap", "connection refused: too many open", "addr", addr)
			continue
		}
		return &guardedConn{Conn: c, g: l.g, addr: addr}, nil
	}
}

// guardedConn gives its place back when closed (by the HTTP server, or by the WebSocket that
// hijacked it).
type guardedConn struct {
	net.Conn
	g    *connGuard
	addr string
	once sync.Once
}

func (c *guardedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.g.release(c.addr) })
	return err
}

func hostOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// HTTPServer is an http.Server for the edge's handler with the timeouts that keep slow or idle
// clients from holding connections: serve it on Listener(ln).
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: min(readHeaderTimeout, s.cfg.ReadTimeout),
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      httpWriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// bodyLimit bounds every request body to maxBody bytes: a handler reading more gets an error.
func bodyLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if r := c.Request(); r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(c.Response(), r.Body, maxBody)
		}
		return next(c)
	}
}

// acquireWebSocket takes a WebSocket place for the client's address, or answers 429.
func (s *Server) acquireWebSocket(c echo.Context) (release func(), ok bool) {
	ip := c.RealIP()
	if clientIP, _, relayed := s.relayedClient(c.Request()); relayed {
		ip = clientIP // another node relays this client: count the client, not the node
	}
	if !s.limits.ws.acquire(ip) {
		s.cfg.Repeats.Log(s.cfg.Logger, slog.LevelWarn, "websocket_over_cap", "websocket refused: too many from one address", "addr", ip)
		_ = writeHTTPError(c, http.StatusTooManyRequests, wire.CodeRateLimited, "too many connections from this address")
		return nil, false
	}
	return func() { s.limits.ws.release(ip) }, true
}
