package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/wire"
)

// Options configure Dial.
type Options struct {
	// BaseURL is the server's address, e.g. http://127.0.0.1:8080; the WebSocket is its /ws.
	BaseURL   string
	MeetingID string
	Name      string
	// HostKey joins as the host; empty joins as a participant.
	HostKey string
	// ResumeToken joins as the participant that token was issued to (a page reloaded: the
	// client's peer connections are new, so it asks for new ones with keepMedia false). To
	// resume on the same peer connections, use Client.Resume.
	ResumeToken string
	// BrowserID is sent in join as browserId (docs/protocol.md): the id a browser keeps, by
	// which the host's mute and removal stick to the person across fresh joins.
	BrowserID string
	// Loopback restricts both peer connections to 127.0.0.1 over UDP4 (tests, local load).
	Loopback bool
	// RelayOnly makes both peer connections use the TURN relay named in joined.iceServers and
	// nothing else (ICETransportPolicyRelay), as a client behind a firewall that lets only the
	// relay through would.
	RelayOnly bool
	// TURNTransport keeps only the relay URLs of joined.iceServers over this transport: "udp",
	// "tcp" or "tls" (turns:); empty keeps them all.
	TURNTransport string
	// TCPOnly gathers no UDP candidates (ICE over TCP only), as a client whose network blocks
	// UDP would; with Loopback, on 127.0.0.1.
	TCPOnly bool
	// Logger receives the client's diagnostics; nil discards them.
	Logger *slog.Logger
	// Origin is the Origin header of the WebSocket handshake; empty means BaseURL's origin.
	Origin string
	// MaxLog keeps only the newest MaxLog messages in the log (0 keeps all): load generators
	// with many clients set it.
	MaxLog int
	// HTTPClient makes the WebSocket handshake; nil means http.DefaultClient. (A load
	// generator gives each client its own source address with it.)
	HTTPClient *http.Client
	// Interceptors chooses the peer connections' RTP interceptors; the zero value is Pion's
	// defaults, as browsers do (NACK, RTCP reports, TWCC, stats).
	Interceptors Interceptors
}

// Interceptors selects the interceptor set of the client's peer connections.
type Interceptors int

const (
	// DefaultInterceptors is webrtc.RegisterDefaultInterceptors.
	DefaultInterceptors Interceptors = iota
	// LeanInterceptors keeps NACK and RTCP reports only: cheaper per packet, for load
	// generators that must not eat the server's CPU.
	LeanInterceptors
)

// Timing records when the client's milestones happened.
type Timing struct {
	DialStart time.Time // Dial was called
	Joined    time.Time // the joined answer arrived
	// FirstPacket is the arrival of the first RTP packet on the subscriber connection; zero
	// before.
	FirstPacket time.Time
}

// Client is one participant's connection: its WebSocket and its two peer connections.
type Client struct {
	opts Options
	log  *slog.Logger
	// cur is the current WebSocket connection; a resume (resume.go) replaces it.
	cur atomic.Pointer[link]

	// ctx ends the client's goroutines; cancel is called by Close.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	joined   wire.Joined
	iceMu    sync.Mutex
	ice      []wire.ICEServer // joined.iceServers, set on the read loop (useICEServers)
	dialedAt time.Time
	joinedAt time.Time
	firstPkt atomic.Int64 // Unix nanoseconds

	nextID  atomic.Int64
	pendMu  sync.Mutex
	pending map[string]func(Message)

	events eventLog

	signals signalQueue
	sub     *subscriber
	pubMu   sync.Mutex
	pub     *publisher

	// goMu guards closing against goroutines started by callbacks (OnTrack).
	goMu      sync.Mutex
	closing   bool
	closeOnce sync.Once
}

