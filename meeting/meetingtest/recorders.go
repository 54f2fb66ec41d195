package meetingtest

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/parleyhq/parley/meeting"
	"github.com/parleyhq/parley/wire"
)

// Trace is an ordered log that recorders share, so that a test can check, e.g., that an audio
// gate closed before any participant was told of the mute.
type Trace struct {
	mu      sync.Mutex
	entries []string
}

func (t *Trace) add(s string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.entries = append(t.entries, s)
	t.mu.Unlock()
}

// Entries returns a copy of the log so far.
func (t *Trace) Entries() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.entries)
}

// Reset empties the log.
func (t *Trace) Reset() {
	t.mu.Lock()
	t.entries = nil
	t.mu.Unlock()
}

// Sink is a meeting.Sink that records the events it is given. It is safe for concurrent use.
type Sink struct {
	name   string
	trace  *Trace
	mu     sync.Mutex
	events []wire.Event
}

// NewSink returns a Sink; each delivery is also logged to trace (if not nil) as
// "event <name> <type>".
func NewSink(name string, trace *Trace) *Sink { return &Sink{name: name, trace: trace} }

// Deliver records the messages' events.
func (s *Sink) Deliver(msgs []*wire.EventMessage) {
	for _, msg := range msgs {
		ev := msg.Event
		s.mu.Lock()
		s.events = append(s.events, ev)
		s.mu.Unlock()
		s.trace.add(fmt.Sprintf("event %s %s", s.name, ev.EventType()))
	}
}

// Flush does nothing: Deliver has recorded the events.
func (s *Sink) Flush() {}

// Events returns a copy of the events recorded so far.
func (s *Sink) Events() []wire.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

// Take returns the events recorded so far and forgets them.
func (s *Sink) Take() []wire.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	evs := s.events
	s.events = nil
	return evs
}

// Types returns the EventType of each recorded event, in order.
func (s *Sink) Types() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	types := make([]string, len(s.events))
	for i, ev := range s.events {
		types[i] = ev.EventType()
	}
	return types
}

// MediaCall is one recorded call on Media. Source and Forward are set for SetForwarding only,
// Gates for SetForwardingMany only; ParticipantID is empty for the calls about a whole meeting.
type MediaCall struct {
	Op            string // "SetForwarding", "SetForwardingMany", "RequestKeyframe", "RemoveParticipant", "ReleaseMeeting"
	MeetingID     string
	ParticipantID string
	Source        wire.Source
	Forward       bool
	Gates         []meeting.Gate
}

func (c MediaCall) String() string {
	switch c.Op {
	case "SetForwarding":
		return fmt.Sprintf("media SetForwarding %s %s %t", c.ParticipantID, c.Source, c.Forward)
	case "SetForwardingMany":
		gates := make([]string, len(c.Gates))
		for i, g := range c.Gates {
			gates[i] = fmt.Sprintf("%s %s %t", g.ParticipantID, g.Source, g.Forward)
		}
		return "media SetForwardingMany " + strings.Join(gates, ", ")
	case "ReleaseMeeting":
		return "media ReleaseMeeting " + c.MeetingID
	default:
		return fmt.Sprintf("media %s %s", c.Op, c.ParticipantID)
	}
}

type gateKey struct {
	meetingID, participantID string
	source                   wire.Source
}

// Media is a meeting.Media that records its calls and the gate state they leave. It is safe for
// concurrent use.
type Media struct {
	trace *Trace
	mu    sync.Mutex
	calls []MediaCall
	gates map[gateKey]bool
}

var _ meeting.Media = (*Media)(nil)

// NewMedia returns a Media; each call is also logged to trace (if not nil) as MediaCall.String.
func NewMedia(trace *Trace) *Media { return &Media{trace: trace, gates: make(map[gateKey]bool)} }

func (m *Media) record(c MediaCall) {
	m.mu.Lock()
	m.calls = append(m.calls, c)
	switch c.Op {
	case "SetForwarding":
		m.gates[gateKey{c.MeetingID, c.ParticipantID, c.Source}] = c.Forward
	case "SetForwardingMany":
		for _, g := range c.Gates {
			m.gates[gateKey{c.MeetingID, g.ParticipantID, g.Source}] = g.Forward
		}
	case "RemoveParticipant":
		for _, src := range []wire.Source{wire.SourceMicrophone, wire.SourceCamera, wire.SourceScreen, wire.SourceScreenAudio} {
			delete(m.gates, gateKey{c.MeetingID, c.ParticipantID, src})
		}
	case "ReleaseMeeting":
		for k := range m.gates {
			if k.meetingID == c.MeetingID {
				delete(m.gates, k)
			}
		}
	}
	m.mu.Unlock()
	m.trace.add(c.String())
}

// SetForwarding records the call and the gate's new state.
func (m *Media) SetForwarding(meetingID, participantID string, src wire.Source, forward bool) {
	m.record(MediaCall{Op: "SetForwarding", MeetingID: meetingID, ParticipantID: participantID, Source: src, Forward: forward})
}

// SetForwardingMany records the call and the gates' new states.
func (m *Media) SetForwardingMany(meetingID string, gates []meeting.Gate) {
	m.record(MediaCall{Op: "SetForwardingMany", MeetingID: meetingID, Gates: slices.Clone(gates)})
}

// RequestKeyframe records the call.
func (m *Media) RequestKeyframe(meetingID, participantID string) {
	m.record(MediaCall{Op: "RequestKeyframe", MeetingID: meetingID, ParticipantID: participantID})
}

// RemoveParticipant records the call and forgets the participant's gates.
func (m *Media) RemoveParticipant(meetingID, participantID string) {
	m.record(MediaCall{Op: "RemoveParticipant", MeetingID: meetingID, ParticipantID: participantID})
}

// ReleaseMeeting records the call and forgets the meeting's gates.
func (m *Media) ReleaseMeeting(meetingID string) {
	m.record(MediaCall{Op: "ReleaseMeeting", MeetingID: meetingID})
}

// Calls returns a copy of the calls recorded so far.
func (m *Media) Calls() []MediaCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.calls)
}

// Take returns the calls recorded so far and forgets them (not the gate state).
func (m *Media) Take() []MediaCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.calls
	m.calls = nil
	return c
}

// Forwarding returns the gate state last set for a participant's source; known is false if none
// was set since the participant was last removed.
func (m *Media) Forwarding(meetingID, participantID string, src wire.Source) (forward, known bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	forward, known = m.gates[gateKey{meetingID, participantID, src}]
	return forward, known
}
