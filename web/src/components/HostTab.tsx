import type { ClientMessage, LobbyEntry, TimerOption } from '../protocol';
import './HostTab.css';

/** The name to show for each held join: "Grace", then "Grace (2)" for a second Grace. */
function lobbyNames(waiting: readonly LobbyEntry[]): Map<string, string> {
  const seen = new Map<string, number>();
  const out = new Map<string, string>();
  for (const w of waiting) {
    const key = w.name.normalize('NFC').toLocaleLowerCase();
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    out.set(w.requestId, n === 1 ? w.name : `${w.name} (${n})`);
  }
  return out;
}

/**
 * The host's meeting-wide controls: the waiting room and who waits in it, the timer, screen
 * sharing (whether participants may, and stopping a share), chat, the lock, the meeting log, and
 * ending the meeting.
 */
export function HostTab({
  timers,
  timerRunning,
  locked,
  chatAllowed,
  screenShareAllowed,
  sharing,
  lobby,
  waiting,
  live,
  act,
  onEndRequested,
  onShowLog,
}: {
  timers: TimerOption[];
  timerRunning: boolean;
  locked: boolean;
  chatAllowed: boolean;
  screenShareAllowed: boolean;
  /** Who shares a screen now (the host included), with their names as shown. */
  sharing: readonly { participantId: string; name: string }[];
  /** The waiting room is on. */
  lobby: boolean;
  waiting: readonly LobbyEntry[];
  /** Connected: every control is disabled while reconnecting. */
  live: boolean;
  act: (msg: ClientMessage) => void;
  onEndRequested: () => void;
  onShowLog: () => void;
}) {
  const names = lobbyNames(waiting);
  return (
    <div className="panel">
      <h2>Host controls</h2>
      {!live && (
        <p className="muted" role="status">
          Host controls come back once you are reconnected.
        </p>
      )}
      <fieldset className="group" disabled={!live}>
        <legend>Waiting room</legend>
        <label className="check">
          <input type="checkbox" checked={lobby} onChange={(e) => act({ type: 'setLobby', enabled: e.target.checked })} />
          <span>Waiting room</span>
        </label>
        <p className="muted hint">
          {lobby
            ? 'People who join with the link wait until you let them in.'
            : 'People who join with the link come straight in. Turning this off lets everyone waiting in.'}
        </p>
        {waiting.length > 0 && (
          <>
            <h3 id="waiting-heading" className="subheading">
              Waiting to join ({waiting.length})
            </h3>
            <ul className="waiting" aria-labelledby="waiting-heading">
              {waiting.map((w) => {
                const name = names.get(w.requestId) ?? w.name;
                return (
                  <li key={w.requestId}>
                    <span className="name">{name}</span>
                    <button type="button" className="small primary" onClick={() => act({ type: 'admit', requestId: w.requestId })}>
                      Admit {name}
                    </button>
                    <button type="button" className="small" onClick={() => act({ type: 'deny', requestId: w.requestId })}>
                      Deny {name}
                    </button>
                  </li>
                );
              })}
            </ul>
            <button type="button" className="small" onClick={() => act({ type: 'admitAll' })}>
              Admit all
            </button>
          </>
        )}
      </fieldset>
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
        <legend>Screen sharing</legend>
        <label className="check">
          <input
            type="checkbox"
            checked={screenShareAllowed}
            onChange={(e) => act({ type: 'setScreenShareAllowed', allowed: e.target.checked })}
          />
          <span>Allow participants to share their screen</span>
        </label>
        <p className="muted hint">
          {screenShareAllowed
            ? 'Anyone may share a screen.'
            : 'Only you can share a screen. Turning this off stopped every other share.'}
        </p>
        {sharing.map((s) => (
          <button
            key={s.participantId}
            type="button"
            className="small"
            onClick={() => act({ type: 'stopScreenShare', participantId: s.participantId })}
          >
            Stop {s.name}'s screen share
          </button>
        ))}
      </fieldset>
      <fieldset className="group" disabled={!live}>
        <legend>Meeting</legend>
        <label className="check">
          <input type="checkbox" checked={chatAllowed} onChange={(e) => act({ type: 'setChatAllowed', allowed: e.target.checked })} />
          <span>Allow chat</span>
        </label>
        <button type="button" onClick={() => act({ type: 'setLocked', locked: !locked })} aria-pressed={locked}>
          {locked ? 'Unlock meeting' : 'Lock meeting'}
        </button>
        <p className="muted hint">
          {locked ? 'Nobody new can join, not even with the link.' : 'Anyone with the link can join.'}
        </p>
        <button type="button" onClick={onShowLog}>
          Meeting log
        </button>
        <button type="button" className="danger" onClick={onEndRequested}>
          End meeting for all
        </button>
      </fieldset>
    </div>
  );
}
