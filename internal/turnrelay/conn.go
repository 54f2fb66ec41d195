package turnrelay

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"

	"github.com/pion/turn/v5"
)

// errTCPRelay refuses TCP allocations (RFC 6062): media reaches the server over UDP.
var errTCPRelay = errors.New("turn relay: TCP allocations are not offered")

// errQuota refuses an allocation beyond the credential's bound.
var errQuota = errors.New("turn relay: allocation quota reached")

// generator makes each allocation's relayed socket: a UDP socket on the listen IP, announced at
// the external IP, wrapped so that it reaches the media port only.
type generator struct {
	r  *Relay
	ip string

	mu   sync.Mutex
	next int // the port of the range tried first next time
}

// listen opens a relayed socket: on any free port, or on a free one of the configured range.
func (g *generator) listen() (net.PacketConn, error) {
	lo, hi := g.r.cfg.RelayPortMin, g.r.cfg.RelayPortMax
	if lo == 0 && hi == 0 {
		return net.ListenPacket("udp4", net.JoinHostPort(g.ip, "0"))
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	var err error
	for range hi - lo + 1 {
		port := lo + g.next%(hi-lo+1)
		g.next++
		var conn net.PacketConn
		if conn, err = net.ListenPacket("udp4", net.JoinHostPort(g.ip, strconv.Itoa(port))); err == nil {
			return conn, nil
		}
	}
	return nil, fmt.Errorf("turn relay: no free relay port in %d-%d: %w", lo, hi, err)
}

var _ turn.RelayAddressGenerator = (*generator)(nil)

func (g *generator) Validate() error { return nil }

func (g *generator) AllocatePacketConn(c turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	if c.Network != "udp4" {
		return nil, nil, errors.New("turn relay: only IPv4 relayed addresses are offered")
	}
	if !g.r.reserve(c.UserID) {
		return nil, nil, errQuota
	}
	conn, err := g.listen()
	if err != nil {
		g.r.release(c.UserID)

		return nil, nil, err
	}
	relayed := &net.UDPAddr{IP: g.r.external.AsSlice(), Port: conn.LocalAddr().(*net.UDPAddr).Port}

	return &mediaConn{PacketConn: conn, r: g.r, user: c.UserID, back: map[netip.AddrPort]netip.AddrPort{}}, relayed, nil
}

func (g *generator) AllocateListener(turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, errTCPRelay
}

func (g *generator) AllocateConn(turn.AllocateConnConfig) (net.Conn, error) {
	return nil, errTCPRelay
}

// mediaConn is an allocation's relayed socket. It sends only to the media port (a datagram for
// an announced address goes to the local one it stands for) and passes on only what comes from
// the media port, shown as coming from the address the client sent to.
type mediaConn struct {
	net.PacketConn
	r    *Relay
	user string

	mu   sync.Mutex
	back map[netip.AddrPort]netip.AddrPort // local media address -> the announced one the client used

	closeOnce sync.Once
}

func (c *mediaConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		c.r.refused.Add(1)

		return len(p), nil
	}
	dst := unmap(ua.AddrPort())
	to, ok := c.r.route[dst]
	if !ok {
		// Silently, as a firewall drops: the client learns nothing, the log is not flooded.
		c.r.refused.Add(1)

		return len(p), nil
	}
	if to != dst {
		c.mu.Lock()
		c.back[to] = dst
		c.mu.Unlock()
	}

	return c.PacketConn.WriteTo(p, net.UDPAddrFromAddrPort(to))
}

func (c *mediaConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err != nil {
			return n, addr, err
		}
		ua, ok := addr.(*net.UDPAddr)
		if !ok {
			continue
		}
		src := unmap(ua.AddrPort())
		if !c.r.from[src] {
			c.r.refused.Add(1)

			continue
		}
		c.mu.Lock()
		shown, ok := c.back[src]
		c.mu.Unlock()
		if ok {
			return n, net.UDPAddrFromAddrPort(shown), nil
		}

		return n, net.UDPAddrFromAddrPort(src), nil
	}
}

func (c *mediaConn) Close() error {
	err := c.PacketConn.Close()
	c.closeOnce.Do(func() { c.r.release(c.user) })

	return err
}
