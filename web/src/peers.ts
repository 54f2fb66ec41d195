// The two peer connections of a joined session (PROTOCOL.md, "Media"): the publisher sends the
// own microphone and camera with one offer; the subscriber answers the server's offers and yields
// everyone else's streams. Both report failure through a callback; when to give up on a
// connection, rejoin or tear down belongs to the session, not here.

import type { IceCandidate, IceServer, ProtocolClient } from './protocol';
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

/** A peer connection plus the remote candidates that came before its remote description. */
class Peer {
  readonly pc: RTCPeerConnection;
  private early: RTCIceCandidateInit[] = [];
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(onFailed: () => void, iceServers: readonly IceServer[]) {
    this.pc = new RTCPeerConnection(rtcConfig(iceServers));
    this.pc.onconnectionstatechange = () => {
      if (this.pc.connectionState === 'failed') onFailed();
    };
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
    this.pc.ontrack = null;
    this.pc.onicecandidate = null;
    this.pc.onconnectionstatechange = null;
    this.pc.close();
  }
}

/** Sends the own microphone and camera to the server. */
export class Publisher {
  private readonly peer: Peer;
  private readonly audioSender: RTCRtpSender;
  private readonly videoSender: RTCRtpSender;

  constructor(
    private readonly signaling: Signaling,
    tracks: OwnTracks,
    onFailed: () => void,
    iceServers: readonly IceServer[] = [],
  ) {
    this.peer = new Peer(onFailed, iceServers);
    // Both transceivers exist even without a device, so that one switched on later needs no
    // new negotiation: replaceTrack is enough.
    const msid = new MediaStream();
    this.audioSender = this.peer.pc.addTransceiver(tracks.audio ?? 'audio', {
      direction: 'sendonly',
      streams: [msid],
    }).sender;
    // The camera goes as three simulcast layers where the browser can (simulcast.ts).
    this.videoSender = addCameraTransceiver(this.peer.pc, tracks.video, msid);
  }

  /** Sends only the camera layers the server says someone needs (publisherLayers). */
  applyLayers(active: readonly string[]): Promise<void> {
    return setActiveLayers(this.videoSender, active);
  }

  /** Offers the tracks to the server and applies its answer. */
  async negotiate(): Promise<void> {
    const { pc } = this.peer;
    // Candidates found before the offer went out wait for it: the server would not know them.
    const outgoing: IceCandidate[] = [];
    const send = (candidate: IceCandidate) => {
      this.signaling.send({ type: 'candidate', target: 'publisher', candidate });
    };
    this.peer.sendCandidates((c) => outgoing.push(c));
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const answer = this.signaling.request({ type: 'offer', target: 'publisher', sdp: offer.sdp ?? '' });
    this.peer.sendCandidates(send);
    outgoing.forEach(send);
    const reply = await answer;
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

  /** The own microphone's level now, 0 to 1, as the browser measures what it sends. */
  async audioLevel(): Promise<number> {
    const stats = await this.peer.pc.getStats().catch(() => null);
    let level = 0;
    stats?.forEach((s: { type?: string; kind?: string; audioLevel?: number }) => {
      if (s.type === 'media-source' && s.kind === 'audio') level = Math.max(level, s.audioLevel ?? 0);
    });
    return level;
  }

  close(): void {
    this.peer.close();
  }
}

/** The fields of an inbound audio stream's stats that speaking detection reads. */
interface InboundAudio {
  type?: string;
  kind?: string;
  mid?: string;
  audioLevel?: number;
}

/** Receives everyone else's media: answers the server's offers and keeps a stream per person. */
export class Subscriber {
  private readonly peer: Peer;
  /** By participantId: the server names each stream after its sender. */
  private readonly remote = new Map<string, MediaStream>();
  /**
   * Whose track each receiver carries. Not by track id: the server names tracks after their
   * source ("microphone", "camera"), the same for everyone.
   */
  private readonly receiverOwner = new Map<RTCRtpReceiver, string>();

