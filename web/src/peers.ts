// The two peer connections of a joined session (PROTOCOL.md, "Media"): the publisher sends the
// own microphone and camera, and a screen share when there is one, naming each section's source
// in its offers; the subscriber answers the server's offers and yields everyone else's streams,
// their cameras apart from their screens. Both report what happens to them through PeerEvents
// (connected, stalled for a while, failed); when to restart ICE, give up on a connection, rejoin
// or tear down belongs to the session, not here.

import type { IceCandidate, IceServer, ProtocolClient, Source } from './protocol';
import { addCameraTransceiver, setActiveLayers } from './simulcast';

/** The part of the signaling connection the peers use. */
export type Signaling = Pick<ProtocolClient, 'send' | 'request'>;

/** What a publisher sends: the tracks that exist, or null for a device that is off or missing. */
export interface OwnTracks {
  audio: MediaStreamTrack | null;
  video: MediaStreamTrack | null;
}

/**
 * Host candidates reach the server directly (over UDP, or TCP to the media port's TCP twin); the
 * servers of joined.iceServers (the server's own TURN relay) are for networks that block both.
 * Bundling keeps it all to one port.
 */
function rtcConfig(iceServers: readonly IceServer[]): RTCConfiguration {
  return {
    iceServers: iceServers.map((s) => ({
      urls: [...s.urls],
      ...(s.username === undefined ? {} : { username: s.username }),
      ...(s.credential === undefined ? {} : { credential: s.credential }),
    })),
    bundlePolicy: 'max-bundle',
  };
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

/** What a peer connection tells the session. */
export interface PeerEvents {
  /** Media flows (the connection reached "connected"). */
  connected(): void;
  /** The connection has been "disconnected" for stallMs: worth an ICE restart. */
  stalled(): void;
  /** The connection failed for good. */
  failed(): void;
}

/** How long a connection may stay "disconnected" before the session restarts ICE. */
export const stallMs = 3000;

/** A peer connection plus the remote candidates that came before its remote description. */
class Peer {
  readonly pc: RTCPeerConnection;
  private early: RTCIceCandidateInit[] = [];
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private stallTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(events: PeerEvents, iceServers: readonly IceServer[]) {
    this.pc = new RTCPeerConnection(rtcConfig(iceServers));
    this.pc.onconnectionstatechange = () => {
      const state = this.pc.connectionState;
      if (this.stallTimer && state !== 'disconnected') {
        clearTimeout(this.stallTimer);
        this.stallTimer = null;
      }
      if (state === 'connected') events.connected();
      else if (state === 'failed') events.failed();
      else if (state === 'disconnected' && !this.stallTimer) {
        this.stallTimer = setTimeout(() => {
          this.stallTimer = null;
          if (!this.closed && this.pc.connectionState === 'disconnected') events.stalled();
        }, stallMs);
      }
    };
  }

  /** Whether the connection can still carry media (new, connecting, connected or disconnected). */
  get usable(): boolean {
    return !this.closed && this.pc.connectionState !== 'failed' && this.pc.connectionState !== 'closed';
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs description changes one after another, as offers may come quicker than answers. */
  serial(task: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(task, task);
    return this.queue;
  }

  /** Adds a remote candidate, in turn with the description changes. */
  addCandidate(c: IceCandidate): void {
    void this.serial(async () => {
      const init: RTCIceCandidateInit = {
        candidate: c.candidate,
        sdpMid: c.sdpMid ?? null,
        sdpMLineIndex: c.sdpMLineIndex ?? null,
        usernameFragment: c.usernameFragment ?? null,
      };
      if (!this.pc.remoteDescription) {
        this.early.push(init);
        return;
      }
      await this.pc.addIceCandidate(init).catch((err: unknown) => console.warn('ICE candidate refused', err));
    });
  }

  async flushCandidates(): Promise<void> {
    const early = this.early;
    this.early = [];
    for (const c of early) {
      await this.pc.addIceCandidate(c).catch((err: unknown) => console.warn('ICE candidate refused', err));
    }
  }

  /** Sends each local candidate with send, from the moment it is called. */
  sendCandidates(send: (c: IceCandidate) => void): void {
    this.pc.onicecandidate = (e) => {
      if (e.candidate?.candidate) send(candidateJSON(e.candidate));
    };
  }

  close(): void {
    this.closed = true;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.pc.ontrack = null;
    this.pc.onicecandidate = null;
    this.pc.onconnectionstatechange = null;
    this.pc.close();
  }
}

/** Sends the own microphone and camera, and a shared screen, to the server. */
export class Publisher {
  private readonly peer: Peer;
  private readonly audioSender: RTCRtpSender;
  private readonly videoSender: RTCRtpSender;
  /** Each transceiver's source, for the offer's `sources`. */
  private readonly sources = new Map<RTCRtpTransceiver, Source>();
  /** The screen's transceivers once a share began; kept (inactive) between shares. */
  private screen: { video: RTCRtpTransceiver; audio: RTCRtpTransceiver } | null = null;

  constructor(
    private readonly signaling: Signaling,
    tracks: OwnTracks,
    events: PeerEvents,
    iceServers: readonly IceServer[] = [],
  ) {
    this.peer = new Peer(events, iceServers);
    // Both transceivers exist even without a device, so that one switched on later needs no
    // new negotiation: replaceTrack is enough.
    const msid = new MediaStream();
    const audio = this.peer.pc.addTransceiver(tracks.audio ?? 'audio', { direction: 'sendonly', streams: [msid] });
    this.audioSender = audio.sender;
    this.sources.set(audio, 'microphone');
    // The camera goes as three simulcast layers where the browser can (simulcast.ts).
    this.videoSender = addCameraTransceiver(this.peer.pc, tracks.video, msid);
    const camera = this.peer.pc.getTransceivers().find((t) => t.sender === this.videoSender);
    if (camera) this.sources.set(camera, 'camera');
  }

  /**
   * Shares a screen (and its sound, when the browser captured some): adds the screen's sections
   * the first time, sends on them again after an earlier share, and offers anew. A refused
   * offer (sharing is off) rejects with the server's error, and the sections go quiet again.
   */
  async startScreen(video: MediaStreamTrack, audio: MediaStreamTrack | null): Promise<void> {
    const { pc } = this.peer;
    if (!this.screen) {
      const msid = new MediaStream();
      const v = pc.addTransceiver(video, { direction: 'sendonly', streams: [msid] });
      const a = pc.addTransceiver(audio ?? 'audio', { direction: audio ? 'sendonly' : 'inactive', streams: [msid] });
      this.screen = { video: v, audio: a };
      this.sources.set(v, 'screen');
      this.sources.set(a, 'screenAudio');
    } else {
      this.screen.video.direction = 'sendonly';
      this.screen.audio.direction = audio ? 'sendonly' : 'inactive';
      await this.screen.video.sender.replaceTrack(video);
      await this.screen.audio.sender.replaceTrack(audio);
    }
    try {
      await this.negotiate();
    } catch (err) {
      await this.quietScreen();
      throw err;
    }
  }

  /** Stops sending the screen: its sections go inactive, and the server is offered that. */
  async stopScreen(): Promise<void> {
    if (!this.screen) return;
    await this.quietScreen();
    await this.negotiate().catch((err: unknown) => console.warn('offer without the screen failed', err));
  }

  private async quietScreen(): Promise<void> {
    if (!this.screen) return;
    this.screen.video.direction = 'inactive';
    this.screen.audio.direction = 'inactive';
    await this.screen.video.sender.replaceTrack(null);
    await this.screen.audio.sender.replaceTrack(null);
  }

  /** The offer's sources: every section that sends, by mid. */
  private offerSources(): Record<string, Source> {
    const out: Record<string, Source> = {};
    for (const [t, src] of this.sources) {
      if (t.mid !== null && (t.direction === 'sendonly' || t.direction === 'sendrecv')) out[t.mid] = src;
    }
    return out;
  }

  /** Sends only the camera layers the server says someone needs (publisherLayers). */
  applyLayers(active: readonly string[]): Promise<void> {
    return setActiveLayers(this.videoSender, active);
  }

  /** Whether the connection can still carry media (after a dropped signaling connection). */
  get usable(): boolean {
    return this.peer.usable;
  }

  /**
   * Offers the tracks to the server and applies its answer, one negotiation at a time: first,
   * again after a resume or a screen share's change, or with new ICE credentials (iceRestart) when
   * the network changed.
   */
  negotiate(iceRestart = false): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      void this.peer.serial(() => this.offerOnce(iceRestart).then(resolve, reject));
    });
  }

  private async offerOnce(iceRestart: boolean): Promise<void> {
    const { pc } = this.peer;
    // Candidates found before the offer went out wait for it: the server would not know them.
    const outgoing: IceCandidate[] = [];
    const send = (candidate: IceCandidate) => {
      this.signaling.send({ type: 'candidate', target: 'publisher', candidate });
    };
    this.peer.sendCandidates((c) => outgoing.push(c));
    const offer = await pc.createOffer({ iceRestart });
    await pc.setLocalDescription(offer);
    const answer = this.signaling.request({
      type: 'offer',
      target: 'publisher',
      sdp: offer.sdp ?? '',
      sources: this.offerSources(),
    });
    this.peer.sendCandidates(send);
    outgoing.forEach(send);
    let reply;
    try {
      reply = await answer;
    } catch (err) {
      // Refused (e.g. a screen while sharing is off): back to the last agreed description.
      if (!this.peer.isClosed) await pc.setLocalDescription({ type: 'rollback' }).catch(() => undefined);
      throw err;
    }
    if (this.peer.isClosed) return;
    await pc.setRemoteDescription({ type: 'answer', sdp: reply.sdp });
    await this.peer.flushCandidates();
  }

  /** Swaps the camera track (null sends nothing) without a new negotiation. */
  replaceVideo(track: MediaStreamTrack | null): Promise<void> {
    return this.videoSender.replaceTrack(track);
  }

  /** Swaps the microphone track without a new negotiation. */
  replaceAudio(track: MediaStreamTrack | null): Promise<void> {
    return this.audioSender.replaceTrack(track);
  }

  addCandidate(c: IceCandidate): void {
    this.peer.addCandidate(c);
  }

  close(): void {
    this.peer.close();
  }
}

