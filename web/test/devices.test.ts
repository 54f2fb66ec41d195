import { describe, expect, it } from 'vitest';
import { levelFromSamples } from '../src/audioLevel';
import { deviceOptions, parseDeviceChoices, preferredDevice, type DeviceInfo } from '../src/devices';
import { browserFamily, mediaWarning } from '../src/media';
import { shortcutFor, shortcutLabel } from '../src/shortcuts';

const devices: DeviceInfo[] = [
  { deviceId: 'mic-1', kind: 'audioinput', label: 'Built-in microphone' },
  { deviceId: 'mic-2', kind: 'audioinput', label: 'USB headset' },
  { deviceId: 'cam-1', kind: 'videoinput', label: 'Webcam' },
  { deviceId: 'out-1', kind: 'audiooutput', label: '' },
];

describe('remembered devices', () => {
  it('finds the remembered device by id, or by label when its id changed', () => {
    expect(preferredDevice(devices, 'audioinput', { deviceId: 'mic-2', label: 'x' })).toBe('mic-2');
    expect(preferredDevice(devices, 'audioinput', { deviceId: 'gone', label: 'USB headset' })).toBe('mic-2');
    expect(preferredDevice(devices, 'audioinput', { deviceId: 'gone', label: 'Unplugged' })).toBeUndefined();
    expect(preferredDevice(devices, 'audioinput', undefined)).toBeUndefined();
    // An id of another kind does not count.
    expect(preferredDevice(devices, 'videoinput', { deviceId: 'mic-1', label: '' })).toBeUndefined();
  });

  it('reads what was stored, and nothing from what is broken', () => {
    expect(parseDeviceChoices(JSON.stringify({ audioinput: { deviceId: 'a', label: 'A' }, videoinput: { deviceId: 1 } }))).toEqual({
      audioinput: { deviceId: 'a', label: 'A' },
    });
    expect(parseDeviceChoices('not json')).toEqual({});
    expect(parseDeviceChoices(null)).toEqual({});
    expect(parseDeviceChoices('[1]')).toEqual({});
  });

  it('names devices without a label', () => {
    expect(deviceOptions(devices, 'audiooutput')).toEqual([{ value: 'out-1', label: 'Speaker 1' }]);
    expect(deviceOptions(devices, 'audioinput').map((o) => o.label)).toEqual(['Built-in microphone', 'USB headset']);
  });
});

describe('the microphone level', () => {
  it('is 0 for silence, near 1 at full scale, and in between for speech', () => {
    expect(levelFromSamples(new Float32Array(512))).toBe(0);
    expect(levelFromSamples([])).toBe(0);
    const full = Float32Array.from({ length: 512 }, (_, i) => (i % 2 ? 1 : -1));
    expect(levelFromSamples(full)).toBeCloseTo(1);
    const speech = Float32Array.from({ length: 512 }, (_, i) => 0.05 * Math.sin(i / 5));
    const level = levelFromSamples(speech);
    expect(level).toBeGreaterThan(0.3);
    expect(level).toBeLessThan(0.9);
  });
});

describe('plain-language device problems', () => {
  it('says what a block means and how to allow it, without error names', () => {
    const w = mediaWarning(null, 'denied', 'chromium');
    expect(w).toMatch(/^Your browser is blocking the camera\. You will join without video\. To allow it,/);
    expect(w).not.toMatch(/NotAllowedError/);
    expect(mediaWarning('denied', 'denied', 'firefox')).toMatch(
      /^Your browser is blocking the camera and microphone\. You will join without camera and microphone\. To allow it, select the camera and microphone icon/,
    );
    expect(mediaWarning('missing', 'busy', 'chromium')).toBe(
      'No microphone was found, and the camera is in use by another program. You will join without camera and microphone.',
    );
    expect(mediaWarning(null, null, 'chromium')).toBeNull();
  });

  it('tells browsers apart by their user agent', () => {
    expect(browserFamily('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0')).toBe('firefox');
    expect(browserFamily('Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15')).toBe('safari');
    expect(browserFamily('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36')).toBe('chromium');
  });
});

describe('keyboard shortcuts', () => {
  const key = (k: string, mods: Partial<Record<'ctrlKey' | 'metaKey' | 'altKey' | 'shiftKey', boolean>> = {}) => ({
    key: k,
    ctrlKey: false,
    metaKey: false,
    altKey: false,
    shiftKey: false,
    ...mods,
  });

  it('Ctrl+D and Ctrl+E elsewhere, Cmd+D and Cmd+E on a Mac', () => {
    expect(shortcutFor(key('d', { ctrlKey: true }), false)).toBe('toggleMic');
    expect(shortcutFor(key('E', { ctrlKey: true }), false)).toBe('toggleCamera');
    expect(shortcutFor(key('d', { metaKey: true }), true)).toBe('toggleMic');
    expect(shortcutFor(key('d', { metaKey: true }), false)).toBeNull();
    expect(shortcutFor(key('d', { ctrlKey: true }), true)).toBeNull();
    expect(shortcutFor(key('d'), false)).toBeNull();
    expect(shortcutFor(key('d', { ctrlKey: true, shiftKey: true }), false)).toBeNull();
    expect(shortcutFor(key('x', { ctrlKey: true }), false)).toBeNull();
  });

  it('labels them as each platform writes them', () => {
    expect(shortcutLabel('toggleMic', false)).toEqual({ text: 'Ctrl+D', aria: 'Control+D' });
    expect(shortcutLabel('toggleCamera', true)).toEqual({ text: '⌘E', aria: 'Meta+E' });
  });
});
