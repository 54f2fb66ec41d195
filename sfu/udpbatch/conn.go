package udpbatch

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v5"
	"golang.org/x/net/ipv4"
)

// Every datagram is one sendto, and on a media server that is most of the cost of a forwarded
// packet (docs/benchmarks.md). Conn turns the writes of a fan-out into few sendmmsg calls: WriteTo
// copies the datagram into a queue slot, and the queue goes to the kernel in one sendmmsg when
// nobody holds the Conn's group (Group.Hold): a track's reader and writer lanes hold it while they
// fan a packet out, so a packet's copies to all its subscribers (and those of every packet that
// came meanwhile) leave together, sent by whoever releases last, on its own goroutine. A write
// while nothing is held is sent at once by its writer, as a sendto would be. No goroutine of its
// own: handing every batch to a flusher cost a wake-up each, which at small fan-outs was a large
// part of a forwarded packet's cost (docs/benchmarks.md, issue 17).
//
// sendmmsg alone saves only the syscall entries, which on this VM's loopback is next to nothing
// (docs/benchmarks.md, "Batched writes"); what pays is sending each batch's datagrams to one
// destination as one GSO message (gso.go), which needs the batch in one place.
//
// A full queue is sent by the writer that found it full (or, while another goroutine is sending,
// the writer waits for that one to take the queue), as a blocking sendto waits for room in the
// socket's send buffer. Dropping instead was measured: the sfu's writer lanes encrypt faster than
// one sender sends, so a keyframe's fan-out to 150 subscribers (3 000+ datagrams) overflowed the
// queue and lost datagrams of random subscribers (0.07 % of packets, 0.3 % of audio), where
// waiting leaves overload to the writers' own queues, which drop whole packets and count them.
const (
	// writeQueueLen bounds the datagrams waiting per socket (about 1.2 MB of video, ~5 ms of
	// sending).
	writeQueueLen = 1024
	// slotSize is a queue slot's first buffer: every RTP, RTCP, STUN and DTLS datagram Pion sends
	// fits (its MTU is 1200); a larger one grows its slot once.
	slotSize = 1500
	// closeGrace bounds how long Close waits for the queue to be sent.
	closeGrace = time.Second
	// maxHold bounds how long a datagram waits in a held queue: a writer or a releaser that finds
	// the oldest older sends the queue (holds are short, but under load they overlap without end).
	maxHold = time.Millisecond
)

// ErrWriteOOB is returned by WriteMsgUDP with control data, which the batch path cannot carry.
var ErrWriteOOB = errors.New("udpbatch: batched udp socket cannot send control messages")

// Conn is a UDP socket whose writes are queued and sent in batches (see Group.Hold). It
// implements Pion's transport.UDPConn (what ice.NewMultiUDPMuxFromPort opens through its Net)
// and ice.AddrPortReaderWriter (the mux's allocation-free path), so it can stand under an ICE UDP
// mux in place of the *net.UDPConn it wraps.
type Conn struct {
	conn  *net.UDPConn
	batch *ipv4.PacketConn // sendmmsg; it takes IPv6 destinations too on an IPv6 socket
	group *Group
	log   logging.LeveledLogger
	// queuedAt is when the front queue became non-empty (monotonic ns), 0 while it is empty:
	// read without mu to decide cheaply whether there is anything to send.
	queuedAt atomic.Int64

	// send is held by the goroutine sending (the sender): it owns back and the fields below.
	send   sync.Mutex
	gso    *gsoPlan       // nil without GSO (unsupported, or refused once)
	raw    *rawSender     // sendmmsg as a raw system call (raw_linux.go); nil: WriteBatch
	rawIn  *rawReader     // recvfrom as a raw system call; nil: the socket's own read
	single []ipv4.Message // scratch for sending datagrams one per message after GSO was refused

	mu      sync.Mutex
	room    sync.Cond // on mu: the sender took the front queue, or Close
	waiting int       // writers waiting on room
	closed  bool
	front   *writeQueue // writers append here, under mu
	back    *writeQueue // the sender sends from here, without mu
}

// writeQueue is one half of the double buffer. msgs[i] points at slots[i] once and for all, so
// queueing a datagram allocates nothing.
type writeQueue struct {
	n     int
	slots []datagram
	msgs  []ipv4.Message
}

