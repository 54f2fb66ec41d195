package meeting_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/meeting"
)

// logTo sends the service's log, info and up, to buf as JSON lines.
func logTo(buf *bytes.Buffer, names bool) func(*meeting.Config) {
	return func(c *meeting.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
		c.LogNames = names
	}
}

// TestLifecycleLog: one info line for each step of a meeting's life, with ids, durations and
// the peak, and no participant name unless LogNames.
func TestLifecycleLog(t *testing.T) {
	var buf bytes.Buffer
	e := newEnv(t, logTo(&buf, false))
	c := e.create("Hanna Host")
	host := e.join(c.MeetingID, "Hanna Host", c.HostKey)
	ann := e.join(c.MeetingID, "Ann Guest", "")
	bob := e.join(c.MeetingID, "Bob Guest", "")
	e.clock.Advance(90 * time.Second)
	if err := host.m.Do(e.ctx, meeting.Kick{ParticipantID: bob.id()}); err != nil {
		t.Fatal(err)
	}
	if err := host.m.Do(e.ctx, meeting.MuteAll{AllowSelfUnmute: true}); err != nil {
		t.Fatal(err)
	}
	ann.m.Leave()
	e.clock.Advance(30 * time.Second)
	if err := host.m.Do(e.ctx, meeting.EndMeeting{}); err != nil {
		t.Fatal(err)
	}

	out := buf.String()
	for _, name := range []string{"Hanna", "Ann", "Bob"} {
		if strings.Contains(out, name) {
			t.Errorf("a name is in the log without LogNames:\n%s", out)
		}
	}
	want := []string{
		`"msg":"meeting created","meetingId":"` + c.MeetingID + `"`,
		`"msg":"participant joined","meetingId":"` + c.MeetingID + `","participantId":"` + host.id() + `","role":"host","participants":1`,
		`"msg":"participant joined","meetingId":"` + c.MeetingID + `","participantId":"` + ann.id() + `","role":"participant","participants":2`,
		`"msg":"participant joined","meetingId":"` + c.MeetingID + `","participantId":"` + bob.id() + `","role":"participant","participants":3`,
		`"msg":"participant left","meetingId":"` + c.MeetingID + `","participantId":"` + bob.id() + `","reason":"kicked","stayedSeconds":90,"participants":2`,
		`"msg":"host action","meetingId":"` + c.MeetingID + `","participantId":"` + host.id() + `","action":"kick","target":"` + bob.id() + `"`,
		`"msg":"host action","meetingId":"` + c.MeetingID + `","participantId":"` + host.id() + `","action":"muteAll"`,
		`"msg":"participant left","meetingId":"` + c.MeetingID + `","participantId":"` + ann.id() + `","reason":"left","stayedSeconds":90,"participants":1`,
		`"msg":"meeting ended","meetingId":"` + c.MeetingID + `","durationSeconds":120,"peakParticipants":3`,
		`"msg":"host action","meetingId":"` + c.MeetingID + `","participantId":"` + host.id() + `","action":"endMeeting"`,
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) || !strings.Contains(lines[i], `"level":"INFO"`) {
			t.Errorf("line %d:\n%s\nwant it to hold\n%s", i, lines[i], w)
		}
	}
}

// TestLifecycleLogNames: with LogNames the joins carry the names; an empty meeting released from
// memory says so.
func TestLifecycleLogNames(t *testing.T) {
	var buf bytes.Buffer
	e := newEnv(t, logTo(&buf, true))
	c := e.create("Hanna Host")
	e.join(c.MeetingID, "Hanna Host", c.HostKey).m.Leave()
	e.clock.Advance(meeting.DefaultIdleTimeout)
	out := buf.String()
	for _, w := range []string{
		`"msg":"meeting created","meetingId":"` + c.MeetingID + `","hostName":"Hanna Host"`,
		`"msg":"participant joined"`, `"name":"Hanna Host"`,
		`"msg":"meeting released from memory after being empty","meetingId":"` + c.MeetingID + `"`,
		`"peakParticipants":1`,
	} {
		if !strings.Contains(out, w) {
			t.Errorf("log lacks %s:\n%s", w, out)
		}
	}
	if strings.Count(out, "Hanna Host") != 2 {
		t.Errorf("the name should be in the created and joined lines only:\n%s", out)
	}
}
