import { useEffect, useEffectEvent, useRef, useState, type SubmitEvent } from 'react';
import { ApiError, getMeeting, type MeetingStatus } from '../api';
import type { RoomEntry } from '../roomEntry';
import { meetingPath } from '../routes';
import { loadDeviceChoices, preferredDevice, saveDeviceChoice, type DeviceChoices } from '../devices';
import { acquireCamera, acquireLocalMedia, acquireMicrophone, deviceErrorText, stopStream, type LocalMedia } from '../media';
import { validateName } from '../roomState';
import { loadName, saveName, type HostCredentials } from '../storage';
import { Brand } from './Brand';
import { DevicePickers } from './DevicePickers';
import { NameField } from './NameField';
import { Notice } from './Notice';
import { CameraIcon, CameraOffIcon, MicIcon, MicOffIcon } from './Icons';
import type { UnavailableReason } from './Unavailable';
import '../styles/page.css';
import './PreJoin.css';

type Lookup = 'loading' | 'open' | { error: string };

/** The remembered devices that are present, as ids to ask for. */
async function rememberedDevices(saved: DeviceChoices): Promise<{ audioinput?: string; videoinput?: string }> {
  const list = await navigator.mediaDevices.enumerateDevices().catch(() => []);
  const pick = (kind: 'audioinput' | 'videoinput') => preferredDevice(list, kind, saved[kind]) ?? saved[kind]?.deviceId;
  const audioinput = pick('audioinput');
  const videoinput = pick('videoinput');
  return { ...(audioinput ? { audioinput } : {}), ...(videoinput ? { videoinput } : {}) };
}

/**
 * The step before the meeting, for guests and the host alike: checks the meeting, previews camera
 * and microphone with device pickers and a level meter, asks for a name.
 */
export function PreJoin({
  meetingId,
  initialError,
  hostCredentials,
  fresh = false,
  onJoin,
  onUnavailable,
  onHome,
}: {
  meetingId: string;
  initialError?: string | undefined;
  hostCredentials: HostCredentials | null;
  /** The host just created this meeting (rather than coming back to it). */
  fresh?: boolean;
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
  const [deviceError, setDeviceError] = useState<string | null>(null);
  const [switching, setSwitching] = useState(false);
  // Bumped when a track is swapped inside the (same) stream, so that the page shows the new one.
  const [tracksVersion, setTracksVersion] = useState(0);
  const [choices, setChoices] = useState(loadDeviceChoices);
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
    const p = rememberedDevices(loadDeviceChoices()).then((ids) => acquireLocalMedia(ids));
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
    // A fresh MediaStream per change of tracks: a <video> does not always notice a swapped track.
    if (preview.current && media) preview.current.srcObject = new MediaStream(media.stream.getVideoTracks());
  }, [media, videoMuted, tracksVersion]);

  /** Swaps the stream's track of one kind for a new one, stopping the old. */
  function replaceTrack(track: MediaStreamTrack) {
    if (!media) return;
    const old = track.kind === 'audio' ? media.stream.getAudioTracks() : media.stream.getVideoTracks();
    old.forEach((t) => {
      media.stream.removeTrack(t);
      t.stop();
    });
    media.stream.addTrack(track);
    setTracksVersion((v) => v + 1);
  }

  async function pick(kind: 'audioinput' | 'videoinput' | 'audiooutput', deviceId: string, label: string) {
    saveDeviceChoice(kind, { deviceId, label });
    setChoices(loadDeviceChoices());
    setDeviceError(null);
    if (kind === 'audiooutput' || !media) return;
    setSwitching(true);
    try {
      const track = kind === 'audioinput' ? await acquireMicrophone(deviceId) : await acquireCamera(deviceId);
      if (handedOver.current) {
        track.stop();
        return;
      }
      if (track.kind === 'audio') track.enabled = !audioMuted;
      replaceTrack(track);
    } catch (err) {
      setDeviceError(deviceErrorText(kind === 'audioinput' ? 'Microphone' : 'Camera', err));
    } finally {
      setSwitching(false);
    }
  }

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
      cameraId: m.stream.getVideoTracks()[0]?.getSettings().deviceId ?? choices.videoinput?.deviceId,
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
        <h1>{hostCredentials ? (fresh ? 'Ready to start your meeting?' : 'Rejoin your meeting') : 'Join the meeting'}</h1>
        <div className="prejoin">
          <div className="prejoin-media">
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
          {media && (
            <DevicePickers
              key={tracksVersion}
              microphone={media.stream.getAudioTracks()[0] ?? null}
              micMuted={audioMuted}
              cameraId={media.stream.getVideoTracks()[0]?.getSettings().deviceId ?? choices.videoinput?.deviceId}
              speakerId={choices.audiooutput?.deviceId}
              onMicrophone={(id, label) => void pick('audioinput', id, label)}
              onCamera={(id, label) => void pick('videoinput', id, label)}
              onSpeaker={(id, label) => void pick('audiooutput', id, label)}
              busy={switching}
            />
          )}
          </div>
          <form onSubmit={(e) => void submit(e)} className="stack" noValidate>
            {media?.warning && (
              <p className="warning" role="status">
                {media.warning}
              </p>
            )}
            {deviceError && (
              <p className="warning" role="status">
                {deviceError}
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