type datagram struct {
	buf  []byte
	bufs [1][]byte
	ap   netip.AddrPort // the destination, IPv4 unmapped; addr is the same for the kernel
	ip   [16]byte
	addr net.UDPAddr
}

// New wraps conn. The Conn takes conn over: closing the Conn closes it. group (shared by any
// number of Conns, which it then holds together; nil: counted for nobody, never held) receives the
// counters, log (may be nil) the one warning when the kernel refuses segmentation offload.
func New(conn *net.UDPConn, group *Group, log logging.LeveledLogger) *Conn {
	if group == nil {
		group = &Group{}
	}
	c := newConn(conn, group, writeQueueLen, gsoSupported(conn))
	c.log = log

	return c
}

// newConn is New with a queue length and GSO chosen by tests.
func newConn(conn *net.UDPConn, group *Group, queueLen int, gso bool) *Conn {
	c := &Conn{
		conn:   conn,
		batch:  ipv4.NewPacketConn(conn),
		group:  group,
		single: make([]ipv4.Message, 0, queueLen),
		front:  newWriteQueue(queueLen),
		back:   newWriteQueue(queueLen),
	}
	if gso {
		c.gso = newGSOPlan(queueLen)
	}
	c.raw = newRawSender(conn, queueLen)
	c.rawIn = newRawReader(conn)
	c.room.L = &c.mu
	group.sockets.Add(1)
	group.add(c)

	return c
}

func newWriteQueue(n int) *writeQueue {
	q := &writeQueue{slots: make([]datagram, n), msgs: make([]ipv4.Message, n)}
	for i := range q.slots {
		q.msgs[i].Buffers = q.slots[i].bufs[:]
		q.msgs[i].Addr = &q.slots[i].addr
	}

	return q
}

// WriteToAddrPort queues b for addr and, unless the group is held, sends the queue. A full queue
// is sent first (or, while another goroutine sends, waited for).
func (c *Conn) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	c.mu.Lock()
	for !c.closed && c.front.n == len(c.front.slots) {
		c.group.fullWaits.Add(1)
		c.mu.Unlock()
		if c.send.TryLock() {
			if c.flushOnce() {
				c.group.flushes[causeFull].Add(1)
			}
			c.send.Unlock()
			c.mu.Lock()

			continue
		}
		c.mu.Lock()
		// Another goroutine is sending: it takes the front queue before it stops (see flush).
		c.waiting++
		for !c.closed && c.front.n == len(c.front.slots) {
			c.room.Wait()
		}
		c.waiting--
	}
	if c.closed {
		c.mu.Unlock()

		return 0, net.ErrClosed
	}
	q := c.front
	i := q.n
	q.n++
	s := &q.slots[i]
	if s.buf == nil {
		s.buf = make([]byte, 0, max(slotSize, len(b)))
	}
	s.buf = append(s.buf[:0], b...)
	s.bufs[0] = s.buf
	s.setAddr(addr)
	c.group.queued.Add(1)
	if i == 0 {
		c.queuedAt.Store(nanotime())
	}
	c.mu.Unlock()
	switch {
	case !c.group.held():
		c.flush(causeUnheld)
	case i > 0 && c.overdue(nanotime()): // the first datagram of a queue has not waited
		c.flush(causeOverdue)
	}

	return len(b), nil
}

// overdue reports whether the oldest queued datagram has waited longer than maxHold.
func (c *Conn) overdue(now int64) bool {
	at := c.queuedAt.Load()

	return at != 0 && now-at > int64(maxHold)
}

func (s *datagram) setAddr(ap netip.AddrPort) {
	a := ap.Addr()
	if a.Is4() || a.Is4In6() {
		v4 := a.Unmap().As4()
		copy(s.ip[:], v4[:])
		s.addr.IP = s.ip[:4]
	} else {
		s.ip = a.As16()
		s.addr.IP = s.ip[:]
	}
	s.addr.Port = int(ap.Port())
	s.addr.Zone = a.Zone()
	s.ap = netip.AddrPortFrom(a.Unmap(), ap.Port())
}

// WriteTo queues b for addr, a *net.UDPAddr.
func (c *Conn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, &net.OpError{Op: "write", Net: "udp", Addr: addr, Err: fmt.Errorf("not a udp address: %T", addr)}
	}

	return c.WriteToUDP(b, ua)
}