/** Whether a source is a screen share's. */
export function isScreenSource(src: string): boolean {
  return src === 'screen' || src === 'screenAudio';
}

/** The track id each m-section's a=msid names, by mid: the server names tracks after their source. */
export function trackIdsByMid(sdp: string): Map<string, string> {
  const out = new Map<string, string>();
  let mid: string | null = null;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) mid = null;
    else if (line.startsWith('a=mid:')) mid = line.slice('a=mid:'.length).trim();
    else if (line.startsWith('a=msid:') && mid !== null) {
      const trackId = line.slice('a=msid:'.length).trim().split(/\s+/)[1];
      if (trackId) out.set(mid, trackId);
    }
  }
  return out;
}

/**
 * Receives everyone else's media: answers the server's offers and keeps two streams per person,
 * their microphone and camera, and their shared screen and its sound. A track's source is the
 * track id its section's a=msid names (read from the offer by mid: browsers do not all give a
 * remote track that id).
 */
export class Subscriber {
  private readonly peer: Peer;
  /** Microphone and camera, by participantId (the server names each stream after its sender). */
  private readonly remote = new Map<string, MediaStream>();
  /** Screen and screen audio, by participantId. */
  private readonly screens = new Map<string, MediaStream>();
  /** The track id of each section of the latest offer, by mid. */
  private sourceByMid = new Map<string, string>();

