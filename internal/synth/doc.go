// Package synth makes synthetic but well-formed media payloads for tests, bots and the load
// generator: Opus packets at 50 per second, VP8 or H264 frames at a chosen bitrate and frame rate
// with periodic keyframes, split into RTP-sized payloads. Every payload that can carry it ends
// with a stamp holding its send time, so a receiver measures one-way delay.
//
// It lives under internal/ because its users are all in this module: the Go client (package
// client), the tests and the load generator. It owns payload bytes only: RTP headers, pacing,
// sockets and peer connections belong to its callers. The payloads are not decodable pictures
// or sound; their framing (Opus TOC byte, VP8 payload descriptor and frame tag, H264 NAL units)
// is real, so a forwarding server can find keyframes and rewrite descriptors as it would for a
// browser's media.
package synth
