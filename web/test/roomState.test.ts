import { describe, expect, it } from 'vitest';
import type { JoinedMessage, Participant, ServerEvent } from '../src/protocol';
import {
  canUnmuteSelf,
  displayNames,
  everyone,
  muteSummary,
  formatCountdown,
  handsFirst,
  initialRoomState,
  roomReducer,
  secondsLeft,
  validateName,
  type Phase,
  type RoomAction,
  type RoomState,
} from '../src/roomState';

function person(id: string, name: string, extra: Partial<Participant> = {}): Participant {
  return {
    participantId: id,
    name,
    role: 'participant',
    audioMuted: false,
    videoMuted: false,
    mutedByHost: false,
    canUnmute: true,
    handRaised: false,
    ...extra,
  };
}

const now = 1_764_200_000_000;

function joined(extra: Partial<JoinedMessage> = {}): JoinedMessage {
  return {
    type: 'joined',
    id: 1,
    participantId: 'p-self',
    role: 'participant',
    meeting: { meetingId: 'm1', state: 'open', locked: false, chatAllowed: true, lobby: false },
    participants: [person('p-host', 'Ada', { role: 'host' })],
    timer: null,
    timers: [
      { timerId: 't15', seconds: 15 },
      { timerId: 't30', seconds: 30 },
      { timerId: 't45', seconds: 45 },
    ],
    self: person('p-self', 'Grace'),
    ...extra,
  };
}

function run(actions: RoomAction[], start: RoomState = initialRoomState('Grace')): RoomState {
  return actions.reduce(roomReducer, start);
}

const ev = (event: ServerEvent, at = now): RoomAction => ({ type: 'event', event, now: at });
const texts = (s: RoomState) => s.toasts.map((t) => t.text);

