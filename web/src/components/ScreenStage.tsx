import { useEffect, useRef } from 'react';
import { StopScreenIcon } from './Icons';
import './ScreenStage.css';

/**
 * A shared screen shown large, above the grid, named after its sharer ("Grace's screen"). The
 * sharer's own view of it says they are sharing and offers to stop. Its sound plays with it
 * (never the own: that would echo).
 */
export function ScreenStage({
  stream,
  sharerName,
  isSelf,
  soundBlocked,
  onStop,
}: {
  stream: MediaStream;
  /** The sharer's name as shown. */
  sharerName: string;
  isSelf: boolean;
  soundBlocked: boolean;
  onStop?: (() => void) | undefined;
}) {
  const video = useRef<HTMLVideoElement>(null);
  const tracks = stream.getTracks().length;
  useEffect(() => {
    const v = video.current;
    if (!v) return;
    if (v.srcObject !== stream) v.srcObject = stream;
    v.play().catch(() => {
      v.muted = true;
      void v.play().catch(() => undefined);
    });
  }, [stream, tracks]);
  useEffect(() => {
    if (video.current) video.current.muted = isSelf || soundBlocked;
  }, [isSelf, soundBlocked]);

  const label = isSelf ? 'Your screen' : `${sharerName}'s screen`;
  return (
    <section className="screen-stage" aria-label={label}>
      <video ref={video} autoPlay playsInline muted={isSelf} />
      <div className="screen-caption">
        <span className="name">{isSelf ? 'You are sharing your screen' : label}</span>
        {isSelf && onStop && (
          <button type="button" className="small danger" onClick={onStop}>
            <StopScreenIcon /> Stop sharing your screen
          </button>
        )}
      </div>
    </section>
  );
}
