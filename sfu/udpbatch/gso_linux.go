package udpbatch

import (
	"encoding/binary"
	"errors"
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// gsoCmsgLen is the room one UDP_SEGMENT control message takes.
var gsoCmsgLen = unix.CmsgSpace(2)

// gsoSupported says whether the kernel segments UDP for this socket (UDP_SEGMENT, Linux 4.18).
func gsoSupported(conn *net.UDPConn) bool {
	rc, err := conn.SyscallConn()
	if err != nil {
		return false
	}
	ok := false
	if err := rc.Control(func(fd uintptr) {
		_, err := unix.GetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_SEGMENT)
		ok = err == nil
	}); err != nil {
		return false
	}

	return ok
}

// putGSOHeader writes the header of a UDP_SEGMENT control message into b (gsoCmsgLen bytes, 8-byte
// aligned); putGSOSize sets its segment size.
func putGSOHeader(b []byte) {
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level = unix.SOL_UDP
	h.Type = unix.UDP_SEGMENT
	h.SetLen(unix.CmsgLen(2))
}

func putGSOSize(b []byte, size int) { binary.NativeEndian.PutUint16(b[unix.CmsgLen(0):], uint16(size)) }

// gsoRefused says whether err means the kernel or the device cannot segment (no checksum
// offload: EIO), as opposed to a refusal of this one destination.
func gsoRefused(err error) bool {
	return errors.Is(err, syscall.EIO) || errors.Is(err, syscall.EINVAL) ||
		errors.Is(err, syscall.ENOPROTOOPT) || errors.Is(err, syscall.EOPNOTSUPP)
}
