// The wire protocol (docs: PROTOCOL.md, version 1.1): every message type the client sends or
// receives, and the WebSocket client that pairs requests with their answers. Nothing else in the
// client builds or parses protocol JSON.

export type Role = 'host' | 'participant';
export type Kind = 'audio' | 'video';
export type Target = 'publisher' | 'subscriber';
export type LeaveReason = 'left' | 'kicked' | 'disconnected';
/** What a published track carries (PROTOCOL.md 1.1): the track id every receiver sees. */
export type Source = 'microphone' | 'camera' | 'screen' | 'screenAudio';
export type VideoSource = 'camera' | 'screen';
/** What a receiver asks of one video track: up to the full layer, up to half, the quarter, none. */
export type Quality = 'high' | 'medium' | 'low' | 'off';

export type ErrorCode =
  | 'bad_request'
  | 'forbidden'
  | 'not_found'
  | 'meeting_ended'
  | 'meeting_locked'
  | 'meeting_full'
  | 'rate_limited'
  | 'internal'
  | 'denied'
  | 'lobby_timeout'
  /** This server's addition: draining, or in a cluster the meeting's node cannot be reached now. */
  | 'unavailable';

export interface Participant {
  participantId: string;
  name: string;
  role: Role;
  audioMuted: boolean;
  videoMuted: boolean;
  mutedByHost: boolean;
  canUnmute: boolean;
  handRaised: boolean;
  /** This server's addition: when the hand went up (Unix ms, server clock); absent while down. */
  handRaisedAt?: number;
  /** The connection dropped and the server waits for it to resume ("Staying connected"). */
  reconnecting?: boolean;
  /** Publishes a screen that the server forwards (absent from servers before 1.1). */
  screenSharing?: boolean;
}

export interface MeetingInfo {
  meetingId: string;
  state: 'open' | 'ended';
  locked: boolean;
  chatAllowed: boolean;
  /** The waiting room: joins without the host key wait for the host's decision. */
  lobby: boolean;
  /** Whether anyone but the host may share a screen (absent from servers before 1.1: true). */
  screenShareAllowed?: boolean;
}

/** One chat message: the `chat` event without its type, and an entry of joined.chat. */
export interface ChatMessage {
  messageId: string;
  /** The sender's participantId. */
  from: string;
  /** The sender's name when it was sent. */
  name: string;
  text: string;
  /** Unix milliseconds on the server's clock. */
  sentAt: number;
  private: boolean;
}

/** One join held in the lobby, as the host sees it. */
export interface LobbyEntry {
  requestId: string;
  name: string;
  /** Unix milliseconds on the server's clock. */
  since: number;
}

/** One entry of the meeting's audit log (GET /api/meetings/{id}/audit). */
export interface AuditEntry {
  at: number;
  action: string;
  by: string;
  byName: string;
  target?: string;
  targetName?: string;
  detail?: Record<string, unknown>;
}

export interface TimerOption {
  timerId: string;
  seconds: number;
}

export interface RunningTimer extends TimerOption {
  /** Unix milliseconds on the server's clock. */
  endsAt: number;
}

export interface IceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

// ---- client → server ----

export type ClientMessage =
  | {
      type: 'join';
      meetingId: string;
      name: string;
      hostKey?: string;
      /** Takes back the participant of an earlier joined (PROTOCOL.md 1.1, "Staying connected"). */
      resumeToken?: string;
      /** This server's addition: false when the client has no peer connections left (a reload). */
      keepMedia?: boolean;
      /** This server's addition (docs/protocol.md): this browser's id, kept in localStorage. */
      browserId?: string;
    }
  | { type: 'offer'; target: 'publisher'; sdp: string; sources?: Record<string, Source> }
  | { type: 'answer'; target: 'subscriber'; sdp: string }
  | { type: 'candidate'; target: Target; candidate: IceCandidate }
  | { type: 'setMuted'; kind: Kind; muted: boolean }
  | { type: 'leave' }
  | { type: 'muteAll'; allowSelfUnmute: boolean }
  | { type: 'muteParticipant'; participantId: string; allowSelfUnmute: boolean }
  | { type: 'allowUnmute'; participantId?: string }
  | { type: 'startTimer'; timerId: string }
  | { type: 'cancelTimer' }
  /** ban is this server's addition: the person's browser is refused for the meeting's life. */
  | { type: 'kick'; participantId: string; ban?: boolean }
  | { type: 'setLocked'; locked: boolean }
  | { type: 'endMeeting' }
  | { type: 'sendChat'; text: string; to?: string }
  | { type: 'setChatAllowed'; allowed: boolean }
  | { type: 'setHandRaised'; raised: boolean }
  | { type: 'lowerHand'; participantId?: string }
  | { type: 'setLobby'; enabled: boolean }
  | { type: 'admit'; requestId: string }
  | { type: 'deny'; requestId: string }
  | { type: 'admitAll' }
  | { type: 'setVideoQuality'; participantId: string; source: VideoSource; quality: Quality }
  | { type: 'iceRestart'; target: 'subscriber' }

  | { type: 'setScreenShareAllowed'; allowed: boolean }
  | { type: 'stopScreenShare'; participantId: string };

