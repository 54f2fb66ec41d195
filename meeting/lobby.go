package meeting

import (
	"fmt"
	"slices"
	"time"

	"github.com/parleyhq/parley/wire"
)

// DefaultLobbyTimeout is how long a join may wait in the lobby for the host's decision before it
// is answered with lobby_timeout.
const DefaultLobbyTimeout = 10 * time.Minute

// SetLobby turns the lobby on or off. Turning it off admits everyone waiting.
type SetLobby struct{ Enabled bool }

// Admit lets one held join in.
type Admit struct{ RequestID string }

// Deny refuses one held join.
type Deny struct{ RequestID string }

// AdmitAll lets everyone waiting in, in the order they came, as far as the meeting has room.
type AdmitAll struct{}

// RequestKind returns wire.TypeSetLobby.
func (SetLobby) RequestKind() RequestKind { return wire.TypeSetLobby }

// RequestKind returns wire.TypeAdmit.
func (Admit) RequestKind() RequestKind { return wire.TypeAdmit }

// RequestKind returns wire.TypeDeny.
func (Deny) RequestKind() RequestKind { return wire.TypeDeny }

// RequestKind returns wire.TypeAdmitAll.
func (AdmitAll) RequestKind() RequestKind { return wire.TypeAdmitAll }

// Held is a join the lobby holds until the host admits or denies it, it times out, the meeting
// ends, or the held client goes away (Leave). Held clients are not participants: they count
// nowhere and their sink gets no events. Done is closed once it is decided; Outcome then says how.
type Held struct {
	lm        *liveMeeting
	requestID string
	name      string
	joiner    Joiner
	since     time.Time
	sink      Sink
	timeout   Stopper
	done      chan struct{}

	// Guarded by lm.mu until done is closed, read-only after.
	decided bool
	member  *Member
	res     JoinResult
	err     error
}

// RequestID is the id the host admits or denies this join by.
func (h *Held) RequestID() string { return h.requestID }

// Done is closed when the join has been decided.
func (h *Held) Done() <-chan struct{} { return h.done }

// Outcome is the decision, once Done is closed: the new member and what it is told (admitted),
// or an *Error (wire.CodeDenied, wire.CodeLobbyTimeout, wire.CodeMeetingEnded, or
// wire.CodeNotFound after Leave).
func (h *Held) Outcome() (*Member, JoinResult, error) {
	<-h.done
	return h.member, h.res, h.err
}

// Leave takes a held join that is still waiting off the list (its client went away); the host
// is told. Once the join has been decided it does nothing: an admitted member must leave as a
// member.
func (h *Held) Leave() {
	lm := h.lm
	lm.mu.Lock()
	defer lm.unlock()
	if h.decided {
		return
	}
	lm.decide(h, nil, JoinResult{}, newError(wire.CodeNotFound, "you left the waiting room"))
	lm.lobbyChanged()
	lm.scheduleIdleIfEmpty()
}

// lobby is a meeting's held joins, in the order they came. Whether the lobby is on is durable
// (Record.Lobby); who waits is this node's, as the connections are. It is a type of its own so
// that it can move to shared storage with the rest of the meeting.
type lobby struct {
	waiting []*Held
}

func (l *lobby) find(requestID string) (*Held, error) {
	for _, h := range l.waiting {
		if h.requestID == requestID {
			return h, nil
		}
	}
	return nil, newError(wire.CodeNotFound, "nobody with request %q is waiting", requestID)
}

func (l *lobby) view() []wire.LobbyEntry {
	out := make([]wire.LobbyEntry, len(l.waiting))
	for i, h := range l.waiting {
		out[i] = wire.LobbyEntry{RequestID: h.requestID, Name: h.name, Since: h.since.UnixMilli()}
	}
	return out
}

// hold puts a join into the lobby; the host is told. The meeting is not idle while anyone waits.
func (lm *liveMeeting) hold(name string, j Joiner, sink Sink) *Held {
	h := &Held{lm: lm, requestID: randomToken(participantIDBytes), name: name, joiner: j, since: lm.svc.clock.Now(), sink: sink, done: make(chan struct{})}
	h.timeout = lm.svc.clock.AfterFunc(lm.svc.lobbyTimeout, h.timedOut)
	lm.lobby.waiting = append(lm.lobby.waiting, h)
	lm.cancelIdle()
	lm.lobbyChanged()
	lm.svc.log.Debug("join held in the lobby", "meetingId", lm.id, "requestId", h.requestID)
	return h
}

