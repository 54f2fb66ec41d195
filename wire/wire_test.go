package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecodeWellFormed(t *testing.T) {
	tests := []struct {
		name string
		in   string
		typ  string
		id   string
	}{
		{"join with numeric id", `{"type":"join","id":1,"meetingId":"m","name":"Grace"}`, TypeJoin, "1"},
		{"join with string id and host key", `{"type":"join","id":"a","meetingId":"m","name":"Ada","hostKey":"k"}`, TypeJoin, `"a"`},
		{"join with null host key", `{"type":"join","meetingId":"m","name":"Ada","hostKey":null}`, TypeJoin, ""},
		{"publisher offer", `{"type":"offer","target":"publisher","sdp":"v=0"}`, TypeOffer, ""},
		{"subscriber answer", `{"type":"answer","id":7,"target":"subscriber","sdp":"v=0"}`, TypeAnswer, "7"},
		{"candidate", `{"type":"candidate","target":"subscriber","candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0}}`, TypeCandidate, ""},
		{"end of candidates", `{"type":"candidate","target":"publisher","candidate":{"candidate":""}}`, TypeCandidate, ""},
		{"setMuted", `{"type":"setMuted","kind":"audio","muted":true}`, TypeSetMuted, ""},
		{"leave", `{"type":"leave","id":2}`, TypeLeave, "2"},
		{"muteAll", `{"type":"muteAll","allowSelfUnmute":false}`, TypeMuteAll, ""},
		{"muteParticipant", `{"type":"muteParticipant","participantId":"p","allowSelfUnmute":true}`, TypeMuteParticipant, ""},
		{"allowUnmute everyone", `{"type":"allowUnmute"}`, TypeAllowUnmute, ""},
		{"startTimer", `{"type":"startTimer","timerId":"t15"}`, TypeStartTimer, ""},
		{"cancelTimer", `{"type":"cancelTimer"}`, TypeCancelTimer, ""},
		{"kick", `{"type":"kick","participantId":"p"}`, TypeKick, ""},
		{"setLocked", `{"type":"setLocked","locked":true}`, TypeSetLocked, ""},
		{"endMeeting", `{"type":"endMeeting","id":9}`, TypeEndMeeting, "9"},
		{"unknown extra fields are allowed", `{"type":"leave","sources":{"x":1}}`, TypeLeave, ""},
		{"publisher offer with sources", `{"type":"offer","target":"publisher","sdp":"v=0","sources":{"0":"microphone","1":"camera","2":"screen","3":"screenAudio"}}`, TypeOffer, ""},
		{"setVideoQuality", `{"type":"setVideoQuality","id":3,"participantId":"p","source":"camera","quality":"low"}`, TypeSetVideoQuality, "3"},
		{"setVideoQuality screen off", `{"type":"setVideoQuality","participantId":"p","source":"screen","quality":"off"}`, TypeSetVideoQuality, ""},
		{"resume", `{"type":"join","meetingId":"m","name":"G","resumeToken":"t","keepMedia":false,"browserId":"b"}`, TypeJoin, ""},
		{"iceRestart", `{"type":"iceRestart","target":"subscriber","id":4}`, TypeIceRestart, "4"},
		{"setScreenShareAllowed", `{"type":"setScreenShareAllowed","id":"s","allowed":false}`, TypeSetScreenShareAllowed, `"s"`},
		{"stopScreenShare", `{"type":"stopScreenShare","participantId":"p"}`, TypeStopScreenShare, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Decode([]byte(tc.in))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got := d.Request.MessageType(); got != tc.typ {
				t.Errorf("type = %q, want %q", got, tc.typ)
			}
			if string(d.ID) != tc.id {
				t.Errorf("id = %s, want %s", d.ID, tc.id)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		id     string
		known  bool
		reason string
	}{
		{"not JSON", `{"type":`, "", false, "malformed JSON"},
		{"an array", `[1,2]`, "", false, "malformed JSON"},
		{"null", `null`, "", false, `"type"`},
		{"no type", `{"id":3}`, "3", false, `"type"`},
		{"type not a string", `{"type":5,"id":3}`, "3", false, `"type"`},
		{"unknown type", `{"type":"dance","id":"x"}`, `"x"`, false, "unknown message type"},
		{"id an object", `{"type":"leave","id":{}}`, "", true, `"id"`},
		{"id an object, unknown type", `{"type":"dance","id":{}}`, "", false, `"id"`},
		{"join without meetingId", `{"type":"join","id":1,"name":"A"}`, "1", true, `"meetingId" is required`},
		{"join name not a string", `{"type":"join","id":1,"meetingId":"m","name":5}`, "1", true, `"name" must be a string`},
		{"offer for subscriber", `{"type":"offer","target":"subscriber","sdp":"v=0"}`, "", true, "publisher"},
		{"answer without sdp", `{"type":"answer","target":"subscriber"}`, "", true, `"sdp" is required`},
		{"candidate bad target", `{"type":"candidate","target":"x","candidate":{"candidate":""}}`, "", true, "target"},
		{"candidate missing", `{"type":"candidate","target":"publisher"}`, "", true, `"candidate" is required`},
		{"setMuted bad kind", `{"type":"setMuted","kind":"screen","muted":true}`, "", true, "kind"},
		{"setMuted muted a string", `{"type":"setMuted","kind":"audio","muted":"yes"}`, "", true, `"muted" must be a boolean`},
		{"muteAll missing flag", `{"type":"muteAll","id":4}`, "4", true, `"allowSelfUnmute" is required`},
		{"kick missing id", `{"type":"kick"}`, "", true, `"participantId" is required`},
		{"startTimer number", `{"type":"startTimer","timerId":15}`, "", true, `"timerId" must be a string`},
		{"setLocked missing", `{"type":"setLocked"}`, "", true, `"locked" is required`},
		{"offer with an unknown source", `{"type":"offer","target":"publisher","sdp":"v=0","sources":{"0":"webcam"}}`, "", true, "not a source"},
		{"offer sources not an object", `{"type":"offer","target":"publisher","sdp":"v=0","sources":["camera"]}`, "", true, `"sources"`},
		{"setVideoQuality of the microphone", `{"type":"setVideoQuality","participantId":"p","source":"microphone","quality":"low"}`, "", true, `"source"`},
		{"setVideoQuality bad quality", `{"type":"setVideoQuality","participantId":"p","source":"camera","quality":"ultra"}`, "", true, `"quality"`},
		{"setVideoQuality without participant", `{"type":"setVideoQuality","source":"camera","quality":"low"}`, "", true, `"participantId" is required`},
		{"iceRestart of the publisher", `{"type":"iceRestart","target":"publisher"}`, "", true, `"target"`},
		{"resume token not a string", `{"type":"join","meetingId":"m","name":"G","resumeToken":5}`, "", true, `resumeToken`},
		{"setScreenShareAllowed missing", `{"type":"setScreenShareAllowed"}`, "", true, `"allowed" is required`},
		{"setScreenShareAllowed a string", `{"type":"setScreenShareAllowed","allowed":"no"}`, "", true, `"allowed" must be a boolean`},
		{"stopScreenShare missing id", `{"type":"stopScreenShare"}`, "", true, `"participantId" is required`},
		{"candidate without its candidate string", `{"type":"candidate","target":"publisher","candidate":{"sdpMid":"0","sdpMLineIndex":0}}`, "", true, `"candidate.candidate" is required`},
		{"candidate string null", `{"type":"candidate","target":"publisher","candidate":{"candidate":null}}`, "", true, `"candidate.candidate" is required`},
		{"candidate sdpMid a number", `{"type":"candidate","target":"publisher","candidate":{"candidate":"","sdpMid":0}}`, "", true, `"candidate.sdpMid" must be a string`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.in))
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode error = %v, want a *DecodeError", err)
			}
			if string(de.ID) != tc.id {
				t.Errorf("id = %s, want %s", de.ID, tc.id)
			}
			if de.Known != tc.known {
				t.Errorf("known = %v, want %v", de.Known, tc.known)
			}
			if !strings.Contains(de.Error(), tc.reason) {
				t.Errorf("reason %q does not mention %q", de.Error(), tc.reason)
			}
		})
	}
}

