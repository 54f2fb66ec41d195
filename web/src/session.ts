// One person's presence in a meeting: the signaling connection's life (join, refusals, losing the
// connection and rejoining), the own microphone and camera, and handing the server's events on.
// The peer connections live in peers.ts and speaking detection in speaking.ts; this module decides
// when they start and end. It reports through callbacks and owns no screen state: the room reducer
// turns its events into that.

import { acquireCamera, acquireMicrophone } from './media';
import { Publisher, Subscriber } from './peers';
import { CameraQualities } from './quality';
import {
  ProtocolClient,
  ProtocolError,
  type ClientMessage,
  type ErrorCode,
  type JoinedMessage,
  type Quality,
  type ServerEvent,
} from './protocol';
import type { RoomAction } from './roomState';
import { SpeakingDetector } from './speaking';

export interface SessionCallbacks {
  dispatch(action: RoomAction): void;
  /** Everyone else's media, by participantId (the MediaStream id the server sets). */
  onRemoteStreams(streams: ReadonlyMap<string, MediaStream>): void;
  /** The own camera and microphone, whenever the set of tracks changes. */
  onLocalStream(stream: MediaStream): void;
  /** participantIds whose audio is loud enough right now. */
  onSpeaking(ids: ReadonlySet<string>): void;
  /** The server refused the first join; the session is over. */
  onJoinRefused(code: ErrorCode, message: string): void;
}

export interface SessionOptions {
  meetingId: string;
  name: string;
  hostKey?: string | undefined;
  /** Taken over by the session: it stops these tracks when it ends. */
  media: MediaStream;
  audioMuted: boolean;
  videoMuted: boolean;
  /** The camera to use when the camera is switched on later (undefined: the browser's default). */
  cameraId?: string | undefined;
  wsUrl?: string;
}

/**
 * Whether a join refused with this code ends the attempt (true) or is worth retrying like a lost
 * connection (false). A Record, so that a new error code cannot go without a decision here.
 */
const refusalIsFinal = {
  bad_request: true,
  forbidden: true,
  not_found: true,
  meeting_ended: true,
  meeting_locked: true,
  meeting_full: true,
  rate_limited: true,
  internal: false,
  denied: true,
  lobby_timeout: true,
} satisfies Record<ErrorCode, boolean>;

