import { useState, type SubmitEvent } from 'react';
import { ApiError, createMeeting } from '../api';
import { validateName } from '../roomState';
import { parseMeetingInput } from '../routes';
import { loadName, saveHostCredentials, saveName } from '../storage';
import { Brand } from './Brand';
import { NameField } from './NameField';
import '../styles/page.css';

/**
 * The start page: a name and "New meeting" (which creates the meeting; its host then previews
 * camera and microphone like everyone else), or a link or code to join one.
 */
export function Home({
  onCreated,
  onJoinCode,
}: {
  onCreated: (meetingId: string) => void;
  onJoinCode: (meetingId: string) => void;
}) {
  const [name, setName] = useState(loadName);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [code, setCode] = useState('');
  const [codeError, setCodeError] = useState<string | null>(null);

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    const v = validateName(name);
    if ('error' in v) {
      setError(v.error);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const created = await createMeeting(v.name);
      saveHostCredentials(created.meetingId, { hostKey: created.hostKey, joinUrl: created.joinUrl });
      saveName(v.name);
      onCreated(created.meetingId);
    } catch (err) {
      setError(
        err instanceof ApiError && err.code === 'rate_limited'
          ? 'Too many meetings were created from here. Please wait a moment and try again.'
          : err instanceof Error
            ? `Could not create the meeting: ${err.message}`
            : 'Could not create the meeting.',
      );
      setBusy(false);
    }
  }

  function join(e: SubmitEvent) {
    e.preventDefault();
    const id = parseMeetingInput(code);
    if (id === null) {
      setCodeError('That is not a meeting link or code. Paste the whole link the host shared, or its code.');
      return;
    }
    onJoinCode(id);
  }

  return (
    <main className="page">
      <div className="card">
        <Brand />
        <h1>Video meetings, on your own server</h1>
        <p className="muted">Start a meeting and share its link. Anyone with the link can join from a browser.</p>
        <form onSubmit={(e) => void submit(e)} className="stack" noValidate>
          <NameField value={name} onChange={setName} error={error} errorId="home-error" />
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Starting…' : 'New meeting'}
          </button>
        </form>
        <form onSubmit={join} className="stack join-code" noValidate aria-labelledby="join-code-heading">
          <h2 id="join-code-heading">Join with a link or code</h2>
          <div className="row">
            <input
              type="text"
              value={code}
              onChange={(e) => setCode(e.target.value)}
              aria-label="Meeting link or code"
              placeholder="Meeting link or code"
              aria-invalid={codeError ? true : undefined}
              aria-describedby={codeError ? 'join-code-error' : undefined}
              autoComplete="off"
              spellCheck={false}
            />
            <button type="submit" disabled={code.trim() === ''}>
              Join
            </button>
          </div>
          {codeError && (
            <p id="join-code-error" className="error" role="alert">
              {codeError}
            </p>
          )}
        </form>
      </div>
    </main>
  );
}
