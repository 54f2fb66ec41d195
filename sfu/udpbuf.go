package sfu

import (
	"fmt"
	"net"
)

// udpSocketBuffer is the receive and send buffer asked for the media socket. One socket carries
// every participant's packets, and the default (net.core.rmem_default, ~208 KiB) overflows in a
// burst of a few hundred datagrams: at 8k packets/s in the server the kernel dropped some
// (docs/benchmarks.md). The kernel caps the request at net.core.rmem_max / wmem_max.
const udpSocketBuffer = 4 << 20

// setSocketBuffers raises a media socket's kernel buffers to udpSocketBuffer.
func setSocketBuffers(conn *net.UDPConn) error {
	if err := conn.SetReadBuffer(udpSocketBuffer); err != nil {
		return fmt.Errorf("udp read buffer: %w", err)
	}
	if err := conn.SetWriteBuffer(udpSocketBuffer); err != nil {
		return fmt.Errorf("udp write buffer: %w", err)
	}

	return nil
}
