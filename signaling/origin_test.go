package signaling_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/signaling"
)

// Every response carries the security headers; the one that carries a hostKey is not to be
// stored anywhere.
func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest(http.MethodPost, e.url+"/api/meetings", strings.NewReader(`{"hostName":"Ada"}`))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("create: %d, Cache-Control %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	type answer struct {
		what string
		h    http.Header
	}
	answers := []answer{{"POST /api/meetings", res.Header}}
	for _, path := range []string{"/", "/m/abc", "/api/meetings/nosuch", "/healthz", "/nosuchfile.js"} {
		res, err := http.Get(e.url + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		answers = append(answers, answer{"GET " + path, res.Header})
	}
	for _, a := range answers {
		h := a.h
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: Content-Security-Policy %q", a.what, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", a.what, h)
		}
	}
}

// A page of another site cannot make a visitor's browser create a meeting (a form posts no JSON;
// a script's request names its page), and programs, which name no page, still can.
func TestCreateMeetingFromAnotherSite(t *testing.T) {
	e := newEnv(t)
	post := func(ctype string, headers map[string]string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, e.url+"/api/meetings", strings.NewReader(`{"hostName":"Ada"}`))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	for _, tc := range []struct {
		what    string
		ctype   string
		headers map[string]string
		want    int
	}{
		{"a form's text/plain", "text/plain", nil, http.StatusUnsupportedMediaType},
		{"a form's urlencoded body", "application/x-www-form-urlencoded", nil, http.StatusUnsupportedMediaType},
		{"no content type", "", nil, http.StatusUnsupportedMediaType},
		{"another site's page", "application/json", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"another site, by fetch metadata", "application/json", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"a sibling site", "application/json", map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"a sandboxed page", "application/json", map[string]string{"Origin": "null"}, http.StatusForbidden},
		{"the server's own page", "application/json; charset=utf-8", map[string]string{"Origin": e.url, "Sec-Fetch-Site": "same-origin"}, http.StatusCreated},
		{"a program", "application/json", nil, http.StatusCreated},
	} {
		if got := post(tc.ctype, tc.headers); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.what, got, tc.want)
		}
	}
}

// The WebSocket accepts the server's own origin only, scheme included, and with a public URL
// only that one: a page of another name that resolves to the server (DNS rebinding) sends a
// matching Host and Origin and is refused.
func TestWebSocketOrigin(t *testing.T) {
	dial := func(e *env, host, origin string) (int, error) {
		t.Helper()
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		c, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http")+"/ws", &websocket.DialOptions{HTTPHeader: h, Host: host})
		if err == nil {
			c.CloseNow()
			return http.StatusSwitchingProtocols, nil
		}
		if res == nil {
			return 0, err
		}
		return res.StatusCode, err
	}
	plain := newEnv(t)
	host := strings.TrimPrefix(plain.url, "http://")
	for _, tc := range []struct {
		what, host, origin string
		want               int
	}{
		{"its own page", "", plain.url, http.StatusSwitchingProtocols},
		{"a program", "", "", http.StatusSwitchingProtocols},
		{"another site", "", "https://evil.example", http.StatusForbidden},
		{"a host pattern's look-alike", "", "http://" + host + ".evil.example", http.StatusForbidden},
		{"a sandboxed page", "", "null", http.StatusForbidden},
	} {
		if got, err := dial(plain, tc.host, tc.origin); got != tc.want {
			t.Errorf("no public URL, %s: %d (%v), want %d", tc.what, got, err, tc.want)
		}
	}
	public := newEnv(t, func(c *signaling.Config) { c.PublicURL = "https://meet.example.com" })
	for _, tc := range []struct {
		what, host, origin string
		want               int
	}{
		{"the public page", "meet.example.com", "https://meet.example.com", http.StatusSwitchingProtocols},
		{"the public host over http", "meet.example.com", "http://meet.example.com", http.StatusForbidden},
		{"DNS rebinding", "rebind.evil.example", "http://rebind.evil.example", http.StatusForbidden},
		{"its address, not the public name", "", public.url, http.StatusForbidden},
	} {
		if got, err := dial(public, tc.host, tc.origin); got != tc.want {
			t.Errorf("public URL, %s: %d (%v), want %d", tc.what, got, err, tc.want)
		}
	}
}
