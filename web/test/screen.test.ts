import { describe, expect, it } from 'vitest';
import { isScreenSource, trackIdsByMid } from '../src/peers';
import { initialRoomState, roomReducer } from '../src/roomState';
import { speakersOf } from '../src/speaking';

describe('telling a screen from a camera', () => {
  it("reads each section's track id from the offer's a=msid, by mid", () => {
    const sdp = [
      'v=0',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      'a=mid:0',
      'a=msid:p1 microphone',
      'm=video 9 UDP/TLS/RTP/SAVPF 96',
      'a=mid:1',
      'a=msid:p1 camera',
      'm=video 9 UDP/TLS/RTP/SAVPF 96',
      'a=mid:2',
      'a=msid:p1 screen',
      'm=audio 0 UDP/TLS/RTP/SAVPF 111',
      'a=mid:3',
      'a=inactive',
      '',
    ].join('\r\n');
    const ids = trackIdsByMid(sdp);
    expect([...ids]).toEqual([
      ['0', 'microphone'],
      ['1', 'camera'],
      ['2', 'screen'],
    ]);
    expect(isScreenSource(ids.get('2') ?? '')).toBe(true);
    expect(isScreenSource('screenAudio')).toBe(true);
    expect(isScreenSource(ids.get('1') ?? '')).toBe(false);
  });
});

describe('who is speaking', () => {
  it("keeps the server's order and puts the own participant last, only while it speaks", () => {
    expect([...speakersOf(['b', 'a'], 'me', false)]).toEqual(['b', 'a']);
    expect([...speakersOf(['b', 'a'], 'me', true)]).toEqual(['b', 'a', 'me']);
    // The server's list never decides the own tile: the local analyser does.
    expect([...speakersOf(['me', 'b'], 'me', false)]).toEqual(['b']);
    expect([...speakersOf([], null, true)]).toEqual([]);
  });
});

describe('a stopped screen share', () => {
  it('tells the sharer that the host stopped it', () => {
    const s = roomReducer(initialRoomState('Grace'), { type: 'event', event: { type: 'screenShareStopped' }, now: 0 });
    expect(s.toasts.map((t) => t.text)).toEqual(['Your screen share was stopped by the host.']);
    const same = roomReducer(s, { type: 'event', event: { type: 'activeSpeakers', speakers: ['x'] }, now: 0 });
    expect(same).toBe(s);
  });
});
