package sfu

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"
)

// The network conditions test clients can simulate: loss on the way in (at the socket, before
// SRTP), loss on the way out (after the NACK responder kept the packet), and a sink that discards
// RTP unread for benchmarks.

// lossyConn is the client's UDP socket losing chosen RTP packets of payload type 96 (our VP8).
type lossyConn struct {
	net.PacketConn
	drop func(seq uint16) bool
	seen map[uint16]bool // only the reading goroutine touches it
}

func (c *lossyConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(b)
		if err != nil || n < 12 || b[0]>>6 != 2 || b[1]&0x7f != 96 {
			return n, addr, err
		}
		seq := uint16(b[2])<<8 | uint16(b[3])
		if !c.seen[seq] {
			c.seen[seq] = true
			if c.drop(seq) {
				continue
			}
		}

		return n, addr, err
	}
}

// holdConn is the client's UDP socket that can hold back the RTP arriving at it (STUN, DTLS and
// RTCP pass) and deliver it later, in order, as a congested path or a busy receiver would: the
// packets then arrive after signaling that went on meanwhile.
type holdConn struct {
	net.PacketConn
	mu      sync.Mutex
	holding bool
	held    []heldDatagram
	// delivered counts held datagrams handed on after release.
	delivered atomic.Int64
}

type heldDatagram struct {
	b    []byte
	from net.Addr
}

// hold starts holding RTP back; release lets what was held through, before anything newer.
func (c *holdConn) hold() {
	c.mu.Lock()
	c.holding = true
	c.mu.Unlock()
}

func (c *holdConn) release() {
	c.mu.Lock()
	c.holding = false
	c.mu.Unlock()
}

// heldCount is the number of datagrams held and not delivered yet.
func (c *holdConn) heldCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()

	return len(c.held)
}

func (c *holdConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		c.mu.Lock()
		if !c.holding && len(c.held) > 0 {
			d := c.held[0]
			c.held = c.held[1:]
			c.mu.Unlock()
			c.delivered.Add(1)

			return copy(b, d.b), d.from, nil
		}
		c.mu.Unlock()
		n, from, err := c.PacketConn.ReadFrom(b)
		if err != nil {
			return n, from, err
		}
		c.mu.Lock()
		// RTP, not RTCP (payload types 192-223 in the second byte), is held; while anything is
		// still held, everything queues behind it to keep the order.
		if (c.holding && n >= 2 && b[0]>>6 == 2 && (b[1] < 192 || b[1] > 223)) || len(c.held) > 0 {
			c.held = append(c.held, heldDatagram{b: append([]byte(nil), b[:n]...), from: from})
			c.mu.Unlock()

			continue
		}
		c.mu.Unlock()

		return n, from, nil
	}
}

// dropper is an interceptor that drops the first copy of chosen packets, as a lossy network would.
type dropper struct {
	interceptor.NoOp
	send func(seq uint16) bool
	mu   sync.Mutex
	seen map[uint32]map[uint16]bool
}

func (d *dropper) first(ssrc uint32, seq uint16) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen[ssrc] == nil {
		d.seen[ssrc] = map[uint16]bool{}
	}
	if d.seen[ssrc][seq] {
		return false
	}
	d.seen[ssrc][seq] = true

	return true
}

func (d *dropper) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	if d.send == nil || info.MimeType != webrtc.MimeTypeVP8 {
		return w
	}

	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if d.first(h.SSRC, h.SequenceNumber) && d.send(h.SequenceNumber) {
			return len(payload), nil
		}

		return w.Write(h, payload, a)
	})
}

type dropperFactory struct{ d *dropper }

func (f dropperFactory) NewInterceptor(string) (interceptor.Interceptor, error) { return f.d, nil }

// sinkConn is a client UDP socket that drops RTP (not STUN, DTLS or RTCP) as it arrives. It
// implements ice.AddrPortReaderWriter so that reading it allocates nothing.
type sinkConn struct {
	*net.UDPConn
	rtp atomic.Int64
}

func (c *sinkConn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	for {
		n, ap, err := c.ReadFromUDPAddrPort(b)
		if err == nil && n >= 2 && b[0]>>6 == 2 && (b[1] < 192 || b[1] > 223) {
			c.rtp.Add(1)

			continue
		}

		return n, ap, err
	}
}

func (c *sinkConn) WriteToAddrPort(b []byte, ap netip.AddrPort) (int, error) {
	return c.WriteToUDPAddrPort(b, ap)
}

func (c *sinkConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, ap, err := c.ReadFromAddrPort(b)

	return n, net.UDPAddrFromAddrPort(ap), err
}

// clientNet is the network of a test client's connections. Its sockets get receive buffers as
// large as the server's (a client stalled by a busy machine is not to lose packets in the
// kernel, where the default buffer holds well under a second of a few streams), and it knows
// them, to read what the kernel dropped at them all the same (kernelDrops).
type clientNet struct {
	transport.Net
	mu    sync.Mutex
	ports []int
}

// ListenUDP opens a socket for Pion's gathering.
func (n *clientNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	conn, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err //nolint:wrapcheck // as the wrapped Net's
	}
	if uc, ok := conn.(*net.UDPConn); ok {
		n.keep(uc)
	}

	return conn, nil
}

// listen opens a socket on 127.0.0.1 for a client's own UDP mux.
func (n *clientNet) listen(t testing.TB) *net.UDPConn {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	n.keep(conn)

	return conn
}

func (n *clientNet) keep(conn *net.UDPConn) {
	_ = conn.SetReadBuffer(udpSocketBuffer)
	n.mu.Lock()
	n.ports = append(n.ports, conn.LocalAddr().(*net.UDPAddr).Port)
	n.mu.Unlock()
}

// kernelDrops is what the kernel dropped at the client's sockets (their receive buffer was full),
// from the drops column of /proc/net/udp, which shows the test's network namespace.
func (n *clientNet) kernelDrops(t testing.TB) uint64 {
	t.Helper()
	n.mu.Lock()
	ports := map[string]bool{}
	for _, p := range n.ports {
		ports[fmt.Sprintf(":%04X", p)] = true
	}
	n.mu.Unlock()
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		t.Fatalf("kernel drops: %v", err)
	}
	var drops uint64
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 13 || len(f[1]) < 5 || !ports[f[1][len(f[1])-5:]] {
			continue
		}
		d, err := strconv.ParseUint(f[len(f)-1], 10, 64)
		if err != nil {
			t.Fatalf("kernel drops: %q: %v", line, err)
		}
		drops += d
	}

	return drops
}

// The kernel drops counted for a client's sockets are real: a socket that reads nothing
// overflows, and kernelDrops sees it.
func TestClientKernelDrops(t *testing.T) {
	nw, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	cn := &clientNet{Net: nw}
	rx := cn.listen(t)
	defer func() { _ = rx.Close() }()
	tx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Close() }()
	if d := cn.kernelDrops(t); d != 0 {
		t.Fatalf("%d drops at a new socket", d)
	}
	p := make([]byte, 1200)
	dst := rx.LocalAddr().(*net.UDPAddr).AddrPort()
	for range 2 * udpSocketBuffer / len(p) { // twice what the buffer can hold, however it counts
		if _, err := tx.WriteToUDPAddrPort(p, dst); err != nil {
			t.Fatal(err)
		}
	}
	if d := cn.kernelDrops(t); d == 0 {
		t.Error("no drop counted at a socket that overflowed")
	} else {
		t.Logf("%d drops", d)
	}
}
