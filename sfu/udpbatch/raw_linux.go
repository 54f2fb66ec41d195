package udpbatch

import (
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// Why the sendmmsg is made here and not through x/net's WriteBatch: that one enters the system
// call the way Go enters any that may block, and a sendmmsg of a batch on loopback runs long
// (tens to hundreds of µs, the receivers' side included), so the runtime's monitor takes the
// sender's processor away and hands it to another thread (that is what it does with a P in a
// system call for over 20 µs while other goroutines wait), and then polls every 20 µs for the next
// millisecond. Measured at 1 x 100 (perf): the monitor's sleeps and wake-ups were 15 % of the
// server's CPU, the thread switches around the hand-offs more. The send does not block (the
// socket is non-blocking: a full send buffer is EAGAIN, and then the rest goes through
// WriteBatch, which waits on the poller), it only works, so a raw system call, which keeps the P,
// is the right kind; its cost is that a garbage collection waits for it to return.

// mmsghdr is struct mmsghdr of sendmmsg(2).
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

// rawSender is the scratch space for sendmmsg on the socket's descriptor; owned by the sender.
type rawSender struct {
	fd    int
	v6    bool // the socket is IPv6: IPv4 destinations are written v4-mapped
	hdrs  []mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6 // room for either family
}

// newRawSender returns nil when the descriptor cannot be had (the batch path then goes through
// WriteBatch). The descriptor stays valid while the Conn is open: Close takes the send lock
// before it closes the socket.
func newRawSender(conn *net.UDPConn, queueLen int) *rawSender {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil
	}
	fd := -1
	if err := rc.Control(func(d uintptr) { fd = int(d) }); err != nil || fd < 0 {
		return nil
	}
	la, _ := conn.LocalAddr().(*net.UDPAddr)

	return &rawSender{
		fd:    fd,
		v6:    la != nil && la.IP.To4() == nil,
		hdrs:  make([]mmsghdr, queueLen),
		iovs:  make([]unix.Iovec, queueLen),
		names: make([]unix.RawSockaddrInet6, queueLen),
	}
}

// writeBatch sends ms as sendmmsg does: how many went, and the error of the first that did not
// when none did. ok is false when the raw path cannot take this batch (a zoned IPv6 destination,
// or the socket's buffer is full): the caller then uses WriteBatch for the rest.
func (r *rawSender) writeBatch(ms []ipv4.Message) (n int, ok bool, err error) {
	iov := 0
	for i := range ms {
		m := &ms[i]
		addr, _ := m.Addr.(*net.UDPAddr)
		if addr == nil || addr.Zone != "" || len(m.Buffers)+iov > len(r.iovs) || i >= len(r.hdrs) {
			return 0, false, nil
		}
		h := &r.hdrs[i]
		h.hdr = unix.Msghdr{}
		h.n = 0
		nameLen := r.putName(i, addr)
		h.hdr.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.hdr.Namelen = nameLen
		first := iov
		for _, b := range m.Buffers {
			v := &r.iovs[iov]
			v.Base = nil
			if len(b) > 0 {
				v.Base = &b[0]
			}
			v.SetLen(len(b))
			iov++
		}
		if iov > first {
			h.hdr.Iov = &r.iovs[first]
			h.hdr.SetIovlen(iov - first)
		}
		if len(m.OOB) > 0 {
			h.hdr.Control = &m.OOB[0]
			h.hdr.SetControllen(len(m.OOB))
		}
	}
	if len(ms) == 0 {
		return 0, true, nil
	}
	sent, _, errno := syscall.RawSyscall6(unix.SYS_SENDMMSG, uintptr(r.fd), uintptr(unsafe.Pointer(&r.hdrs[0])),
		uintptr(len(ms)), 0, 0, 0)
	runtime.KeepAlive(ms)
	switch {
	case errno == syscall.EAGAIN || errno == syscall.EINTR:
		return 0, false, nil
	case errno != 0:
		return 0, true, errno
	}

	return int(sent), true, nil
}

// putName writes addr as message i's destination and returns its length.
func (r *rawSender) putName(i int, addr *net.UDPAddr) uint32 {
	port := uint16(addr.Port)
	p := (*[2]byte)(unsafe.Pointer(&r.names[i].Port))
	p[0], p[1] = byte(port>>8), byte(port)
	if ip4 := addr.IP.To4(); ip4 != nil && !r.v6 {
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&r.names[i]))
		sa.Family = unix.AF_INET
		copy(sa.Addr[:], ip4)
		sa.Zero = [8]uint8{}

		return unix.SizeofSockaddrInet4
	}
	sa := &r.names[i]
	sa.Family = unix.AF_INET6
	sa.Flowinfo = 0
	sa.Scope_id = 0
	copy(sa.Addr[:], addr.IP.To16())

	return unix.SizeofSockaddrInet6
}

// rawReader reads the socket with recvfrom as a raw system call inside the poller's RawConn.Read
// (which waits for readability without a system call of its own), for the reason given above:
// every read entering a system call the ordinary way wakes the runtime's monitor when it sleeps,
// which it does whenever the server was idle for a moment, and each wake-up costs a millisecond
// of polling. One reader at a time (the mux's); the callback is made once, so reading allocates
// nothing.
type rawReader struct {
	rc syscall.RawConn
	mu sync.Mutex
	cb func(fd uintptr) bool
	// The read in progress, for cb.
	buf   []byte
	n     int
	from  unix.RawSockaddrInet6
	errno syscall.Errno
}

func newRawReader(conn *net.UDPConn) *rawReader {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil
	}
	r := &rawReader{rc: rc}
	r.cb = r.recv

	return r
}

// recv is the RawConn.Read callback: false means "not ready, wait for readability".
func (r *rawReader) recv(fd uintptr) bool {
	var p unsafe.Pointer
	if len(r.buf) > 0 {
		p = unsafe.Pointer(&r.buf[0])
	}
	for {
		salen := uint32(unsafe.Sizeof(r.from))
		n, _, errno := syscall.RawSyscall6(unix.SYS_RECVFROM, fd, uintptr(p), uintptr(len(r.buf)), 0,
			uintptr(unsafe.Pointer(&r.from)), uintptr(unsafe.Pointer(&salen)))
		switch errno {
		case 0:
			r.n, r.errno = int(n), 0

			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		default:
			r.n, r.errno = 0, errno

			return true
		}
	}
}

// read is ReadFromAddrPort.
func (r *rawReader) read(b []byte) (int, netip.AddrPort, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = b
	err := r.rc.Read(r.cb)
	r.buf = nil
	if err != nil {
		return 0, netip.AddrPort{}, err //nolint:wrapcheck // as net.UDPConn returns it: the mux tests it
	}
	if r.errno != 0 {
		return 0, netip.AddrPort{}, &net.OpError{Op: "read", Net: "udp", Err: os.NewSyscallError("recvfrom", r.errno)}
	}

	return r.n, r.source(), nil
}

// source is the sender of the datagram just read.
func (r *rawReader) source() netip.AddrPort {
	sa := &r.from
	p := (*[2]byte)(unsafe.Pointer(&sa.Port)) // network byte order
	port := uint16(p[0])<<8 | uint16(p[1])
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))

		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), port)
	case unix.AF_INET6:
		a := netip.AddrFrom16(sa.Addr)
		if sa.Scope_id != 0 {
			if ifi, err := net.InterfaceByIndex(int(sa.Scope_id)); err == nil {
				a = a.WithZone(ifi.Name)
			}
		}

		return netip.AddrPortFrom(a, port)
	}

	return netip.AddrPort{}
}
