// The client's addresses: the home page at / and a meeting at /m/{meetingId}; anything else is a
// page that does not exist. Every screen that builds or reads such a path comes here, so the
// scheme lives in one place.

/** What a path shows. */
export type Route = { kind: 'home' } | { kind: 'meeting'; meetingId: string } | { kind: 'notFound' };

/** The path of a meeting's page. */
export function meetingPath(meetingId: string): string {
  return `/m/${encodeURIComponent(meetingId)}`;
}

/** The meetingId a path names, or null for any other path. */
export function meetingIdFromPath(path: string): string | null {
  const m = /^\/m\/([^/]+)\/?$/.exec(path);
  const raw = m?.[1];
  if (raw === undefined) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    // A malformed escape (a mangled link) is still a meeting page; the lookup then says
    // "not found" instead of the page failing to start.
    return raw;
  }
}

export function routeFromPath(path: string): Route {
  if (path === '/' || path === '' || path === '/index.html') return { kind: 'home' };
  const meetingId = meetingIdFromPath(path);
  return meetingId === null ? { kind: 'notFound' } : { kind: 'meeting', meetingId };
}

/** A meeting code as the server makes them: URL-safe characters only. */
const codePattern = /^[A-Za-z0-9_-]{4,128}$/;

/**
 * The meetingId in what a person typed or pasted into "Join with a link or code": a whole link
 * (of this server or another name for it), a path, or the bare code. Null when it is none of these.
 */
export function parseMeetingInput(input: string): string | null {
  const text = input.trim();
  if (text === '') return null;
  if (codePattern.test(text)) return text;
  let path = text;
  try {
    path = new URL(text).pathname;
  } catch {
    // Not a whole link: a path, or a link without its scheme ("host/m/abc").
    const at = text.indexOf('/m/');
    if (at > 0) path = text.slice(at);
  }
  const id = meetingIdFromPath(path);
  return id !== null && codePattern.test(id) ? id : null;
}
