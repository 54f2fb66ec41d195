package main

import (
	"strings"
	"testing"
)

// Without -public-url the server says at start that links and the origin check follow the
// request's Host header; with it, it does not.
func TestPublicURLUnsetSaid(t *testing.T) {
	s := start(t, "-listen", "127.0.0.1:0")
	w := s.line("-public-url is not set: each join link, and the origin a browser page must have, follow the Host header of the request; set -public-url to the address people use")
	if w == nil || w["level"] != "INFO" || !strings.Contains(w["fix"].(string), "-public-url") {
		t.Errorf("not told about -public-url at start: %v", w)
	}
	set := start(t, "-listen", "127.0.0.1:0", "-public-url", "http://localhost:8080")
	if strings.Contains(set.logs.String(), "-public-url is not set") {
		t.Errorf("warned with -public-url set:\n%s", set.logs.String())
	}
}