  constructor(
    private readonly signaling: Signaling,
    private readonly onStreams: (streams: ReadonlyMap<string, MediaStream>, screens: ReadonlyMap<string, MediaStream>) => void,
    private readonly events: PeerEvents,
    iceServers: readonly IceServer[] = [],
  ) {
    this.peer = new Peer(events, iceServers);
    this.peer.sendCandidates((candidate) => signaling.send({ type: 'candidate', target: 'subscriber', candidate }));
    this.peer.pc.ontrack = (ev) => {
      const stream = ev.streams[0];
      if (!stream || this.peer.isClosed) return;
      const mid = ev.transceiver.mid;
      const src = (mid !== null ? this.sourceByMid.get(mid) : undefined) ?? ev.track.id;
      const map = isScreenSource(src) ? this.screens : this.remote;
      const track = ev.track;
      let own = map.get(stream.id);
      if (!own) {
        own = new MediaStream();
        map.set(stream.id, own);
      }
      own.addTrack(track);
      const drop = () => {
        const mine = map.get(stream.id);
        if (!mine?.getTracks().includes(track)) return;
        mine.removeTrack(track);
        if (mine.getTracks().length === 0) map.delete(stream.id);
        this.emit();
      };
      stream.addEventListener('removetrack', (e) => {
        if (e.track === track) drop();
      });
      track.addEventListener('ended', drop);
      this.emit();
    };
  }

  /** Answers an offer of the server's, in turn with earlier ones. */
  answer(sdp: string): void {
    const { pc } = this.peer;
    void this.peer.serial(async () => {
      try {
        this.sourceByMid = trackIdsByMid(sdp);
        await pc.setRemoteDescription({ type: 'offer', sdp });
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        if (this.peer.isClosed) return;
        this.signaling.send({ type: 'answer', target: 'subscriber', sdp: answer.sdp ?? '' });
        await this.peer.flushCandidates();
      } catch (err) {
        console.warn('subscriber negotiation failed', err);
        this.events.failed();
      }
    });
  }

  addCandidate(c: IceCandidate): void {
    this.peer.addCandidate(c);
  }

  /** Whether the connection can still carry media (after a dropped signaling connection). */
  get usable(): boolean {
    return this.peer.usable;
  }

  /** Forgets a participant who left at once; their tracks go with the server's next offer. */
  dropParticipant(participantId: string): void {
    const a = this.remote.delete(participantId);
    const b = this.screens.delete(participantId);
    if (a || b) this.emit();
  }

  close(): void {
    this.peer.close();
    this.remote.clear();
    this.screens.clear();
  }

  private emit(): void {
    this.onStreams(new Map(this.remote), new Map(this.screens));
  }
}