describe('room state', () => {
  it('starts joining with the own name and nobody else', () => {
    const s = initialRoomState('Grace');
    expect(s.phase).toBe('joining');
    expect(s.self.name).toBe('Grace');
    expect(s.others).toEqual([]);
  });

  it('takes everything from joined, including the own state', () => {
    const s = run([{ type: 'joined', msg: joined(), now }]);
    expect(s.phase).toBe('live');
    expect(s.selfId).toBe('p-self');
    expect(s.role).toBe('participant');
    expect(s.others.map((p) => p.name)).toEqual(['Ada']);
    expect(s.timers.map((t) => t.timerId)).toEqual(['t15', 't30', 't45']);
    expect(s.meeting?.locked).toBe(false);
  });

  it('shows the host mute at once when joining while it is in force', () => {
    const self = person('p-self', 'Grace', { audioMuted: true, mutedByHost: true, canUnmute: false });
    const s = run([{ type: 'joined', msg: joined({ self }), now }]);
    expect(s.self.mutedByHost).toBe(true);
    expect(canUnmuteSelf(s.self)).toBe(false);
    // Said where the microphone button is, not as news: no toast for a state joined into.
    expect(s.toasts).toEqual([]);
  });

  it('falls back to its own idea of self when joined has no self', () => {
    const msg = joined({ role: 'host' });
    delete msg.self;
    const s = run([{ type: 'joined', msg, now }]);
    expect(s.self.participantId).toBe('p-self');
    expect(s.self.name).toBe('Grace');
    expect(s.self.role).toBe('host');
  });

  it('adds, updates and removes others in join order', () => {
    const s = run([
      { type: 'joined', msg: joined(), now },
      ev({ type: 'participantJoined', participant: person('p-2', 'Linus') }),
      ev({ type: 'participantJoined', participant: person('p-3', 'Barbara') }),
      ev({ type: 'participantUpdated', participant: person('p-2', 'Linus', { videoMuted: true }) }),
      ev({ type: 'participantLeft', participantId: 'p-host', reason: 'left' }),
    ]);
    expect(s.others.map((p) => [p.name, p.videoMuted])).toEqual([
      ['Linus', true],
      ['Barbara', false],
    ]);
  });

  it('does not list itself among the others', () => {
    const s = run([
      { type: 'joined', msg: joined(), now },
      ev({ type: 'participantJoined', participant: person('p-self', 'Grace') }),
    ]);
    expect(s.others.map((p) => p.participantId)).toEqual(['p-host']);
  });

  it('applies updates about itself to self', () => {
    const s = run([
      { type: 'joined', msg: joined(), now },
      ev({ type: 'participantUpdated', participant: person('p-self', 'Grace', { audioMuted: true }) }),
    ]);
    expect(s.self.audioMuted).toBe(true);
    expect(s.others).toHaveLength(1);
  });

  it('locks the microphone on mutedByHost without permission, and frees it on unmuteAllowed', () => {
    let s = run([{ type: 'joined', msg: joined(), now }, ev({ type: 'mutedByHost', allowSelfUnmute: false })]);
    expect(s.self).toMatchObject({ audioMuted: true, mutedByHost: true, canUnmute: false });
    expect(canUnmuteSelf(s.self)).toBe(false);
    expect(texts(s)).toEqual(['The host muted you. You can unmute once the host allows it.']);

    s = roomReducer(s, ev({ type: 'unmuteAllowed' }));
    expect(s.self.canUnmute).toBe(true);
    expect(canUnmuteSelf(s.self)).toBe(true);
    expect(texts(s).at(-1)).toBe('The host allows you to unmute.');

    s = roomReducer(
      s,
      ev({ type: 'participantUpdated', participant: person('p-self', 'Grace', { audioMuted: false }) }),
    );
    expect(s.self.mutedByHost).toBe(false);
  });

  it('lets the muted participant unmute when the host allowed self-unmute', () => {
    const s = run([{ type: 'joined', msg: joined(), now }, ev({ type: 'mutedByHost', allowSelfUnmute: true })]);
    expect(s.self.mutedByHost).toBe(true);
    expect(canUnmuteSelf(s.self)).toBe(true);
  });

  it('runs the timer from endsAt and clears it on end or cancel', () => {
    let s = run([
      { type: 'joined', msg: joined(), now },
      ev({ type: 'timerStarted', timerId: 't15', seconds: 15, endsAt: now + 15_000 }),
    ]);
    expect(s.timer).toEqual({ timerId: 't15', seconds: 15, endsAt: now + 15_000 });
    expect(s.clockOffset).toBe(0);
    expect(secondsLeft(s.timer!, now, s.clockOffset)).toBe(15);
    expect(secondsLeft(s.timer!, now + 14_001, s.clockOffset)).toBe(1);
    expect(secondsLeft(s.timer!, now + 20_000, s.clockOffset)).toBe(0);

    s = roomReducer(s, ev({ type: 'timerEnded', timerId: 't15' }));
    expect(s.timer).toBeNull();
    expect(s.timerEndedCount).toBe(1);
    expect(texts(s)).toEqual(['Time is up.']);

    s = roomReducer(s, ev({ type: 'timerStarted', timerId: 't30', seconds: 30, endsAt: now + 30_000 }));
    s = roomReducer(s, ev({ type: 'timerCancelled' }));
    expect(s.timer).toBeNull();
    expect(texts(s)).toEqual(['Time is up.', 'The timer was cancelled.']);
    // A cancel with nothing running is no news.
    expect(texts(roomReducer(s, ev({ type: 'timerCancelled' })))).toHaveLength(2);
  });

  it('corrects for a server clock that is clearly off', () => {
    // Server clock 60 s ahead of ours: the countdown must still start at the full 30 s.
    const skew = 60_000;
    const s = run([
      { type: 'joined', msg: joined(), now },
      ev({ type: 'timerStarted', timerId: 't30', seconds: 30, endsAt: now + skew + 30_000 }),
    ]);
    expect(s.clockOffset).toBe(skew);
    expect(secondsLeft(s.timer!, now, s.clockOffset)).toBe(30);
    expect(secondsLeft(s.timer!, now + 10_000, s.clockOffset)).toBe(20);
  });

  it('keeps a running timer that was there before joining', () => {
    const timer = { timerId: 't45', seconds: 45, endsAt: now + 12_000 };
    const s = run([{ type: 'joined', msg: joined({ timer }), now }]);
    expect(secondsLeft(s.timer!, now, s.clockOffset)).toBe(12);
  });

  it('follows lock changes', () => {
    const s = run([
      { type: 'joined', msg: joined(), now },
      ev({ type: 'meetingUpdated', meeting: { meetingId: 'm1', state: 'open', locked: true, chatAllowed: true, lobby: false } }),
    ]);
    expect(s.meeting?.locked).toBe(true);
  });

  it.each<[ServerEvent, Phase]>([
    [{ type: 'kicked' }, 'removed'],
    [{ type: 'meetingEnded' }, 'ended'],
    [{ type: 'replaced' }, 'replaced'],
  ])('ends on %o and ignores everything after', (event, phase) => {
    const s = run([
      { type: 'joined', msg: joined(), now },
      ev(event),
      ev({ type: 'participantJoined', participant: person('p-9', 'Late') }),
      { type: 'reconnecting' },
      { type: 'joined', msg: joined(), now },
    ]);
    expect(s.phase).toBe(phase);
    expect(s.others.map((p) => p.name)).toEqual(['Ada']);
  });

  it('goes reconnecting on a lost connection and back to live with a fresh list on rejoin', () => {
    let s = run([
      { type: 'joined', msg: joined(), now },
      ev({ type: 'participantJoined', participant: person('p-2', 'Linus') }),
      { type: 'reconnecting' },
    ]);
    expect(s.phase).toBe('reconnecting');
    s = roomReducer(s, {
      type: 'joined',
      msg: joined({ participantId: 'p-new', self: person('p-new', 'Grace'), participants: [person('p-host', 'Ada')] }),
      now,
    });
    expect(s.phase).toBe('live');
    expect(s.selfId).toBe('p-new');
    expect(s.others.map((p) => p.name)).toEqual(['Ada']);
  });

  it('shows reconnecting as soon as the server says it shuts down, and says why until rejoined', () => {
    let s = run([{ type: 'joined', msg: joined(), now }, ev({ type: 'serverShutdown' })]);
    expect(s.phase).toBe('reconnecting');
    expect(s.reconnectCause).toBe('restarting');
    // The connection then drops: still the restart.
    s = roomReducer(s, { type: 'reconnecting' });
    expect(s.reconnectCause).toBe('restarting');
    s = roomReducer(s, { type: 'joined', msg: joined(), now });
    expect(s.phase).toBe('live');
    expect(s.reconnectCause).toBe('lost');
    expect(roomReducer(s, { type: 'reconnecting' }).reconnectCause).toBe('lost');
  });

  it('stays joining (not reconnecting) while the first join is still being tried', () => {
    const s = run([{ type: 'reconnecting' }]);
    expect(s.phase).toBe('joining');
    expect(s.retrying).toBe(true);
    expect(roomReducer(s, { type: 'joined', msg: joined(), now }).retrying).toBe(false);
  });

  it('records leaving and own mute changes', () => {
    let s = run([{ type: 'joined', msg: joined(), now }, { type: 'localMuted', kind: 'video', muted: true }]);
    expect(s.self.videoMuted).toBe(true);
    s = roomReducer(s, { type: 'left' });
    expect(s.phase).toBe('left');
  });
});

