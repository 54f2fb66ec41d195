// The room's state as a pure reducer: protocol events in, what the screen shows out. No I/O here,
// so that every transition can be tested without a browser or a server.

import type {
  JoinedMessage,
  LobbyEntry,
  MeetingInfo,
  Participant,
  Role,
  RunningTimer,
  ServerEvent,
  TimerOption,
} from './protocol';

/**
 * Where the room is in its life. 'waiting' is a join the lobby holds until the host decides. The
 * last four are final: nothing moves it on from there.
 */
export type Phase = 'joining' | 'waiting' | 'live' | 'reconnecting' | 'left' | 'ended' | 'removed' | 'replaced';

/** A short message for the person, shown for a few seconds and read out politely. */
export interface Toast {
  id: number;
  text: string;
}

/** Why the room is reconnecting: the connection dropped, or the server said it is restarting. */
export type ReconnectCause = 'lost' | 'restarting';

export interface RoomState {
  phase: Phase;
  selfId: string | null;
  role: Role;
  self: Participant;
  /** Everyone else, in the order they came. */
  others: Participant[];
  meeting: MeetingInfo | null;
  timer: RunningTimer | null;
  timers: TimerOption[];
  /** Estimate of serverClock - localClock in ms, used only when the clocks clearly differ. */
  clockOffset: number;
  /** What happened lately, oldest first; the room removes each after a while. */
  toasts: Toast[];
  nextToastId: number;
  /** Everyone's participantId in the order they joined, the own one included. */
  joinOrder: string[];
  /** The first join could not reach the server yet and is being retried. */
  retrying: boolean;
  reconnectCause: ReconnectCause;
  /** Set once a `timerEnded` arrived, so the room can sound the end once. */
  timerEndedCount: number;
  /** Who waits in the lobby (the host's view; empty for everyone else). */
  lobby: LobbyEntry[];
}

export type RoomAction =
  | { type: 'joined'; msg: JoinedMessage; now: number }
  | { type: 'event'; event: ServerEvent; now: number }
  | { type: 'reconnecting' }
  | { type: 'left' }
  | { type: 'localMuted'; kind: 'audio' | 'video'; muted: boolean }
  | { type: 'dismissToast'; id: number };

const finalPhases: ReadonlySet<Phase> = new Set<Phase>(['left', 'ended', 'removed', 'replaced']);

export function isFinal(phase: Phase): boolean {
  return finalPhases.has(phase);
}

/** Clock differences below this are latency, not skew: then endsAt is used as sent. */
const skewThresholdMs = 1500;

export function initialRoomState(name: string): RoomState {
  return {
    phase: 'joining',
    selfId: null,
    role: 'participant',
    self: {
      participantId: '',
      name,
      role: 'participant',
      audioMuted: false,
      videoMuted: false,
      mutedByHost: false,
      canUnmute: true,
      handRaised: false,
    },
    others: [],
    meeting: null,
    timer: null,
    timers: [],
    clockOffset: 0,
    toasts: [],
    nextToastId: 1,
    joinOrder: [],
    retrying: false,
    reconnectCause: 'lost',
    timerEndedCount: 0,
    lobby: [],
  };
}

export function roomReducer(state: RoomState, action: RoomAction): RoomState {
  if (isFinal(state.phase)) return state;
  switch (action.type) {
    case 'joined':
      return applyJoined(state, action.msg);
    case 'event':
      return applyEvent(state, action.event, action.now);
    case 'reconnecting':
      // A held join that lost its connection joins again (and may be held again).
      if (state.phase === 'joining' || state.phase === 'waiting') return { ...state, phase: 'joining', retrying: true };
      // A drop after the server said it is restarting is that restart, not a new cause.
      return state.phase === 'reconnecting' ? state : { ...state, phase: 'reconnecting', reconnectCause: 'lost' };
    case 'left':
      return { ...state, phase: 'left' };
    case 'localMuted': {
      const field = action.kind === 'audio' ? 'audioMuted' : 'videoMuted';
      return { ...state, self: { ...state.self, [field]: action.muted } };
    }
    case 'dismissToast':
      return { ...state, toasts: state.toasts.filter((t) => t.id !== action.id) };
  }
}

