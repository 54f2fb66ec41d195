// Who is speaking right now, from the audio levels the browser measures: what arrives from each
// other person, and what the own microphone sends. It only reads levels and reports changes; the
// peer connections and who owns which track belong to the session and its peers.

/** Above this level (0 to 1, as WebRTC reports it) a person counts as speaking. */
const speakingLevel = 0.04;
const pollMs = 300;

/** Where the levels come from; asked again at every look. */
export interface AudioLevels {
  /** Each other person's level now, by participantId. */
  remote(): Promise<Iterable<[participantId: string, level: number]>>;
  /** The own level now, or null when it does not count (not joined yet, or muted). */
  own(): Promise<[participantId: string, level: number] | null>;
}

/** Looks at the levels a few times a second and reports the set of speakers when it changes. */
export class SpeakingDetector {
  private speaking: ReadonlySet<string> = new Set();
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly levels: AudioLevels,
    private readonly onChange: (ids: ReadonlySet<string>) => void,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.look(), pollMs);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private async look(): Promise<void> {
    const [remote, own] = await Promise.all([this.levels.remote(), this.levels.own()]);
    // Stopped while the stats were on their way: the session is over, report nothing more.
    if (this.timer === null) return;
    const next = new Set<string>();
    for (const [id, level] of remote) {
      if (level > speakingLevel) next.add(id);
    }
    if (own && own[1] > speakingLevel) next.add(own[0]);
    if (next.size === this.speaking.size && [...next].every((id) => this.speaking.has(id))) return;
    this.speaking = next;
    this.onChange(new Set(next));
  }
}
