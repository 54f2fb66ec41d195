// The meeting log in words: each audit entry (PROTOCOL.md, "Audit log") as what happened and to
// whom, for the host's "Meeting log". Pure, so every wording can be tested.

import type { AuditEntry } from './protocol';

/** One line of the log as shown: who did what to whom. */
export interface LogLine {
  what: string;
  /** The person (or people) it concerned; '' when nobody in particular. */
  whom: string;
}

function flag(e: AuditEntry, key: string): boolean {
  return e.detail?.[key] === true;
}

/** The names of the people an entry let in (admitAll, and turning the waiting room off). */
function admitted(e: AuditEntry): string[] {
  const list = e.detail?.admitted;
  if (!Array.isArray(list)) return [];
  return list.flatMap((x: unknown) => {
    const name = (x as { name?: unknown } | null)?.name;
    return typeof name === 'string' ? [name] : [];
  });
}

function seconds(timerId: unknown): string {
  const m = typeof timerId === 'string' ? /\d+/.exec(timerId) : null;
  return m ? `a ${m[0]} second timer` : 'the timer';
}

/** What an entry says, in words. An action this client does not know is shown as it is named. */
export function describeEntry(e: AuditEntry): LogLine {
  const whom = e.targetName ?? '';
  switch (e.action) {
    case 'join':
      return { what: 'joined', whom: '' };
    case 'leave':
      return { what: 'left', whom: '' };
    case 'disconnect':
      return { what: 'lost the connection', whom: '' };
    case 'kick':
      return { what: flag(e, 'ban') ? "removed and didn't let back in" : 'removed', whom };
    case 'muteAll':
      return { what: flag(e, 'allowSelfUnmute') ? 'muted everyone (they may unmute)' : 'muted everyone', whom: '' };
    case 'muteParticipant':
      return { what: flag(e, 'allowSelfUnmute') ? 'muted (may unmute)' : 'muted', whom };
    case 'allowUnmute':
      return whom ? { what: 'allowed to unmute', whom } : { what: 'allowed everyone to unmute', whom: '' };
    case 'startTimer':
      return { what: `started ${seconds(e.detail?.timerId)}`, whom: '' };
    case 'cancelTimer':
      return { what: 'cancelled the timer', whom: '' };
    case 'setLocked':
      return { what: flag(e, 'locked') ? 'locked the meeting' : 'unlocked the meeting', whom: '' };
    case 'endMeeting':
      return { what: 'ended the meeting', whom: '' };
    case 'setChatAllowed':
      return { what: flag(e, 'allowed') ? 'allowed chat' : 'turned chat off', whom: '' };
    case 'lowerHand':
      return whom ? { what: 'lowered the hand of', whom } : { what: 'lowered all hands', whom: '' };
    case 'setLobby':
      return flag(e, 'enabled')
        ? { what: 'turned the waiting room on', whom: '' }
        : { what: admitted(e).length > 0 ? 'turned the waiting room off, letting in' : 'turned the waiting room off', whom: admitted(e).join(', ') };
    case 'admit':
      return { what: 'let in', whom };
    case 'deny':
      return { what: 'turned away', whom };
    case 'admitAll':
      return { what: 'let everyone waiting in', whom: admitted(e).join(', ') };
    default:
      return { what: e.action, whom };
  }
}
