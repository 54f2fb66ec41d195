package signaling

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/labstack/echo/v4"
)

const testIndex = `<!doctype html><html><head><script src="/assets/index-abc123.js"></script></head><body><div id="root"></div></body></html>`

func webGzip(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// webServer serves a client build like Vite's: index.html, a hashed script with its gzip and
// brotli twins, and a favicon with none.
func webServer(t *testing.T) *httptest.Server {
	t.Helper()
	script := strings.Repeat("console.log('parley');\n", 100)
	fsys := fstest.MapFS{
		"index.html":                {Data: []byte(testIndex)},
		"index.html.gz":             {Data: webGzip(t, testIndex)},
		"assets/index-abc123.js":    {Data: []byte(script)},
		"assets/index-abc123.js.gz": {Data: webGzip(t, script)},
		// Not real brotli: the server hands variants over as they are, which is what is checked.
		"assets/index-abc123.js.br": {Data: []byte("brotli bytes")},
		"favicon.svg":               {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
		".gitkeep":                  {Data: nil},
	}
	e := echo.New()
	e.GET("/api/meetings/:id", func(c echo.Context) error { return c.JSON(200, map[string]string{"meetingId": c.Param("id")}) })
	registerWeb(e, fsys)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv
}

type webResponse struct {
	status int
	header http.Header
	body   string
}

func webGet(t *testing.T, url string, header map[string]string) webResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Go's transport would ask for gzip itself and decode it out of sight; every test says what
	// it accepts.
	req.Header.Set("Accept-Encoding", "identity")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return webResponse{res.StatusCode, res.Header, string(body)}
}

func TestWebHashedAssetsAreImmutable(t *testing.T) {
	srv := webServer(t)
	r := webGet(t, srv.URL+"/assets/index-abc123.js", nil)
	if r.status != 200 || !strings.Contains(r.body, "parley") {
		t.Fatalf("asset: %d %q", r.status, r.body)
	}
	if got := r.header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Fatalf("Cache-Control %q", got)
	}
	if got := r.header.Get("Content-Type"); !strings.HasPrefix(got, "text/javascript") {
		t.Fatalf("Content-Type %q", got)
	}
	if r.header.Get("Content-Encoding") != "" {
		t.Fatalf("identity asked, got %q", r.header.Get("Content-Encoding"))
	}
}

func TestWebIndexRevalidatesWithETag(t *testing.T) {
	srv := webServer(t)
	for _, p := range []string{"/", "/m/abc"} {
		r := webGet(t, srv.URL+p, nil)
		if r.status != 200 || r.body != testIndex {
			t.Fatalf("%s: %d %q", p, r.status, r.body)
		}
		if got := r.header.Get("Cache-Control"); got != "no-cache" {
			t.Fatalf("%s: Cache-Control %q", p, got)
		}
		etag := r.header.Get("ETag")
		if !strings.HasPrefix(etag, `"`) {
			t.Fatalf("%s: ETag %q", p, etag)
		}
		again := webGet(t, srv.URL+p, map[string]string{"If-None-Match": etag})
		if again.status != http.StatusNotModified || again.body != "" {
			t.Fatalf("%s: revalidation %d %q", p, again.status, again.body)
		}
		stale := webGet(t, srv.URL+p, map[string]string{"If-None-Match": `"something-else"`})
		if stale.status != 200 || stale.body != testIndex {
			t.Fatalf("%s: stale tag: %d", p, stale.status)
		}
	}
	fav := webGet(t, srv.URL+"/favicon.svg", nil)
	if fav.status != 200 || fav.header.Get("Cache-Control") != "no-cache" || fav.header.Get("ETag") == "" {
		t.Fatalf("favicon: %d %v", fav.status, fav.header)
	}
	if got := fav.header.Get("Content-Type"); got != "image/svg+xml" {
		t.Fatalf("favicon Content-Type %q", got)
	}
}

