package signaling

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// handshakeProblem judges a /ws request's WebSocket handshake (RFC 6455, 4.2.1) before the
// WebSocket library does: the library answers a bad one itself, in plain text, and the contract
// wants every HTTP error body to be {"error": {...}}. It returns the status and message of the
// error, or 0 when the handshake is good. The checks are the library's own (coder/websocket
// v1.8.15, verifyClientRequest; the method is left to the router), so that Accept finds nothing
// more to refuse: compare them when the library is upgraded.
func handshakeProblem(w http.Header, r *http.Request) (int, string) {
	if !r.ProtoAtLeast(1, 1) || !hasToken(r.Header, "Connection", "upgrade") || !hasToken(r.Header, "Upgrade", "websocket") {
		w.Set("Connection", "Upgrade")
		w.Set("Upgrade", "websocket")
		return http.StatusUpgradeRequired, "this is a WebSocket endpoint: upgrade the connection (Connection: Upgrade, Upgrade: websocket)"
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		w.Set("Sec-WebSocket-Version", "13")
		return http.StatusBadRequest, "unsupported WebSocket version: only 13 is spoken"
	}
	keys := r.Header.Values("Sec-WebSocket-Key")
	if len(keys) != 1 {
		return http.StatusBadRequest, "the handshake needs exactly one Sec-WebSocket-Key"
	}
	if k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(keys[0])); err != nil || len(k) != 16 {
		return http.StatusBadRequest, "Sec-WebSocket-Key must be 16 bytes in base64"
	}
	return 0, ""
}

// hasToken reports whether a comma-separated header holds token, in any case.
func hasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
