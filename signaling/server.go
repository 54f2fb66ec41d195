package signaling

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/parleyhq/parley/internal/lograte"
	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/sfu"
	"github.com/parleyhq/parley/wire"
)

// Config sets the edge's behaviour. Zero values take the documented defaults.
type Config struct {
	// PublicURL is the base of every joinUrl, e.g. "https://meet.example.com".
	PublicURL string
	// AllowedOrigins are extra origin host patterns allowed on /ws (the server's own host
	// always is).
	AllowedOrigins []string
	// TrustProxy takes the client address from X-Forwarded-For / X-Real-IP (behind a proxy).
	TrustProxy bool
	// HSTS sends Strict-Transport-Security on responses over TLS: for a server that terminates
	// TLS itself with a certificate browsers trust (not a -dev one: headers.go).
	HSTS bool
	// CreatesPerMinute and JoinsPerMinute limit each client address (defaults 10 and 60).
	CreatesPerMinute int
	JoinsPerMinute   int
	// MeetingJoinsPerMinute limits the joins into one meeting, from all addresses together
	// (default 120, in bursts of as many); joins with a hostKey or a resume token do not count.
	MeetingJoinsPerMinute int
	// MessagesPerSecond and MessageBurst limit each connection's requests (defaults 50 and
	// 200): a flood gets rate_limited errors instead of costing the meeting.
	MessagesPerSecond float64
	MessageBurst      int
	// MessageBytesPerSecond is each connection's budget of bytes received, checked before a
	// message is decoded; AddrCostPerSecond and MeetingCostPerSecond bound the cost of the
	// requests of one client address and of one meeting (defaults DefaultMessageBytesPerSecond,
	// DefaultAddrCostPerSecond, DefaultMeetingCostPerSecond; budget.go).
	MessageBytesPerSecond int
	AddrCostPerSecond     float64
	MeetingCostPerSecond  float64
	// PingInterval and PingTimeout find dead clients (defaults 10 s and 10 s: at most 20 s
	// until a dead client is reported as disconnected).
	PingInterval time.Duration
	PingTimeout  time.Duration
	// JoinTimeout is how long a new connection may take to send its join (default
	// DefaultJoinTimeout).
	JoinTimeout time.Duration
	// MaxConnections and MaxConnectionsPerAddr cap the TCP connections served through Listener,
	// in total and from one address, and MaxConnectionsPerAddr the WebSockets of one client
	// address (defaults DefaultMaxConnections and DefaultMaxConnectionsPerAddr; limits.go).
	MaxConnections        int
	MaxConnectionsPerAddr int
	// ReadTimeout bounds reading one HTTP request with its body, IdleTimeout how long a
	// keep-alive connection may wait for its next request (HTTPServer; defaults
	// DefaultReadTimeout and DefaultIdleTimeout).
	ReadTimeout time.Duration
	IdleTimeout time.Duration
	// WriteTimeout bounds one message write to a client (default 10 s).
	WriteTimeout time.Duration
	// Repeats limits and counts the log lines a remote party can provoke at will (connections
	// over a cap, refused WebSockets, WebSockets that never join); nil makes a private one. Its
	// counter is the caller's to register.
	Repeats *lograte.Limiter
	// ICEServers gives a joining participant its joined.iceServers (the TURN relay's URLs and a
	// credential); host is the name the client reached the server by (PublicURL's host, else the
	// request's), for URLs that need a name. Nil: none.
	ICEServers func(participantID, host string) []wire.ICEServer
	// Web is the web client's files (index.html at the root); nil serves a note instead.
	Web fs.FS
	// Registry receives the edge's metrics and is served at /metrics; nil makes a private one.
	Registry *prometheus.Registry
	Logger   *slog.Logger
	// Cluster makes this node one of several (relay.go); nil is a single node.
	Cluster Cluster
}

