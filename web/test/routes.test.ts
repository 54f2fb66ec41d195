import { describe, expect, it } from 'vitest';
import { meetingIdFromPath, meetingPath, parseMeetingInput, routeFromPath } from '../src/routes';

describe('routes', () => {
  it('reads back the meetingId of a meeting path, escapes included', () => {
    for (const id of ['abc-123', 'a b/c', 'ünï']) {
      expect(meetingIdFromPath(meetingPath(id))).toBe(id);
    }
    expect(meetingIdFromPath('/m/abc/')).toBe('abc');
  });

  it('finds no meeting in any other path', () => {
    for (const path of ['/', '/m/', '/m', '/x/abc', '/m/abc/extra']) expect(meetingIdFromPath(path)).toBeNull();
  });

  it('keeps a malformed escape as it is instead of failing', () => {
    expect(meetingIdFromPath('/m/%E0%A4%A')).toBe('%E0%A4%A');
  });

  it('shows home at /, a meeting at /m/{id}, and "not found" anywhere else', () => {
    expect(routeFromPath('/')).toEqual({ kind: 'home' });
    expect(routeFromPath('/m/abc')).toEqual({ kind: 'meeting', meetingId: 'abc' });
    for (const path of ['/nope', '/m/', '/m/a/b', '/admin']) expect(routeFromPath(path)).toEqual({ kind: 'notFound' });
  });
});

describe('joining with a link or code', () => {
  it('takes a whole link, a link without scheme, a path, or the bare code', () => {
    for (const input of [
      'https://meet.example.com/m/Ab3_x-9Q',
      '  http://127.0.0.1:8080/m/Ab3_x-9Q/ ',
      'meet.example.com/m/Ab3_x-9Q',
      '/m/Ab3_x-9Q',
      'Ab3_x-9Q',
    ]) {
      expect(parseMeetingInput(input)).toBe('Ab3_x-9Q');
    }
  });

  it('refuses what is no meeting', () => {
    for (const input of ['', '   ', 'https://example.com/other/page', 'hello world', 'a/b', 'ab']) {
      expect(parseMeetingInput(input)).toBeNull();
    }
  });
});
