package signaling

import (
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"
)

const notBuilt = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Parley</title></head>
<body><h1>Parley</h1><p>The web client is not built into this binary. Run <code>make build</code> (or <code>make run</code>).</p></body></html>`

// webRoutes serves the web client: its files, and index.html for the app's own paths.
func (s *Server) webRoutes(e *echo.Echo) {
	web := s.cfg.Web
	index, err := fs.ReadFile(orEmpty(web), "index.html")
	if err != nil {
		index = []byte(notBuilt)
	}
	page := func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-cache")
		return c.HTMLBlob(http.StatusOK, index)
	}
	e.GET("/", page)
	e.GET("/m/:id", page)
	if web == nil {
		return
	}
	files := http.FileServer(http.FS(web))
	e.GET("/*", func(c echo.Context) error {
		if _, err := fs.Stat(web, trimSlash(c.Request().URL.Path)); err != nil {
			return echo.ErrNotFound
		}
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	})
}

func trimSlash(p string) string {
	for len(p) > 0 && p[0] == '/' {
		p = p[1:]
	}
	if p == "" {
		return "."
	}
	return p
}

type emptyFS struct{}

func (emptyFS) Open(string) (fs.File, error) { return nil, fs.ErrNotExist }

func orEmpty(f fs.FS) fs.FS {
	if f == nil {
		return emptyFS{}
	}
	return f
}
