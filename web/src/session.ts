// One person's presence in a meeting: the signaling connection's life (join, refusals, losing the
// connection and resuming), the own microphone and camera, the own screen share, and handing the
// server's events on. The peer connections live in peers.ts and speaking detection in
// speaking.ts; this module decides when they start, restart ICE and end. It reports through
// callbacks and owns no screen state: the room reducer turns its events into that.
//
// Staying connected (PROTOCOL.md 1.1): every joined brings a resume token, kept in session
// storage. A dropped WebSocket keeps the peer connections (the server keeps the participant for
// its grace period, media flowing) and comes back with the token as the same participant, on the
// same peer connections when they still live. A reloaded page has none left and asks for new ones
// (keepMedia false), still as the same participant. A peer connection "disconnected" for a few
// seconds, or the browser's network coming back ("online"), restarts ICE. A connection whose
// media fails starts over with new peer connections, backing off; media that never connects
// after a few joins means the network blocks it, and the person is told so instead of rejoining
// forever.

import { acquireCamera, acquireMicrophone } from './media';
import { Publisher, Subscriber, type PeerEvents, type Signaling } from './peers';
import { browserId, forgetResumeToken, loadResumeToken, saveResumeToken } from './storage';
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
import { acquireScreen } from './screen';
import { OwnSpeaking, speakersOf } from './speaking';

export interface SessionCallbacks {
  dispatch(action: RoomAction): void;
  /** Everyone else's microphone and camera, by participantId (the MediaStream id the server sets). */
  onRemoteStreams(streams: ReadonlyMap<string, MediaStream>): void;
  /** Everyone else's shared screens (and their sound), by participantId. */
  onRemoteScreens(screens: ReadonlyMap<string, MediaStream>): void;
  /** The own camera and microphone, whenever the set of tracks changes. */
  onLocalStream(stream: MediaStream): void;
  /** The own shared screen while it is shared, else null. */
  onLocalScreen(stream: MediaStream | null): void;
  /** Who speaks now: the server's list, loudest first, and the own participant last. */
  onSpeaking(ids: ReadonlySet<string>): void;
  /** The server refused the first join; the session is over. */
  onJoinRefused(code: ErrorCode, message: string): void;
  /** The media never connected, join after join: the network blocks it; the session is over. */
  onMediaBlocked(): void;
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
  // Draining, or the meeting's node is unreachable until the cluster knows it is gone: the next
  // try (backing off from 500 ms to 5 s) lands on a node that serves the meeting.
  unavailable: false,
} satisfies Record<ErrorCode, boolean>;

/** Joins in a row whose media never connected before the session gives up (mediaBlocked). */
const maxMediaFailures = 3;
/** The wait before the next join after the n-th join whose media never connected. */
const mediaBackoffMs = [0, 2000, 6000];
/**
 * How long new peer connections may take to connect before they count as failed. A browser with
 * no usable candidate pair may sit in "checking" for a long time, or for good, without "failed".
 */
