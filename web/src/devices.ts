// Which microphone, camera and speaker the person chose, remembered in this browser, and how to
// find that choice again among the devices present now. Knows nothing of tracks or the meeting.

export type DeviceKind = 'audioinput' | 'videoinput' | 'audiooutput';

/** A device as the person picked it: its id, and its label to find it again if the id changed. */
export interface DeviceChoice {
  deviceId: string;
  label: string;
}

export type DeviceChoices = Partial<Record<DeviceKind, DeviceChoice>>;

/** The parts of MediaDeviceInfo used here (so that tests can make some). */
export interface DeviceInfo {
  deviceId: string;
  kind: string;
  label: string;
}

const storageKey = 'parley.devices';

function isChoice(v: unknown): v is DeviceChoice {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Partial<DeviceChoice>;
  return typeof c.deviceId === 'string' && typeof c.label === 'string';
}

/** Reads the remembered choices; anything unreadable counts as no choice. */
export function parseDeviceChoices(raw: string | null): DeviceChoices {
  if (!raw) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return {};
  }
  if (typeof value !== 'object' || value === null) return {};
  const out: DeviceChoices = {};
  for (const kind of ['audioinput', 'videoinput', 'audiooutput'] as const) {
    const c = (value as Record<string, unknown>)[kind];
    if (isChoice(c)) out[kind] = { deviceId: c.deviceId, label: c.label };
  }
  return out;
}

export function loadDeviceChoices(): DeviceChoices {
  try {
    return parseDeviceChoices(localStorage.getItem(storageKey));
  } catch {
    return {}; // storage may be disabled: the browser's defaults are used
  }
}

export function saveDeviceChoice(kind: DeviceKind, choice: DeviceChoice): void {
  try {
    localStorage.setItem(storageKey, JSON.stringify({ ...loadDeviceChoices(), [kind]: choice }));
  } catch {
    // Not remembered; the choice still holds for this meeting.
  }
}

/**
 * The deviceId to ask for: the remembered device if it is present (by id, or by label when the
 * browser gave it a new id), otherwise undefined for the browser's default.
 */
export function preferredDevice(
  devices: readonly DeviceInfo[],
  kind: DeviceKind,
  saved: DeviceChoice | undefined,
): string | undefined {
  if (!saved) return undefined;
  const ofKind = devices.filter((d) => d.kind === kind);
  const byId = ofKind.find((d) => d.deviceId === saved.deviceId);
  if (byId) return byId.deviceId;
  const byLabel = saved.label ? ofKind.find((d) => d.label === saved.label) : undefined;
  return byLabel?.deviceId;
}

/** The devices of one kind as options for a picker, each with a readable name. */
export function deviceOptions(devices: readonly DeviceInfo[], kind: DeviceKind): { value: string; label: string }[] {
  const fallback = { audioinput: 'Microphone', videoinput: 'Camera', audiooutput: 'Speaker' }[kind];
  const seen = new Set<string>();
  return devices
    .filter((d) => d.kind === kind && d.deviceId !== '' && !seen.has(d.deviceId) && seen.add(d.deviceId))
    .map((d, i) => ({ value: d.deviceId, label: d.label || `${fallback} ${i + 1}` }));
}
