package meeting

import (
	"time"

	"github.com/parleyhq/parley/wire"
)

// timerDef is one of the fixed timers the host may start; clients pick them by id only.
type timerDef struct {
	id      string
	seconds int
}

var timerDefs = []timerDef{{"t15", 15}, {"t30", 30}, {"t45", 45}}

// timerCatalogue returns the timers as joined.timers lists them (a fresh slice each call).
func timerCatalogue() []wire.TimerView {
	views := make([]wire.TimerView, len(timerDefs))
	for i, d := range timerDefs {
		views[i] = wire.TimerView{TimerID: d.id, Seconds: d.seconds}
	}
	return views
}

// runningTimer is the meeting's one running timer.
type runningTimer struct {
	def    timerDef
	endsAt time.Time
	stop   Stopper
}

func (t *runningTimer) view() wire.TimerView {
	return wire.TimerView{TimerID: t.def.id, Seconds: t.def.seconds, EndsAt: t.endsAt.UnixMilli()}
}

// StartTimer starts the timer with TimerID (t15, t30 or t45), replacing any running one.
type StartTimer struct{ TimerID string }

// CancelTimer stops the running timer; with none running it does nothing.
type CancelTimer struct{}

// RequestKind returns wire.TypeStartTimer.
func (StartTimer) RequestKind() RequestKind { return wire.TypeStartTimer }

// RequestKind returns wire.TypeCancelTimer.
func (CancelTimer) RequestKind() RequestKind { return wire.TypeCancelTimer }

func (r StartTimer) apply(a *action) error {
	var def timerDef
	found := false
	for _, d := range timerDefs {
		if d.id == r.TimerID {
			def, found = d, true
			break
		}
	}
	if !found {
		return newError(wire.CodeBadRequest, "unknown timer %q: use t15, t30 or t45", r.TimerID)
	}
	lm := a.lm
	lm.stopTimer()
	lm.timerGen++
	gen := lm.timerGen
	d := time.Duration(def.seconds) * time.Second
	t := &runningTimer{def: def, endsAt: lm.svc.clock.Now().Add(d)}
	t.stop = lm.svc.clock.AfterFunc(d, func() { lm.timerFired(gen) })
	lm.timer = t
	v := t.view()
	lm.toAll(wire.TimerStarted(v))
	return nil
}

func (CancelTimer) apply(a *action) error {
	if a.lm.timer == nil {
		return nil
	}
	a.lm.stopTimer()
	a.lm.toAll(wire.TimerCancelled{})
	return nil
}

// stopTimer stops the running timer, if any. Bumping the generation makes a callback that is
// already on its way (Stop came too late) do nothing.
func (lm *liveMeeting) stopTimer() {
	if lm.timer == nil {
		return
	}
	lm.timer.stop.Stop()
	lm.timer = nil
	lm.timerGen++
}

func (lm *liveMeeting) timerFired(gen uint64) {
	lm.mu.Lock()
	defer lm.unlock()
	if lm.released || gen != lm.timerGen || lm.timer == nil {
		return
	}
	id := lm.timer.def.id
	lm.timer = nil
	lm.toAll(wire.TimerEnded{TimerID: id})
}
