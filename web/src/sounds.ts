// The few sounds the meeting makes (the end of a timer), and whether the person wants them.
// Made with Web Audio: no sound files to load.

const storageKey = 'parley.sounds';

export function soundsEnabled(): boolean {
  try {
    return localStorage.getItem(storageKey) !== 'off';
  } catch {
    return true;
  }
}

export function setSoundsEnabled(on: boolean): void {
  try {
    localStorage.setItem(storageKey, on ? 'on' : 'off');
  } catch {
    // Not remembered beyond this page.
  }
}

let context: AudioContext | null = null;

function resume(): void {
  if (context?.state === 'suspended') void context.resume().catch(() => undefined);
}

/**
 * One shared AudioContext. Browsers may start it suspended until the person touches the page
 * (Firefox does, on a page opened by a link): it is resumed at once where allowed, and else at
 * the first click or key press.
 */
export function audioContext(): AudioContext | null {
  if (typeof AudioContext === 'undefined') return null;
  if (!context) {
    context = new AudioContext();
    for (const type of ['pointerdown', 'keydown']) window.addEventListener(type, resume, { capture: true });
  }
  resume();
  return context;
}

/** A short two-note chime: time is up. */
export function playTimerEnd(): void {
  const ctx = audioContext();
  if (!ctx) return;
  const start = ctx.currentTime + 0.01;
  [880, 660].forEach((freq, i) => {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = 'sine';
    osc.frequency.value = freq;
    const t = start + i * 0.22;
    gain.gain.setValueAtTime(0, t);
    gain.gain.linearRampToValueAtTime(0.2, t + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.001, t + 0.4);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t);
    osc.stop(t + 0.42);
  });
}