// Dial connects to the server's WebSocket, joins the meeting and returns once the server has
// answered with joined. A refused join returns a *ProtocolError (e.g. code not_found or
// meeting_locked) and the connection is closed.
func Dial(ctx context.Context, opts Options) (*Client, error) {
	c, err := newClient(opts)
	if err != nil {
		return nil, err
	}
	if err := c.connect(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func newClient(opts Options) (*Client, error) {
	base, err := url.Parse(opts.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("base URL %q: want http(s)://host[:port]", opts.BaseURL)
	}
	if opts.Origin == "" {
		opts.Origin = base.Scheme + "://" + base.Host
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c := &Client{
		opts:     opts,
		log:      log,
		pending:  map[string]func(Message){},
		dialedAt: time.Now(),
	}
	c.cur.Store(&link{done: make(chan struct{})})
	c.events.init(opts.MaxLog)
	c.signals.init()
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

func (c *Client) wsURL() string {
	u, _ := url.Parse(c.opts.BaseURL) // checked by newClient
	if u.Scheme == "https" {
		u.Scheme = "wss"
	} else {
		u.Scheme = "ws"
	}
	u.Path = "/ws"
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}

func (c *Client) connect(ctx context.Context) error {
	// The subscriber connection exists before the join, ready for the server's first offer.
	sub, err := newSubscriber(c)
	if err != nil {
		return err
	}
	c.sub = sub
	conn, err := c.dial(ctx)
	if err != nil {
		return err
	}
	l := c.cur.Load()
	l.conn = conn
	c.wg.Add(2)
	go c.readLoop(l)
	go c.signalLoop()

	join := wire.Join{MeetingID: &c.opts.MeetingID, Name: &c.opts.Name}
	if c.opts.HostKey != "" {
		join.HostKey = &c.opts.HostKey
	}
	if c.opts.BrowserID != "" {
		join.BrowserID = &c.opts.BrowserID
	}
	if c.opts.ResumeToken != "" {
		keep := false
		join.ResumeToken, join.KeepMedia = &c.opts.ResumeToken, &keep
	}
	raw, err := c.Request(ctx, wire.TypeJoin, join)
	if err != nil {
		if ErrorCode(err) != "" {
			// The server closes after a refused join; give it a moment so the close status is
			// known, but the error is the answer either way.
			c.waitDone(ctx, time.Second)
		}
		return fmt.Errorf("join meeting %s: %w", c.opts.MeetingID, err)
	}
	var env wire.Envelope
	if err := json.Unmarshal(raw, &env); err != nil || env.Type != wire.TypeJoined {
		return fmt.Errorf("join meeting %s: answered with %s", c.opts.MeetingID, raw)
	}
	if err := json.Unmarshal(raw, &c.joined); err != nil {
		return fmt.Errorf("join meeting %s: decode joined: %w", c.opts.MeetingID, err)
	}
	c.joinedAt = time.Now()
	return nil
}

func (c *Client) waitDone(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.Done():
	case <-ctx.Done():
	case <-t.C:
	}
}

// dial opens a WebSocket to the server.
func (c *Client) dial(ctx context.Context) (*websocket.Conn, error) {
	conn, resp, err := websocket.Dial(ctx, c.wsURL(), &websocket.DialOptions{
		HTTPHeader: http.Header{"Origin": []string{c.opts.Origin}},
		HTTPClient: c.opts.HTTPClient,
	})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial %s: HTTP %d: %w", c.wsURL(), resp.StatusCode, err)
		}
		return nil, fmt.Errorf("dial %s: %w", c.wsURL(), err)
	}
	// The server's messages have no size limit (an offer in a large meeting is big).
	conn.SetReadLimit(64 << 20)
	return conn, nil
}

// Joined is the server's joined answer.
func (c *Client) Joined() wire.Joined { return c.joined }

// ParticipantID is this client's participant id.
func (c *Client) ParticipantID() string { return c.joined.ParticipantID }

// Timing returns when Dial started, when the join was answered and when the first media packet
// arrived.
func (c *Client) Timing() Timing {
	t := Timing{DialStart: c.dialedAt, Joined: c.joinedAt}
	if n := c.firstPkt.Load(); n != 0 {
		t.FirstPacket = time.Unix(0, n)
	}
	return t
}

// Done is closed when the WebSocket connection has ended, whoever closed it. After a Resume it
// is the new connection's.
func (c *Client) Done() <-chan struct{} { return c.cur.Load().done }

// CloseError says how the connection ended; nil while it is open.
func (c *Client) CloseError() *ClosedError {
	l := c.cur.Load()
	select {
	case <-l.done:
		return l.closeErr
	default:
		return nil
	}
}

// CloseStatus is the WebSocket close status and reason the server sent; -1 while open or when
// the connection ended without a close frame.
func (c *Client) CloseStatus() (websocket.StatusCode, string) {
	if ce := c.CloseError(); ce != nil {
		return ce.Status, ce.Reason
	}
	return -1, ""
}

func (c *Client) readLoop(l *link) {
	defer c.wg.Done()
	for {
		_, data, err := l.conn.Read(c.ctx)
		if err != nil {
			l.closeErr = newClosedError(err)
			close(l.done)
			c.events.wake()
			return
		}
		c.dispatch(data, time.Now())
	}
}

// answerTypes are the messages that can answer a request with an id.
var answerTypes = map[string]bool{
	wire.TypeOK: true, wire.TypeError: true, wire.TypeJoined: true, wire.TypeAnswer: true,
}

func (c *Client) dispatch(data []byte, at time.Time) {
	var env wire.Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		c.log.Warn("unreadable server message", "err", err, "message", string(data))
	}
	m := Message{Type: env.Type, ID: env.ID, Raw: data, At: at}
	if m.Type == wire.TypeJoined {
		// Here, on the read loop, before the subscriber offer that follows joined is read.
		c.useICEServers(data)
	}
	if len(m.ID) > 0 && answerTypes[m.Type] {
		if answer := c.takePending(string(m.ID)); answer != nil {
			answer(m)
			return
		}
	}
	c.events.add(m)
	switch m.Type {
	case wire.TypeOffer, wire.TypeCandidate:
		c.signals.push(m)
	case wire.PublisherLayers{}.EventType():
		c.onPublisherLayers(m)
	case wire.TypeError:
		c.log.Warn("server error", "message", string(data))
	}
}

