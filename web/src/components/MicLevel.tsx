import { useEffect, useState } from 'react';
import { LevelReader } from '../audioLevel';
import './MicLevel.css';

/** A live meter of the microphone's loudness: the person sees that they are heard. */
export function MicLevel({ track, muted }: { track: MediaStreamTrack | null; muted: boolean }) {
  const [level, setLevel] = useState(0);
  useEffect(() => {
    if (!track || muted) return;
    const reader = new LevelReader(track);
    const id = setInterval(() => setLevel(reader.read()), 100);
    return () => {
      clearInterval(id);
      reader.close();
    };
  }, [track, muted]);
  const shown = track && !muted ? level : 0;
  const percent = Math.round(shown * 100);
  return (
    <div
      className="mic-level"
      role="meter"
      aria-label="Microphone level"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent}
      aria-valuetext={muted ? 'Muted' : track ? `${percent}%` : 'No microphone'}
    >
      <div className="mic-level-bar" style={{ transform: `scaleX(${shown})` }} />
    </div>
  );
}
