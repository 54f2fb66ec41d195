package meeting_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/wire"
)

func TestChatPublicGoesToEveryoneAndStays(t *testing.T) {
	r := newEnv(t).room(2)
	r.do(r.ps[0], meeting.SendChat{Text: " hello\n"})
	want := wire.Chat{MessageID: "1", From: r.ps[0].id(), Name: "P1", Text: " hello\n", SentAt: t0.UnixMilli()}
	for _, c := range r.everyone() {
		wantEvents(t, c.name, c.sink.Take(), []wire.Event{want})
	}
	r.noMedia()

	late := r.join(r.id(), "Late", "")
	if len(late.res.Chat) != 1 || late.res.Chat[0] != want {
		t.Fatalf("late joiner's chat %+v, want %+v", late.res.Chat, want)
	}
}

func TestChatPrivateGoesToTheAddresseeAndTheSenderOnly(t *testing.T) {
	r := newEnv(t).room(2)
	r.do(r.ps[0], meeting.SendChat{Text: "psst", To: r.ps[1].id()})
	want := wire.Chat{MessageID: "1", From: r.ps[0].id(), Name: "P1", Text: "psst", SentAt: t0.UnixMilli(), Private: true}
	wantEvents(t, "addressee", r.ps[1].sink.Take(), []wire.Event{want})
	wantEvents(t, "sender", r.ps[0].sink.Take(), []wire.Event{want})
	r.noEvents() // the host heard nothing

	// A private message to oneself arrives once; private messages are not history.
	r.do(r.host, meeting.SendChat{Text: "note", To: r.host.id()})
	if evs := r.host.sink.Take(); len(evs) != 1 {
		t.Fatalf("a message to oneself arrived %d times", len(evs))
	}
	if late := r.join(r.id(), "Late", ""); len(late.res.Chat) != 0 {
		t.Fatalf("private messages in joined.chat: %+v", late.res.Chat)
	}

	r.quiet()
	wantCode(t, r.ps[0].m.Do(r.ctx, meeting.SendChat{Text: "x", To: "nobody"}), wire.CodeNotFound)
	r.noEvents()
}

func TestChatText(t *testing.T) {
	r := newEnv(t).room(1)
	for _, tt := range []struct {
		name, text string
		ok         bool
	}{
		{"one character", "a", true},
		{"2000 code points of two bytes", strings.Repeat("é", 2000), true},
		{"2000 code points of four bytes", strings.Repeat("😀", 2000), true},
		{"2001 code points", strings.Repeat("a", 2001), false},
		{"2000 with white space around counted as sent", " " + strings.Repeat("a", 1999) + " ", false},
		{"newline and tab", "line one\n\tline two", true},
		{"leading and trailing space kept", "  hi  ", true},
		{"empty", "", false},
		{"blank", " \n\t \u3000", false},
		{"carriage return", "a\r\nb", false},
		{"NUL", "a\x00b", false},
		{"DEL", "a\x7fb", false},
		{"C1 control", "a\u0085b", false},
		{"invalid UTF-8", "a\xffb", false},
		{"a link is just text", `<a href="https://x.test">x</a>`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r.quiet()
			err := r.ps[0].m.Do(r.ctx, meeting.SendChat{Text: tt.text})
			if !tt.ok {
				wantCode(t, err, wire.CodeBadRequest)
				r.noEvents()
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			evs := r.host.sink.Take()
			if len(evs) != 1 || evs[0].(wire.Chat).Text != tt.text {
				t.Fatalf("host got %s, want the text as sent", fmtEvents(evs))
			}
			r.clock.Advance(time.Second) // keep within the rate
		})
	}
}

func TestChatHistoryKeepsTheLast100Oldest(t *testing.T) {
	r := newEnv(t, func(c *meeting.Config) { c.ChatBurst = 1000 }).room(1)
	for range 105 {
		r.do(r.ps[0], meeting.SendChat{Text: "m"})
	}
	late := r.join(r.id(), "Late", "")
	if len(late.res.Chat) != meeting.ChatHistoryLength {
		t.Fatalf("joined.chat has %d messages, want %d", len(late.res.Chat), meeting.ChatHistoryLength)
	}
	for i, m := range late.res.Chat {
		if want := strconv.Itoa(i + 6); m.MessageID != want {
			t.Fatalf("message %d is %q, want %q (oldest first)", i, m.MessageID, want)
		}
	}
	if len(r.host.res.Chat) != 0 {
		t.Errorf("the first joiner's chat: %+v", r.host.res.Chat)
	}
}

func TestChatRateLimitPerParticipant(t *testing.T) {
	r := newEnv(t).room(2)
	for i := range meeting.DefaultChatBurst {
		if err := r.ps[0].m.Do(r.ctx, meeting.SendChat{Text: "x"}); err != nil {
			t.Fatalf("message %d of the burst: %v", i+1, err)
		}
	}
	r.quiet()
	wantCode(t, r.ps[0].m.Do(r.ctx, meeting.SendChat{Text: "one too many"}), wire.CodeRateLimited)
	r.noEvents() // not delivered
	// The others' allowance is their own.
	r.do(r.ps[1], meeting.SendChat{Text: "mine"})
	r.quiet()
	// A refused message (bad text) costs nothing; time gives the allowance back.
	wantCode(t, r.ps[0].m.Do(r.ctx, meeting.SendChat{Text: ""}), wire.CodeBadRequest)
	r.clock.Advance(time.Second)
	r.do(r.ps[0], meeting.SendChat{Text: "after a second"})
	wantCode(t, r.ps[0].m.Do(r.ctx, meeting.SendChat{Text: "again"}), wire.CodeRateLimited)
}

func TestSetChatAllowed(t *testing.T) {
	r := newEnv(t).room(2)
	r.do(r.host, meeting.SetChatAllowed{Allowed: true}) // no change
	r.noEvents()
	r.do(r.host, meeting.SetChatAllowed{Allowed: false})
	off := wire.MeetingUpdated{Meeting: wire.MeetingView{MeetingID: r.id(), State: wire.StateOpen, ChatAllowed: false, ScreenShareAllowed: true}}
	for _, c := range r.everyone() {
		wantEvents(t, c.name, c.sink.Take(), []wire.Event{off})
	}
	if !r.record().ChatDisabled {
		t.Error("chat off is not in the stored record")
	}
	if info, _ := r.svc.Info(r.ctx, r.id()); info.ChatAllowed {
		t.Error("info says chat is allowed")
	}
	// Forbidden before the fields are judged, private or not; the host may still chat.
	for _, req := range []meeting.SendChat{{Text: "hi"}, {Text: ""}, {Text: "x", To: r.host.id()}} {
		wantCode(t, r.ps[0].m.Do(r.ctx, req), wire.CodeForbidden)
	}
	r.noEvents()
	r.do(r.host, meeting.SendChat{Text: "only me"})
	r.quiet()

	late := r.join(r.id(), "Late", "")
	if late.res.Meeting.ChatAllowed {
		t.Error("a joiner is told chat is allowed")
	}
	r.do(r.host, meeting.SetChatAllowed{Allowed: true})
	r.do(r.ps[0], meeting.SendChat{Text: "back"})
}
