package meeting

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley/wire"
)

// MaxNameLength is the longest name allowed, in Unicode code points.
const MaxNameLength = 64

// ValidateName applies the protocol's rule for hostName and join.name: trim Unicode white space,
// then 1 to 64 code points with no control character (Cc) and no bidirectional override or
// isolate (U+202A–U+202E, U+2066–U+2069). It returns the trimmed name, the one kept and shown,
// or an *Error with wire.CodeBadRequest.
func ValidateName(raw string) (string, error) {
	if !utf8.ValidString(raw) {
		return "", newError(wire.CodeBadRequest, "name must be valid UTF-8 text")
	}
	name := strings.TrimFunc(raw, unicode.IsSpace)
	n := utf8.RuneCountInString(name)
	if n == 0 {
		return "", newError(wire.CodeBadRequest, "name must not be empty")
	}
	if n > MaxNameLength {
		return "", newError(wire.CodeBadRequest, "name must be at most %d characters (it has %d)", MaxNameLength, n)
	}
	for _, r := range name {
		if unicode.Is(unicode.Cc, r) {
			return "", newError(wire.CodeBadRequest, "name must not contain control characters (found U+%04X)", r)
		}
		// Overrides and isolates can make a name display as something else (spoofing).
		if (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) {
			return "", newError(wire.CodeBadRequest, "name must not contain bidirectional override or isolate characters (found U+%04X)", r)
		}
	}
	return name, nil
}