func (h *Held) timedOut() {
	lm := h.lm
	lm.mu.Lock()
	defer lm.unlock()
	if h.decided {
		return
	}
	lm.decide(h, nil, JoinResult{}, newError(wire.CodeLobbyTimeout, "the host did not let you in within %s", lm.svc.lobbyTimeout))
	lm.lobbyChanged()
	lm.scheduleIdleIfEmpty()
}

// decide ends h's wait with its outcome and takes it off the list. It does not tell the host:
// callers that decide several at once tell the host once (lobbyChanged).
func (lm *liveMeeting) decide(h *Held, m *Member, res JoinResult, err error) {
	h.decided, h.member, h.res, h.err = true, m, res, err
	h.timeout.Stop()
	lm.lobby.waiting = slices.DeleteFunc(lm.lobby.waiting, func(x *Held) bool { return x == h })
	close(h.done)
}

// lobbyChanged tells the host, if connected, who is waiting now.
func (lm *liveMeeting) lobbyChanged() {
	if hs := lm.byID[lm.hostPID]; hs != nil && lm.hostPID != "" {
		hs.send(wire.LobbyUpdated{Waiting: lm.lobby.view()})
	}
}

// admit turns h into a participant, as a join would, and answers it; the audit's "join" entry
// follows the host's request's own. A full meeting is meeting_full and h keeps waiting.
func (lm *liveMeeting) admit(a *action, h *Held) (*seat, error) {
	if len(lm.seats) >= lm.svc.maxParticipants {
		return nil, newError(wire.CodeMeetingFull, "the meeting is full (%d participants); %s keeps waiting", lm.svc.maxParticipants, h.name)
	}
	s := lm.enter(h.name, h.joiner, false, h.sink)
	lm.admitted(s)
	a.then = append(a.then, lm.entry(wire.AuditJoin, s.p))
	lm.decide(h, s.member, lm.joinResult(s), nil)
	return s, nil
}

// admitWaiting admits everyone waiting, in order, while the meeting has room, and returns how
// many it admitted. Those left wait on (with the lobby on) or are refused as meeting_full (off).
func (lm *liveMeeting) admitWaiting(a *action) []map[string]any {
	admitted := []map[string]any{}
	for _, h := range slices.Clone(lm.lobby.waiting) {
		s, err := lm.admit(a, h)
		if err != nil {
			if !lm.rec.Lobby {
				lm.decide(h, nil, JoinResult{}, newError(wire.CodeMeetingFull, "this meeting is full (%d participants)", lm.svc.maxParticipants))
				continue
			}
			break
		}
		admitted = append(admitted, map[string]any{"participantId": s.p.ID, "name": s.p.Name})
	}
	return admitted
}

// closeLobby answers every held join when the meeting ends or leaves memory.
func (lm *liveMeeting) closeLobby() {
	for _, h := range slices.Clone(lm.lobby.waiting) {
		lm.decide(h, nil, JoinResult{}, newError(wire.CodeMeetingEnded, "this meeting has ended"))
	}
}

func (r SetLobby) apply(a *action) error {
	lm := a.lm
	if lm.rec.Lobby == r.Enabled {
		return nil
	}
	rec := lm.rec
	rec.Lobby = r.Enabled
	if err := lm.svc.store.Update(a.ctx, rec); err != nil {
		return fmt.Errorf("set lobby: %w: %w", errNotSaved(), err)
	}
	lm.rec = rec
	lm.toAll(wire.MeetingUpdated{Meeting: lm.view()})
	if !r.Enabled && len(lm.lobby.waiting) > 0 {
		a.note.set("admitted", lm.admitWaiting(a))
		lm.lobbyChanged()
	}
	return nil
}

func (r Admit) apply(a *action) error {
	lm := a.lm
	h, err := lm.lobby.find(r.RequestID)
	if err != nil {
		return err
	}
	s, err := lm.admit(a, h)
	if err != nil {
		return err
	}
	lm.lobbyChanged()
	a.note.target, a.note.targetName = s.p.ID, s.p.Name
	return nil
}

func (r Deny) apply(a *action) error {
	lm := a.lm
	h, err := lm.lobby.find(r.RequestID)
	if err != nil {
		return err
	}
	lm.decide(h, nil, JoinResult{}, newError(wire.CodeDenied, "the host did not let you in"))
	lm.lobbyChanged()
	a.note.targetName = h.name
	a.note.set("requestId", h.requestID)
	lm.scheduleIdleIfEmpty()
	return nil
}

func (AdmitAll) apply(a *action) error {
	lm := a.lm
	if len(lm.lobby.waiting) == 0 {
		return nil
	}
	a.note.set("admitted", lm.admitWaiting(a))
	lm.lobbyChanged()
	return nil
}