func (c *Config) defaults() {
	if c.CreatesPerMinute == 0 {
		c.CreatesPerMinute = 10
	}
	if c.JoinsPerMinute == 0 {
		c.JoinsPerMinute = 60
	}
	if c.MeetingJoinsPerMinute == 0 {
		c.MeetingJoinsPerMinute = 120
	}
	if c.MessagesPerSecond == 0 {
		c.MessagesPerSecond = 50
	}
	if c.MessageBurst == 0 {
		c.MessageBurst = 200
	}
	if c.MessageBytesPerSecond == 0 {
		c.MessageBytesPerSecond = DefaultMessageBytesPerSecond
	}
	if c.AddrCostPerSecond == 0 {
		c.AddrCostPerSecond = DefaultAddrCostPerSecond
	}
	if c.MeetingCostPerSecond == 0 {
		c.MeetingCostPerSecond = DefaultMeetingCostPerSecond
	}
	if c.PingInterval == 0 {
		c.PingInterval = 10 * time.Second
	}
	if c.PingTimeout == 0 {
		c.PingTimeout = 10 * time.Second
	}
	if c.JoinTimeout == 0 {
		c.JoinTimeout = DefaultJoinTimeout
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.MaxConnectionsPerAddr == 0 {
		c.MaxConnectionsPerAddr = DefaultMaxConnectionsPerAddr
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.Registry == nil {
		c.Registry = prometheus.NewRegistry()
	}
	if c.Repeats == nil {
		c.Repeats = lograte.New(0)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
}

// Server is the HTTP and WebSocket edge.
type Server struct {
	cfg         Config
	meetings    *meeting.Service
	media       *sfu.SFU
	echo        *echo.Echo
	metrics     *metrics
	createLimit *limiter
	joinLimit   *limiter
	// meetingJoinLimit is per meeting id, whoever joins.
	meetingJoinLimit *limiter
	limits           *limits
	public           *url.URL // cfg.PublicURL parsed; nil when unset (origin.go)
	budgets          *budgets
	draining         atomic.Bool

	mu       sync.Mutex
	sessions map[*session]struct{}
	wg       sync.WaitGroup
	baseCtx  context.Context
	stop     context.CancelFunc
}

// New builds the edge over the meeting service and the sfu.
func New(cfg Config, meetings *meeting.Service, media *sfu.SFU) *Server {
	cfg.defaults()
	ctx, stop := context.WithCancel(context.Background())
	s := &Server{
		cfg:              cfg,
		meetings:         meetings,
		media:            media,
		metrics:          newMetrics(cfg.Registry),
		createLimit:      newLimiter(cfg.CreatesPerMinute),
		joinLimit:        newLimiter(cfg.JoinsPerMinute),
		meetingJoinLimit: newLimiter(cfg.MeetingJoinsPerMinute),
		limits:           newLimits(cfg),
		budgets:          newBudgets(cfg),
		sessions:         make(map[*session]struct{}),
		baseCtx:          ctx,
		stop:             stop,
	}
	if u, err := url.Parse(cfg.PublicURL); err == nil && cfg.PublicURL != "" && u.Host != "" {
		s.public = u
	}
	s.metrics.gauges(cfg.Registry, s.sessionCount, func() float64 { return float64(meetings.LiveMeetings()) })
	cfg.Registry.MustRegister(domainCollector{meetings.Stats})
	s.echo = s.routes()
	return s
}

func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	if s.cfg.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	} else {
		e.IPExtractor = echo.ExtractIPDirect()
	}
	e.HTTPErrorHandler = s.httpError
	e.Use(securityHeaders(s.cfg), bodyLimit)
	e.POST("/api/meetings", s.createMeeting)
	e.GET("/api/meetings/:id", s.getMeeting)
	e.GET("/api/meetings/:id/audit", s.getAudit)
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", s.ready)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{})))
	e.GET("/ws", s.websocket)
	s.webRoutes(e)
	return e
}

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.echo }