describe('helpers', () => {
  it('formats countdowns', () => {
    expect(formatCountdown(45)).toBe('0:45');
    expect(formatCountdown(5)).toBe('0:05');
    expect(formatCountdown(75)).toBe('1:15');
    expect(formatCountdown(0)).toBe('0:00');
  });

  it('validates names like the server', () => {
    expect(validateName('  Grace  ')).toEqual({ name: 'Grace' });
    expect(validateName('\u00a0Ada\u2003')).toEqual({ name: 'Ada' });
    expect(validateName('   ')).toHaveProperty('error');
    expect(validateName('x'.repeat(64))).toEqual({ name: 'x'.repeat(64) });
    expect(validateName('x'.repeat(65))).toHaveProperty('error');
    expect(validateName('😀'.repeat(64))).toEqual({ name: '😀'.repeat(64) });
    expect(validateName('a\u0007b')).toHaveProperty('error');
    expect(validateName('evil\u202Eman')).toHaveProperty('error');
    expect(validateName('iso\u2066late')).toHaveProperty('error');
    expect(validateName('Zoë Ölmez')).toEqual({ name: 'Zoë Ölmez' });
  });
});

describe('toasts', () => {
  it('says who joined, left and was removed, with the names as shown', () => {
    let s = run([
      { type: 'joined', msg: joined(), now },
      ev({ type: 'participantJoined', participant: person('p-2', 'Linus') }),
      ev({ type: 'participantJoined', participant: person('p-3', 'Grace') }),
      ev({ type: 'participantLeft', participantId: 'p-2', reason: 'left' }),
      ev({ type: 'participantLeft', participantId: 'p-3', reason: 'kicked' }),
      ev({ type: 'participantLeft', participantId: 'p-host', reason: 'disconnected' }),
    ]);
    expect(texts(s)).toEqual(['Linus joined', 'Grace (2) joined', 'Linus left', 'Grace (2) was removed', 'Ada left']);
    // An update of someone already there, or a leave of someone unknown, is no news.
    s = roomReducer(s, ev({ type: 'participantLeft', participantId: 'nobody', reason: 'left' }));
    expect(texts(s)).toHaveLength(5);
    const ids = s.toasts.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    s = roomReducer(s, { type: 'dismissToast', id: ids[0]! });
    expect(texts(s)[0]).toBe('Grace (2) joined');
  });

  it('tells the person about a mute that allows unmuting', () => {
    const s = run([{ type: 'joined', msg: joined(), now }, ev({ type: 'mutedByHost', allowSelfUnmute: true })]);
    expect(texts(s)).toEqual(['The host muted you. You can unmute yourself when you want to speak.']);
  });
});

