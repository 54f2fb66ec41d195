// What the browser remembers between pages. The hostKey lives in this tab's session storage only:
// it is the host's secret and must not outlive the tab or reach other tabs.

export interface HostCredentials {
  hostKey: string;
  joinUrl: string;
}

const hostPrefix = 'parley.host.';
const nameKey = 'parley.name';

function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback; // storage may be disabled; the app then just remembers less
  }
}

export function saveHostCredentials(meetingId: string, creds: HostCredentials): void {
  safe(() => sessionStorage.setItem(hostPrefix + meetingId, JSON.stringify(creds)), undefined);
}

export function loadHostCredentials(meetingId: string): HostCredentials | null {
  return safe(() => {
    const raw = sessionStorage.getItem(hostPrefix + meetingId);
    if (!raw) return null;
    const v = JSON.parse(raw) as Partial<HostCredentials>;
    return typeof v.hostKey === 'string' ? { hostKey: v.hostKey, joinUrl: v.joinUrl ?? '' } : null;
  }, null);
}

export function forgetHostCredentials(meetingId: string): void {
  safe(() => sessionStorage.removeItem(hostPrefix + meetingId), undefined);
}

const resumePrefix = 'parley.resume.';
const browserIdKey = 'parley.browserId';

/**
 * The resume token of this tab's participant in a meeting (PROTOCOL.md 1.1, "Staying
 * connected"): a reload or a dropped connection comes back as the same participant with it. It
 * lives in this tab's session storage, like the hostKey: another tab is another participant.
 */
export function saveResumeToken(meetingId: string, token: string): void {
  safe(() => sessionStorage.setItem(resumePrefix + meetingId, token), undefined);
}

export function loadResumeToken(meetingId: string): string | null {
  return safe(() => sessionStorage.getItem(resumePrefix + meetingId), null);
}

export function forgetResumeToken(meetingId: string): void {
  safe(() => sessionStorage.removeItem(resumePrefix + meetingId), undefined);
}

/**
 * This browser's id (docs/protocol.md, join.browserId): random, kept in local storage so that
 * every tab and every later visit of this browser profile sends the same one, which lets a host's
 * mute or removal stick to the person across a fresh join. Undefined where storage is disabled.
 */
export function browserId(): string | undefined {
  return safe(() => {
    let id = localStorage.getItem(browserIdKey);
    if (!id) {
      // getRandomValues, not randomUUID: the latter needs a secure context.
      id = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
      localStorage.setItem(browserIdKey, id);
    }
    return id;
  }, undefined);
}

/** The name last used in this tab, to fill in the form next time. */
export function loadName(): string {
  return safe(() => sessionStorage.getItem(nameKey) ?? '', '');
}

export function saveName(name: string): void {
  safe(() => sessionStorage.setItem(nameKey, name), undefined);
}
