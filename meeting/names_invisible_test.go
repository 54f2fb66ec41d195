package meeting_test

import (
	"strings"
	"testing"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/wire"
)

// A name must show something, and no character may carry a tower of combining marks.
func TestNamesMustBeVisible(t *testing.T) {
	for _, tt := range []struct {
		name, raw string
		ok        bool
	}{
		{"zero width spaces", "\u200b\u200b\u200b", false},
		{"zero width joiners and non-joiners", "\u200d\u200c", false},
		{"word joiner and BOM", "\u2060\ufeff", false},
		{"soft hyphens", "\u00ad\u00ad", false},
		{"hangul fillers", "\u3164\uffa0\u115f", false},
		{"braille blank", "\u2800\u2800", false},
		{"variation selectors", "\ufe0f\ufe0e", false},
		{"combining marks without a base", "\u0301\u0308", false},
		{"invisible with inner spaces", "\u200b \u200b", false},
		{"tag characters", "\U000E0041\U000E0042", false},
		{"64 marks on one letter", "Z" + strings.Repeat("\u0301", 64), false},
		{"5 marks on one letter", "Zo" + strings.Repeat("\u0308", 5), false},
		{"4 marks on one letter", "Zo" + strings.Repeat("\u0308", 4), true},
		{"vietnamese, decomposed", "Nguye\u0302\u0303n", true},
		{"hebrew with points", "\u05e9\u05c1\u05b8\u05dc\u05d5\u05b9\u05dd", true},
		{"devanagari", "\u0915\u094d\u0937\u093f\u0924\u093f\u091c", true},
		{"a letter among zero width spaces", "\u200bA\u200b", true},
		{"an emoji with a variation selector", "\u2764\ufe0f", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := meeting.ValidateName(tt.raw)
			if !tt.ok {
				wantCode(t, err, wire.CodeBadRequest)
				return
			}
			if err != nil || got != tt.raw {
				t.Errorf("ValidateName(%q) = %q, %v", tt.raw, got, err)
			}
		})
	}
}
