// The room's state as a pure reducer: protocol events in, what the screen shows out. No I/O here,
// so that every transition can be tested without a browser or a server.

import type {
  JoinedMessage,
  MeetingInfo,
  Participant,
  Role,
  RunningTimer,
  ServerEvent,
  TimerOption,
} from './protocol';

/** Where the room is in its life. The last four are final: nothing moves it on from there. */
export type Phase = 'joining' | 'live' | 'reconnecting' | 'left' | 'ended' | 'removed' | 'replaced';

export type Notice =
  | { kind: 'mutedByHost'; allowSelfUnmute: boolean }
  | { kind: 'unmuteAllowed' }
  | { kind: 'timerEnded' };

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
  notice: Notice | null;
  /** The first join could not reach the server yet and is being retried. */
  retrying: boolean;
}

export type RoomAction =
  | { type: 'joined'; msg: JoinedMessage; now: number }
  | { type: 'event'; event: ServerEvent; now: number }
  | { type: 'reconnecting' }
  | { type: 'left' }
  | { type: 'localMuted'; kind: 'audio' | 'video'; muted: boolean }
  | { type: 'dismissNotice' };

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
    },
    others: [],
    meeting: null,
    timer: null,
    timers: [],
    clockOffset: 0,
    notice: null,
    retrying: false,
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
      return state.phase === 'joining' ? { ...state, retrying: true } : { ...state, phase: 'reconnecting' };
    case 'left':
      return { ...state, phase: 'left' };
    case 'localMuted': {
      const field = action.kind === 'audio' ? 'audioMuted' : 'videoMuted';
      return { ...state, self: { ...state.self, [field]: action.muted } };
    }
    case 'dismissNotice':
      return { ...state, notice: null };
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
    notice: self.mutedByHost ? { kind: 'mutedByHost', allowSelfUnmute: self.canUnmute } : state.notice,
  };
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
    case 'participantJoined':
      if (ev.participant.participantId === state.selfId) return state;
      return { ...state, others: upsert(state.others, ev.participant) };
    case 'participantUpdated':
      if (ev.participant.participantId === state.selfId) {
        return { ...state, self: ev.participant, role: ev.participant.role };
      }
      return { ...state, others: upsert(state.others, ev.participant) };
    case 'participantLeft':
      return { ...state, others: state.others.filter((p) => p.participantId !== ev.participantId) };
    case 'mutedByHost':
      return {
        ...state,
        self: { ...state.self, audioMuted: true, mutedByHost: true, canUnmute: ev.allowSelfUnmute },
        notice: { kind: 'mutedByHost', allowSelfUnmute: ev.allowSelfUnmute },
      };
    case 'unmuteAllowed':
      return { ...state, self: { ...state.self, canUnmute: true }, notice: { kind: 'unmuteAllowed' } };
    case 'timerStarted': {
      const offset = ev.endsAt - ev.seconds * 1000 - now;
      return {
        ...state,
        timer: { timerId: ev.timerId, seconds: ev.seconds, endsAt: ev.endsAt },
        clockOffset: Math.abs(offset) > skewThresholdMs ? offset : 0,
        notice: state.notice?.kind === 'timerEnded' ? null : state.notice,
      };
    }
    case 'timerCancelled':
      return { ...state, timer: null };
    case 'timerEnded':
      return { ...state, timer: null, notice: { kind: 'timerEnded' } };
    case 'meetingUpdated':
      return { ...state, meeting: ev.meeting };
    case 'kicked':
      return { ...state, phase: 'removed' };
    case 'meetingEnded':
      return { ...state, phase: 'ended', timer: null };
    case 'replaced':
      return { ...state, phase: 'replaced' };
    case 'serverShutdown':
      return state.phase === 'live' ? { ...state, phase: 'reconnecting' } : state;
    case 'offer':
    case 'candidate':
      return state;
  }
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
