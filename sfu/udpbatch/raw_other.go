//go:build !linux

package udpbatch

import (
	"net"

	"golang.org/x/net/ipv4"
)

// rawSender is Linux only (raw_linux.go); elsewhere batches go through WriteBatch.
type rawSender struct{}

func newRawSender(*net.UDPConn, int) *rawSender { return nil }

func (*rawSender) writeBatch([]ipv4.Message) (int, bool, error) { return 0, false, nil }
