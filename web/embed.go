// Package web holds the browser client's build output and exposes it to the server.
//
// The client itself is TypeScript and React under src/, built by Vite into dist/ (npm run build).
// This package owns only the embedding of dist/; serving it, routing and caching belong to
// signaling. A fresh clone without a client build still compiles: dist/ then holds only
// .gitkeep, and the server reports that the client is not built.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Dist returns the built client: index.html at its root, assets under assets/.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// fs.Sub fails only for an invalid path, and "dist" is a constant valid one.
		panic(err)
	}
	return sub
}