// Close ends the client without a word to the server (no leave: the others see it as
// disconnected): it closes the WebSocket and both peer connections and waits for every
// goroutine of the client to end.
func (c *Client) Close() {
	c.closeOnce.Do(func() {
		c.goMu.Lock()
		c.closing = true
		c.goMu.Unlock()
		l := c.cur.Load()
		if l.conn != nil {
			// A close handshake when the server is there; it is bounded by the library (5 s).
			_ = l.conn.Close(websocket.StatusNormalClosure, "")
		}
		c.cancel()
		c.pubMu.Lock()
		pub := c.pub
		c.pubMu.Unlock()
		if pub != nil {
			pub.close()
		}
		if c.sub != nil {
			c.sub.close()
		}
		c.wg.Wait()
		if l.conn == nil {
			close(l.done)
		}
	})
}

// Leave sends leave, waits for its ok and for the server to close the connection (bounded by
// ctx), then closes the client.
func (c *Client) Leave(ctx context.Context) error {
	defer c.Close()
	if _, err := c.Request(ctx, wire.TypeLeave, nil); err != nil {
		return fmt.Errorf("leave: %w", err)
	}
	select {
	case <-c.Done():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("leave: waiting for the server to close: %w", ctx.Err())
	}
}

// spawn runs f on a goroutine Close waits for; it reports false (and runs nothing) once the
// client is closing.
func (c *Client) spawn(f func()) bool {
	c.goMu.Lock()
	defer c.goMu.Unlock()
	if c.closing {
		return false
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
	return true
}

// closedErr is the error for requests that cannot complete because the connection ended.
func (c *Client) closedErr() error {
	if ce := c.CloseError(); ce != nil {
		return ce
	}
	return &ClosedError{Status: -1, Err: errors.New("client closed")}
}

// enter counts the calling goroutine (a Pion callback) as one of the client's, for Close to
// wait for; it reports false once the client is closing. A true return must be paired with
// c.wg.Done().
func (c *Client) enter() bool {
	c.goMu.Lock()
	defer c.goMu.Unlock()
	if c.closing {
		return false
	}
	c.wg.Add(1)
	return true
}
