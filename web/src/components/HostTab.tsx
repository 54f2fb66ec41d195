import type { ClientMessage, TimerOption } from '../protocol';
import './HostTab.css';

/** The host's meeting-wide controls: the timer, the lock, and ending the meeting. */
export function HostTab({
  timers,
  timerRunning,
  locked,
  live,
  act,
  onEndRequested,
}: {
  timers: TimerOption[];
  timerRunning: boolean;
  locked: boolean;
  /** Connected: every control is disabled while reconnecting. */
  live: boolean;
  act: (msg: ClientMessage) => void;
  onEndRequested: () => void;
}) {
  return (
    <div className="panel">
      <h2>Host controls</h2>
      {!live && (
        <p className="muted" role="status">
          Host controls come back once you are reconnected.
        </p>
      )}
      <fieldset className="group" disabled={!live}>
        <legend>Timer</legend>
        <div className="timer-buttons">
          {timers.map((t) => (
            <button key={t.timerId} type="button" className="small" onClick={() => act({ type: 'startTimer', timerId: t.timerId })}>
              Start {t.seconds} second timer
            </button>
          ))}
          <button type="button" className="small" disabled={!timerRunning} onClick={() => act({ type: 'cancelTimer' })}>
            Cancel timer
          </button>
        </div>
      </fieldset>
      <fieldset className="group" disabled={!live}>
        <legend>Meeting</legend>
        <button type="button" onClick={() => act({ type: 'setLocked', locked: !locked })} aria-pressed={locked}>
          {locked ? 'Unlock meeting' : 'Lock meeting'}
        </button>
        <p className="muted hint">
          {locked ? 'Nobody new can join, not even with the link.' : 'Anyone with the link can join.'}
        </p>
        <button type="button" className="danger" onClick={onEndRequested}>
          End meeting for all
        </button>
      </fieldset>
    </div>
  );
}
