// The meeting's keyboard shortcuts, as Meet has them: Ctrl+D (Cmd+D on a Mac) for the microphone
// and Ctrl+E (Cmd+E) for the camera.

export type ShortcutAction = 'toggleMic' | 'toggleCamera';

interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
}

/** Whether this browser runs on a Mac, where Cmd takes Ctrl's part. */
export function isMac(platform: string = navigator.platform): boolean {
  return /^Mac|iPhone|iPad/.test(platform);
}

/** The action a key press asks for, or null. */
export function shortcutFor(e: KeyLike, mac: boolean): ShortcutAction | null {
  const mod = mac ? e.metaKey && !e.ctrlKey : e.ctrlKey && !e.metaKey;
  if (!mod || e.altKey || e.shiftKey) return null;
  switch (e.key.toLowerCase()) {
    case 'd':
      return 'toggleMic';
    case 'e':
      return 'toggleCamera';
    default:
      return null;
  }
}

/** The shortcut as a person reads it ("Ctrl+D", "⌘D") and as aria-keyshortcuts wants it. */
export function shortcutLabel(action: ShortcutAction, mac: boolean): { text: string; aria: string } {
  const key = action === 'toggleMic' ? 'D' : 'E';
  return mac ? { text: `⌘${key}`, aria: `Meta+${key}` } : { text: `Ctrl+${key}`, aria: `Control+${key}` };
}
