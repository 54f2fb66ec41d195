// One person's presence in a meeting: the WebSocket session, the publisher and subscriber peer
// connections, the local tracks once joined, and reconnecting when the connection is lost. It
// reports through callbacks and owns no screen state: the room reducer turns its events into that.

import { acquireCamera } from './media';
import {
  ProtocolClient,
  ProtocolError,
  type ClientMessage,
  type ErrorCode,
  type IceCandidate,
  type JoinedMessage,
  type ServerEvent,
} from './protocol';
import type { RoomAction } from './roomState';

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
  hostKey?: string;
  /** Taken over by the session: it stops these tracks when it ends. */
  media: MediaStream;
  audioMuted: boolean;
  videoMuted: boolean;
  wsUrl?: string;
}

const rtcConfig: RTCConfiguration = { iceServers: [], bundlePolicy: 'max-bundle' };

/** Join refusals that end the attempt; anything else is a lost connection worth retrying. */
const refusals: ReadonlySet<string> = new Set([
  'bad_request',
  'forbidden',
  'not_found',
  'meeting_ended',
  'meeting_locked',
  'meeting_full',
  'rate_limited',
]);

const speakingLevel = 0.04;

function defaultWsUrl(): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}/ws`;
}

function candidateJSON(c: RTCIceCandidate): IceCandidate {
  const j = c.toJSON();
  return {
    candidate: j.candidate ?? '',
    sdpMid: j.sdpMid ?? null,
    sdpMLineIndex: j.sdpMLineIndex ?? null,
    usernameFragment: j.usernameFragment ?? null,
  };
}

/** A peer connection plus the remote candidates that came before its remote description. */
class Peer {
  readonly pc = new RTCPeerConnection(rtcConfig);
  private early: RTCIceCandidateInit[] = [];
  private queue: Promise<void> = Promise.resolve();

  /** Runs description changes one after another, as offers may come quicker than answers. */
  serial(task: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(task, task);
    return this.queue;
  }

  async addCandidate(c: IceCandidate): Promise<void> {
    const init: RTCIceCandidateInit = {
      candidate: c.candidate,
      sdpMid: c.sdpMid ?? undefined,
      sdpMLineIndex: c.sdpMLineIndex ?? undefined,
      usernameFragment: c.usernameFragment ?? undefined,
    };
    if (!this.pc.remoteDescription) {
      this.early.push(init);
      return;
    }
    await this.pc.addIceCandidate(init).catch((err) => console.warn('ICE candidate refused', err));
  }

  async flushCandidates(): Promise<void> {
    const early = this.early;
    this.early = [];
    for (const c of early) {
      await this.pc.addIceCandidate(c).catch((err) => console.warn('ICE candidate refused', err));
    }
  }

  close(): void {
    this.pc.ontrack = null;
    this.pc.onicecandidate = null;
    this.pc.onconnectionstatechange = null;
    this.pc.close();
  }
}

export class MeetingSession {
  private client: ProtocolClient | null = null;
  private publisher: Peer | null = null;
  private subscriber: Peer | null = null;
  private videoSender: RTCRtpSender | null = null;
  private audioTrack: MediaStreamTrack | null;
  private videoTrack: MediaStreamTrack | null;
  private audioMuted: boolean;
  private videoMuted: boolean;
  private selfId: string | null = null;
  private joinedOnce = false;
  private finished = false;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private speakingTimer: ReturnType<typeof setInterval> | null = null;
  private speaking = new Set<string>();
  private readonly remote = new Map<string, MediaStream>();
  private readonly trackOwner = new Map<string, string>();

  constructor(
    private readonly opts: SessionOptions,
    private readonly cb: SessionCallbacks,
  ) {
    this.audioTrack = opts.media.getAudioTracks()[0] ?? null;
    this.videoTrack = opts.media.getVideoTracks()[0] ?? null;
    this.audioMuted = opts.audioMuted || !this.audioTrack;
    this.videoMuted = opts.videoMuted || !this.videoTrack;
    if (this.audioTrack) this.audioTrack.enabled = !this.audioMuted;
    if (this.videoTrack && this.videoMuted) {
      // A camera switched off before joining is released, not just blacked out.
      this.videoTrack.stop();
      this.videoTrack = null;
    }
  }

  get hasMicrophone(): boolean {
    return this.audioTrack !== null;
  }

  start(): void {
    this.cb.onLocalStream(this.localStream());
    void this.connect();
    this.speakingTimer = setInterval(() => void this.pollSpeaking(), 300);
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
    if (this.audioTrack) this.audioTrack.enabled = true;
  }

  async setCameraOff(off: boolean): Promise<void> {
    if (off) {
      this.videoMuted = true;
      this.videoTrack?.stop();
      this.videoTrack = null;
      await this.videoSender?.replaceTrack(null);
      this.cb.onLocalStream(this.localStream());
      this.cb.dispatch({ type: 'localMuted', kind: 'video', muted: true });
      await this.request({ type: 'setMuted', kind: 'video', muted: true });
      return;
    }
    const track = await acquireCamera();
    if (this.finished) {
      track.stop();
      return;
    }
    this.videoTrack = track;
    this.videoMuted = false;
    await this.videoSender?.replaceTrack(track);
    this.cb.onLocalStream(this.localStream());
    this.cb.dispatch({ type: 'localMuted', kind: 'video', muted: false });
    await this.request({ type: 'setMuted', kind: 'video', muted: false });
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
      if (err instanceof ProtocolError && refusals.has(err.code)) {
        this.refused(err.code as ErrorCode, err.message);
      } else {
        this.cb.dispatch({ type: 'reconnecting' });
        this.scheduleRetry();
      }
      return;
    }
    if (this.finished || this.client !== client) {
      client.close();
      return;
    }
    this.attempt = 0;
    this.joinedOnce = true;
    this.selfId = joined.participantId;
    // The subscriber must exist before the next message: the server's offer may follow at once.
    this.subscriber = this.newSubscriber(client);
    this.cb.dispatch({ type: 'joined', msg: joined, now: Date.now() });

    this.syncMuteState(client, joined);
    try {
      await this.publish(client);
    } catch (err) {
      console.warn('publishing failed', err);
      this.lost(client);
    }
  }

  private refused(code: ErrorCode, message: string): void {
    if (!this.joinedOnce) {
      this.finished = true;
      this.teardown();
      this.cb.onJoinRefused(code, message);
      return;
    }
    // Rejoining a meeting that has gone away since means it is over for us too.
    if (code === 'not_found' || code === 'meeting_ended') {
      this.finished = true;
      this.teardown();
      this.cb.dispatch({ type: 'event', event: { type: 'meetingEnded' }, now: Date.now() });
      return;
    }
    this.finished = true;
    this.teardown();
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
    if (this.speakingTimer) clearInterval(this.speakingTimer);
    this.speakingTimer = null;
    this.client?.close();
    this.client = null;
    this.closePeers();
    this.audioTrack?.stop();
    this.videoTrack?.stop();
    this.opts.media.getTracks().forEach((t) => t.stop());
  }

  private closePeers(): void {
    this.publisher?.close();
    this.subscriber?.close();
    this.publisher = null;
    this.subscriber = null;
    this.videoSender = null;
    this.remote.clear();
    this.trackOwner.clear();
    this.cb.onRemoteStreams(new Map());
  }

  // ---- media plumbing ----

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

  private async publish(client: ProtocolClient): Promise<void> {
    const peer = new Peer();
    this.publisher = peer;
    const msid = new MediaStream();
    peer.pc.addTransceiver(this.audioTrack ?? 'audio', {
      direction: 'sendonly',
      streams: [msid],
    });
    this.videoSender = peer.pc.addTransceiver(this.videoTrack ?? 'video', {
      direction: 'sendonly',
      streams: [msid],
    }).sender;
    const outgoing: IceCandidate[] = [];
    let offerSent = false;
    peer.pc.onicecandidate = (e) => {
      if (!e.candidate || !e.candidate.candidate) return;
      const c = candidateJSON(e.candidate);
      if (offerSent) client.send({ type: 'candidate', target: 'publisher', candidate: c });
      else outgoing.push(c);
    };
    peer.pc.onconnectionstatechange = () => {
      if (peer.pc.connectionState === 'failed') this.lost(client);
    };
    const offer = await peer.pc.createOffer();
    await peer.pc.setLocalDescription(offer);
    const answer = client.request({ type: 'offer', target: 'publisher', sdp: offer.sdp ?? '' });
    offerSent = true;
    for (const c of outgoing) client.send({ type: 'candidate', target: 'publisher', candidate: c });
    const reply = await answer;
    if (this.publisher !== peer) return;
    await peer.pc.setRemoteDescription({ type: 'answer', sdp: reply.sdp });
    await peer.flushCandidates();
  }

  private newSubscriber(client: ProtocolClient): Peer {
    const peer = new Peer();
    peer.pc.onicecandidate = (e) => {
      if (!e.candidate || !e.candidate.candidate) return;
      client.send({ type: 'candidate', target: 'subscriber', candidate: candidateJSON(e.candidate) });
    };
    peer.pc.onconnectionstatechange = () => {
      if (peer.pc.connectionState === 'failed') this.lost(client);
    };
    peer.pc.ontrack = (ev) => {
      const stream = ev.streams[0];
      if (!stream || this.subscriber !== peer) return;
      this.trackOwner.set(ev.track.id, stream.id);
      this.remote.set(stream.id, stream);
      stream.onremovetrack = () => {
        if (stream.getTracks().length === 0 && this.remote.get(stream.id) === stream) {
          this.remote.delete(stream.id);
        }
        this.emitRemote();
      };
      ev.track.onended = () => this.emitRemote();
      this.emitRemote();
    };
    return peer;
  }

  private emitRemote(): void {
    this.cb.onRemoteStreams(new Map(this.remote));
  }

  private answerSubscriber(client: ProtocolClient, sdp: string): void {
    const peer = this.subscriber;
    if (!peer) return;
    void peer.serial(async () => {
      try {
        await peer.pc.setRemoteDescription({ type: 'offer', sdp });
        const answer = await peer.pc.createAnswer();
        await peer.pc.setLocalDescription(answer);
        if (this.subscriber !== peer) return;
        client.send({ type: 'answer', target: 'subscriber', sdp: answer.sdp ?? '' });
        await peer.flushCandidates();
      } catch (err) {
        console.warn('subscriber negotiation failed', err);
        this.lost(client);
      }
    });
  }

  private onEvent(client: ProtocolClient, ev: ServerEvent): void {
    if (this.client !== client) return;
    switch (ev.type) {
      case 'offer':
        this.answerSubscriber(client, ev.sdp);
        return;
      case 'candidate': {
        const peer = ev.target === 'publisher' ? this.publisher : this.subscriber;
        if (peer) void peer.serial(() => peer.addCandidate(ev.candidate));
        return;
      }
      case 'participantUpdated':
        if (ev.participant.participantId === this.selfId && ev.participant.audioMuted) {
          this.applyServerAudioMute();
        }
        break;
      case 'mutedByHost':
        this.applyServerAudioMute();
        break;
      case 'participantLeft':
        if (this.remote.delete(ev.participantId)) this.emitRemote();
        break;
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

  private async pollSpeaking(): Promise<void> {
    const next = new Set<string>();
    const sub = this.subscriber;
    if (sub) {
      for (const r of sub.pc.getReceivers()) {
        if (r.track.kind !== 'audio') continue;
        const owner = this.trackOwner.get(r.track.id);
        const level = Math.max(0, ...r.getSynchronizationSources().map((s) => s.audioLevel ?? 0));
        if (owner && level > speakingLevel) next.add(owner);
      }
    }
    const pub = this.publisher;
    if (pub && this.selfId && !this.audioMuted) {
      const stats = await pub.pc.getStats().catch(() => null);
      stats?.forEach((s: { type?: string; kind?: string; audioLevel?: number }) => {
        if (s.type === 'media-source' && s.kind === 'audio' && (s.audioLevel ?? 0) > speakingLevel) {
          next.add(this.selfId!);
        }
      });
    }
    const changed = next.size !== this.speaking.size || [...next].some((id) => !this.speaking.has(id));
    if (changed) {
      this.speaking = next;
      this.cb.onSpeaking(new Set(next));
    }
  }
}