function applyJoined(state: RoomState, msg: JoinedMessage): RoomState {
  const self: Participant = msg.self
    ? { ...msg.self }
    : { ...state.self, participantId: msg.participantId, role: msg.role };
  return {
    ...state,
    phase: 'live',
    retrying: false,
    selfId: msg.participantId,
    role: msg.role,
    self,
    others: msg.participants.filter((p) => p.participantId !== msg.participantId),
    meeting: msg.meeting,
    timer: msg.timer,
    timers: msg.timers,
    joinOrder: [...msg.participants.map((p) => p.participantId).filter((id) => id !== msg.participantId), msg.participantId],
    reconnectCause: 'lost',
    lobby: msg.lobby ?? [],
  };
}

/** Adds a toast to the state. */
function toast(state: RoomState, text: string): RoomState {
  return { ...state, toasts: [...state.toasts, { id: state.nextToastId, text }], nextToastId: state.nextToastId + 1 };
}

/** What the host's mute means for the person, in a sentence. */
function mutedText(allowSelfUnmute: boolean): string {
  return allowSelfUnmute
    ? 'The host muted you. You can unmute yourself when you want to speak.'
    : 'The host muted you. You can unmute once the host allows it.';
}

function upsert(list: Participant[], p: Participant): Participant[] {
  const i = list.findIndex((x) => x.participantId === p.participantId);
  if (i < 0) return [...list, p];
  const next = list.slice();
  next[i] = p;
  return next;
}

function applyEvent(state: RoomState, ev: ServerEvent, now: number): RoomState {
  switch (ev.type) {
    case 'participantJoined': {
      const id = ev.participant.participantId;
      if (id === state.selfId) return state;
      const known = state.others.some((p) => p.participantId === id);
      const next: RoomState = {
        ...state,
        others: upsert(state.others, ev.participant),
        joinOrder: state.joinOrder.includes(id) ? state.joinOrder : [...state.joinOrder, id],
      };
      return known ? next : toast(next, `${displayNames(everyone(next)).get(id) ?? ev.participant.name} joined`);
    }
    case 'participantUpdated': {
      if (ev.participant.participantId === state.selfId) {
        return { ...state, self: ev.participant, role: ev.participant.role };
      }
      const was = state.others.find((p) => p.participantId === ev.participant.participantId);
      const next: RoomState = { ...state, others: upsert(state.others, ev.participant) };
      if (was && !was.handRaised && ev.participant.handRaised) {
        return toast(next, `${displayNames(everyone(next)).get(ev.participant.participantId) ?? ev.participant.name} raised a hand`);
      }
      return next;
    }
    case 'participantLeft': {
      const gone = state.others.find((p) => p.participantId === ev.participantId);
      if (!gone) return state;
      const name = displayNames(everyone(state)).get(gone.participantId) ?? gone.name;
      const next: RoomState = {
        ...state,
        others: state.others.filter((p) => p.participantId !== ev.participantId),
        joinOrder: state.joinOrder.filter((id) => id !== ev.participantId),
      };
      return toast(next, ev.reason === 'kicked' ? `${name} was removed` : `${name} left`);
    }
    case 'mutedByHost':
      return toast(
        { ...state, self: { ...state.self, audioMuted: true, mutedByHost: true, canUnmute: ev.allowSelfUnmute } },
        mutedText(ev.allowSelfUnmute),
      );
    case 'unmuteAllowed':
      return toast({ ...state, self: { ...state.self, canUnmute: true } }, 'The host allows you to unmute.');
    case 'timerStarted': {
      const offset = ev.endsAt - ev.seconds * 1000 - now;
      return {
        ...state,
        timer: { timerId: ev.timerId, seconds: ev.seconds, endsAt: ev.endsAt },
        clockOffset: Math.abs(offset) > skewThresholdMs ? offset : 0,
      };
    }
    case 'timerCancelled':
      return state.timer ? toast({ ...state, timer: null }, 'The timer was cancelled.') : state;
    case 'timerEnded':
      return toast({ ...state, timer: null, timerEndedCount: state.timerEndedCount + 1 }, 'Time is up.');
    case 'meetingUpdated':
      return { ...state, meeting: ev.meeting };
    case 'kicked':
      return { ...state, phase: 'removed' };
    case 'meetingEnded':
      return { ...state, phase: 'ended', timer: null };
    case 'replaced':
      return { ...state, phase: 'replaced' };
    case 'serverShutdown':
      return state.phase === 'live' || state.phase === 'reconnecting'
        ? { ...state, phase: 'reconnecting', reconnectCause: 'restarting' }
        : state;
    case 'lobbyWaiting':
      return state.phase === 'joining' ? { ...state, phase: 'waiting', retrying: false } : state;
    case 'lobbyUpdated': {
      const known = new Set(state.lobby.map((w) => w.requestId));
      let next: RoomState = { ...state, lobby: ev.waiting };
      for (const w of ev.waiting) if (!known.has(w.requestId)) next = toast(next, `${w.name} is waiting to join`);
      return next;
    }
    case 'screenShareStopped':
      return toast(state, 'Your screen share was stopped by the host.');
    case 'chat':
    case 'offer':
    case 'candidate':
    case 'publisherLayers':
    case 'activeSpeakers':
      return state;
  }
}

