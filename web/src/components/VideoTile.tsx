import { useEffect, useRef, useState } from 'react';
import type { TileSize } from './useGridLayout';
import type { Participant, Quality } from '../protocol';
import { CameraOffIcon, HandIcon, MicOffIcon } from './Icons';
import { useVideoQuality } from './useVideoQuality';
import './VideoTile.css';

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** A word's first letter as a reader sees it (an accent or emoji sequence stays whole). */
function firstLetter(word: string): string {
  for (const { segment } of graphemes.segment(word)) return segment.toUpperCase();
  return '';
}

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const first = parts[0] ?? '';
  const last = parts.length > 1 ? (parts.at(-1) ?? '') : '';
  return firstLetter(first) + firstLetter(last) || '?';
}

/**
 * One person's video, named after them (the name as shown: "Grace (2)" for a second Grace). The
 * video element stays mounted even with the camera off, because it also plays that person's
 * sound. Until the first frame arrives the tile says "Connecting…" instead of showing black.
 */
export function VideoTile({
  participant,
  name,
  stream,
  isSelf,
  speaking,
  soundBlocked,
  onSoundBlocked,
  size,
  sinkId,
  onQuality,
}: {
  participant: Participant;
  name: string;
  stream: MediaStream | null;
  isSelf: boolean;
  speaking: boolean;
  soundBlocked: boolean;
  onSoundBlocked: () => void;
  size?: TileSize | undefined;
  /** The speaker to play through (undefined: the default one). */
  sinkId?: string | undefined;
  /** Told the quality this tile's picture needs, as it is shown (another person's tile). */
  onQuality?: ((participantId: string, quality: Quality) => void) | undefined;
}) {
  const video = useRef<HTMLVideoElement>(null);
  const videoTracks = stream?.getVideoTracks().length ?? 0;
  const videoTrackId = stream?.getVideoTracks()[0]?.id ?? '';
  // The id of the video track whose first frame has arrived.
  const [framed, setFramed] = useState('');

  useEffect(() => {
    const v = video.current;
    if (!v || !videoTrackId) return;
    const check = () => {
      if (v.videoWidth > 0) setFramed(videoTrackId);
    };
    check();
    const events = ['loadeddata', 'resize', 'playing'];
    events.forEach((e) => v.addEventListener(e, check));
    return () => events.forEach((e) => v.removeEventListener(e, check));
  }, [videoTrackId]);

  useEffect(() => {
    const v = video.current;
    if (!v || isSelf || sinkId === undefined || !('setSinkId' in v)) return;
    v.setSinkId(sinkId).catch((err: unknown) => console.warn('speaker not available', err));
  }, [sinkId, isSelf]);

  useEffect(() => {
    const v = video.current;
    if (!v) return;
    if (v.srcObject !== stream) v.srcObject = stream;
    if (!stream) return;
    v.play().catch((err: unknown) => {
      // Browsers may refuse sound before the page was touched: play muted, offer a button.
      if (!isSelf && err instanceof DOMException && err.name === 'NotAllowedError') {
        onSoundBlocked();
        v.muted = true;
        void v.play().catch(() => undefined);
      }
    });
  }, [stream, videoTracks, isSelf, onSoundBlocked]);

  useEffect(() => {
    if (video.current) video.current.muted = isSelf || soundBlocked;
  }, [isSelf, soundBlocked]);

  const showVideo = !participant.videoMuted && videoTracks > 0;
  const { participantId } = participant;
  useVideoQuality(video, showVideo && !isSelf, onQuality && ((q: Quality) => onQuality(participantId, q)));
  // A camera that is on but whose picture has not come yet (the track, or its first frame).
  const reconnecting = participant.reconnecting === true;
  const connecting = !reconnecting && !participant.videoMuted && (videoTracks === 0 ? !isSelf : framed !== videoTrackId);
  const label = isSelf ? `${name} (you)` : name;
  const micState = participant.mutedByHost ? 'Muted by the host' : participant.audioMuted ? 'Microphone muted' : null;

  return (
    <section
      className={`tile${speaking && !participant.audioMuted ? ' speaking' : ''}`}
      aria-label={label}
      data-participant-id={participant.participantId}
      style={size ? { width: size.width, height: size.height } : undefined}
    >
      <video
        ref={video}
        data-participant-id={participant.participantId}
        autoPlay
        playsInline
        muted={isSelf}
        className={`${isSelf ? 'mirror' : ''}${showVideo ? '' : ' hidden-video'}`}
      />
      {!showVideo && (
        <div className="avatar" aria-hidden="true">
          <span>{initials(participant.name)}</span>
        </div>
      )}
      {reconnecting && (
        <div className="connecting" role="status">
          <div className="spinner small" aria-hidden="true" />
          <span>Reconnecting…</span>
        </div>
      )}
      {connecting && (
        <div className="connecting">
          <div className="spinner small" aria-hidden="true" />
          <span>Connecting…</span>
        </div>
      )}
      <div className="nameplate">
        {participant.handRaised && (
          <span className="indicator hand" role="img" aria-label="Hand raised" title="Hand raised">
            <HandIcon />
          </span>
        )}
        {micState && (
          <span className="indicator" role="img" aria-label={micState} title={micState}>
            <MicOffIcon />
          </span>
        )}
        {participant.videoMuted && (
          <span className="indicator" role="img" aria-label="Camera off" title="Camera off">
            <CameraOffIcon />
          </span>
        )}
        <span className="name">{label}</span>
        {participant.role === 'host' && <span className="badge">Host</span>}
      </div>
    </section>
  );
}
