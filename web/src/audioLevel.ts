// The loudness of a microphone track as the person speaks, for the level meter: Web Audio's
// analyser on the track, read as often as the meter draws.

import { audioContext } from './sounds';

/** A level from 0 to 1 for a block of samples (-1..1): the RMS on a scale that shows speech well. */
export function levelFromSamples(samples: ArrayLike<number>): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (const s of Array.from(samples)) sum += s * s;
  const rms = Math.sqrt(sum / samples.length);
  if (rms <= 0) return 0;
  // -60 dBFS (silence) to 0 dBFS (full scale), linear in dB: how loudness is heard.
  const db = 20 * Math.log10(rms);
  return Math.min(1, Math.max(0, (db + 60) / 60));
}

/** Reads a track's level on demand; close() when done. */
export class LevelReader {
  private readonly source: MediaStreamAudioSourceNode | null = null;
  private readonly analyser: AnalyserNode | null = null;
  private readonly buffer: Float32Array<ArrayBuffer>;

  /** window is how many samples each read looks at (a power of two, 32 to 32768). */
  constructor(track: MediaStreamTrack, window = 1024) {
    const ctx = audioContext();
    this.buffer = new Float32Array(window);
    if (!ctx) return;
    this.analyser = ctx.createAnalyser();
    this.analyser.fftSize = window;
    this.source = ctx.createMediaStreamSource(new MediaStream([track]));
    this.source.connect(this.analyser);
  }

  read(): number {
    if (!this.analyser) return 0;
    this.analyser.getFloatTimeDomainData(this.buffer);
    return levelFromSamples(this.buffer);
  }

  close(): void {
    this.source?.disconnect();
  }
}
