package meeting

import (
	"encoding/base64"
	"testing"
)

func TestTokensAreURLSafeAndLongEnough(t *testing.T) {
	tests := []struct {
		name     string
		gen      func() string
		chars    int
		minBytes int
	}{
		{"meetingId", newMeetingID, 16, 8},
		{"hostKey", newHostKey, 43, 16},
		{"participantId", newParticipantID, 12, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := make(map[string]bool)
			for range 1000 {
				s := tt.gen()
				if len(s) != tt.chars {
					t.Fatalf("%q has %d characters, want %d", s, len(s), tt.chars)
				}
				b, err := base64.RawURLEncoding.DecodeString(s)
				if err != nil {
					t.Fatalf("%q is not unpadded base64url: %v", s, err)
				}
				if len(b) < tt.minBytes {
					t.Fatalf("%q carries %d random bytes, want >= %d", s, len(b), tt.minBytes)
				}
				if seen[s] {
					t.Fatalf("%q repeated within 1000 draws", s)
				}
				seen[s] = true
			}
		})
	}
}

func TestHostKeyMatches(t *testing.T) {
	key := newHostKey()
	hash := HashHostKey(key)
	if !hostKeyMatches(key, hash) {
		t.Fatal("the right key does not match its hash")
	}
	for _, wrong := range []string{"", key[:len(key)-1], key + "x", newHostKey()} {
		if hostKeyMatches(wrong, hash) {
			t.Errorf("key %q matches another key's hash", wrong)
		}
	}
}
