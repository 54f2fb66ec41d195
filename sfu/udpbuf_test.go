package sfu

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// The media sockets get buffers of udpSocketBuffer, as far as the kernel allows: read back from
// the server's own sockets (found through /proc by the media port), loopback-only and all
// interfaces.
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
	for _, cfg := range []Config{{LoopbackOnly: true}, {}} {
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		fds := socketFDs(t, s.UDPPort())
		if len(fds) == 0 {
			t.Errorf("loopback only %v: no socket found on port %d", cfg.LoopbackOnly, s.UDPPort())
		}
		for _, fd := range fds {
			r, err1 := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF)
			w, err2 := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_SNDBUF)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if r != wantRead || w != wantWrite {
				t.Errorf("loopback only %v: fd %d buffers read %d write %d, want %d and %d",
					cfg.LoopbackOnly, fd, r, w, wantRead, wantWrite)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// socketFDs returns this process's file descriptors of UDP sockets bound to port.
func socketFDs(t *testing.T, port int) []int {
	t.Helper()
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || !strings.HasSuffix(fields[1], fmt.Sprintf(":%04X", port)) {
				continue
			}
			inodes[fields[9]] = true
		}
		_ = f.Close()
	}
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
		if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
			fd, err := strconv.Atoi(e.Name())
			if err == nil {
				fds = append(fds, fd)
			}
		}
	}

	return fds
}
