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

/** The name last used in this tab, to fill in the form next time. */
export function loadName(): string {
  return safe(() => sessionStorage.getItem(nameKey) ?? '', '');
}

export function saveName(name: string): void {
  safe(() => sessionStorage.setItem(nameKey, name), undefined);
}
