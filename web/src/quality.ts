// What this client asks the server of each other person's camera (setVideoQuality, PROTOCOL.md
// 1.1): the layer that fits the tile it is shown in. A small grid tile gets the lowest layer, a
// large or featured one the full layer, a tile off screen or in a hidden tab nothing. Tiles say
// what they want as often as their size changes; this module settles each wish for a moment
// before it asks, asks only for changes, and asks again when the server could not take a wish
// yet (a camera it does not have) or has forgotten them all (a new connection).

import { ProtocolError, type ClientMessage, type Quality } from './protocol';

/** The widest picture, in device pixels, that each layer is sharp enough for. */
const lowUpTo = 480;
const mediumUpTo = 960;

/** The quality for a picture shown this many device pixels wide (0: not shown). */
export function qualityForWidth(devicePixels: number): Quality {
  if (devicePixels <= 0) return 'off';
  if (devicePixels <= lowUpTo) return 'low';
  if (devicePixels <= mediumUpTo) return 'medium';
  return 'high';
}

/**
 * How long a tile's wish for less must hold before it is asked for: layouts settle in a few
 * frames. A wish for more goes sooner (upMs): a picture that grew, or came back on screen, should
 * sharpen at once.
 */
export const settleMs = 400;
export const upMs = 50;

const rank: Record<Quality, number> = { off: 0, low: 1, medium: 2, high: 3 };

/** The server's quality for a camera nobody asked anything of. */
const serverDefault: Quality = 'high';

export class CameraQualities {
  /** What each tile wants now, by participantId. */
  private readonly wanted = new Map<string, Quality>();
  /** What the server holds (asked and not refused), by participantId; absent: its default. */
  private readonly held = new Map<string, Quality>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Cameras present now, by participantId (their track ids), to notice one arriving. */
  private cameras = new Map<string, string>();

  constructor(
    private readonly request: (msg: ClientMessage) => Promise<unknown>,
    private readonly delayMs = settleMs,
  ) {}

  /** A tile's wish for a person's camera; asked for once it has held for a moment. */
  want(participantId: string, quality: Quality): void {
    if (this.wanted.get(participantId) === quality) return;
    this.wanted.set(participantId, quality);
    const held = this.held.get(participantId) ?? serverDefault;
    this.schedule(participantId, rank[quality] > rank[held] ? upMs : this.delayMs);
  }

  /** The remote streams changed: a camera that arrived may take a wish the server refused. */
  streamsChanged(streams: ReadonlyMap<string, MediaStream>): void {
    const now = new Map<string, string>();
    for (const [id, stream] of streams) {
      const video = stream.getVideoTracks()[0];
      if (video) now.set(id, video.id);
    }
    for (const [id, track] of now) {
      if (this.cameras.get(id) !== track) this.schedule(id, 0);
    }
    this.cameras = now;
  }

  /** A new connection: the server holds no wish, so every one is asked again. */
  reset(): void {
    this.held.clear();
    this.cameras = new Map();
    for (const id of this.wanted.keys()) this.schedule(id, 0);
  }

  /** Forgets a person who left. */
  forget(participantId: string): void {
    this.wanted.delete(participantId);
    this.held.delete(participantId);
    const t = this.timers.get(participantId);
    if (t !== undefined) clearTimeout(t);
    this.timers.delete(participantId);
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private schedule(participantId: string, delay = this.delayMs): void {
    const t = this.timers.get(participantId);
    if (t !== undefined) clearTimeout(t);
    this.timers.set(
      participantId,
      setTimeout(() => {
        this.timers.delete(participantId);
        this.ask(participantId);
      }, delay),
    );
  }

  private ask(participantId: string): void {
    const quality = this.wanted.get(participantId);
    if (quality === undefined || quality === (this.held.get(participantId) ?? serverDefault)) return;
    const before = this.held.get(participantId);
    this.held.set(participantId, quality);
    this.request({ type: 'setVideoQuality', participantId, source: 'camera', quality }).catch((err: unknown) => {
      // Not held after all. A camera the server does not have yet (not_found) is asked for again
      // when it arrives; a lost connection, after the next join (reset).
      if (this.held.get(participantId) === quality) {
        if (before === undefined) this.held.delete(participantId);
        else this.held.set(participantId, before);
      }
      if (!(err instanceof ProtocolError) || (err.code !== 'not_found' && err.code !== 'closed')) {
        console.warn('setVideoQuality failed', err);
      }
    });
  }
}
