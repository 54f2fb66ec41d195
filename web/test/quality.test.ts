// What the client asks of each camera: the quality for a tile's size, wishes settled before they
// are asked, only changes asked, and wishes asked again when the server could not take them. The
// server's side is a recording function here; the browser end-to-end test runs the real one.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProtocolError, type ClientMessage } from '../src/protocol';
import { CameraQualities, qualityForWidth, settleMs, upMs } from '../src/quality';

describe('qualityForWidth', () => {
  it('maps a picture width in device pixels to the layer that is sharp enough', () => {
    expect(qualityForWidth(0)).toBe('off');
    expect(qualityForWidth(200)).toBe('low');
    expect(qualityForWidth(480)).toBe('low');
    expect(qualityForWidth(481)).toBe('medium');
    expect(qualityForWidth(960)).toBe('medium');
    expect(qualityForWidth(1500)).toBe('high');
  });
});

/** A stream with a video track of this id, as the subscriber hands them out. */
function streamWith(videoId: string | null): MediaStream {
  return { getVideoTracks: () => (videoId === null ? [] : [{ id: videoId }]) } as unknown as MediaStream;
}

describe('CameraQualities', () => {
  let asked: ClientMessage[];
  let answer: (msg: ClientMessage) => Promise<unknown>;
  let q: CameraQualities;

  beforeEach(() => {
    vi.useFakeTimers();
    asked = [];
    answer = () => Promise.resolve({ type: 'ok' });
    q = new CameraQualities((msg) => {
      asked.push(msg);
      return answer(msg);
    });
  });
  afterEach(() => {
    q.close();
    vi.useRealTimers();
  });

  const qualities = () => asked.map((m) => (m.type === 'setVideoQuality' ? `${m.participantId}:${m.quality}` : m.type));

  it('asks for less once the wish has settled, and only the last one', async () => {
    q.want('ada', 'medium');
    q.want('ada', 'low');
    await vi.advanceTimersByTimeAsync(settleMs - 1);
    expect(asked).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(qualities()).toEqual(['ada:low']);
  });

  it('asks for more at once, and nothing the server holds already', async () => {
    q.want('ada', 'high'); // the server's default: nothing to ask
    await vi.advanceTimersByTimeAsync(settleMs);
    expect(asked).toHaveLength(0);
    q.want('ada', 'off');
    await vi.advanceTimersByTimeAsync(settleMs);
    q.want('ada', 'medium');
    await vi.advanceTimersByTimeAsync(upMs);
    expect(qualities()).toEqual(['ada:off', 'ada:medium']);
    expect(asked[1]).toEqual({ type: 'setVideoQuality', participantId: 'ada', source: 'camera', quality: 'medium' });
  });

  it('asks again when the camera arrives after the server refused a wish for it', async () => {
    answer = () => Promise.reject(new ProtocolError('not_found', 'no camera'));
    q.want('ada', 'low');
    await vi.advanceTimersByTimeAsync(settleMs);
    expect(qualities()).toEqual(['ada:low']);
    answer = () => Promise.resolve({ type: 'ok' });
    q.streamsChanged(new Map([['ada', streamWith(null)]]));
    await vi.advanceTimersByTimeAsync(settleMs);
    expect(asked).toHaveLength(1); // no camera yet
    q.streamsChanged(new Map([['ada', streamWith('camera')]]));
    await vi.advanceTimersByTimeAsync(0);
    expect(qualities()).toEqual(['ada:low', 'ada:low']);
    q.streamsChanged(new Map([['ada', streamWith('camera')]]));
    await vi.advanceTimersByTimeAsync(settleMs);
    expect(asked).toHaveLength(2); // held now: the same camera again asks nothing
  });

  it('asks every wish again on a new connection, and forgets those who left', async () => {
    q.want('ada', 'low');
    q.want('grace', 'off');
    await vi.advanceTimersByTimeAsync(settleMs);
    expect(qualities().sort()).toEqual(['ada:low', 'grace:off']);
    q.forget('grace');
    q.reset();
    await vi.advanceTimersByTimeAsync(0);
    expect(qualities().slice(2)).toEqual(['ada:low']);
  });
});
