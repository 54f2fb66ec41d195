package sfu

// vp8Desc locates the two fields of a VP8 payload descriptor (RFC 7741 section 4.2) that a
// subscriber's stream renumbers so that they stay continuous across layer switches and pauses:
// the picture id (7 or 15 bits) and TL0PICIDX. Parsing and rewriting work in place on the
// packet, without allocating.
type vp8Desc struct {
	picAt uint8 // offset of the picture id in the payload; 0 when there is none
	tl0At uint8 // offset of TL0PICIDX; 0 when there is none
	pic15 bool  // the picture id has 15 bits (M=1)
	pic   uint16
	tl0   uint8
}

// parseVP8 reads the descriptor at the start of a VP8 payload; a payload too short for what its
// flags announce yields an empty descriptor (nothing is rewritten).
func parseVP8(p []byte) (d vp8Desc) {
	if len(p) < 2 || p[0]&0x80 == 0 { // no X: no extension byte, nothing to rewrite
		return vp8Desc{}
	}
	ext, i := p[1], 2
	if ext&0x80 != 0 { // I: picture id
		if len(p) <= i {
			return vp8Desc{}
		}
		d.picAt = uint8(i)
		if p[i]&0x80 != 0 {
			if len(p) <= i+1 {
				return vp8Desc{}
			}
			d.pic15 = true
			d.pic = uint16(p[i]&0x7f)<<8 | uint16(p[i+1])
			i += 2
		} else {
			d.pic = uint16(p[i])
			i++
		}
	}
	if ext&0x40 != 0 { // L: TL0PICIDX
		if len(p) <= i {
			return vp8Desc{}
		}
		d.tl0At, d.tl0 = uint8(i), p[i]
	}

	return d
}

// picMask is the picture id's range in the packet.
func (d *vp8Desc) picMask() uint16 {
	if d.pic15 {
		return 0x7fff
	}

	return 0x7f
}

// rewrite writes pic and tl0 into the descriptor's fields of p (the payload it was parsed from).
func (d *vp8Desc) rewrite(p []byte, pic uint16, tl0 uint8) {
	if d.picAt != 0 {
		if d.pic15 {
			p[d.picAt] = 0x80 | byte(pic>>8)&0x7f
			p[d.picAt+1] = byte(pic)
		} else {
			p[d.picAt] = byte(pic) & 0x7f
		}
	}
	if d.tl0At != 0 {
		p[d.tl0At] = tl0
	}
}
