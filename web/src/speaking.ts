// Who is speaking right now. Everyone else: the server's activeSpeakers (from the audio levels
// each browser puts on what it sends), loudest first. The own tile: a Web Audio analyser on the
// own microphone track (audioLevel.ts), so that it lights at once and in every browser; a muted
// microphone never counts. It only measures and reports; the session decides what it listens to.

import { LevelReader } from './audioLevel';

/** Above this level (0 to 1 on a -60..0 dBFS scale, see levelFromSamples) the own voice counts. */
const speakingLevel = 0.35;
const pollMs = 100;
/** How long the own tile stays lit after the level fell, so that it does not flicker between words. */
const hangoverMs = 600;

/** Reports whether the own microphone carries speech now, when that changes. */
export class OwnSpeaking {
  private reader: LevelReader | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private speaking = false;
  private loudAt = 0;
  private muted = false;

  constructor(private readonly onChange: (speaking: boolean) => void) {}

  /** Listens to track (null: none); replaces the track listened to before. */
  listen(track: MediaStreamTrack | null): void {
    this.reader?.close();
    // A window of about 170 ms at 48 kHz: reads 100 ms apart miss no short sound between them.
    this.reader = track ? new LevelReader(track, 8192) : null;
    this.timer ??= setInterval(() => this.look(), pollMs);
  }

  /** A muted microphone is not speaking, whatever the analyser hears. */
  setMuted(muted: boolean): void {
    this.muted = muted;
    if (muted) this.report(false);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.reader?.close();
    this.reader = null;
    this.report(false);
  }

  private look(): void {
    const now = performance.now();
    const level = this.reader && !this.muted ? this.reader.read() : 0;
    if (level > speakingLevel) this.loudAt = now;
    this.report(!this.muted && this.loudAt > 0 && now - this.loudAt < hangoverMs);
  }

  private report(speaking: boolean): void {
    if (speaking === this.speaking) return;
    this.speaking = speaking;
    this.onChange(speaking);
  }
}

/** The set of speakers to show: the server's list (loudest first), then the own participant. */
export function speakersOf(remote: readonly string[], selfId: string | null, selfSpeaking: boolean): ReadonlySet<string> {
  const out = new Set(remote.filter((id) => id !== selfId));
  if (selfSpeaking && selfId !== null) out.add(selfId);
  return out;
}
