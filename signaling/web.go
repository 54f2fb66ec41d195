package signaling

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

const notBuilt = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Parley</title></head>
<body><h1>Parley</h1><p>The web client is not built into this binary. Run <code>make build</code> (or <code>make run</code>).</p></body></html>`

// Cache policies. Vite names every file under assets/ after a hash of its content, so a changed
// file gets a new name and the old one may be kept forever; everything else (index.html, the
// favicon) keeps its name across releases and must be checked with the server on every use, which
// its ETag makes cheap (304, no body).
const (
	cacheHashed  = "public, max-age=31536000, immutable"
	cacheRevalid = "no-cache"
)

// webRoutes serves the web client: its files, and index.html for the app's own paths.
func (s *Server) webRoutes(e *echo.Echo) {
	registerWeb(e, s.cfg.Web)
}

// registerWeb adds the client's routes to e. Kept apart from Server so that it depends on nothing
// but the files: their variants are read once here, and every request is served from memory.
func registerWeb(e *echo.Echo, web fs.FS) {
	files := loadWebFiles(web)
	index, ok := files["index.html"]
	if !ok {
		index = newWebFile("index.html", []byte(notBuilt))
	}
	page := func(c echo.Context) error {
		index.serve(c.Response(), c.Request(), http.StatusOK)
		return nil
	}
	e.GET("/", page)
	e.GET("/m/:id", page)
	e.GET("/*", func(c echo.Context) error {
		p := c.Request().URL.Path
		if f, ok := files[strings.TrimLeft(p, "/")]; ok {
			f.serve(c.Response(), c.Request(), http.StatusOK)
			return nil
		}
		// A person who follows a wrong link gets the app, which shows its own "page not found";
		// programs (the API, missing assets, anything not asking for a page) get the JSON error.
		if !strings.HasPrefix(p, "/api/") && wantsPage(c.Request()) {
			index.serve(c.Response(), c.Request(), http.StatusNotFound)
			return nil
		}
		return echo.ErrNotFound
	})
}

// wantsPage reports whether a request is a browser navigating to a page.
func wantsPage(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// webFile is one file of the client with its precompressed variants (the build writes name.gz
// and name.br beside the files worth compressing).
type webFile struct {
	name     string
	ctype    string
	cache    string
	etag     string // of the content, before any encoding
	variants []variant
}

type variant struct {
	encoding string // "" for the file as it is
	body     []byte
}

func newWebFile(name string, body []byte) *webFile {
	sum := sha256.Sum256(body)
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = http.DetectContentType(body)
	}
	cache := cacheRevalid
	if strings.HasPrefix(name, "assets/") {
		cache = cacheHashed
	}
	return &webFile{
		name:     name,
		ctype:    ctype,
		cache:    cache,
		etag:     hex.EncodeToString(sum[:12]),
		variants: []variant{{encoding: "", body: body}},
	}
}

// loadWebFiles reads every file of the client, keyed by its path without a leading slash; the .gz
// and .br files become variants of the file they compress, not files of their own.
func loadWebFiles(web fs.FS) map[string]*webFile {
	files := map[string]*webFile{}
	if web == nil {
		return files
	}
	compressed := map[string][]variant{}
	// The embedded tree cannot fail to walk; a broken one only serves fewer files.
	_ = fs.WalkDir(web, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Base(name) == ".gitkeep" {
			return nil
		}
		body, err := fs.ReadFile(web, name)
		if err != nil {
			return nil
		}
		switch path.Ext(name) {
		case ".br":
			orig := strings.TrimSuffix(name, ".br")
			compressed[orig] = append(compressed[orig], variant{encoding: "br", body: body})
		case ".gz":
			orig := strings.TrimSuffix(name, ".gz")
			compressed[orig] = append(compressed[orig], variant{encoding: "gzip", body: body})
		default:
			files[name] = newWebFile(name, body)
		}
		return nil
	})
	for name, vs := range compressed {
		if f, ok := files[name]; ok {
			f.variants = append(f.variants, vs...)
		}
	}
	return files
}

// serve writes the file in the best encoding the request accepts. With status 200 it answers
// conditional requests (If-None-Match) and ranges through http.ServeContent; any other status
// (the not-found page) is written as it is, and is never cached.
func (f *webFile) serve(w http.ResponseWriter, r *http.Request, status int) {
	v := f.pick(r.Header.Get("Accept-Encoding"))
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	if len(f.variants) > 1 {
		h.Add("Vary", "Accept-Encoding")
	}
	if v.encoding != "" {
		h.Set("Content-Encoding", v.encoding)
	}
	if status != http.StatusOK {
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Length", strconv.Itoa(len(v.body)))
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			_, _ = w.Write(v.body)
		}
		return
	}
	h.Set("Cache-Control", f.cache)
	// Each encoding is a different representation, so each has its own tag (RFC 9110, 8.8.3).
	tag := f.etag
	if v.encoding != "" {
		tag += "-" + v.encoding
	}
	h.Set("ETag", `"`+tag+`"`)
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(v.body))
}

// pick chooses brotli, then gzip, then the plain file, by what Accept-Encoding allows.
func (f *webFile) pick(acceptEncoding string) variant {
	accepted := acceptedEncodings(acceptEncoding)
	for _, want := range []string{"br", "gzip"} {
		if !accepted[want] {
			continue
		}
		for _, v := range f.variants {
			if v.encoding == want {
				return v
			}
		}
	}
	return f.variants[0]
}

// acceptedEncodings parses an Accept-Encoding header into the codings it allows (q > 0).
func acceptedEncodings(header string) map[string]bool {
	out := map[string]bool{}
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if parsed, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
					q = parsed
				}
			}
		}
		out[name] = q > 0
	}
	if star, ok := out["*"]; ok {
		for _, enc := range []string{"br", "gzip"} {
			if _, named := out[enc]; !named {
				out[enc] = star
			}
		}
	}
	return out
}
