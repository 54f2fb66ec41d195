package meeting

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley/wire"
)

// MaxNameLength is the longest name allowed, in Unicode code points.
const MaxNameLength = 64

// MaxMarksPerBase is the most combining marks (Mn, Me) allowed on one base character: enough for
// every script's stacked accents and vowel signs, and far from the dozens that make a name
// spill over its neighbours on screen.
const MaxMarksPerBase = 4

// ValidateName applies the protocol's rule for hostName and join.name: trim Unicode white space,
// then 1 to 64 code points with no control character (Cc) and no bidirectional override or
// isolate (U+202A–U+202E, U+2066–U+2069). Beyond the protocol's rule, a name must show
// something: one made only of invisible characters (format characters such as zero-width
// spaces, default-ignorable code points, variation selectors, combining marks with no base,
// blanks) is refused, as is a character carrying more than MaxMarksPerBase combining marks. It
// returns the trimmed name, the one kept and shown, or an *Error with wire.CodeBadRequest.
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
	visible, marks := false, 0
	for _, r := range name {
		if unicode.In(r, unicode.Mn, unicode.Me) {
			if marks++; marks > MaxMarksPerBase {
				return "", newError(wire.CodeBadRequest, "name must not stack more than %d combining marks on one character", MaxMarksPerBase)
			}
		} else {
			marks = 0
		}
		visible = visible || !invisible(r)
		if unicode.Is(unicode.Cc, r) {
			return "", newError(wire.CodeBadRequest, "name must not contain control characters (found U+%04X)", r)
		}
		// Overrides and isolates can make a name display as something else (spoofing).
		if (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) {
			return "", newError(wire.CodeBadRequest, "name must not contain bidirectional override or isolate characters (found U+%04X)", r)
		}
	}
	if !visible {
		return "", newError(wire.CodeBadRequest, "name must contain a visible character")
	}
	return name, nil
}

// invisible reports whether r shows nothing by itself: white space, a format character (zero
// width space and joiners, soft hyphen, ...), another default-ignorable code point (Hangul
// fillers, ...), a variation selector, a combining mark, or the blank Braille pattern.
func invisible(r rune) bool {
	return unicode.IsSpace(r) || r == 0x2800 ||
		unicode.In(r, unicode.Cf, unicode.Mn, unicode.Me, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
}
