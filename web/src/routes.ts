// The client's addresses: the home page at / and a meeting at /m/{meetingId}. Every screen that
// builds or reads such a path comes here, so the scheme lives in one place.

/** The path of a meeting's page. */
export function meetingPath(meetingId: string): string {
  return `/m/${encodeURIComponent(meetingId)}`;
}

/** The meetingId a path names, or null for any other path (the home page). */
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
