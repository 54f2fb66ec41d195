package signaling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/sfu"
	"github.com/parleyhq/parley/wire"
)

// session is one client's WebSocket connection: before join, then as one meeting member.
type session struct {
	srv  *Server
	conn *websocket.Conn
	out  *outbox
	log  *slog.Logger
	ip   string
	host string // the name the client reached the server by (Server.requestHost)
	// flood limits the requests of a joined connection, bytes the bytes it sends (budget.go);
	// only the read loop uses them.
	flood *rate.Limiter
	bytes *rate.Limiter
	// relayed is a session another node of the cluster relays here: it is served here, never
	// routed on (relay.go). up is the owner's connection of a session this node relays.
	relayed bool
	up      *websocket.Conn
	// helpers are the session's goroutines besides its writer (the pinger, the peer watcher):
	// run waits for them, so none outlives the session.
	helpers sync.WaitGroup

	mu        sync.Mutex
	member    *meeting.Member
	peer      *sfu.Peer
	handling  bool // the read loop is inside a request: a terminal event closes after its answer
	closeWait bool // a terminal event arrived while handling
	ended     bool // a terminal event arrived: no further requests are served
	// held is the join the lobby holds until the session's lobby waiter takes its outcome;
	// heldLeave is set when the client sent leave meanwhile (lobby.go).
	held      *meeting.Held
	heldLeave *wire.ID

	// published is the latest list of sources the media server receives from the client, on
	// its way to the domain (tellPublished).
	published latest[[]wire.Source]
}

func (s *session) run(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	writerDone := make(chan struct{})
	go func() { defer close(writerDone); s.writeLoop(ctx) }()
	s.helpers.Go(func() { s.pingLoop(ctx) })

	reason := s.readLoop(ctx)
	s.teardown()
	// The writer ends by itself once it has sent the last word (an error, "kicked", ...).
	select {
	case <-writerDone:
	case <-time.After(s.srv.cfg.WriteTimeout):
	}
	cancel()
	<-writerDone
	s.helpers.Wait()
	s.conn.CloseNow()
	s.mu.Lock()
	joined := s.member != nil || s.held != nil
	s.mu.Unlock()
	if !joined {
		// Anyone can open WebSockets that never join: counted, and logged once in a while.
		s.srv.cfg.Repeats.Log(s.log, slog.LevelDebug, "websocket_unjoined", "connection closed before joining", "reason", reason)
		return
	}
	s.log.Debug("session ended", "reason", reason)
}

// readLoop serves requests until the connection ends; it returns why it ended.
func (s *session) readLoop(ctx context.Context) string {
	joinCtx, cancelJoin := context.WithTimeout(ctx, s.srv.cfg.JoinTimeout)
	typ, data, err := s.conn.Read(joinCtx)
	cancelJoin()
	if err != nil {
		return readEndReason(err)
	}
	if typ != websocket.MessageText {
		s.conn.Close(websocket.StatusUnsupportedData, "binary messages are not accepted")
		return "binary message"
	}
	relayedMeeting, ok := s.route(ctx, data)
	if !ok {
		return "join failed"
	}
	if relayedMeeting != "" {
		return s.relay(ctx, relayedMeeting)
	}
	if !s.join(ctx, data) {
		return "join failed"
	}
	for {
		typ, data, err := s.conn.Read(ctx)
		if err != nil {
			return readEndReason(err)
		}
		if typ != websocket.MessageText {
			s.conn.Close(websocket.StatusUnsupportedData, "binary messages are not accepted")
			return "binary message"
		}
		if s.isEnded() {
			continue
		}
		s.handle(ctx, data)
	}
}

func readEndReason(err error) string {
	if st := websocket.CloseStatus(err); st != -1 {
		return fmt.Sprintf("closed with status %d", st)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "timed out or shut down"
	}
	return "connection lost: " + err.Error()
}

func (s *session) isEnded() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ended
}

// writeLoop sends queued messages in order until a closing one, the queue overflowing, or ctx.
func (s *session) writeLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.out.wake:
		}
		for _, m := range s.out.take() {
			if m.data != nil && !s.write(ctx, m.data) {
				return
			}
			for _, ev := range m.events {
				data, err := ev.Bytes()
				if err != nil {
					s.log.Error("encode event", "type", ev.Event.EventType(), "err", err)
					continue
				}
				if !s.write(ctx, data) {
					return
				}
			}
			if m.closeAfter {
				status := m.status
				if status == 0 {
					status = websocket.StatusNormalClosure
				}
				s.conn.Close(status, m.reason)
				return
			}
		}
	}
}

// write sends one message; false means the connection is gone.
func (s *session) write(ctx context.Context, data []byte) bool {
	wctx, cancel := context.WithTimeout(ctx, s.srv.cfg.WriteTimeout)
	err := s.conn.Write(wctx, websocket.MessageText, data)
	cancel()
	if err != nil {
		s.conn.CloseNow()
		return false
	}
	return true
}

// pingLoop notices dead clients: a ping without a pong in time ends the connection, and the
// member is reported as disconnected.
func (s *session) pingLoop(ctx context.Context) {
	t := time.NewTicker(s.srv.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, s.srv.cfg.PingTimeout)
		err := s.conn.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				s.log.Info("client did not answer ping", "err", err)
			}
			s.conn.CloseNow()
			return
		}
	}
}

// teardown runs once the connection is gone: whatever membership is left ends as a disconnect.
func (s *session) teardown() {
	s.mu.Lock()
	member, peer := s.member, s.peer
	s.ended = true
	s.mu.Unlock()
	seatLives := false
	if member != nil {
		// With a resume grace the participant stays for a while, its media too (resume.go).
		seatLives = member.Disconnect()
	}
	if peer != nil {
		if !seatLives {
			peer.Close()
		}
		s.srv.metrics.participants.Dec()
	}
	s.out.push(outMessage{closeAfter: true})
}

// send queues one message; encoding failures are programming errors and are logged.
func (s *session) send(typ string, id wire.ID, body any) {
	b, err := wire.Encode(typ, id, body)
	if err != nil {
		s.log.Error("encode message", "type", typ, "err", err)
		return
	}
	s.out.push(outMessage{data: b})
}

// sendError answers a request with an error.
func (s *session) sendError(id wire.ID, code wire.Code, message string) {
	s.out.push(outMessage{data: wire.EncodeError(id, code, message)})
}

// fail answers with an error and closes the connection after it.
func (s *session) fail(id wire.ID, code wire.Code, message string) {
	s.out.push(outMessage{data: wire.EncodeError(id, code, message), closeAfter: true, reason: string(code)})
}
