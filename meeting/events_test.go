package meeting_test

import (
	"encoding/json"
	"testing"

	"github.com/parleyhq/parley/meeting"
)

// TestWireShapes pins the JSON of every event and snapshot type to the protocol's field names:
// signaling marshals them as they are.
func TestWireShapes(t *testing.T) {
	p := meeting.Participant{ID: "p1", Name: "Ada", Role: meeting.RoleHost, AudioMuted: true, VideoMuted: false, MutedByHost: true, CanUnmute: false}
	const pJSON = `{"participantId":"p1","name":"Ada","role":"host","audioMuted":true,"videoMuted":false,"mutedByHost":true,"canUnmute":false}`
	tests := []struct {
		ev       meeting.Event
		typ      string
		wantJSON string
	}{
		{meeting.ParticipantJoined{Participant: p}, "participantJoined", `{"participant":` + pJSON + `}`},
		{meeting.ParticipantUpdated{Participant: p}, "participantUpdated", `{"participant":` + pJSON + `}`},
		{meeting.ParticipantLeft{ParticipantID: "p1", Reason: meeting.ReasonKicked}, "participantLeft", `{"participantId":"p1","reason":"kicked"}`},
		{meeting.MutedByHost{AllowSelfUnmute: true}, "mutedByHost", `{"allowSelfUnmute":true}`},
		{meeting.MutedByHost{}, "mutedByHost", `{"allowSelfUnmute":false}`},
		{meeting.UnmuteAllowed{}, "unmuteAllowed", `{}`},
		{meeting.TimerStarted{TimerID: "t30", Seconds: 30, EndsAt: 1764200000000}, "timerStarted", `{"timerId":"t30","seconds":30,"endsAt":1764200000000}`},
		{meeting.TimerCancelled{}, "timerCancelled", `{}`},
		{meeting.TimerEnded{TimerID: "t15"}, "timerEnded", `{"timerId":"t15"}`},
		{meeting.MeetingUpdated{Meeting: meeting.MeetingView{MeetingID: "m", State: meeting.StateOpen, Locked: true}}, "meetingUpdated", `{"meeting":{"meetingId":"m","state":"open","locked":true}}`},
		{meeting.Kicked{}, "kicked", `{}`},
		{meeting.MeetingEnded{}, "meetingEnded", `{}`},
		{meeting.Replaced{}, "replaced", `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			if got := tt.ev.EventType(); got != tt.typ {
				t.Errorf("EventType() = %q, want %q", got, tt.typ)
			}
			b, err := json.Marshal(tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.wantJSON {
				t.Errorf("JSON %s, want %s", b, tt.wantJSON)
			}
		})
	}

	others := []struct {
		v    any
		want string
	}{
		{meeting.TimerView{TimerID: "t15", Seconds: 15}, `{"timerId":"t15","seconds":15}`},
		{meeting.TimerView{TimerID: "t15", Seconds: 15, EndsAt: 5}, `{"timerId":"t15","seconds":15,"endsAt":5}`},
		{meeting.Info{MeetingID: "m", State: meeting.StateEnded, ParticipantCount: 0}, `{"meetingId":"m","state":"ended","locked":false,"participantCount":0}`},
	}
	for _, o := range others {
		if b, _ := json.Marshal(o.v); string(b) != o.want {
			t.Errorf("JSON %s, want %s", b, o.want)
		}
	}
}
