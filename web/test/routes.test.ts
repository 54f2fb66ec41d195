import { describe, expect, it } from 'vitest';
import { meetingIdFromPath, meetingPath } from '../src/routes';

describe('routes', () => {
  it('reads back the meetingId of a meeting path, escapes included', () => {
    for (const id of ['abc-123', 'a b/c', 'ünï']) {
      expect(meetingIdFromPath(meetingPath(id))).toBe(id);
    }
    expect(meetingIdFromPath('/m/abc/')).toBe('abc');
  });

  it('sends any other path home', () => {
    for (const path of ['/', '/m/', '/m', '/x/abc', '/m/abc/extra']) expect(meetingIdFromPath(path)).toBeNull();
  });

  it('keeps a malformed escape as it is instead of failing', () => {
    expect(meetingIdFromPath('/m/%E0%A4%A')).toBe('%E0%A4%A');
  });
});