// WriteToUDP queues b for addr.
func (c *Conn) WriteToUDP(b []byte, addr *net.UDPAddr) (int, error) {
	if addr == nil {
		return 0, &net.OpError{Op: "write", Net: "udp", Err: errors.New("no destination address")}
	}

	return c.WriteToAddrPort(b, addr.AddrPort())
}

// WriteMsgUDP queues b for addr; control data is refused.
func (c *Conn) WriteMsgUDP(b, oob []byte, addr *net.UDPAddr) (n, oobn int, err error) {
	if len(oob) > 0 {
		return 0, 0, ErrWriteOOB
	}
	n, err = c.WriteToUDP(b, addr)

	return n, 0, err
}

// Write is for connected sockets, which the mux never uses.
func (c *Conn) Write(b []byte) (int, error) {
	ra, ok := c.conn.RemoteAddr().(*net.UDPAddr)
	if !ok || ra == nil {
		return 0, &net.OpError{Op: "write", Net: "udp", Err: errors.New("socket not connected")}
	}

	return c.WriteToUDP(b, ra)
}

// flush sends what is queued, unless another goroutine is sending: that one then sends it, since
// a sender looks at the queue again after it stops (a writer that queued while it sent and found
// it busy relies on that). While the writes are held, a sender sends one queue and leaves the
// rest to the holders' release: looping until the queue is empty while holders keep filling it
// would keep it from its own work (a reader or a lane) without end.
func (c *Conn) flush(cause int) {
	for c.queuedAt.Load() != 0 && c.send.TryLock() {
		for c.flushOnce() {
			c.group.flushes[cause].Add(1)
			if c.group.held() {
				break
			}
		}
		c.send.Unlock()
		if c.group.held() {
			return
		}
	}
}

// flushOnce sends what the front queue holds; false when it was empty. The caller holds send.
func (c *Conn) flushOnce() bool {
	c.mu.Lock()
	q := c.front
	c.front, c.back = c.back, q
	c.queuedAt.Store(0)
	if c.waiting > 0 {
		c.room.Broadcast()
	}
	c.mu.Unlock()
	if q.n == 0 {
		return false
	}
	if c.gso != nil {
		c.sendGSO(q)
	} else {
		c.sendMsgs(q.msgs[:q.n])
	}
	q.n = 0 // published to writers by the next swap, under mu

	return true
}

// sendMsgs hands ms (one datagram each) to the kernel, as few sendmmsg calls as it takes.
func (c *Conn) sendMsgs(ms []ipv4.Message) {
	for len(ms) > 0 {
		n, err := c.writeBatch(ms)
		c.group.batches.Add(1)
		n = max(n, 0) // -1 on error
		c.group.sent.Add(uint64(n))
		ms = ms[n:]
		if err == nil {
			continue
		}
		if fatalWriteError(err) {
			c.group.sendErrors.Add(uint64(len(ms)))

			return
		}
		// sendmmsg stops at the first datagram the kernel refuses (no route, too large...), as
		// sendto would have refused it alone: count it and go on with the rest.
		if len(ms) > 0 {
			c.group.sendErrors.Add(1)
			ms = ms[1:]
		}
	}
}

// sendGSO sends q grouped by destination, runs of datagrams to one address as GSO messages.
func (c *Conn) sendGSO(q *writeQueue) {
	p := c.gso
	p.plan(q)
	for k := 0; k < len(p.msgs); {
		n, err := c.writeBatch(p.msgs[k:])
		c.group.batches.Add(1)
		n = max(n, 0)
		var sent, gso uint64
		for _, segs := range p.segs[k : k+n] {
			sent += uint64(segs)
			if segs > 1 {
				gso += uint64(segs)
			}
		}
		c.group.sent.Add(sent)
		c.group.gso.Add(gso)
		k += n
		if err == nil || k == len(p.msgs) {
			continue
		}
		if fatalWriteError(err) {
			for _, segs := range p.segs[k:] {
				c.group.sendErrors.Add(uint64(segs))
			}

			return
		}
		if p.segs[k] > 1 && gsoRefused(err) {
			// The kernel or the device cannot segment here (e.g. no checksum offload): send the
			// rest, and everything after, one datagram per message.
			if c.log != nil {
				c.log.Warnf("udp segmentation offload refused on %v (%v): sending datagrams one by one", c.conn.LocalAddr(), err)
			}
			c.gso = nil
			c.single = c.single[:0]
			for _, i := range p.slot[p.first[k]:] {
				c.single = append(c.single, q.msgs[i])
			}
			c.sendMsgs(c.single)

			return
		}
		c.group.sendErrors.Add(uint64(p.segs[k]))
		k++
	}
}