export type RequestId = number | string;

// ---- server → client ----

export interface JoinedMessage {
  type: 'joined';
  id?: RequestId;
  participantId: string;
  role: Role;
  meeting: MeetingInfo;
  participants: Participant[];
  timer: RunningTimer | null;
  timers: TimerOption[];
  /** Addition to PROTOCOL.md v1: the joiner's own state (it may join muted by the host). */
  self?: Participant;
  protocol?: string;
  /** The meeting's last public chat messages, oldest first. */
  chat?: ChatMessage[];
  /** Who waits in the lobby: the host's joined only. */
  lobby?: LobbyEntry[];
  /** The secret that resumes this participant after a drop; a fresh one on every joined. */
  resumeToken?: string;
  /** This join took back an earlier participant. */
  resumed?: boolean;
  /** This server's addition, on a resume: the server kept the peer connections (else make new ones). */
  mediaKept?: boolean;
  /** STUN and TURN servers (the server's own relay, with expiring credentials) for both peer connections. */
  iceServers?: IceServer[];
}

/** An entry of joined.iceServers, shaped as RTCIceServer. */
export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

export interface OkMessage {
  type: 'ok';
  id: RequestId;
  [result: string]: unknown;
}

export interface ErrorMessage {
  type: 'error';
  id?: RequestId;
  code: ErrorCode;
  message: string;
}

export interface AnswerMessage {
  type: 'answer';
  id?: RequestId;
  target: Target;
  sdp: string;
}

export type ServerEvent =
  | { type: 'offer'; target: 'subscriber'; sdp: string }
  | { type: 'candidate'; target: Target; candidate: IceCandidate }
  | { type: 'participantJoined'; participant: Participant }
  | { type: 'participantUpdated'; participant: Participant }
  | { type: 'participantLeft'; participantId: string; reason: LeaveReason }
  | { type: 'mutedByHost'; allowSelfUnmute: boolean }
  | { type: 'unmuteAllowed' }
  | { type: 'timerStarted'; timerId: string; seconds: number; endsAt: number }
  | { type: 'timerCancelled' }
  | { type: 'timerEnded'; timerId: string }
  | { type: 'meetingUpdated'; meeting: MeetingInfo }
  | { type: 'kicked' }
  | { type: 'meetingEnded' }
  | { type: 'replaced' }
  | ({ type: 'chat' } & ChatMessage)
  /** This join waits in the lobby; its answer comes when the host decides. */
  | { type: 'lobbyWaiting' }
  | { type: 'lobbyUpdated'; waiting: LobbyEntry[] }
  /** Addition to PROTOCOL.md v1: the server is going away; the connection closes next (1001). */
  | { type: 'serverShutdown' }
  /** To a publisher: the simulcast layers (RIDs) of a source that someone needs now. */
  | { type: 'publisherLayers'; source: VideoSource; active: string[] }
  /** To a sharer: the server stopped forwarding its screen (the host stopped it, or turned sharing off). */
  | { type: 'screenShareStopped' }
  /** Who is speaking now, loudest first (never someone muted). */
  | { type: 'activeSpeakers'; speakers: string[] };

export type ServerMessage = JoinedMessage | OkMessage | ErrorMessage | AnswerMessage | ServerEvent;

/** A request the server refused, or a connection that went away before the answer. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode | 'closed',
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/**
 * The server's event types, derived from ServerEvent: `satisfies` makes the compiler refuse this
 * table until it names exactly the union's types, so a new event is added to ServerEvent above and
 * then here, both in this file. Types not listed (from a newer server) are not events: ignored.
 */
const eventTypeTable = {
  offer: true,
  candidate: true,
  participantJoined: true,
  participantUpdated: true,
  participantLeft: true,
  mutedByHost: true,
  unmuteAllowed: true,
  timerStarted: true,
  timerCancelled: true,
  timerEnded: true,
  meetingUpdated: true,
  kicked: true,
  meetingEnded: true,
  replaced: true,
  chat: true,
  lobbyWaiting: true,
  lobbyUpdated: true,
  serverShutdown: true,
  publisherLayers: true,
  screenShareStopped: true,
  activeSpeakers: true,
} as const satisfies Record<ServerEvent['type'], true>;

const eventTypes: ReadonlySet<string> = new Set(Object.keys(eventTypeTable));

/** Parses one text frame; anything that is not an object with a string "type" is null. */
export function parseServerMessage(data: string): ServerMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  if (typeof (value as { type?: unknown }).type !== 'string') return null;
  return value as ServerMessage;
}

/**
 * The request id a message answers, if it carries one. Read from the parsed JSON as it came, not
 * as the types promise: a null or malformed id is no id.
 */
function replyId(msg: ServerMessage): RequestId | undefined {
  const id: unknown = (msg as { id?: unknown }).id;
  return typeof id === 'number' || typeof id === 'string' ? id : undefined;
}

