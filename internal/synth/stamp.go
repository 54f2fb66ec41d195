package synth

import (
	"encoding/binary"
	"time"
)

// StampSize is the length of the stamp at the end of a stamped payload: a 4-byte marker then
// the send time in Unix nanoseconds (big endian). The marker is "PRL" and a tag: 'Y' for a
// stream of its own, or the RID of the simulcast layer the payload belongs to ('q', 'h', 'f'),
// so a receiver of a forwarded simulcast stream tells which layer each packet came from.
const StampSize = 12

// stampTag is the marker's last byte of a payload that belongs to no simulcast layer.
const stampTag = 'Y'

// appendStampRoom reserves a stamp at the end of p, to be filled by Stamp when it is sent; tag
// is stampTag or a layer's RID.
func appendStampRoom(p []byte, tag byte) []byte {
	p = append(p, 'P', 'R', 'L', tag)
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
	if n < StampSize || p[n-12] != 'P' || p[n-11] != 'R' || p[n-10] != 'L' {
		return false
	}
	switch p[n-9] {
	case stampTag, 'q', 'h', 'f':
		return true
	}
	return false
}

// ReadStamp returns the send time in p's stamp, in Unix nanoseconds.
func ReadStamp(p []byte) (int64, bool) {
	if !Stamped(p) {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(p[len(p)-8:])), true
}

// StampLayer returns the RID of the simulcast layer a stamped payload belongs to ("q", "h" or
// "f"); "" for a payload of a stream of its own or without a stamp.
func StampLayer(p []byte) string {
	if !Stamped(p) || p[len(p)-9] == stampTag {
		return ""
	}
	return string(p[len(p)-9])
}