func (s *Server) ready(c echo.Context) error {
	if s.draining.Load() {
		return c.String(http.StatusServiceUnavailable, "draining\n")
	}
	if s.cfg.Cluster != nil {
		if err := s.cfg.Cluster.Ready(); err != nil {
			return c.String(http.StatusServiceUnavailable, "not ready: "+err.Error()+"\n")
		}
	}
	return c.String(http.StatusOK, "ready\n")
}

func (s *Server) websocket(c echo.Context) error {
	if s.draining.Load() {
		return writeHTTPError(c, http.StatusServiceUnavailable, wire.CodeUnavailable, "the server is shutting down")
	}
	if !s.originAllowed(c.Request()) {
		s.cfg.Repeats.Log(s.cfg.Logger, slog.LevelDebug, "websocket_refused", "websocket refused: foreign origin", "origin", c.Request().Header.Get("Origin"))
		return writeHTTPError(c, http.StatusForbidden, wire.CodeForbidden, "this page may not connect here")
	}
	if status, msg := handshakeProblem(c.Response().Header(), c.Request()); status != 0 {
		return writeHTTPError(c, status, wire.CodeBadRequest, msg)
	}
	release, ok := s.acquireWebSocket(c)
	if !ok {
		return nil
	}
	defer release()
	// The origin was checked above, more strictly than Accept would (scheme, public URL).
	conn, err := websocket.Accept(c.Response(), c.Request(), &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		// Accept has already answered (the handshake was judged above; a failed hijack is left).
		s.cfg.Repeats.Log(s.cfg.Logger, slog.LevelDebug, "websocket_refused", "websocket refused", "err", err, "origin", c.Request().Header.Get("Origin"))
		return nil
	}
	conn.SetReadLimit(wire.MaxClientMessage)
	ip, host := c.RealIP(), s.requestHost(c.Request())
	clientIP, clientHost, relayed := s.relayedClient(c.Request())
	if relayed {
		ip, host = clientIP, clientHost
	}
	sess := &session{srv: s, conn: conn, out: newOutbox(), log: s.cfg.Logger, ip: ip, host: host, relayed: relayed,
		flood: rate.NewLimiter(rate.Limit(s.cfg.MessagesPerSecond), s.cfg.MessageBurst), bytes: newByteBudget(s.cfg)}
	if !s.track(sess) {
		conn.Close(websocket.StatusGoingAway, "the server is shutting down")
		return nil
	}
	defer s.untrack(sess)
	sess.run(s.baseCtx)
	return nil
}

// requestHost is the host name (no port) the client reached the server by: PublicURL's when set, else
// the request's Host.
func (s *Server) requestHost(r *http.Request) string {
	host := r.Host
	if s.cfg.PublicURL != "" {
		if u, err := url.Parse(s.cfg.PublicURL); err == nil && u.Host != "" {
			host = u.Host
		}
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.Trim(host, "[]")
}

func (s *Server) track(sess *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining.Load() {
		return false
	}
	s.sessions[sess] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(sess *session) {
	s.mu.Lock()
	delete(s.sessions, sess)
	s.mu.Unlock()
	s.wg.Done()
}

func (s *Server) sessionCount() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return float64(len(s.sessions))
}

// Drain stops taking new meetings and connections (/readyz turns 503), tells every client the
// server is going away, closes their connections and waits for the sessions to end, or ctx.
func (s *Server) Drain(ctx context.Context) error {
	s.mu.Lock()
	s.draining.Store(true)
	for sess := range s.sessions {
		sess.send(wire.TypeServerShutdown, nil, nil)
		sess.out.push(outMessage{closeAfter: true, status: websocket.StatusGoingAway, reason: "server shutting down"})
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.stop()
		<-done
		return errors.New("drain: sessions still open at the deadline were cut off")
	}
}

// Close cuts every session off at once.
func (s *Server) Close() {
	s.draining.Store(true)
	s.stop()
	s.wg.Wait()
}