export function isServerEvent(msg: ServerMessage): msg is ServerEvent {
  // An answer or candidate carrying our id is a reply, not an event.
  if (replyId(msg) !== undefined) return false;
  return eventTypes.has(msg.type);
}

/** The subset of the browser WebSocket the client uses (also met by the ws package in tests). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type SocketFactory = (url: string) => SocketLike;

/** The answers a request can get, by request type. */
export interface ReplyFor {
  join: JoinedMessage;
  offer: AnswerMessage;
}
type Reply<T extends ClientMessage['type']> = T extends keyof ReplyFor ? ReplyFor[T] : OkMessage;

interface Pending {
  resolve: (msg: ServerMessage) => void;
  reject: (err: Error) => void;
  /** Stops the timeout: the answer comes when it comes (a join held in the lobby). */
  wait: () => void;
}

const OPEN = 1;

/**
 * One WebSocket session with the server. Requests get ids and resolve with their answer
 * (`joined`, `answer` or `ok`) or reject with a ProtocolError; everything else is an event.
 */
export class ProtocolClient {
  private socket: SocketLike | null = null;
  private nextId = 1;
  private readonly pending = new Map<RequestId, Pending>();
  private readonly eventHandlers = new Set<(ev: ServerEvent) => void>();
  private readonly closeHandlers = new Set<(code: number, reason: string) => void>();
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly factory: SocketFactory = (u) => new WebSocket(u) as unknown as SocketLike,
  ) {}

  /** Opens the socket; rejects if it closes before opening or within timeoutMs. */
  connect(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = this.factory(this.url);
      this.socket = socket;
      let opened = false;
      const timer = setTimeout(() => {
        if (!opened) {
          reject(new ProtocolError('closed', 'timed out connecting to the server'));
          socket.close();
        }
      }, timeoutMs);
      socket.onopen = () => {
        opened = true;
        clearTimeout(timer);
        resolve();
      };
      socket.onerror = () => {
        // The close event follows and carries what there is to know.
      };
      socket.onmessage = (ev) => {
        if (typeof ev.data === 'string') this.receive(ev.data);
      };
      socket.onclose = (ev) => {
        clearTimeout(timer);
        this.closed = true;
        const err = new ProtocolError('closed', 'connection closed');
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        if (!opened) {
          reject(new ProtocolError('closed', `could not connect (${ev.code})`));
          return;
        }
        for (const h of this.closeHandlers) h(ev.code, ev.reason);
      };
    });
  }

  /** Subscribes to server events; returns the unsubscribe function. */
  onEvent(handler: (ev: ServerEvent) => void): () => void {
    this.eventHandlers.add(handler);
    return () => this.eventHandlers.delete(handler);
  }

  /** Called once if the connection closes after it opened (not for close() by us). */
  onClose(handler: (code: number, reason: string) => void): () => void {
    this.closeHandlers.add(handler);
    return () => this.closeHandlers.delete(handler);
  }

  get isOpen(): boolean {
    return this.openSocket() !== null;
  }

  /** Sends a message that wants no answer. Quietly dropped once the socket is gone. */
  send(msg: ClientMessage): void {
    this.openSocket()?.send(JSON.stringify(msg));
  }

  /** Sends a request with an id and waits for its one answer. */
  request<M extends ClientMessage>(msg: M, timeoutMs = 15_000): Promise<Reply<M['type']>> {
    const socket = this.openSocket();
    if (!socket) return Promise.reject(new ProtocolError('closed', 'not connected'));
    const id = this.nextId++;
    return new Promise<Reply<M['type']>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ProtocolError('closed', `no answer to ${msg.type}`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as Reply<M['type']>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
        wait: () => clearTimeout(timer),
      });
      socket.send(JSON.stringify({ ...msg, id }));
    });
  }

  /** Closes without firing onClose handlers. */
  close(): void {
    this.closeHandlers.clear();
    this.eventHandlers.clear();
    if (this.socket && !this.closed) this.socket.close(1000, 'bye');
  }

  private openSocket(): SocketLike | null {
    return !this.closed && this.socket?.readyState === OPEN ? this.socket : null;
  }

  private receive(data: string): void {
    const msg = parseServerMessage(data);
    if (!msg) return;
    const id = replyId(msg);
    const p = id === undefined ? undefined : this.pending.get(id);
    if (id !== undefined && p) {
      this.pending.delete(id);
      if (msg.type === 'error') p.reject(new ProtocolError(msg.code, msg.message));
      else p.resolve(msg);
      return;
    }
    if (isServerEvent(msg)) {
      // The join is held until the host decides (or the server's lobby timeout answers it).
      if (msg.type === 'lobbyWaiting') for (const w of this.pending.values()) w.wait();
      for (const h of this.eventHandlers) h(msg);
    } else if (msg.type === 'error') {
      // The server also reports errors of requests sent without an id: worth a log line only.
      console.warn(`server error ${msg.code}: ${msg.message}`);
    }
  }
}