const mediaConnectMs = 20_000;

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
  private readonly ownSpeaking: OwnSpeaking;
  private remoteSpeakers: readonly string[] = [];
  private selfSpeaking = false;
  /** The own screen share's tracks while sharing. */
  private screen: MediaStream | null = null;
  private readonly qualities = new CameraQualities((msg) => this.request(msg));
  /** The token that resumes this participant (session storage survives a reload). */
  private resumeToken: string | null;
  /** Joins in a row whose media never connected, and whether this join's has. */
  private mediaFailures = 0;
  private mediaUp = false;
  private mediaTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly onOnline = () => this.networkChanged();
  /** What the peer connections send through: always the connection of the moment. */
  private readonly signaling: Signaling = {
    send: (msg) => this.client?.send(msg),
    request: (msg, timeoutMs) =>
      this.client ? this.client.request(msg, timeoutMs) : Promise.reject(new ProtocolError('closed', 'not connected')),
  };
  private readonly peerEvents: PeerEvents = {
    connected: () => {
      this.mediaUp = true;
      this.mediaFailures = 0;
      this.stopMediaTimer();
    },
    stalled: () => this.restartIce(),
    failed: () => this.mediaFailed(),
  };

  constructor(
    private readonly opts: SessionOptions,
    private readonly cb: SessionCallbacks,
  ) {
    this.resumeToken = loadResumeToken(opts.meetingId);
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
    this.ownSpeaking = new OwnSpeaking((speaking) => {
      this.selfSpeaking = speaking;
      this.emitSpeaking();
    });
    this.ownSpeaking.setMuted(this.audioMuted);
  }

  private emitSpeaking(): void {
    this.cb.onSpeaking(speakersOf(this.remoteSpeakers, this.selfId, this.selfSpeaking));
  }

  get hasMicrophone(): boolean {
    return this.audioTrack !== null;
  }

  start(): void {
    this.cb.onLocalStream(this.localStream());
    window.addEventListener('online', this.onOnline);
    void this.connect();
    this.ownSpeaking.listen(this.audioTrack);
  }

  // ---- own media ----

  async setMicMuted(muted: boolean): Promise<void> {
    if (!this.audioTrack) throw new Error('No microphone is available.');
    if (muted) {
      this.audioTrack.enabled = false;
      this.audioMuted = true;
      this.ownSpeaking.setMuted(true);
      this.cb.dispatch({ type: 'localMuted', kind: 'audio', muted: true });
      await this.request({ type: 'setMuted', kind: 'audio', muted: true });
      return;
    }
    // Unmute only once the server agrees: it refuses while the host holds the mute.
    await this.request({ type: 'setMuted', kind: 'audio', muted: false });
    this.audioMuted = false;
    this.audioTrack.enabled = true;
    this.ownSpeaking.setMuted(false);
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
    this.ownSpeaking.listen(track);
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

  // ---- the own screen share ----

  get sharingScreen(): boolean {
    return this.screen !== null;
  }

  /**
   * Asks the browser for a screen (with its sound where the browser offers it) and shares it.
   * The browser's own "Stop sharing" (the track ends) stops it too. Rejects when the person
   * cancelled the browser's picker (a DOMException) or the server refused (a ProtocolError:
   * forbidden while the host allows only themselves).
   */
  async startScreenShare(): Promise<void> {
    if (this.screen) return;
    const stream = await acquireScreen();
    const video = stream.getVideoTracks()[0];
    const pub = this.publisher;
    if (this.finished || !video || !pub) {
      stream.getTracks().forEach((t) => {
        t.stop();
      });
      throw new ProtocolError('closed', 'not connected');
    }
    video.addEventListener('ended', () => {
      if (this.screen === stream) void this.stopScreenShare();
    });
    this.screen = stream;
    this.cb.onLocalScreen(stream);
    try {
      await pub.startScreen(video, stream.getAudioTracks()[0] ?? null);
    } catch (err) {
      this.endScreen();
      throw err;
    }
  }

  /** Stops sharing the screen (the person's choice, or the browser's stop bar). */
  async stopScreenShare(): Promise<void> {
    if (!this.screen) return;
    this.endScreen();
    await this.publisher?.stopScreen();
  }

  /** Lets go of the own screen's tracks. */
  private endScreen(): void {
    const s = this.screen;
    this.screen = null;
    s?.getTracks().forEach((t) => {
      t.stop();
    });
    if (s) this.cb.onLocalScreen(null);
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
    forgetResumeToken(this.opts.meetingId);
    const client = this.client;
    if (client?.isOpen) {
      await client.request({ type: 'leave' }, 2000).catch(() => undefined);
    }
    this.teardown();
    this.cb.dispatch({ type: 'left' });
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
    const resumeToken = this.resumeToken;
    // The peer connections carry on across a dropped WebSocket; a reloaded page has none.
    const keepMedia = (this.publisher?.usable ?? false) && (this.subscriber?.usable ?? false);
    const bid = browserId();
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
        ...(resumeToken ? { resumeToken, keepMedia } : {}),
        ...(bid ? { browserId: bid } : {}),
      });
    } catch (err) {
      client.close();
      if (this.client === client) this.client = null;
      // Left while the join waited (in the lobby): the server's answer to it is no refusal.
      // TypeScript keeps its narrowing from the top of this method across the awaits.
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      if (this.finished) return;
      if (resumeToken && err instanceof ProtocolError && err.code === 'forbidden') {
        // The grace period is over (or the token was used): join afresh, with new media.
        this.resumeToken = null;
        forgetResumeToken(this.opts.meetingId);
        this.closePeers();
        void this.connect();
        return;
      }
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
    if (joined.resumeToken) {
      this.resumeToken = joined.resumeToken;
      saveResumeToken(this.opts.meetingId, joined.resumeToken);
    }
    const kept = joined.resumed === true && joined.mediaKept === true && this.publisher !== null && this.subscriber !== null;
    if (!kept) {
      this.closePeers();
      this.mediaUp = false;
      // The subscriber must exist before the next message: the server's offer may follow at once.
      this.qualities.reset();
      this.subscriber = new Subscriber(
        this.signaling,
        (streams, screens) => {
          this.qualities.streamsChanged(streams);
          this.cb.onRemoteStreams(streams);
          this.cb.onRemoteScreens(screens);
        },
        this.peerEvents,
        joined.iceServers,
      );
    }
    this.cb.dispatch({ type: 'joined', msg: joined, now: Date.now() });

    this.syncMuteState(client, joined);
    try {
      // Resumed on the same peer connections: offer again (the server sends a subscriber offer).
      if (!kept || !this.publisher) {
        this.publisher = new Publisher(
          this.signaling,
          { audio: this.audioTrack, video: this.videoTrack },
          this.peerEvents,
          joined.iceServers,
        );
        this.stopMediaTimer();
        this.mediaTimer = setTimeout(() => {
          this.mediaTimer = null;
          if (!this.mediaUp) this.mediaFailed();
        }, mediaConnectMs);
      }
      await this.publisher.negotiate();
    } catch (err) {
      console.warn('publishing failed', err);
      // A dropped connection resumes (lost, by its close); an offer the server would not take
      // counts as failed media, so that it cannot become a loop of joins.
      if (client.isOpen) this.mediaFailed();
    }
  }

  /** Restarts ICE on both peer connections: the network changed or stalled. */
  private restartIce(): void {
    const client = this.client;
    if (this.finished || !client?.isOpen) return; // a dropped WebSocket resumes instead
    this.publisher?.negotiate(true).catch((err: unknown) => console.warn('publisher ICE restart failed', err));
    client.request({ type: 'iceRestart', target: 'subscriber' }).catch((err: unknown) => console.warn('ICE restart refused', err));
  }

  /** The browser is online again: restart ICE, or resume at once if the WebSocket went. */
  private networkChanged(): void {
    if (this.finished) return;
    if (this.client) {
      this.restartIce();
      return;
    }
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
      void this.connect();
    }
  }

  /**
   * A peer connection failed: start over with new ones, as the same participant (resume with
   * keepMedia false). A join whose media never connected counts towards giving up.
   */
  private mediaFailed(): void {
    if (this.finished) return;
    const neverConnected = !this.mediaUp;
    this.closePeers();
    this.mediaUp = false;
    if (neverConnected) this.mediaFailures++;
    if (this.mediaFailures >= maxMediaFailures) {
      this.finished = true;
      this.client?.send({ type: 'leave' });
      forgetResumeToken(this.opts.meetingId);
      this.teardown();
      this.cb.onMediaBlocked();
      return;
    }
    const client = this.client;
    this.client = null;
    client?.close();
    this.cb.dispatch({ type: 'reconnecting' });
    this.scheduleRetry(mediaBackoffMs[this.mediaFailures] ?? 0);
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

  /** The WebSocket went away: resume. The peer connections stay; the server keeps them too. */
  private lost(client: ProtocolClient): void {
    if (this.finished || this.client !== client) return;
    this.client = null;
    client.close();
    this.cb.dispatch({ type: 'reconnecting' });
    this.scheduleRetry();
  }

  private scheduleRetry(atLeastMs = 0): void {
    if (this.finished || this.retryTimer) return;
    const delay = Math.max(atLeastMs, Math.min(5000, 500 * 2 ** this.attempt));
    this.attempt++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
  }

  private teardown(): void {
    window.removeEventListener('online', this.onOnline);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.ownSpeaking.stop();
    this.endScreen();
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

  private stopMediaTimer(): void {
    if (this.mediaTimer) clearTimeout(this.mediaTimer);
    this.mediaTimer = null;
  }

  private closePeers(): void {
    this.stopMediaTimer();
    this.publisher?.close();
    this.subscriber?.close();
    this.publisher = null;
    this.subscriber = null;
    // A share does not survive its connection: the person shares again once back.
    this.endScreen();
    this.remoteSpeakers = [];
    this.emitSpeaking();
    this.cb.onRemoteStreams(new Map());
    this.cb.onRemoteScreens(new Map());
  }

  // ---- media state ----

  private localStream(): MediaStream {
    const tracks = [this.audioTrack, this.videoTrack].filter((t): t is MediaStreamTrack => t !== null);
    return new MediaStream(tracks);
  }

  private applyServerAudioMute(): void {
    this.audioMuted = true;
    this.ownSpeaking.setMuted(true);
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
      case 'activeSpeakers':
        this.remoteSpeakers = ev.speakers;
        this.emitSpeaking();
        return;
      case 'screenShareStopped':
        // The server no longer forwards it: stop capturing, and offer without it.
        void this.stopScreenShare();
        break;
      case 'kicked':
      case 'meetingEnded':
      case 'replaced':
        if (ev.type !== 'replaced') forgetResumeToken(this.opts.meetingId);
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