func TestWebPrecompressedByAcceptEncoding(t *testing.T) {
	srv := webServer(t)
	url := srv.URL + "/assets/index-abc123.js"
	cases := []struct {
		accept, want string
	}{
		{"gzip, deflate, br", "br"},
		{"gzip, deflate, br;q=0", "gzip"},
		{"gzip", "gzip"},
		{"br", "br"},
		{"*", "br"},
		{"identity", ""},
		{"", ""},
		{"gzip;q=0, br;q=0", ""},
	}
	tags := map[string]string{}
	for _, tc := range cases {
		r := webGet(t, url, map[string]string{"Accept-Encoding": tc.accept})
		if r.status != 200 {
			t.Fatalf("%q: %d", tc.accept, r.status)
		}
		if got := r.header.Get("Content-Encoding"); got != tc.want {
			t.Fatalf("Accept-Encoding %q: Content-Encoding %q, want %q", tc.accept, got, tc.want)
		}
		if !strings.Contains(r.header.Get("Vary"), "Accept-Encoding") {
			t.Fatalf("%q: no Vary", tc.accept)
		}
		if r.header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Fatalf("%q: Cache-Control %q", tc.accept, r.header.Get("Cache-Control"))
		}
		tags[tc.want] = r.header.Get("ETag")
		switch tc.want {
		case "gzip":
			zr, err := gzip.NewReader(strings.NewReader(r.body))
			if err != nil {
				t.Fatal(err)
			}
			plain, err := io.ReadAll(zr)
			if err != nil || !strings.Contains(string(plain), "parley") {
				t.Fatalf("gzip body: %v %q", err, plain)
			}
		case "br":
			if r.body != "brotli bytes" {
				t.Fatalf("br body %q", r.body)
			}
		}
	}
	// Each encoding is its own representation with its own tag.
	if tags[""] == tags["gzip"] || tags["gzip"] == tags["br"] || tags[""] == tags["br"] {
		t.Fatalf("ETags must differ per encoding: %v", tags)
	}
	// A cached gzip copy revalidates as gzip.
	r := webGet(t, url, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": tags["gzip"]})
	if r.status != http.StatusNotModified {
		t.Fatalf("gzip revalidation: %d", r.status)
	}
}

func TestWebUnknownPathsShowTheAppsNotFoundPage(t *testing.T) {
	srv := webServer(t)
	page := webGet(t, srv.URL+"/no/such/page", map[string]string{"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
	if page.status != http.StatusNotFound || page.body != testIndex {
		t.Fatalf("browser on an unknown path: %d %q", page.status, page.body)
	}
	if !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") || page.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("not-found page headers: %v", page.header)
	}
	gz := webGet(t, srv.URL+"/elsewhere", map[string]string{"Accept": "text/html", "Accept-Encoding": "gzip"})
	if gz.status != http.StatusNotFound || gz.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("compressed not-found page: %d %v", gz.status, gz.header)
	}
	// Programs and missing files keep the JSON error: no page where a script or data was asked.
	for _, tc := range []struct{ path, accept string }{
		{"/no/such/page", "*/*"},
		{"/assets/missing-123.js", "*/*"},
		{"/api/nothing/here", "text/html"},
	} {
		r := webGet(t, srv.URL+tc.path, map[string]string{"Accept": tc.accept})
		if r.status != http.StatusNotFound || strings.Contains(r.body, "<html") {
			t.Fatalf("%s (%s): %d %q", tc.path, tc.accept, r.status, r.body)
		}
	}
	if r := webGet(t, srv.URL+"/api/meetings/abc", map[string]string{"Accept": "text/html"}); r.status != 200 || !strings.Contains(r.body, "abc") {
		t.Fatalf("API route shadowed: %d %q", r.status, r.body)
	}
}

func TestWebWithoutABuiltClient(t *testing.T) {
	e := echo.New()
	registerWeb(e, fstest.MapFS{".gitkeep": {}})
	srv := httptest.NewServer(e)
	defer srv.Close()
	r := webGet(t, srv.URL+"/m/abc", nil)
	if r.status != 200 || !strings.Contains(r.body, "not built") {
		t.Fatalf("unbuilt client: %d %q", r.status, r.body)
	}
	e2 := echo.New()
	registerWeb(e2, nil)
	srv2 := httptest.NewServer(e2)
	defer srv2.Close()
	if r := webGet(t, srv2.URL+"/", nil); r.status != 200 || !strings.Contains(r.body, "not built") {
		t.Fatalf("nil web: %d %q", r.status, r.body)
	}
}

func TestAcceptedEncodings(t *testing.T) {
	got := acceptedEncodings("GZIP;q=0.5, br ; q=0 ,*;q=0.1")
	if !got["gzip"] || got["br"] || !got["*"] {
		t.Fatalf("%v", got)
	}
}