func TestEncode(t *testing.T) {
	b, err := Encode(TypeOK, ID(`"r1"`), nil)
	if err != nil || string(b) != `{"type":"ok","id":"r1"}` {
		t.Fatalf("ok = %s, %v", b, err)
	}
	b, err = Encode(TypeAnswer, ID(`3`), SessionDescription{Target: TargetPublisher, SDP: "v=0"})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("answer is not JSON: %s", b)
	}
	if got["type"] != "answer" || got["id"] != float64(3) || got["target"] != "publisher" || got["sdp"] != "v=0" {
		t.Fatalf("answer = %s", b)
	}
	b, err = Encode("unmuteAllowed", nil, struct{}{})
	if err != nil || string(b) != `{"type":"unmuteAllowed"}` {
		t.Fatalf("empty event = %s, %v", b, err)
	}
	if _, err := Encode("x", nil, []int{1}); err == nil {
		t.Fatal("a non-object body must fail")
	}
	e := EncodeError(nil, "forbidden", "only the host may do that")
	if string(e) != `{"type":"error","code":"forbidden","message":"only the host may do that"}` {
		t.Fatalf("error = %s", e)
	}
}

// FuzzDecode checks that no input crashes the decoder, that every failure is a DecodeError,
// and that whatever decodes re-encodes to JSON that decodes to the same type.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"type":"join","id":1,"meetingId":"m","name":"Grace","hostKey":"k"}`,
		`{"type":"join","id":2,"meetingId":"m","name":"Grace","resumeToken":"t","keepMedia":false,"browserId":"b"}`,
		`{"type":"join","meetingId":"m","name":"G","resumeToken":null,"keepMedia":"yes","browserId":7}`,
		`{"type":"iceRestart","target":"subscriber","id":3}`,
		`{"type":"iceRestart","target":"publisher"}`,
		`{"type":"kick","participantId":"p","ban":true}`,
		`{"type":"offer","target":"publisher","sdp":"v=0\r\n"}`,
		`{"type":"candidate","target":"subscriber","candidate":{"candidate":"","sdpMid":null,"sdpMLineIndex":70000}}`,
		`{"type":"setMuted","kind":"video","muted":false}`,
		`{"type":"muteParticipant","participantId":"p","allowSelfUnmute":true,"id":"z"}`,
		`{"type":"allowUnmute","participantId":null}`,
		`{"type":"startTimer","timerId":"t45"}`,
		`{"type":"setVideoQuality","participantId":"p","source":"screen","quality":"medium"}`,
		`{"type":"offer","target":"publisher","sdp":"v=0\r\n","sources":{"0":"microphone","1":"screen"}}`,
		`{"type":"sendChat","text":"hi\n\t\u0000","to":null}`,
		`{"type":"admit","requestId":"r","id":5}`,
		`{"type":"lowerHand","participantId":7}`,
		`{"type":"stopScreenShare","participantId":"p","id":2}`,
		`{"type":"setScreenShareAllowed","allowed":null}`,
		`{"type":"","id":[]}`,
		`{"type":"join","name":"\u202e"}`,
		`not json`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Decode(data)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a DecodeError", err)
			}
			if de.Error() == "" {
				t.Fatal("empty error text")
			}
			if len(de.ID) > 0 && !json.Valid(de.ID) {
				t.Fatalf("error id %q is not JSON", de.ID)
			}
			return
		}
		body, err := json.Marshal(d.Request)
		if err != nil {
			t.Fatalf("re-marshal %T: %v", d.Request, err)
		}
		again, err := Encode(d.Request.MessageType(), d.ID, json.RawMessage(body))
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		d2, err := Decode(again)
		if err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", again, err)
		}
		if d2.Request.MessageType() != d.Request.MessageType() {
			t.Fatalf("type changed: %s -> %s", d.Request.MessageType(), d2.Request.MessageType())
		}
	})
}

