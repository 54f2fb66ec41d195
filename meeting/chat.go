package meeting

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/parleyhq/parley/wire"
)

// MaxChatLength is the longest chat message, in Unicode code points counted as sent.
const MaxChatLength = 2000

// ChatHistoryLength is how many public messages a meeting keeps for joined.chat.
const ChatHistoryLength = 100

// DefaultChatRate and DefaultChatBurst limit each participant's chat: DefaultChatBurst messages
// at once, then DefaultChatRate a second. A person typing never meets the limit; a script
// flooding the others does, and its messages beyond it are refused, not delivered.
const (
	DefaultChatRate  rate.Limit = 1
	DefaultChatBurst int        = 10
)

// SendChat sends a chat message to everyone, or privately to the participant To names.
type SendChat struct {
	Text string
	To   string // "" sends to everyone
}

// SetChatAllowed allows or stops chat for everyone but the host.
type SetChatAllowed struct{ Allowed bool }

// RequestKind returns wire.TypeSendChat.
func (SendChat) RequestKind() RequestKind { return wire.TypeSendChat }

// RequestKind returns wire.TypeSetChatAllowed.
func (SetChatAllowed) RequestKind() RequestKind { return wire.TypeSetChatAllowed }

// chatLog is a meeting's chat state: the last public messages and the id of the next message.
// It is a type of its own so that it can move to shared storage with the rest of the meeting.
type chatLog struct {
	history []wire.Chat // a ring of at most ChatHistoryLength messages; first is the oldest
	first   int
	seq     uint64
}

// add keeps a public message, dropping the oldest beyond ChatHistoryLength.
func (c *chatLog) add(m wire.Chat) {
	if len(c.history) < ChatHistoryLength {
		c.history = append(c.history, m)
		return
	}
	c.history[c.first] = m
	c.first = (c.first + 1) % len(c.history)
}

// recent returns the kept messages, oldest first (never nil).
func (c *chatLog) recent() []wire.Chat {
	out := make([]wire.Chat, 0, len(c.history))
	out = append(out, c.history[c.first:]...)
	return append(out, c.history[:c.first]...)
}

func (c *chatLog) nextID() string {
	c.seq++
	return strconv.FormatUint(c.seq, 10)
}

// validateChat applies the protocol's rule for chat text: 1 to MaxChatLength code points as
// sent (not trimmed), no control character but newline and tab, not only white space.
func validateChat(text string) error {
	if !utf8.ValidString(text) {
		return newError(wire.CodeBadRequest, "a chat message must be valid UTF-8 text")
	}
	n := utf8.RuneCountInString(text)
	if n == 0 {
		return newError(wire.CodeBadRequest, "a chat message must not be empty")
	}
	if n > MaxChatLength {
		return newError(wire.CodeBadRequest, "a chat message must be at most %d characters (it has %d)", MaxChatLength, n)
	}
	for _, r := range text {
		if r != '\n' && r != '\t' && unicode.Is(unicode.Cc, r) {
			return newError(wire.CodeBadRequest, "a chat message must not contain control characters other than newline and tab (found U+%04X)", r)
		}
	}
	if strings.TrimFunc(text, unicode.IsSpace) == "" {
		return newError(wire.CodeBadRequest, "a chat message must not be blank")
	}
	return nil
}

// apply checks, in order: chat allowed (forbidden), the text (bad_request), the addressee
// (not_found), the sender's rate (rate_limited); only then is the message sent, so a refused
// one reaches nobody and does not count against the sender.
func (r SendChat) apply(a *action) error {
	lm, s := a.lm, a.self
	if lm.rec.ChatDisabled && s.p.Role != wire.RoleHost {
		return newError(wire.CodeForbidden, "the host has turned chat off")
	}
	if err := validateChat(r.Text); err != nil {
		return err
	}
	var to *seat
	if r.To != "" {
		t, err := lm.seatOf(r.To)
		if err != nil {
			return err
		}
		to = t
	}
	now := lm.svc.clock.Now()
	if !s.chatAllows(lm.svc, now) {
		return newError(wire.CodeRateLimited, "you are sending chat messages too fast; wait a moment")
	}
	msg := wire.Chat{
		MessageID: lm.chat.nextID(),
		From:      s.p.ID,
		Name:      s.p.Name,
		Text:      r.Text,
		SentAt:    now.UnixMilli(),
		Private:   to != nil,
	}
	if to == nil {
		lm.chat.add(msg)
		if lm.saver != nil {
			lm.saver.addChat(msg) // persist.go
		}
		lm.toAll(msg)
		return nil
	}
	lm.rosterChanged() // its id, in the takeover state's ChatSeq
	ev := wire.NewEventMessage(msg)
	lm.deliver(to.member, ev)
	if to != s {
		lm.deliver(s.member, ev)
	}
	return nil
}

// chatAllows takes one message from s's chat allowance at now.
func (s *seat) chatAllows(svc *Service, now time.Time) bool {
	if s.chatLimit == nil {
		s.chatLimit = rate.NewLimiter(svc.chatRate, svc.chatBurst)
	}
	return s.chatLimit.AllowN(now, 1)
}

func (r SetChatAllowed) apply(a *action) error {
	lm := a.lm
	if lm.rec.ChatDisabled == !r.Allowed {
		return nil
	}
	rec := lm.rec
	rec.ChatDisabled = !r.Allowed
	if err := lm.svc.store.Update(a.ctx, rec); err != nil {
		return fmt.Errorf("set chat allowed: %w: %w", errNotSaved(), err)
	}
	lm.rec = rec
	lm.toAll(wire.MeetingUpdated{Meeting: lm.view()})
	return nil
}
