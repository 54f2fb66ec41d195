package sfu

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// The media sockets get buffers of udpSocketBuffer, as far as the kernel allows, read back from
// the server's own sockets: the loopback-only one, and one per address of the all-interfaces mux.
// (In a network namespace with loopback only, that mux has no address and opens no socket: the
// loopback-only socket is then the one checked.)
func TestMediaSocketBuffers(t *testing.T) {
	want := func(sysctl string) int {
		b, err := os.ReadFile("/proc/sys/net/core/" + sysctl)
		if err != nil {
			t.Fatalf("read %s (the server runs on Linux): %v", sysctl, err)
		}
		limit, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatal(err)
		}

		return 2 * min(udpSocketBuffer, limit) // Linux doubles the request for its bookkeeping
	}
	wantRead, wantWrite := want("rmem_max"), want("wmem_max")
	checked := 0
	for _, tc := range []struct {
		name string
		cfg  Config
	}{{"loopback only", Config{LoopbackOnly: true}}, {"all interfaces", Config{}}} {
		s, err := New(tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		sockets := 1
		if !tc.cfg.LoopbackOnly {
			sockets = len(s.mux.GetListenAddresses())
		}
		fds := socketFDs(t, s.UDPPort())
		t.Logf("%s: %d sockets on port %d (%v)", tc.name, len(fds), s.UDPPort(), s.mux.GetListenAddresses())
		if len(fds) != sockets {
			t.Errorf("%s: %d sockets found on port %d, want %d", tc.name, len(fds), s.UDPPort(), sockets)
		}
		for _, fd := range fds {
			r, err1 := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF)
			w, err2 := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_SNDBUF)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if r != wantRead || w != wantWrite {
				t.Errorf("%s: fd %d buffers read %d write %d, want %d and %d", tc.name, fd, r, w, wantRead, wantWrite)
			}
			checked++
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if checked == 0 {
		t.Fatal("no media socket checked")
	}
}

// socketFDs returns this process's UDP sockets bound to port, found among its file descriptors
// by asking each socket its own address (no /proc/net table, whose view depends on the network
// namespace and the address family).
func socketFDs(t *testing.T, port int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var fds []int
	for _, e := range entries {
		link, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err != nil || !strings.HasPrefix(link, "socket:[") {
			continue
		}
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if typ, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TYPE); err != nil || typ != syscall.SOCK_DGRAM {
			continue
		}
		sa, err := syscall.Getsockname(fd)
		if err != nil {
			continue
		}
		switch a := sa.(type) {
		case *syscall.SockaddrInet4:
			if a.Port == port {
				fds = append(fds, fd)
			}
		case *syscall.SockaddrInet6:
			if a.Port == port {
				fds = append(fds, fd)
			}
		}
	}

	return fds
}