// TestDecodeKeysAreExact: the contract's field names are exact. encoding/json alone would match
// "Muted" to "muted" and "TYPE" to "type"; a key spelled otherwise is an unknown field here.
func TestDecodeKeysAreExact(t *testing.T) {
	for _, in := range []string{
		`{"TYPE":"leave","id":1}`,
		`{"Type":"join","id":1,"meetingId":"m","name":"A"}`,
		`{"type":"setMuted","id":1,"Kind":"audio","Muted":true}`,
		`{"type":"setMuted","id":1,"kind":"audio","MUTED":true}`,
		`{"type":"join","id":1,"MeetingId":"m","name":"A"}`,
		`{"type":"kick","id":1,"participantID":"p"}`,
	} {
		if _, err := Decode([]byte(in)); err == nil {
			t.Errorf("%s: decoded, want a DecodeError (a required field is spelled otherwise)", in)
		}
	}

	// A differently cased twin of a field does not override the field.
	d, err := Decode([]byte(`{"type":"setMuted","kind":"audio","muted":true,"Muted":false}`))
	if err != nil {
		t.Fatal(err)
	}
	if m := d.Request.(*SetMuted); !*m.Muted {
		t.Error(`"Muted": false overrode "muted": true`)
	}
	d, err = Decode([]byte(`{"type":"join","meetingId":"m","name":"A","HostKey":"k","hostkey":"k"}`))
	if err != nil {
		t.Fatal(err)
	}
	if k := d.Request.(*Join).Key(); k != "" {
		t.Errorf("host key %q read from a misspelled key", k)
	}
	// Nested objects too: the candidate's fields are RTCIceCandidateInit's exact names.
	d, err = Decode([]byte(`{"type":"candidate","target":"publisher","candidate":{"candidate":"c","SdpMid":"0","sdpMLineIndex":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	c := d.Request.(*Candidate).Candidate
	if c.Candidate != "c" || c.SDPMid != nil || c.SDPMLineIndex == nil || *c.SDPMLineIndex != 1 {
		t.Errorf("candidate decoded as %+v", c)
	}
	// Map keys are data (mids), not field names.
	d, err = Decode([]byte(`{"type":"offer","target":"publisher","sdp":"v=0","sources":{"A":"camera","a":"microphone"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if s := d.Request.(*Offer).Sources; len(s) != 2 {
		t.Errorf("sources = %v", s)
	}
}
