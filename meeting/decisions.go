package meeting

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"

	"github.com/parleyhq/parley/wire"
)

// Host decisions that stick (docs/security.md): a host's mute and removal follow the person, as
// far as the server can tell one person from another. A resume token does so across a dropped
// connection (resume.go); for a fresh join, the browser id the web client keeps in local storage
// (join.browserId) and, for a ban where the server is configured so, the client's address:
//   - a participant who leaves while muted by the host, and any other participant joining from
//     the same browser meanwhile, comes in muted by the host (with the same permission to
//     unmute itself);
//   - a removed participant's next fresh join from the same browser is held for the host's
//     decision, as in the lobby, even while the lobby is off;
//   - a ban (kick with ban) refuses the browser, and the address with Config.BanAddresses, with
//     forbidden for as long as the meeting lives.
//
// Anyone can send another browser id (a new browser profile, a bot): this raises the cost of
// escaping a decision, it does not make it impossible. The lobby is the answer to a determined
// attacker, with the per-meeting join rate that bounds how fast one can come back.

// Joiner is what the server knows of who is joining, besides the name: the browser id the
// client sent ("" when none) and the client's address (never sent to anyone).
type Joiner struct {
	BrowserID string
	Address   string
}

// browserDecision is what the host decided about one browser in this meeting.
type browserDecision struct {
	muted     bool // its participant left while muted by the host
	canUnmute bool // ... and was allowed to unmute itself
	removed   bool // its participant was removed: the next fresh join waits for the host
	banned    bool // its participant was removed for good
}

// maxDecisions bounds the browsers a meeting remembers decisions about (one host decision each
// at most, so only a long and busy meeting comes near it); beyond it the oldest decisions that
// are not bans are forgotten first.
const maxDecisions = 10_000

// decision returns the decision kept for browser, nil if none.
func (lm *liveMeeting) decision(browser string) *browserDecision {
	if browser == "" {
		return nil
	}
	return lm.browsers[browser]
}

// decide returns the decision kept for browser, made if there is none.
func (lm *liveMeeting) decisionFor(browser string) *browserDecision {
	if d := lm.browsers[browser]; d != nil {
		return d
	}
	if lm.browsers == nil {
		lm.browsers = make(map[string]*browserDecision)
	}
	if len(lm.browsers) >= maxDecisions {
		for b, d := range lm.browsers {
			if !d.banned {
				delete(lm.browsers, b)
				break
			}
		}
	}
	d := &browserDecision{}
	lm.browsers[browser] = d
	return d
}

// maxStoredBans bounds the bans a meeting's durable record keeps; more are kept in memory only.
const maxStoredBans = 1000

// BrowserHash is how a banned browser id is stored: its SHA-256, base64url.
func BrowserHash(browserID string) string {
	h := sha256.Sum256([]byte(browserID))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// banned reports whether the host banned this joiner.
func (lm *liveMeeting) banned(j Joiner) bool {
	if d := lm.decision(j.BrowserID); d != nil && d.banned {
		return true
	}
	if j.BrowserID != "" && len(lm.rec.BannedBrowsers) > 0 && slices.Contains(lm.rec.BannedBrowsers, BrowserHash(j.BrowserID)) {
		return true
	}
	return lm.svc.banAddresses && j.Address != "" && lm.bannedAddrs[j.Address]
}

// removedBefore reports whether this joiner's browser was removed from the meeting: its fresh
// join is held for the host.
func (lm *liveMeeting) removedBefore(j Joiner) bool {
	d := lm.decision(j.BrowserID)
	return d != nil && d.removed
}

// inheritMute mutes s, a newcomer, as the host muted its browser: when a participant of it left
// muted by the host, or one from it is here and muted by the host now.
func (lm *liveMeeting) inheritMute(s *seat) {
	if s.browser == "" || s.p.Role == wire.RoleHost || s.p.MutedByHost {
		return
	}
	muted, canUnmute := false, true
	if d := lm.decision(s.browser); d != nil && d.muted {
		muted, canUnmute = true, d.canUnmute
	}
	for _, o := range lm.seats {
		if o != s && o.browser == s.browser && o.p.MutedByHost {
			muted, canUnmute = true, canUnmute && o.p.CanUnmute
		}
	}
	if muted {
		s.p.AudioMuted, s.p.MutedByHost, s.p.CanUnmute = true, true, canUnmute
	}
}

// rememberLeaving keeps the host's mute of s, which leaves the meeting, for its browser's next
// join (and forgets a mute the host has lifted).
func (lm *liveMeeting) rememberLeaving(s *seat) {
	if s.browser == "" {
		return
	}
	if s.p.MutedByHost {
		d := lm.decisionFor(s.browser)
		d.muted, d.canUnmute = true, s.p.CanUnmute
	} else if d := lm.decision(s.browser); d != nil {
		d.muted = false
	}
}

// saveBan writes the ban of s's browser into the meeting's durable record, so that it outlives
// the meeting's memory; it fails, changing nothing, if the record cannot be saved.
func (lm *liveMeeting) saveBan(a *action, s *seat) error {
	if s.browser == "" || len(lm.rec.BannedBrowsers) >= maxStoredBans {
		return nil
	}
	rec := lm.rec.clone()
	rec.BannedBrowsers = append(rec.BannedBrowsers, BrowserHash(s.browser))
	if err := lm.svc.store.Update(a.ctx, rec); err != nil {
		return fmt.Errorf("ban: %w: %w", errNotSaved(), err)
	}
	lm.rec = rec
	return nil
}

// rememberRemoval keeps the host's removal of s for its browser (and address, for a ban).
func (lm *liveMeeting) rememberRemoval(s *seat, ban bool) {
	if s.browser != "" {
		d := lm.decisionFor(s.browser)
		d.removed = true
		d.banned = d.banned || ban
	}
	if ban && lm.svc.banAddresses && s.addr != "" {
		if lm.bannedAddrs == nil {
			lm.bannedAddrs = make(map[string]bool)
		}
		lm.bannedAddrs[s.addr] = true
	}
}

// admitted forgets that a browser was removed once the host lets it in again.
func (lm *liveMeeting) admitted(s *seat) {
	if d := lm.decision(s.browser); d != nil && !d.banned {
		d.removed = false
	}
}
