package udpbatch

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The package sees datagrams only (see the package doc): none of its files imports the sfu or
// anything that knows RTP, SRTP or WebRTC. (Importing the sfu would also be a cycle.)
func TestKnowsNothingOfMedia(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	forbidden := []string{
		"github.com/parleyhq/parley/sfu", "github.com/pion/rtp", "github.com/pion/rtcp",
		"github.com/pion/srtp", "github.com/pion/webrtc", "github.com/pion/interceptor",
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range f.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			for _, bad := range forbidden {
				if path == bad || strings.HasPrefix(path, bad+"/") {
					t.Errorf("%s imports %s", name, path)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no source file found")
	}
}
