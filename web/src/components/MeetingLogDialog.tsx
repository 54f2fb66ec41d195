import { useCallback, useEffect, useState } from 'react';
import { getAuditLog } from '../api';
import { clockTime } from '../chat';
import { describeEntry } from '../meetingLog';
import type { AuditEntry } from '../protocol';
import { Dialog } from './Dialog';
import './MeetingLogDialog.css';

type Load = { kind: 'loading' } | { kind: 'error'; text: string } | { kind: 'done'; entries: AuditEntry[] };

/** The host's meeting log: who joined, left, was muted, removed or let in, and when. */
export function MeetingLogDialog({
  meetingId,
  hostKey,
  onClose,
}: {
  meetingId: string;
  hostKey: string;
  onClose: () => void;
}) {
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  // Each press of Refresh reads the log again.
  const [reads, setReads] = useState(0);

  useEffect(() => {
    let current = true;
    getAuditLog(meetingId, hostKey).then(
      (entries) => {
        if (current) setLoad({ kind: 'done', entries });
      },
      (err: unknown) => {
        if (current) setLoad({ kind: 'error', text: `The meeting log could not be loaded: ${err instanceof Error ? err.message : String(err)}` });
      },
    );
    return () => {
      current = false;
    };
  }, [meetingId, hostKey, reads]);

  const refresh = useCallback(() => {
    setLoad({ kind: 'loading' });
    setReads((n) => n + 1);
  }, []);

  return (
    <Dialog title="Meeting log" onClose={onClose} className="wide">
      <p className="muted">Everything the host did, and everyone who came and went, oldest first.</p>
      {/* Focusable, so that a long log can be scrolled with the keyboard. */}
      <div className="log-scroll" tabIndex={0} role="region" aria-label="Meeting log entries">
        {load.kind === 'loading' && <p role="status">Loading…</p>}
        {load.kind === 'error' && <p role="alert">{load.text}</p>}
        {load.kind === 'done' && load.entries.length === 0 && <p>Nothing has happened yet.</p>}
        {load.kind === 'done' && load.entries.length > 0 && (
          <table className="log">
            <caption className="sr-only">Meeting log</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Who</th>
                <th scope="col">What</th>
                <th scope="col">Whom</th>
              </tr>
            </thead>
            <tbody>
              {load.entries.map((e, i) => {
                const line = describeEntry(e);
                return (
                  <tr key={`${e.at}-${i}`}>
                    <td>
                      <time dateTime={new Date(e.at).toISOString()}>{clockTime(e.at, true)}</time>
                    </td>
                    <td>{e.byName}</td>
                    <td>{line.what}</td>
                    <td>{line.whom}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </div>
      <div className="dialog-actions">
        <button type="button" onClick={refresh}>
          Refresh
        </button>
        <button type="button" className="primary" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
