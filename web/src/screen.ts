// Capturing a screen to share: the browser's picker (getDisplayMedia), with the screen's sound
// where the browser offers it (Chromium for a tab or the whole screen; Firefox offers none).

/** Whether this browser can share a screen. */
export function canShareScreen(): boolean {
  // Absent on pages that are not a secure context, and on most phones.
  return 'mediaDevices' in navigator && 'getDisplayMedia' in navigator.mediaDevices;
}

/** Asks for a screen to share; rejects when the person cancels or the browser cannot. */
export function acquireScreen(): Promise<MediaStream> {
  return navigator.mediaDevices.getDisplayMedia({ video: true, audio: true });
}
