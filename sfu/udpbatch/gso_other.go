//go:build !linux

package udpbatch

import "net"

// UDP segmentation offload is Linux only: elsewhere every datagram goes out on its own.
var gsoCmsgLen = 0

func gsoSupported(*net.UDPConn) bool { return false }

func putGSOHeader([]byte) {}

func putGSOSize([]byte, int) {}

func gsoRefused(error) bool { return true }
