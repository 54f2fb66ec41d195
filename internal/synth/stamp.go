package synth

import (
	"encoding/binary"
	"time"
)

// StampSize is the length of the stamp at the end of a stamped payload: a 4-byte marker then
// the send time in Unix nanoseconds (big endian).
const StampSize = 12

var stampMarker = [4]byte{'P', 'R', 'L', 'Y'}

// appendStampRoom reserves a stamp at the end of p, to be filled by Stamp when it is sent.
func appendStampRoom(p []byte) []byte {
	p = append(p, stampMarker[:]...)
	return append(p, 0, 0, 0, 0, 0, 0, 0, 0)
}

// Stamp writes t as the send time of p, when p has room for a stamp (see Stamped); it reports
// whether it did. Payloads without room (an H264 STAP-A of parameter sets) are left alone.
func Stamp(p []byte, t time.Time) bool {
	if !Stamped(p) {
		return false
	}
	binary.BigEndian.PutUint64(p[len(p)-8:], uint64(t.UnixNano()))
	return true
}

// Stamped reports whether p ends with a stamp.
func Stamped(p []byte) bool {
	n := len(p)
	return n >= StampSize && [4]byte(p[n-StampSize:n-8]) == stampMarker
}

// ReadStamp returns the send time in p's stamp, in Unix nanoseconds.
func ReadStamp(p []byte) (int64, bool) {
	if !Stamped(p) {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(p[len(p)-8:])), true
}
