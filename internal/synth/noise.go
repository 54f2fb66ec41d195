package synth

import "math/rand/v2"

// noise fills frames. It has no zero byte, so an H264 Annex B stream made of it has no start
// code but the ones put there on purpose.
var noise = func() []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = byte(1 + r.IntN(255))
	}
	return b
}()

// fill appends n bytes of noise to dst, starting at offset off of the noise (so consecutive
// frames differ).
func fill(dst []byte, n, off int) []byte {
	for n > 0 {
		off %= len(noise)
		k := min(n, len(noise)-off)
		dst = append(dst, noise[off:off+k]...)
		n -= k
		off += k
	}
	return dst
}
