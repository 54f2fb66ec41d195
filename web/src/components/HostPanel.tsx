import type { ClientMessage, Participant, TimerOption } from '../protocol';
import './HostPanel.css';

/** The host's meeting-wide controls: mute all, timers, lock, end. */
export function HostPanel({
  others,
  timers,
  timerRunning,
  locked,
  allowSelfUnmute,
  setAllowSelfUnmute,
  act,
  onEndRequested,
}: {
  others: Participant[];
  timers: TimerOption[];
  timerRunning: boolean;
  locked: boolean;
  allowSelfUnmute: boolean;
  setAllowSelfUnmute: (v: boolean) => void;
  act: (msg: ClientMessage) => void;
  onEndRequested: () => void;
}) {
  const anyHeld = others.some((p) => p.mutedByHost && !p.canUnmute);
  return (
    <div className="panel">
      <h2 id="host-heading">Host controls</h2>
      <div className="group">
        <button type="button" onClick={() => act({ type: 'muteAll', allowSelfUnmute })}>
          Mute all
        </button>
        {anyHeld && (
          <button type="button" onClick={() => act({ type: 'allowUnmute' })}>
            Allow everyone to unmute
          </button>
        )}
        <label className="check">
          <input
            type="checkbox"
            checked={allowSelfUnmute}
            onChange={(e) => setAllowSelfUnmute(e.target.checked)}
          />
          <span>Allow participants to unmute themselves</span>
        </label>
      </div>
      <div className="group">
        <h3>Timer</h3>
        <div className="row wrap">
          {timers.map((t) => (
            <button
              key={t.timerId}
              type="button"
              className="small"
              onClick={() => act({ type: 'startTimer', timerId: t.timerId })}
              aria-label={`Start ${t.seconds} second timer`}
            >
              {t.seconds} s
            </button>
          ))}
          <button
            type="button"
            className="small"
            disabled={!timerRunning}
            onClick={() => act({ type: 'cancelTimer' })}
            aria-label="Cancel timer"
          >
            Cancel
          </button>
        </div>
      </div>
      <div className="group">
        <button type="button" onClick={() => act({ type: 'setLocked', locked: !locked })}>
          {locked ? 'Unlock meeting' : 'Lock meeting'}
        </button>
        <button type="button" className="danger" onClick={onEndRequested}>
          End meeting for all
        </button>
      </div>
    </div>
  );
}