  constructor(
    private readonly signaling: Signaling,
    private readonly onStreams: (streams: ReadonlyMap<string, MediaStream>) => void,
    private readonly onFailed: () => void,
    iceServers: readonly IceServer[] = [],
  ) {
    this.peer = new Peer(onFailed, iceServers);
    this.peer.sendCandidates((candidate) => signaling.send({ type: 'candidate', target: 'subscriber', candidate }));
    this.peer.pc.ontrack = (ev) => {
      const stream = ev.streams[0];
      if (!stream || this.peer.isClosed) return;
      this.receiverOwner.set(ev.receiver, stream.id);
      this.remote.set(stream.id, stream);
      stream.onremovetrack = () => {
        if (stream.getTracks().length === 0 && this.remote.get(stream.id) === stream) {
          this.remote.delete(stream.id);
        }
        this.emit();
      };
      ev.track.onended = () => this.emit();
      this.emit();
    };
  }

  /** Answers an offer of the server's, in turn with earlier ones. */
  answer(sdp: string): void {
    const { pc } = this.peer;
    void this.peer.serial(async () => {
      try {
        await pc.setRemoteDescription({ type: 'offer', sdp });
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        if (this.peer.isClosed) return;
        this.signaling.send({ type: 'answer', target: 'subscriber', sdp: answer.sdp ?? '' });
        await this.peer.flushCandidates();
      } catch (err) {
        console.warn('subscriber negotiation failed', err);
        this.onFailed();
      }
    });
  }

  addCandidate(c: IceCandidate): void {
    this.peer.addCandidate(c);
  }

  /** Forgets a participant who left at once; their tracks go with the server's next offer. */
  dropParticipant(participantId: string): void {
    if (this.remote.delete(participantId)) this.emit();
  }

  /**
   * The level of each other person's audio now, 0 to 1, by participantId, as this browser measures
   * what it decodes. (The receivers' synchronization sources would carry levels only if the server
   * negotiated the ssrc-audio-level header extension, which it does not.)
   */
  async audioLevels(): Promise<[participantId: string, level: number][]> {
    const { pc } = this.peer;
    // Each inbound stream's stats name its transceiver's mid; the receiver there says whose it is.
    const byMid = new Map<string, string>();
    const receivers: [RTCRtpReceiver, string][] = [];
    for (const t of pc.getTransceivers()) {
      const owner = this.receiverOwner.get(t.receiver);
      if (owner === undefined || t.receiver.track.kind !== 'audio') continue;
      receivers.push([t.receiver, owner]);
      if (t.mid !== null) byMid.set(t.mid, owner);
    }
    const stats = await pc.getStats().catch(() => null);
    const out: [string, number][] = [];
    let withoutMid = false;
    for (const s of (stats?.values() ?? []) as Iterable<InboundAudio>) {
      if (s.type !== 'inbound-rtp' || s.kind !== 'audio') continue;
      if (s.mid === undefined) {
        withoutMid = true;
        continue;
      }
      const owner = byMid.get(s.mid);
      if (owner !== undefined) out.push([owner, s.audioLevel ?? 0]);
    }
    if (!withoutMid) return out;
    // A browser whose stats carry no mid: each receiver's own stats, one by one.
    const levels = await Promise.all(
      receivers.map(async ([r, owner]): Promise<[string, number]> => {
        const st = await r.getStats().catch(() => null);
        let level = 0;
        st?.forEach((x: InboundAudio) => {
          if (x.type === 'inbound-rtp') level = Math.max(level, x.audioLevel ?? 0);
        });
        return [owner, level];
      }),
    );
    return levels;
  }

  close(): void {
    this.peer.close();
    this.remote.clear();
    this.receiverOwner.clear();
  }

  private emit(): void {
    this.onStreams(new Map(this.remote));
  }
}
