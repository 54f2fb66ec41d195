package sfu

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// shapedConn is a test client's UDP socket behind a bottleneck on its receive path, as a home
// link's downlink: a FIFO drained at rate bits per second (IP and UDP headers counted), whose
// packets are dropped at the tail once the queue holds more than queueLimit of waiting, as a
// token bucket filter (tc tbf) with a latency limit does. Rate 0 lifts the limit.
type shapedConn struct {
	net.PacketConn
	rate       atomic.Int64 // bits per second; 0: unlimited
	queueLimit time.Duration

	queue    chan shapedPacket
	nextFree time.Time // when the link is free again; owned by the reading goroutine
	dropped  atomic.Int64
	passed   atomic.Int64
	done     chan struct{}
	once     sync.Once
	wg       sync.WaitGroup
}

type shapedPacket struct {
	b    []byte
	addr net.Addr
	at   time.Time // when it leaves the link
	err  error
}

func newShapedConn(bitsPerSecond int64, queueLimit time.Duration) *shapedConn {
	s := &shapedConn{queueLimit: queueLimit, queue: make(chan shapedPacket, 8192), done: make(chan struct{})}
	s.rate.Store(bitsPerSecond)

	return s
}

// start puts the link in front of conn.
func (s *shapedConn) start(conn net.PacketConn) {
	s.PacketConn = conn
	s.wg.Add(1)
	go s.run()
}

func (s *shapedConn) run() {
	defer s.wg.Done()
	for {
		b := make([]byte, 1600)
		n, addr, err := s.PacketConn.ReadFrom(b)
		if err != nil {
			select {
			case s.queue <- shapedPacket{err: err}:
			case <-s.done:
			}

			return
		}
		now := time.Now()
		at := now
		if rate := s.rate.Load(); rate > 0 {
			start := s.nextFree
			if start.Before(now) {
				start = now
			}
			if start.Sub(now) > s.queueLimit {
				s.dropped.Add(1)

				continue
			}
			s.nextFree = start.Add(time.Duration(int64(n+28) * 8 * int64(time.Second) / rate))
			at = s.nextFree
		}
		s.passed.Add(1)
		select {
		case s.queue <- shapedPacket{b: b[:n], addr: addr, at: at}:
		case <-s.done:
			return
		}
	}
}

// ReadFrom hands out the next packet when the link has carried it.
func (s *shapedConn) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case p := <-s.queue:
		if p.err != nil {
			return 0, nil, p.err
		}
		if d := time.Until(p.at); d > 0 {
			time.Sleep(d)
		}

		return copy(b, p.b), p.addr, nil
	case <-s.done:
		return 0, nil, net.ErrClosed
	}
}

func (s *shapedConn) Close() error {
	s.once.Do(func() { close(s.done) })
	err := s.PacketConn.Close()
	s.wg.Wait()

	return err
}