function defaultWsUrl(): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}/ws`;
}

export class MeetingSession {
  private client: ProtocolClient | null = null;
  private publisher: Publisher | null = null;
  private subscriber: Subscriber | null = null;
  /** Kept while the session lasts (muting only disables it, as the server may hold the mute);
   * replaced only when the person picks another microphone. */
  private audioTrack: MediaStreamTrack | null;
  private videoTrack: MediaStreamTrack | null;
  private cameraId: string | undefined;
  private audioMuted: boolean;
  private videoMuted: boolean;
  private selfId: string | null = null;
  private joinedOnce = false;
  private finished = false;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly speaking: SpeakingDetector;
  private readonly qualities = new CameraQualities((msg) => this.request(msg));

  constructor(
    private readonly opts: SessionOptions,
    private readonly cb: SessionCallbacks,
  ) {
    this.audioTrack = opts.media.getAudioTracks()[0] ?? null;
    this.videoTrack = opts.media.getVideoTracks()[0] ?? null;
    this.cameraId = opts.cameraId ?? this.videoTrack?.getSettings().deviceId;
    this.audioMuted = opts.audioMuted || !this.audioTrack;
    this.videoMuted = opts.videoMuted || !this.videoTrack;
    if (this.audioTrack) this.audioTrack.enabled = !this.audioMuted;
    if (this.videoTrack && this.videoMuted) {
      // A camera switched off before joining is released, not just blacked out.
      this.videoTrack.stop();
      this.videoTrack = null;
    }
    this.speaking = new SpeakingDetector(
      {
        remote: async () => (await this.subscriber?.audioLevels()) ?? [],
        own: async () => {
          const pub = this.publisher;
          const id = this.selfId;
          if (!pub || id === null || this.audioMuted) return null;
          return [id, await pub.audioLevel()];
        },
      },
      (ids) => this.cb.onSpeaking(ids),
    );
  }

  get hasMicrophone(): boolean {
    return this.audioTrack !== null;
  }

  start(): void {
    this.cb.onLocalStream(this.localStream());
    void this.connect();
    this.speaking.start();
  }

  // ---- own media ----

  async setMicMuted(muted: boolean): Promise<void> {
    if (!this.audioTrack) throw new Error('No microphone is available.');
    if (muted) {
      this.audioTrack.enabled = false;
      this.audioMuted = true;
      this.cb.dispatch({ type: 'localMuted', kind: 'audio', muted: true });
      await this.request({ type: 'setMuted', kind: 'audio', muted: true });
      return;
    }
    // Unmute only once the server agrees: it refuses while the host holds the mute.
    await this.request({ type: 'setMuted', kind: 'audio', muted: false });
    this.audioMuted = false;
    this.audioTrack.enabled = true;
  }

  async setCameraOff(off: boolean): Promise<void> {
    if (off) {
      this.videoMuted = true;
      this.videoTrack?.stop();
      this.videoTrack = null;
      await this.publisher?.replaceVideo(null);
      this.cb.onLocalStream(this.localStream());
      this.cb.dispatch({ type: 'localMuted', kind: 'video', muted: true });
      await this.request({ type: 'setMuted', kind: 'video', muted: true });
      return;
    }
    const track = await acquireCamera(this.cameraId);
    if (this.finished) {
      track.stop();
      return;
    }
    this.videoTrack = track;
    this.videoMuted = false;
    await this.publisher?.replaceVideo(track);
    this.cb.onLocalStream(this.localStream());
    this.cb.dispatch({ type: 'localMuted', kind: 'video', muted: false });
    await this.request({ type: 'setMuted', kind: 'video', muted: false });
  }

  /**
   * Sends another microphone instead of the current one. The sender's track is replaced in place
   * (RTCRtpSender.replaceTrack): no new offer, the others hear the new microphone at once. The
   * mute state carries over.
   */
  async switchMicrophone(deviceId: string): Promise<void> {
    const track = await acquireMicrophone(deviceId);
    if (this.finished) {
      track.stop();
      return;
    }
    track.enabled = !this.audioMuted;
    const old = this.audioTrack;
    this.audioTrack = track;
    await this.publisher?.replaceAudio(track);
    old?.stop();
    this.cb.onLocalStream(this.localStream());
  }

  /** Uses another camera: at once if the camera is on, else when it is next switched on. */
  async switchCamera(deviceId: string): Promise<void> {
    this.cameraId = deviceId;
    if (this.videoMuted || !this.videoTrack) return;
    const track = await acquireCamera(deviceId);
    // The session may have ended, or the camera gone off, while the new one started; TypeScript
    // keeps its narrowing from above across the await, so the linter believes neither can be.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (this.finished || this.videoMuted || !this.videoTrack) {
      track.stop();
      return;
    }
    const old = this.videoTrack;
    this.videoTrack = track;
    await this.publisher?.replaceVideo(track);
    old.stop();
    this.cb.onLocalStream(this.localStream());
  }

  /** The quality a tile needs of a person's camera (quality.ts settles and asks). */
  setVideoQuality(participantId: string, quality: Quality): void {
    this.qualities.want(participantId, quality);
  }

  // ---- requests (host-only ones are refused by the server for anyone else) ----

  request(msg: ClientMessage): Promise<unknown> {
    if (!this.client) return Promise.reject(new ProtocolError('closed', 'not connected'));
    return this.client.request(msg);
  }

  /** Leaves for good; resolves once the server confirmed or a short wait passed. */
  async leave(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    const client = this.client;
    if (client?.isOpen) {
      await client.request({ type: 'leave' }, 2000).catch(() => undefined);
    }
    this.teardown();
    this.cb.dispatch({ type: 'left' });
  }

  /** Says goodbye without waiting for the answer: the page is going away. */
  leaveNow(): void {
    if (this.finished) return;
    this.client?.send({ type: 'leave' });
    this.close();
  }

  /** Ends everything without telling the server (the room has ended or is being left). */
  close(): void {
    this.finished = true;
    this.teardown();
  }

  // ---- connection life ----

  private async connect(): Promise<void> {
    if (this.finished) return;
    const client = new ProtocolClient(this.opts.wsUrl ?? defaultWsUrl());
    this.client = client;
    let joined: JoinedMessage;
    try {
      await client.connect();
      client.onEvent((ev) => this.onEvent(client, ev));
      client.onClose(() => this.lost(client));
      joined = await client.request({
        type: 'join',
        meetingId: this.opts.meetingId,
        name: this.opts.name,
        ...(this.opts.hostKey ? { hostKey: this.opts.hostKey } : {}),
      });
    } catch (err) {
      client.close();
      if (this.client === client) this.client = null;
      // Left while the join waited (in the lobby): the server's answer to it is no refusal.
      // TypeScript keeps its narrowing from the top of this method across the awaits.
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      if (this.finished) return;
      if (err instanceof ProtocolError && err.code !== 'closed' && refusalIsFinal[err.code]) {
        this.refused(err.code, err.message);
      } else {
        this.cb.dispatch({ type: 'reconnecting' });
        this.scheduleRetry();
      }
      return;
    }
    // finished may have been set while the join was on its way; TypeScript keeps its narrowing
    // from the top of this method across the awaits, so the linter believes it is still false.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (this.finished || this.client !== client) {
      client.close();
      return;
    }
    this.attempt = 0;
    this.joinedOnce = true;
    this.selfId = joined.participantId;
    // The subscriber must exist before the next message: the server's offer may follow at once.
    this.qualities.reset();
    this.subscriber = new Subscriber(
      client,
      (streams) => {
        this.qualities.streamsChanged(streams);
        this.cb.onRemoteStreams(streams);
      },
      () => this.lost(client),
      joined.iceServers,
    );
    this.cb.dispatch({ type: 'joined', msg: joined, now: Date.now() });

    this.syncMuteState(client, joined);
    try {
      this.publisher = new Publisher(
        client,
        { audio: this.audioTrack, video: this.videoTrack },
        () => this.lost(client),
        joined.iceServers,
      );
      await this.publisher.negotiate();
    } catch (err) {
      console.warn('publishing failed', err);
      this.lost(client);
    }
  }

  /** The server refused a join: the attempt is over. */
  private refused(code: ErrorCode, message: string): void {
    this.finished = true;
    this.teardown();
    // Rejoining a meeting that has gone away since means it is over for us too.
    if (this.joinedOnce && (code === 'not_found' || code === 'meeting_ended')) {
      this.cb.dispatch({ type: 'event', event: { type: 'meetingEnded' }, now: Date.now() });
      return;
    }
    this.cb.onJoinRefused(code, message);
  }

  private lost(client: ProtocolClient): void {
    if (this.finished || this.client !== client) return;
    this.client = null;
    client.close();
    this.closePeers();
    this.cb.dispatch({ type: 'reconnecting' });
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.finished || this.retryTimer) return;
    const delay = Math.min(5000, 500 * 2 ** this.attempt);
    this.attempt++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
  }

  private teardown(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.speaking.stop();
    this.qualities.close();
    this.client?.close();
    this.client = null;
    this.closePeers();
    this.audioTrack?.stop();
    this.videoTrack?.stop();
    this.opts.media.getTracks().forEach((t) => {
      t.stop();
    });
  }

  private closePeers(): void {
    this.publisher?.close();
    this.subscriber?.close();
    this.publisher = null;
    this.subscriber = null;
    this.cb.onRemoteStreams(new Map());
  }

  // ---- media state ----

  private localStream(): MediaStream {
    const tracks = [this.audioTrack, this.videoTrack].filter((t): t is MediaStreamTrack => t !== null);
    return new MediaStream(tracks);
  }

  private applyServerAudioMute(): void {
    this.audioMuted = true;
    if (this.audioTrack) this.audioTrack.enabled = false;
  }

  /** Tells a freshly joined server what the person chose before (or without) joining. */
  private syncMuteState(client: ProtocolClient, joined: JoinedMessage): void {
    const server = joined.self;
    if (server?.audioMuted) this.applyServerAudioMute();
    else if (this.audioMuted) client.send({ type: 'setMuted', kind: 'audio', muted: true });
    if (this.videoMuted !== (server?.videoMuted ?? false)) {
      client.send({ type: 'setMuted', kind: 'video', muted: this.videoMuted });
    }
    this.cb.dispatch({ type: 'localMuted', kind: 'audio', muted: this.audioMuted });
    this.cb.dispatch({ type: 'localMuted', kind: 'video', muted: this.videoMuted });
  }

  // ---- server events ----

  private onEvent(client: ProtocolClient, ev: ServerEvent): void {
    if (this.client !== client) return;
    switch (ev.type) {
      case 'offer':
        this.subscriber?.answer(ev.sdp);
        return;
      case 'candidate':
        (ev.target === 'publisher' ? this.publisher : this.subscriber)?.addCandidate(ev.candidate);
        return;
      case 'participantUpdated':
        if (ev.participant.participantId === this.selfId && ev.participant.audioMuted) {
          this.applyServerAudioMute();
        }
        break;
      case 'mutedByHost':
        this.applyServerAudioMute();
        break;
      case 'participantLeft':
        this.subscriber?.dropParticipant(ev.participantId);
        this.qualities.forget(ev.participantId);
        break;
      case 'publisherLayers':
        if (ev.source === 'camera') void this.publisher?.applyLayers(ev.active);
        return;
      case 'kicked':
      case 'meetingEnded':
      case 'replaced':
        this.finished = true;
        this.cb.dispatch({ type: 'event', event: ev, now: Date.now() });
        this.teardown();
        return;
      default:
        break;
    }
    this.cb.dispatch({ type: 'event', event: ev, now: Date.now() });
  }
}
