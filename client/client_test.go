package client

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parleyhq/parley/wire"
)

// Pion's SRTP reader can block for good handing a new SSRC to a PeerConnection that stopped
// accepting streams while closing (pion/webrtc's undeclaredRTPMediaProcessor returns when the
// SRTCP session closed first; pion/srtp's decrypt then sends on newStream with no receiver): a
// goroutine of Pion's, after our Close returned, that this code cannot reach.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/pion/srtp/v3.(*SessionSRTP).decrypt"))
}

func TestProtocolErrorParsing(t *testing.T) {
	pe := parseErrorMessage([]byte(`{"type":"error","id":3,"code":"meeting_locked","message":"the host has locked the meeting"}`))
	if pe.Code != "meeting_locked" || pe.Message != "the host has locked the meeting" || pe.HTTPStatus != 0 {
		t.Fatalf("parsed %+v", pe)
	}
	wrapped := fmt.Errorf("join meeting x: %w", pe)
	if got := ErrorCode(wrapped); got != "meeting_locked" {
		t.Errorf("ErrorCode through wrapping = %q", got)
	}
	if ErrorCode(errors.New("other")) != "" {
		t.Error("ErrorCode of a plain error is not empty")
	}
	if bad := parseErrorMessage([]byte(`{"type":"error"}`)); bad.Code != "unknown" {
		t.Errorf("error without code parsed as %+v", bad)
	}
	httpErr := &ProtocolError{Code: "not_found", Message: "no such meeting", HTTPStatus: 404}
	if httpErr.Error() != "server error not_found (HTTP 404): no such meeting" {
		t.Errorf("HTTP error text %q", httpErr.Error())
	}
}

func TestClosedErrorIsErrClosed(t *testing.T) {
	ce := newClosedError(errors.New("EOF"))
	if ce.Status != -1 || !errors.Is(fmt.Errorf("x: %w", ce), ErrClosed) {
		t.Errorf("closed error %+v is not ErrClosed", ce)
	}
}

func TestMessageEvents(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want wire.Event
	}{
		{`{"type":"participantJoined","participant":{"participantId":"p1","name":"Grace","role":"participant","audioMuted":false,"videoMuted":true,"mutedByHost":false,"canUnmute":true}}`,
			wire.ParticipantJoined{Participant: wire.Participant{ID: "p1", Name: "Grace", Role: wire.RoleParticipant, VideoMuted: true, CanUnmute: true}}},
		{`{"type":"participantLeft","participantId":"p2","reason":"kicked"}`,
			wire.ParticipantLeft{ParticipantID: "p2", Reason: wire.ReasonKicked}},
		{`{"type":"timerStarted","timerId":"t30","seconds":30,"endsAt":1764200000000}`,
			wire.TimerStarted{TimerID: "t30", Seconds: 30, EndsAt: 1764200000000}},
		{`{"type":"mutedByHost","allowSelfUnmute":true}`, wire.MutedByHost{AllowSelfUnmute: true}},
		{`{"type":"meetingUpdated","meeting":{"meetingId":"m","state":"open","locked":true}}`,
			wire.MeetingUpdated{Meeting: wire.MeetingView{MeetingID: "m", State: wire.StateOpen, Locked: true}}},
		{`{"type":"meetingEnded"}`, wire.MeetingEnded{}},
		{`{"type":"kicked"}`, wire.Kicked{}},
		{`{"type":"replaced"}`, wire.Replaced{}},
		{`{"type":"timerEnded","timerId":"t15"}`, wire.TimerEnded{TimerID: "t15"}},
	} {
		c := mustClient(t)
		c.dispatch([]byte(tc.raw), time.Now())
		msgs := c.Messages()
		if len(msgs) != 1 {
			t.Fatalf("%s: logged %d messages", tc.raw, len(msgs))
		}
		ev, err := msgs[0].Event()
		if err != nil {
			t.Fatalf("%s: %v", tc.raw, err)
		}
		if ev != tc.want {
			t.Errorf("decoded %#v, want %#v", ev, tc.want)
		}
	}
	if _, err := (Message{Type: "ok", Raw: []byte(`{"type":"ok"}`)}).Event(); err == nil {
		t.Error("ok decoded as an event")
	}
	if _, err := (Message{Type: "timerStarted", Raw: []byte(`{"type":"timerStarted","seconds":"x"}`)}).Event(); err == nil {
		t.Error("ill-typed event decoded")
	}
}

