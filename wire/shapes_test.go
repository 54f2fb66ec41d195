package wire_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/parleyhq/parley/wire"
)

// TestWireShapes pins the JSON of every event and object to the protocol's field names, and
// checks that each event decodes back to itself and that an EventMessage is the event's message.
func TestWireShapes(t *testing.T) {
	p := wire.Participant{ID: "p1", Name: "Ada", Role: wire.RoleHost, AudioMuted: true, VideoMuted: false, MutedByHost: true, CanUnmute: false}
	const pJSON = `{"participantId":"p1","name":"Ada","role":"host","audioMuted":true,"videoMuted":false,"mutedByHost":true,"canUnmute":false,"handRaised":false,"reconnecting":false,"screenSharing":false}`
	tests := []struct {
		ev       wire.Event
		typ      string
		wantJSON string
	}{
		{wire.ParticipantJoined{Participant: p}, "participantJoined", `{"participant":` + pJSON + `}`},
		{wire.ParticipantUpdated{Participant: p}, "participantUpdated", `{"participant":` + pJSON + `}`},
		{wire.ParticipantLeft{ParticipantID: "p1", Reason: wire.ReasonKicked}, "participantLeft", `{"participantId":"p1","reason":"kicked"}`},
		{wire.MutedByHost{AllowSelfUnmute: true}, "mutedByHost", `{"allowSelfUnmute":true}`},
		{wire.MutedByHost{}, "mutedByHost", `{"allowSelfUnmute":false}`},
		{wire.UnmuteAllowed{}, "unmuteAllowed", `{}`},
		{wire.TimerStarted{TimerID: "t30", Seconds: 30, EndsAt: 1764200000000}, "timerStarted", `{"timerId":"t30","seconds":30,"endsAt":1764200000000}`},
		{wire.TimerCancelled{}, "timerCancelled", `{}`},
		{wire.TimerEnded{TimerID: "t15"}, "timerEnded", `{"timerId":"t15"}`},
		{wire.MeetingUpdated{Meeting: wire.MeetingView{MeetingID: "m", State: wire.StateOpen, Locked: true, ChatAllowed: true}}, "meetingUpdated", `{"meeting":{"meetingId":"m","state":"open","locked":true,"chatAllowed":true,"lobby":false,"screenShareAllowed":false}}`},
		{wire.Kicked{}, "kicked", `{}`},
		{wire.MeetingEnded{}, "meetingEnded", `{}`},
		{wire.Replaced{}, "replaced", `{}`},
		{wire.PublisherLayers{Source: wire.SourceCamera, Active: []string{"q", "h"}}, "publisherLayers", `{"source":"camera","active":["q","h"]}`},
		{wire.ScreenShareStopped{}, "screenShareStopped", `{}`},
		{wire.ActiveSpeakers{Speakers: []string{"p2", "p1"}}, "activeSpeakers", `{"speakers":["p2","p1"]}`},
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
			msg := wire.NewEventMessage(tt.ev)
			data, err := msg.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if again, _ := msg.Bytes(); &again[0] != &data[0] {
				t.Error("a second Bytes encoded the event again")
			}
			if !wire.IsEvent(tt.typ) {
				t.Errorf("IsEvent(%q) is false", tt.typ)
			}
			back, err := wire.DecodeEvent(tt.typ, data)
			if err != nil {
				t.Fatalf("DecodeEvent(%s): %v", data, err)
			}
			if !reflect.DeepEqual(back, tt.ev) {
				t.Errorf("decoded %#v, want %#v", back, tt.ev)
			}
		})
	}

	others := []struct {
		v    any
		want string
	}{
		{wire.TimerView{TimerID: "t15", Seconds: 15}, `{"timerId":"t15","seconds":15}`},
		{wire.TimerView{TimerID: "t15", Seconds: 15, EndsAt: 5}, `{"timerId":"t15","seconds":15,"endsAt":5}`},
		{wire.MeetingInfo{MeetingID: "m", State: wire.StateEnded, ParticipantCount: 0}, `{"meetingId":"m","state":"ended","locked":false,"participantCount":0,"chatAllowed":false,"lobby":false,"screenShareAllowed":false}`},
	}
	for _, o := range others {
		if b, _ := json.Marshal(o.v); string(b) != o.want {
			t.Errorf("JSON %s, want %s", b, o.want)
		}
	}
}

func TestDecodeEventRejects(t *testing.T) {
	if _, err := wire.DecodeEvent("ok", []byte(`{"type":"ok"}`)); err == nil {
		t.Error("ok decoded as an event")
	}
	if _, err := wire.DecodeEvent("participantLeft", []byte(`{"participantId":5}`)); err == nil {
		t.Error("an ill-typed field decoded")
	}
}