/**
 * The people list's order: raised hands first, in the order they went up, then everyone else in
 * the order given (join order).
 */
export function handsFirst(people: readonly Participant[]): Participant[] {
  const raised = people.filter((p) => p.handRaised);
  const rest = people.filter((p) => !p.handRaised);
  // A stable sort: hands raised at the same moment (or with no time) keep the order given.
  raised.sort((a, b) => (a.handRaisedAt ?? Infinity) - (b.handRaisedAt ?? Infinity));
  return [...raised, ...rest];
}

/** Everyone in the meeting, the own participant included, in the order they joined. */
export function everyone(state: Pick<RoomState, 'self' | 'others' | 'joinOrder'>): Participant[] {
  const rank = new Map(state.joinOrder.map((id, i) => [id, i]));
  // Anyone the order does not know yet (the own participant before joined) comes last.
  return [state.self, ...state.others]
    .map((p, i) => ({ p, r: rank.get(p.participantId) ?? state.joinOrder.length + i }))
    .sort((a, b) => a.r - b.r)
    .map((x) => x.p);
}

/**
 * The name to show for each participantId: the name itself, or "Grace (2)", "Grace (3)" for the
 * second and third of the same name (in join order), so that two tabs of one person, or two
 * people of one name, can be told apart wherever names are shown and in accessible names.
 */
export function displayNames(people: readonly Participant[]): Map<string, string> {
  const seen = new Map<string, number>();
  const out = new Map<string, string>();
  for (const p of people) {
    const key = p.name.normalize('NFC').toLocaleLowerCase();
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    out.set(p.participantId, n === 1 ? p.name : `${p.name} (${n})`);
  }
  return out;
}

/** The state of the host's mute over the participants (the host aside), for the host to see. */
export type MuteSummary = 'held' | 'mayUnmute' | 'mixed' | null;

export function muteSummary(others: readonly Participant[]): MuteSummary {
  const guests = others.filter((p) => p.role !== 'host');
  if (guests.length === 0 || !guests.every((p) => p.mutedByHost)) return null;
  if (guests.every((p) => !p.canUnmute)) return 'held';
  if (guests.every((p) => p.canUnmute)) return 'mayUnmute';
  return 'mixed';
}

/** Whole seconds left on the timer at local time now, never negative. */
export function secondsLeft(timer: RunningTimer, now: number, clockOffset: number): number {
  return Math.max(0, Math.ceil((timer.endsAt - (now + clockOffset)) / 1000));
}

/** "m:ss" for a countdown. */
export function formatCountdown(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return `${m}:${s.toString().padStart(2, '0')}`;
}

/** Whether the own microphone may be switched on now. */
export function canUnmuteSelf(self: Participant): boolean {
  return !(self.mutedByHost && !self.canUnmute);
}

/** Names are trimmed, 1 to 64 code points, no control or bidi override characters (PROTOCOL.md). */
export function validateName(raw: string): { name: string } | { error: string } {
  const name = raw.trim();
  // PROTOCOL.md counts a name's length in code points, which is what spreading a string yields.
  // eslint-disable-next-line @typescript-eslint/no-misused-spread
  const length = [...name].length;
  if (length === 0) return { error: 'Please enter your name.' };
  if (length > 64) return { error: 'Names can be at most 64 characters.' };
  // Control characters are exactly what this looks for.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(name)) {
    return { error: 'That name contains characters that cannot be used.' };
  }
  return { name };
}
