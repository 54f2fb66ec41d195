// What a page hands to the room when a person goes in. It lives apart from the app shell so that
// the pages (home, join, room) and the shell can all name it without importing one another.

import type { LocalMedia } from './media';

/** Everything the room needs to join: who, where, with which devices in which state. */
export interface RoomEntry {
  meetingId: string;
  name: string;
  /** Present for the meeting's host only. */
  hostKey?: string | undefined;
  joinUrl: string;
  /** Taken over by the room: it stops these tracks when it ends. */
  media: LocalMedia;
  audioMuted: boolean;
  videoMuted: boolean;
  /** The camera picked before joining, used when the camera is switched on later. */
  cameraId?: string | undefined;
}
