import { useState, type SubmitEvent } from 'react';
import { ApiError, createMeeting } from '../api';
import type { RoomEntry } from '../roomEntry';
import { acquireLocalMedia, stopStream } from '../media';
import { validateName } from '../roomState';
import { loadName, saveHostCredentials, saveName } from '../storage';
import { Brand } from './Brand';
import { NameField } from './NameField';
import '../styles/page.css';

/** The start page: a name and "New meeting", which creates the meeting and joins as its host. */
export function Home({ onCreated }: { onCreated: (entry: RoomEntry) => void }) {
  const [name, setName] = useState(loadName);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    const v = validateName(name);
    if ('error' in v) {
      setError(v.error);
      return;
    }
    setBusy(true);
    setError(null);
    const mediaPromise = acquireLocalMedia();
    try {
      const created = await createMeeting(v.name);
      saveHostCredentials(created.meetingId, { hostKey: created.hostKey, joinUrl: created.joinUrl });
      saveName(v.name);
      const media = await mediaPromise;
      onCreated({
        meetingId: created.meetingId,
        name: v.name,
        hostKey: created.hostKey,
        joinUrl: created.joinUrl,
        media,
        audioMuted: false,
        videoMuted: false,
      });
    } catch (err) {
      void mediaPromise.then((m) => stopStream(m.stream));
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
      </div>
    </main>
  );
}
