package sfu

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/parleyhq/parley/sfu/udpbatch"
)

// ICE over TCP: the media port's TCP twin takes ICE-TCP (RFC 6544) connections from clients whose
// network lets no UDP through. The server's candidates on it are passive (clients connect, the
// server never dials out), one TCP listener for every peer connection (Pion's TCP mux routes a
// connection by the ICE username of its first STUN request).

// iceTCPWriteBuffer is the TCP mux's write buffer per connection: what a subscriber's TCP stream
// may queue before packets are dropped (as a full UDP socket buffer would), not an unbounded
// backlog that delays everything behind it.
const iceTCPWriteBuffer = 4 << 20

// iceTCPReadQueue is the packets a connection's reader may hand on before its consumer takes them.
// Pion makes the queue at full size for every peer connection's TCP candidate, used or not (512
// were 32 KiB per subscriber, issue 17); a full queue stops the reading, and TCP's own flow
// control holds the rest, so a short queue loses nothing.
const iceTCPReadQueue = 64

// listenICETCP opens the TCP twin of the UDP media port.
func listenICETCP(cfg Config, port int, lf slogFactory) (*ice.TCPMuxDefault, error) {
	network, addr := "tcp", &net.TCPAddr{Port: port}
	if cfg.LoopbackOnly {
		network, addr = "tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	}
	ln, err := net.ListenTCP(network, addr)
	if err != nil {
		return nil, fmt.Errorf("listen tcp port %d for ICE over TCP: %w", port, err)
	}

	return ice.NewTCPMuxDefault(ice.TCPMuxParams{
		Listener:        ln,
		Logger:          lf.NewLogger("tcpmux"),
		ReadBufferSize:  iceTCPReadQueue,
		WriteBufferSize: iceTCPWriteBuffer,
	}), nil
}

// openMedia opens the UDP media port and, unless cfg.NoICETCP, its TCP twin on the same port
// number. With a port of 0 the UDP socket picks one; when its TCP twin is taken by someone else,
// it tries again with another (a few times).
func openMedia(cfg Config, lf slogFactory, writes *udpbatch.Group) (ice.UDPMux, *ice.TCPMuxDefault, int, error) {
	const attempts = 5
	for i := 0; ; i++ {
		mux, port, err := newMux(cfg, lf, writes)
		if err != nil {
			return nil, nil, 0, err
		}
		if cfg.NoICETCP {
			return mux, nil, port, nil
		}
		tcp, err := listenICETCP(cfg, port, lf)
		if err == nil {
			return mux, tcp, port, nil
		}
		_ = mux.Close()
		if cfg.UDPPort != 0 || i+1 == attempts {
			return nil, nil, 0, err
		}
	}
}

// iceNetworkTypes are the kinds of candidate the server gathers.
func iceNetworkTypes(cfg Config) []webrtc.NetworkType {
	types := []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	if !cfg.LoopbackOnly {
		types = append(types, webrtc.NetworkTypeUDP6)
	}
	if !cfg.NoICETCP {
		types = append(types, webrtc.NetworkTypeTCP4)
		if !cfg.LoopbackOnly {
			types = append(types, webrtc.NetworkTypeTCP6)
		}
	}

	return types
}

// MediaAddrs are the addresses of the UDP media port: where its sockets listen (local) and the
// addresses announced for it instead (the public IPs, at the same port). A TURN relay in the same
// process relays to these and nothing else.
func (s *SFU) MediaAddrs() (local, announced []netip.AddrPort) {
	for _, a := range s.mux.GetListenAddresses() {
		if ua, ok := a.(*net.UDPAddr); ok {
			ap := ua.AddrPort()
			local = append(local, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
		}
	}
	for _, ip := range s.publicIPs {
		if addr, err := netip.ParseAddr(ip); err == nil {
			announced = append(announced, netip.AddrPortFrom(addr.Unmap(), uint16(s.port)))
		}
	}

	return local, announced
}
