package meeting

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

const (
	meetingIDBytes     = 12 // 96 bits: 16 base64url characters
	hostKeyBytes       = 32 // 256 bits
	participantIDBytes = 9  // 72 bits: 12 characters; unique within a meeting, not a secret
)

// randomToken returns n bytes from crypto/rand as unpadded base64url, which is URL-safe.
func randomToken(n int) string {
	b := make([]byte, n)
	// crypto/rand.Read never fails on supported platforms (it crashes the program instead).
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func newMeetingID() string     { return randomToken(meetingIDBytes) }
func newHostKey() string       { return randomToken(hostKeyBytes) }
func newParticipantID() string { return randomToken(participantIDBytes) }

// HashHostKey is the form in which a hostKey is stored: only its SHA-256 hash is kept.
func HashHostKey(hostKey string) [32]byte { return sha256.Sum256([]byte(hostKey)) }

// hostKeyMatches compares in constant time so that timing tells nothing about the stored hash.
func hostKeyMatches(hostKey string, hash [32]byte) bool {
	h := HashHostKey(hostKey)
	return subtle.ConstantTimeCompare(h[:], hash[:]) == 1
}