describe('names as shown', () => {
  it('numbers the second and third of one name in join order, the first keeps it', () => {
    const names = displayNames([person('a', 'Grace'), person('b', 'Linus'), person('c', 'Grace'), person('d', 'grace')]);
    expect([...names.values()]).toEqual(['Grace', 'Linus', 'Grace (2)', 'grace (3)']);
  });

  it('puts the own participant in its place in the join order', () => {
    const s = run([
      { type: 'joined', msg: joined({ participants: [person('p-host', 'Ada', { role: 'host' }), person('p-g1', 'Grace')] }), now },
      ev({ type: 'participantJoined', participant: person('p-g3', 'Grace') }),
    ]);
    expect(everyone(s).map((p) => p.participantId)).toEqual(['p-host', 'p-g1', 'p-self', 'p-g3']);
    const names = displayNames(everyone(s));
    expect(names.get('p-g1')).toBe('Grace');
    expect(names.get('p-self')).toBe('Grace (2)');
    expect(names.get('p-g3')).toBe('Grace (3)');
    // When the first Grace leaves, the next one is Grace.
    const after = roomReducer(s, ev({ type: 'participantLeft', participantId: 'p-g1', reason: 'left' }));
    expect(displayNames(everyone(after)).get('p-self')).toBe('Grace');
  });

  it('lists the own participant before joined', () => {
    expect(everyone(initialRoomState('Grace')).map((p) => p.name)).toEqual(['Grace']);
  });
});

describe("the host's mute summary", () => {
  const host = person('h', 'Ada', { role: 'host' });
  it('says everyone is muted only when every guest is muted by the host', () => {
    expect(muteSummary([])).toBeNull();
    expect(muteSummary([host])).toBeNull();
    expect(muteSummary([host, person('a', 'A', { mutedByHost: true, canUnmute: false }), person('b', 'B')])).toBeNull();
    expect(
      muteSummary([person('a', 'A', { mutedByHost: true, canUnmute: false }), person('b', 'B', { mutedByHost: true, canUnmute: false })]),
    ).toBe('held');
    expect(muteSummary([host, person('a', 'A', { mutedByHost: true, canUnmute: true })])).toBe('mayUnmute');
    expect(
      muteSummary([person('a', 'A', { mutedByHost: true, canUnmute: true }), person('b', 'B', { mutedByHost: true, canUnmute: false })]),
    ).toBe('mixed');
  });
});

describe('raised hands, the waiting room and chat in the room state', () => {
  it('lists raised hands first, in the order raised, then everyone else in join order', () => {
    const people = [
      person('a', 'A'),
      person('b', 'B', { handRaised: true, handRaisedAt: 30 }),
      person('c', 'C'),
      person('d', 'D', { handRaised: true, handRaisedAt: 10 }),
    ];
    expect(handsFirst(people).map((p) => p.name)).toEqual(['D', 'B', 'A', 'C']);
  });

  it('tells the others when a hand goes up, once', () => {
    const s = run([
      { type: 'joined', msg: joined(), now },
      ev({ type: 'participantUpdated', participant: person('p-host', 'Ada', { role: 'host', handRaised: true, handRaisedAt: 5 }) }),
      ev({ type: 'participantUpdated', participant: person('p-host', 'Ada', { role: 'host', handRaised: true, handRaisedAt: 5, audioMuted: true }) }),
    ]);
    expect(texts(s)).toEqual(['Ada raised a hand']);
  });

  it('waits while the lobby holds the join, then goes live when let in', () => {
    const waiting = run([ev({ type: 'lobbyWaiting' })]);
    expect(waiting.phase).toBe('waiting');
    expect(run([{ type: 'reconnecting' }], waiting).phase).toBe('joining');
    expect(run([{ type: 'joined', msg: joined(), now }], waiting).phase).toBe('live');
  });

  it('keeps the host’s waiting list from joined and lobbyUpdated, announcing newcomers', () => {
    const grace = { requestId: 'r1', name: 'Grace', since: 1 };
    const linus = { requestId: 'r2', name: 'Linus', since: 2 };
    const s = run([
      { type: 'joined', msg: joined({ role: 'host', lobby: [grace] }), now },
      ev({ type: 'lobbyUpdated', waiting: [grace, linus] }),
      ev({ type: 'lobbyUpdated', waiting: [linus] }),
    ]);
    expect(s.lobby).toEqual([linus]);
    expect(texts(s)).toEqual(['Linus is waiting to join']);
  });

  it('leaves chat to the chat state', () => {
    const before = run([{ type: 'joined', msg: joined(), now }]);
    const after = run([ev({ type: 'chat', messageId: '1', from: 'p-host', name: 'Ada', text: 'hi', sentAt: 1, private: false })], before);
    expect(after).toBe(before);
  });
});