// writeBatch is one sendmmsg: raw where it can be, else through x/net (which also waits for room
// in the socket's buffer).
func (c *Conn) writeBatch(ms []ipv4.Message) (int, error) {
	if c.raw != nil {
		if n, ok, err := c.raw.writeBatch(ms); ok {
			return n, err
		}
	}

	return c.batch.WriteBatch(ms, 0) //nolint:wrapcheck // the caller counts it, nobody logs it
}

// fatalWriteError is an error after which nothing more can be sent on the socket.
func fatalWriteError(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded)
}

// Close stops accepting writes, sends what is queued (for at most closeGrace) and closes the
// socket.
func (c *Conn) Close() error {
	c.mu.Lock()
	was := c.closed
	c.closed = true
	c.room.Broadcast()
	c.mu.Unlock()
	if !was {
		c.group.remove(c)
		_ = c.conn.SetWriteDeadline(time.Now().Add(closeGrace))
		c.send.Lock()
		for c.flushOnce() {
			c.group.flushes[causeClose].Add(1)
		}
		c.send.Unlock()
	}
	if err := c.conn.Close(); err != nil {
		return fmt.Errorf("close udp socket: %w", err)
	}

	return nil
}

// ReadFromAddrPort reads straight from the socket (raw_linux.go says how); the mux's path.
func (c *Conn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	if c.rawIn != nil {
		return c.rawIn.read(b)
	}

	return c.conn.ReadFromUDPAddrPort(b) //nolint:wrapcheck // as the socket returns it
}

// ReadFrom reads straight from the socket.
func (c *Conn) ReadFrom(b []byte) (int, net.Addr, error) { return c.conn.ReadFrom(b) }

// ReadFromUDP reads straight from the socket.
func (c *Conn) ReadFromUDP(b []byte) (int, *net.UDPAddr, error) { return c.conn.ReadFromUDP(b) }

// ReadMsgUDP reads straight from the socket.
func (c *Conn) ReadMsgUDP(b, oob []byte) (n, oobn, flags int, addr *net.UDPAddr, err error) {
	return c.conn.ReadMsgUDP(b, oob)
}

// Read reads straight from the socket.
func (c *Conn) Read(b []byte) (int, error) { return c.conn.Read(b) }

// LocalAddr is the socket's address.
func (c *Conn) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// RemoteAddr is the socket's peer, nil for the mux's unconnected sockets.
func (c *Conn) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }

// SetDeadline sets the read deadline only: writes never block (see SetWriteDeadline).
func (c *Conn) SetDeadline(t time.Time) error { return c.conn.SetReadDeadline(t) }

// SetReadDeadline sets the socket's read deadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.conn.SetReadDeadline(t) }

// SetWriteDeadline does nothing: the socket's own write deadline belongs to Close. (The mux sets
// one to abort writes stuck in the kernel.)
func (c *Conn) SetWriteDeadline(time.Time) error { return nil }

// SetReadBuffer sets the socket's receive buffer.
func (c *Conn) SetReadBuffer(n int) error { return c.conn.SetReadBuffer(n) }

// SetWriteBuffer sets the socket's send buffer.
func (c *Conn) SetWriteBuffer(n int) error { return c.conn.SetWriteBuffer(n) }

// Net is a transport.Net whose UDP sockets are Conns: given to ice.NewMultiUDPMuxFromPort
// (UDPMuxFromPortWithNet), the mux finds the local addresses and opens one socket per address as
// usual, and each socket comes back batched. Sockets of a virtual network (not *net.UDPConn) are
// returned as they are.
type Net struct {
	transport.Net
	// Group receives the counters of every socket opened, and holds their writes; nil: counted for nobody.
	Group *Group
	// Log receives each socket's warnings; nil discards them.
	Log logging.LeveledLogger
}

// ListenUDP opens a socket through the wrapped Net and wraps it.
func (n Net) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	conn, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err //nolint:wrapcheck // the mux adds the address
	}
	uc, ok := conn.(*net.UDPConn)
	if !ok {
		return conn, nil // a virtual network: nothing to batch
	}

	return New(uc, n.Group, n.Log), nil
}
