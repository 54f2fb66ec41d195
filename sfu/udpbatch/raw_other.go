//go:build !linux

package udpbatch

import (
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
)

// rawSender is Linux only (raw_linux.go); elsewhere batches go through WriteBatch.
type rawSender struct{}

func newRawSender(*net.UDPConn, int) *rawSender { return nil }

func (*rawSender) writeBatch([]ipv4.Message) (int, bool, error) { return 0, false, nil }

// rawReader is Linux only; elsewhere reads go to the socket as they are.
type rawReader struct{}

func newRawReader(*net.UDPConn) *rawReader { return nil }

func (*rawReader) read([]byte) (int, netip.AddrPort, error) { return 0, netip.AddrPort{}, nil }
