import { useEffect, useEffectEvent, useRef, useState, type SubmitEvent } from 'react';
import { ApiError, getMeeting, type MeetingStatus } from '../api';
import type { RoomEntry } from '../roomEntry';
import { meetingPath } from '../routes';
import { acquireLocalMedia, stopStream, type LocalMedia } from '../media';
import { validateName } from '../roomState';
import { loadName, saveName, type HostCredentials } from '../storage';
import { Brand } from './Brand';
import { NameField } from './NameField';
import { Notice } from './Notice';
import { CameraIcon, CameraOffIcon, MicIcon, MicOffIcon } from './Icons';
import type { UnavailableReason } from './Unavailable';
import '../styles/page.css';
import './PreJoin.css';

type Lookup = 'loading' | 'open' | { error: string };

/** Joining by link: checks the meeting, previews camera and microphone, asks for a name. */
export function PreJoin({
  meetingId,
  initialError,
  hostCredentials,
  onJoin,
  onUnavailable,
  onHome,
}: {
  meetingId: string;
  initialError?: string | undefined;
  hostCredentials: HostCredentials | null;
  onJoin: (entry: RoomEntry) => void;
  onUnavailable: (reason: UnavailableReason) => void;
  onHome: () => void;
}) {
  const [lookup, setLookup] = useState<Lookup>('loading');
  const [name, setName] = useState(loadName);
  const [error, setError] = useState<string | null>(initialError ?? null);
  const [media, setMedia] = useState<LocalMedia | null>(null);
  const [audioMuted, setAudioMuted] = useState(false);
  const [videoMuted, setVideoMuted] = useState(false);
  const [joining, setJoining] = useState(false);
  const mediaPromise = useRef<Promise<LocalMedia> | null>(null);
  const handedOver = useRef(false);
  const preview = useRef<HTMLVideoElement>(null);

  // What the lookup found decides with the props of the moment, which do not change what to look up.
  const onFound = useEffectEvent((m: MeetingStatus) => {
    if (m.state === 'ended') onUnavailable('ended');
    else if (m.locked && !hostCredentials) onUnavailable('locked');
    else setLookup('open');
  });
  const onLookupFailed = useEffectEvent((err: unknown) => {
    if (err instanceof ApiError && err.code === 'not_found') onUnavailable('not_found');
    else setLookup({ error: err instanceof Error ? err.message : String(err) });
  });

  useEffect(() => {
    let cancelled = false;
    getMeeting(meetingId).then(
      (m) => {
        if (!cancelled) onFound(m);
      },
      (err: unknown) => {
        if (!cancelled) onLookupFailed(err);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [meetingId]);

  useEffect(() => {
    const p = acquireLocalMedia();
    mediaPromise.current = p;
    let active = true;
    void p.then((m) => {
      if (active) setMedia(m);
    });
    return () => {
      active = false;
      // Unless the room took them over, the preview's devices are released on leaving.
      void p.then((m) => {
        if (!handedOver.current) stopStream(m.stream);
      });
    };
  }, []);

  useEffect(() => {
    if (preview.current && media) preview.current.srcObject = media.stream;
  }, [media, videoMuted]);

  useEffect(() => {
    media?.stream.getAudioTracks().forEach((t) => (t.enabled = !audioMuted));
  }, [media, audioMuted]);

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    const v = validateName(name);
    if ('error' in v) {
      setError(v.error);
      return;
    }
    setError(null);
    setJoining(true);
    saveName(v.name);
    // Set by the effect above, which ran before anyone could press Join.
    const pending = mediaPromise.current;
    if (!pending) return;
    const m = await pending;
    handedOver.current = true;
    onJoin({
      meetingId,
      name: v.name,
      hostKey: hostCredentials?.hostKey,
      joinUrl: hostCredentials?.joinUrl || location.origin + meetingPath(meetingId),
      media: m,
      audioMuted,
      videoMuted,
    });
  }

  const hasAudio = (media?.stream.getAudioTracks().length ?? 0) > 0;
  const hasVideo = (media?.stream.getVideoTracks().length ?? 0) > 0;

  if (typeof lookup === 'object') {
    return (
      <Notice
        heading="Could not reach the meeting"
        detail={lookup.error}
        onHome={onHome}
        action={{ label: 'Try again', onClick: () => location.reload() }}
      />
    );
  }

  return (
    <main className="page">
      <div className="card wide">
        <Brand />
        <h1>{hostCredentials ? 'Rejoin your meeting' : 'Join the meeting'}</h1>
        <div className="prejoin">
          <div className="preview" aria-label="Camera preview" role="group">
            {hasVideo && !videoMuted ? (
              <video ref={preview} autoPlay playsInline muted className="mirror" />
            ) : (
              <div className="preview-off">{media ? 'Camera is off' : 'Starting camera…'}</div>
            )}
            <div className="preview-controls">
              <button
                type="button"
                className={`round ${audioMuted || !hasAudio ? 'off' : ''}`}
                disabled={!hasAudio}
                aria-pressed={audioMuted}
                onClick={() => setAudioMuted((m) => !m)}
                aria-label={audioMuted ? 'Unmute microphone' : 'Mute microphone'}
                title={hasAudio ? undefined : 'No microphone'}
              >
                {audioMuted || !hasAudio ? <MicOffIcon /> : <MicIcon />}
              </button>
              <button
                type="button"
                className={`round ${videoMuted || !hasVideo ? 'off' : ''}`}
                disabled={!hasVideo}
                aria-pressed={videoMuted}
                onClick={() => setVideoMuted((m) => !m)}
                aria-label={videoMuted ? 'Turn on camera' : 'Turn off camera'}
                title={hasVideo ? undefined : 'No camera'}
              >
                {videoMuted || !hasVideo ? <CameraOffIcon /> : <CameraIcon />}
              </button>
            </div>
          </div>
          <form onSubmit={(e) => void submit(e)} className="stack" noValidate>
            {media?.warning && (
              <p className="warning" role="status">
                {media.warning}
              </p>
            )}
            <NameField value={name} onChange={setName} error={error} errorId="join-error" />
            <button type="submit" className="primary" disabled={joining || lookup === 'loading'}>
              {joining ? 'Joining…' : 'Join'}
            </button>
          </form>
        </div>
      </div>
    </main>
  );
}
