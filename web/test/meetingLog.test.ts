import { describe, expect, it } from 'vitest';
import { describeEntry } from '../src/meetingLog';
import type { AuditEntry } from '../src/protocol';

const entry = (action: string, extra: Partial<AuditEntry> = {}): AuditEntry => ({ at: 1, action, by: 'h', byName: 'Ada', ...extra });

describe('meeting log', () => {
  it('says what each entry means, and to whom', () => {
    const cases: [AuditEntry, string, string][] = [
      [entry('join'), 'joined', ''],
      [entry('leave'), 'left', ''],
      [entry('disconnect'), 'lost the connection', ''],
      [entry('kick', { target: 'p', targetName: 'Linus' }), 'removed', 'Linus'],
      [entry('muteAll', { detail: { allowSelfUnmute: false } }), 'muted everyone', ''],
      [entry('muteParticipant', { targetName: 'Grace', detail: { allowSelfUnmute: true } }), 'muted (may unmute)', 'Grace'],
      [entry('allowUnmute'), 'allowed everyone to unmute', ''],
      [entry('startTimer', { detail: { timerId: 't30' } }), 'started a 30 second timer', ''],
      [entry('setLocked', { detail: { locked: true } }), 'locked the meeting', ''],
      [entry('setChatAllowed', { detail: { allowed: false } }), 'turned chat off', ''],
      [entry('lowerHand', { targetName: 'Grace' }), 'lowered the hand of', 'Grace'],
      [entry('lowerHand'), 'lowered all hands', ''],
      [entry('setLobby', { detail: { enabled: true } }), 'turned the waiting room on', ''],
      [
        entry('setLobby', { detail: { enabled: false, admitted: [{ participantId: 'a', name: 'Ken' }] } }),
        'turned the waiting room off, letting in',
        'Ken',
      ],
      [entry('admit', { targetName: 'Ken' }), 'let in', 'Ken'],
      [entry('deny', { targetName: 'Bo' }), 'turned away', 'Bo'],
      [
        entry('admitAll', { detail: { admitted: [{ participantId: 'a', name: 'Cy' }, { participantId: 'b', name: 'Dee' }] } }),
        'let everyone waiting in',
        'Cy, Dee',
      ],
      [entry('endMeeting'), 'ended the meeting', ''],
      [entry('somethingNew', { targetName: 'X' }), 'somethingNew', 'X'],
    ];
    for (const [e, what, whom] of cases) expect(describeEntry(e), e.action).toEqual({ what, whom });
  });
});