func mustClient(t *testing.T) *Client {
	t.Helper()
	c, err := newClient(Options{BaseURL: "http://127.0.0.1:8080"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.cancel)
	return c
}

func TestNewClientURLs(t *testing.T) {
	for _, bad := range []string{"", "127.0.0.1:8080", "ftp://x", "http://"} {
		if _, err := newClient(Options{BaseURL: bad}); err == nil {
			t.Errorf("base URL %q accepted", bad)
		}
	}
	c, err := newClient(Options{BaseURL: "https://meet.example:8443/some/path?q=1"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.cancel()
	if got := c.wsURL(); got != "wss://meet.example:8443/ws" {
		t.Errorf("wsURL = %q", got)
	}
	if c.opts.Origin != "https://meet.example:8443" {
		t.Errorf("origin = %q", c.opts.Origin)
	}
}

func TestDispatchCorrelatesAnswersAndLogsTheRest(t *testing.T) {
	c := mustClient(t)
	var answered []Message
	c.addPending("7", func(m Message) { answered = append(answered, m) })
	c.addPending(`"s"`, func(m Message) { answered = append(answered, m) })
	for _, raw := range []string{
		`{"type":"participantUpdated","participant":{"participantId":"p"}}`, // event before its ok
		`{"type":"ok","id":7}`,
		`{"type":"error","id":"s","code":"forbidden","message":"host only"}`,
		`{"type":"ok","id":7}`, // answers nothing pending any more
		`{"type":"offer","target":"subscriber","sdp":"v=0"}`,
		`{"type":"candidate","target":"subscriber","candidate":{"candidate":""}}`,
		`{"type":"error","code":"bad_request","message":"no id"}`,
		`not json`,
	} {
		c.dispatch([]byte(raw), time.Now())
	}
	if len(answered) != 2 || answered[0].Type != "ok" || answered[1].Type != "error" {
		t.Fatalf("answers %+v", answered)
	}
	if _, err := answerOf(answered[1]); ErrorCode(err) != "forbidden" {
		t.Errorf("error answer gave %v", err)
	}
	logged := c.Messages()
	wantTypes := []string{"participantUpdated", "ok", "offer", "candidate", "error", ""}
	if len(logged) != len(wantTypes) {
		t.Fatalf("logged %d messages: %+v", len(logged), logged)
	}
	for i, m := range logged {
		if m.Type != wantTypes[i] || m.Seq != i {
			t.Errorf("log[%d] = %s seq %d, want %s seq %d", i, m.Type, m.Seq, wantTypes[i], i)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := c.signals.take(context.Background()); len(got) != 2 || got[0].Type != "offer" || got[1].Type != "candidate" {
		t.Errorf("signals %+v", got)
	}
	if got := c.signals.take(ctx); got != nil {
		t.Errorf("empty queue gave %+v", got)
	}
}

func TestWaitFromSeesLaterMessages(t *testing.T) {
	c := mustClient(t)
	c.dispatch([]byte(`{"type":"timerCancelled"}`), time.Now())
	mark := c.Mark()
	if mark != 1 {
		t.Fatalf("mark %d", mark)
	}
	go func() {
		c.dispatch([]byte(`{"type":"unmuteAllowed"}`), time.Now())
		c.dispatch([]byte(`{"type":"timerCancelled"}`), time.Now())
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := c.WaitFrom(ctx, mark, OfType("timerCancelled"))
	if err != nil || m.Seq != 2 {
		t.Fatalf("WaitFrom = %+v, %v; want the second timerCancelled (seq 2)", m, err)
	}
	if m, err := c.WaitFor(ctx, OfType("timerCancelled")); err != nil || m.Seq != 0 {
		t.Errorf("WaitFor from the start = %+v, %v", m, err)
	}
	short, cancelShort := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancelShort()
	if _, err := c.WaitFor(short, OfType("kicked")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting for a message that never comes: %v", err)
	}
}

func TestWaitEndsWhenConnectionCloses(t *testing.T) {
	c := mustClient(t)
	go func() {
		c.dispatch([]byte(`{"type":"kicked"}`), time.Now())
		l := c.cur.Load()
		l.closeErr = newClosedError(errors.New("EOF"))
		close(l.done)
		c.events.wake()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.WaitFor(ctx, OfType("kicked")); err != nil {
		t.Errorf("message logged before the close not found: %v", err)
	}
	if _, err := c.WaitFor(ctx, OfType("meetingEnded")); !errors.Is(err, ErrClosed) {
		t.Errorf("wait after close: %v, want ErrClosed", err)
	}
}

func TestMaxLogKeepsTheNewest(t *testing.T) {
	c, err := newClient(Options{BaseURL: "http://127.0.0.1:1", MaxLog: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer c.cancel()
	for i := 0; i < 20; i++ {
		c.dispatch([]byte(fmt.Sprintf(`{"type":"timerEnded","timerId":"t%d"}`, i)), time.Now())
	}
	msgs := c.Messages()
	if len(msgs) < 3 || len(msgs) > 6 || msgs[len(msgs)-1].Seq != 19 {
		t.Fatalf("kept %d messages, last seq %d", len(msgs), msgs[len(msgs)-1].Seq)
	}
	if c.Mark() != 20 {
		t.Errorf("mark %d, want 20", c.Mark())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if m, err := c.WaitFor(ctx, OfType("timerEnded")); err != nil || m.Seq != msgs[0].Seq {
		t.Errorf("WaitFor after trimming = %+v, %v", m, err)
	}
}
