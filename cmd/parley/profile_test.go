package main

import (
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// TestCPUProfile: -cpuprofile writes a profile of the run once the server has stopped (a pprof
// profile is a gzipped protocol buffer: whole, it decompresses to the end).
func TestCPUProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.prof")
	s := start(t, "-listen", "127.0.0.1:0", "-cpuprofile", path)
	resp, err := http.Get("http://127.0.0.1:" + listenPort(t, s.line("parley is ready")) + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	s.stop()
	if err := <-s.done; err != nil {
		t.Fatalf("run: %v", err)
	}
	s.done <- nil // what the cleanup waits for
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("the profile is not gzipped: %v", err)
	}
	n, err := io.Copy(io.Discard, z)
	if err != nil || n == 0 {
		t.Errorf("the profile: %d bytes, %v", n, err)
	}
}
