package meeting_test

import (
	"strings"
	"testing"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/wire"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want string // "" means bad_request
	}{
		{"plain", "Ada", "Ada"},
		{"inner spaces kept", "Ada  Lovelace", "Ada  Lovelace"},
		{"ascii spaces trimmed", "  Grace \t\n", "Grace"},
		{"unicode spaces trimmed", "\u00a0\u2003\u3000Grace\u2028\u2029\u0085", "Grace"},
		{"one code point", "A", "A"},
		{"non-latin", "Ада Лавлейс", "Ада Лавлейс"},
		{"cjk", "李小龍", "李小龍"},
		{"emoji", "Ada 👩‍💻", "Ada 👩‍💻"},
		{"combining marks kept", "Zoe\u0308", "Zoe\u0308"},
		{"64 code points", strings.Repeat("é", 64), strings.Repeat("é", 64)},
		{"64 code points after trim", "  " + strings.Repeat("a", 64) + "  ", strings.Repeat("a", 64)},
		{"64 four-byte code points", strings.Repeat("😀", 64), strings.Repeat("😀", 64)},
		{"zero width joiner is not white space", "a\u200db", "a\u200db"},
		{"arabic with marks (no overrides)", "\u0645\u0631\u062d\u0628\u0627", "\u0645\u0631\u062d\u0628\u0627"},
		{"left-to-right mark is allowed", "a\u200eb", "a\u200eb"},

		{"empty", "", ""},
		{"only ascii spaces", "   ", ""},
		{"only unicode spaces", "\u2003\u00a0\u3000", ""},
		{"65 code points", strings.Repeat("a", 65), ""},
		{"65 multibyte code points", strings.Repeat("é", 65), ""},
		{"nul", "a\x00b", ""},
		{"bell", "a\x07b", ""},
		{"escape", "\x1b[31mred", ""},
		{"inner newline", "a\nb", ""},
		{"inner tab", "a\tb", ""},
		{"delete", "a\x7fb", ""},
		{"c1 control", "a\u0080b", ""},
		{"c1 csi", "a\u009bb", ""},
		{"lre U+202A", "a\u202ab", ""},
		{"rle U+202B", "a\u202bb", ""},
		{"pdf U+202C", "a\u202cb", ""},
		{"lro U+202D", "a\u202db", ""},
		{"rlo U+202E", "evil\u202egnp.exe", ""},
		{"lri U+2066", "a\u2066b", ""},
		{"rli U+2067", "a\u2067b", ""},
		{"fsi U+2068", "a\u2068b", ""},
		{"pdi U+2069", "a\u2069b", ""},
		{"invalid utf-8", "a\xffb", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := meeting.ValidateName(tt.raw)
			if tt.want == "" {
				wantCode(t, err, wire.CodeBadRequest)
				if got != "" {
					t.Errorf("got name %q with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ValidateName(%q): %v", tt.raw, err)
			}
			if got != tt.want {
				t.Errorf("ValidateName(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestValidateNameMessagesSayWhatIsWrong(t *testing.T) {
	tests := []struct{ raw, mentions string }{
		{" ", "empty"},
		{strings.Repeat("x", 70), "64"},
		{"a\x01", "control"},
		{"a\u202e", "bidirectional"},
	}
	for _, tt := range tests {
		_, err := meeting.ValidateName(tt.raw)
		var me *meeting.Error
		if !errorsAs(err, &me) || !strings.Contains(me.Message, tt.mentions) {
			t.Errorf("ValidateName(%q) error %v, want a message mentioning %q", tt.raw, err, tt.mentions)
		}
	}
}
