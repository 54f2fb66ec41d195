// The HTTP half of the protocol (PROTOCOL.md, "HTTP"): creating a meeting, looking one up, and the
// host's meeting log.

import type { AuditEntry, ErrorCode } from './protocol';

export interface CreatedMeeting {
  meetingId: string;
  hostKey: string;
  joinUrl: string;
}

export interface MeetingStatus {
  meetingId: string;
  state: 'open' | 'ended';
  locked: boolean;
  participantCount: number;
}

/** An HTTP error with the server's code, or 'network' when no answer came. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode | 'network',
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError('network', 'The server could not be reached.');
  }
  const body = (await res.json().catch(() => null)) as
    | (T & { error?: { code: ErrorCode; message: string } })
    | null;
  if (!res.ok) {
    const err = body?.error;
    throw new ApiError(err?.code ?? 'internal', err?.message ?? `HTTP ${res.status}`);
  }
  if (body === null) throw new ApiError('internal', 'The server sent an unreadable answer.');
  return body;
}

export function createMeeting(hostName: string): Promise<CreatedMeeting> {
  return call<CreatedMeeting>('/api/meetings', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ hostName }),
  });
}

export function getMeeting(meetingId: string): Promise<MeetingStatus> {
  return call<MeetingStatus>(`/api/meetings/${encodeURIComponent(meetingId)}`);
}

/** The meeting's audit log, oldest first, for its host (the hostKey is the proof). */
export async function getAuditLog(meetingId: string, hostKey: string): Promise<AuditEntry[]> {
  const body = await call<{ entries: AuditEntry[] }>(`/api/meetings/${encodeURIComponent(meetingId)}/audit`, {
    headers: { authorization: `Bearer ${hostKey}` },
    cache: 'no-store',
  });
  return body.entries;
}
