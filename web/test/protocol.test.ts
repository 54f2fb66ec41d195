// The protocol client against a real WebSocket server on loopback that plays the server's part
// of PROTOCOL.md from a script.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import {
  isServerEvent,
  parseServerMessage,
  ProtocolClient,
  ProtocolError,
  type ServerEvent,
  type SocketLike,
} from '../src/protocol';

let server: WebSocketServer;
let url: string;
let connections: ServerSocket[];
let received: Record<string, unknown>[];
let onMessage: (ws: ServerSocket, msg: Record<string, unknown>) => void;

const factory = (u: string) => new WebSocket(u) as unknown as SocketLike;

beforeEach(async () => {
  connections = [];
  received = [];
  onMessage = () => undefined;
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => server.once('listening', () => r()));
  const addr = server.address();
  if (typeof addr === 'string' || !addr) throw new Error('no address');
  url = `ws://127.0.0.1:${addr.port}/ws`;
  server.on('connection', (ws) => {
    connections.push(ws);
    ws.on('message', (data) => {
      // The client sends text frames only, which ws hands over as one Buffer.
      if (!Buffer.isBuffer(data)) throw new Error('expected a text frame');
      const msg = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      received.push(msg);
      onMessage(ws, msg);
    });
  });
});

afterEach(async () => {
  for (const c of connections) c.terminate();
  await new Promise<void>((r) => server.close(() => r()));
});

/** The server's side of the first connection; fails the test when there is none yet. */
function serverSide(): ServerSocket {
  const ws = connections[0];
  if (!ws) throw new Error('no connection to the server yet');
  return ws;
}

function waitFor<T>(get: () => T | undefined, ms = 2000): Promise<T> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      const v = get();
      if (v !== undefined) resolve(v);
      else if (Date.now() > deadline) reject(new Error('condition not met in time'));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

const self = {
  participantId: 'p1',
  name: 'Grace',
  role: 'participant',
  audioMuted: false,
  videoMuted: false,
  mutedByHost: false,
  canUnmute: true,
};

describe('ProtocolClient', () => {
  it('joins: sends join with an id and resolves with joined; hostKey only when given', async () => {
    onMessage = (ws, msg) => {
      if (msg.type === 'join') {
        ws.send(
          JSON.stringify({
            type: 'joined',
            id: msg.id,
            participantId: 'p1',
            role: 'participant',
            meeting: { meetingId: 'm1', state: 'open', locked: false },
            participants: [],
            timer: null,
            timers: [{ timerId: 't15', seconds: 15 }],
            self,
          }),
        );
      }
    };
    const client = new ProtocolClient(url, factory);
    await client.connect();
    const joined = await client.request({ type: 'join', meetingId: 'm1', name: 'Grace' });
    expect(joined.type).toBe('joined');
    expect(joined.participantId).toBe('p1');
    expect(joined.self?.name).toBe('Grace');
    expect(received[0]).toEqual({ type: 'join', meetingId: 'm1', name: 'Grace', id: 1 });
    expect(received[0]).not.toHaveProperty('hostKey');
    client.close();
  });

  it('pairs answers with requests by id, whatever order they come in', async () => {
    onMessage = (ws, msg) => {
      if (msg.type === 'setMuted') setTimeout(() => ws.send(JSON.stringify({ type: 'ok', id: msg.id })), 30);
      if (msg.type === 'offer') ws.send(JSON.stringify({ type: 'answer', id: msg.id, target: 'publisher', sdp: 'v=0 answer' }));
    };
    const client = new ProtocolClient(url, factory);
    await client.connect();
    const [ok, answer] = await Promise.all([
      client.request({ type: 'setMuted', kind: 'audio', muted: true }),
      client.request({ type: 'offer', target: 'publisher', sdp: 'v=0 offer' }),
    ]);
    expect(ok).toEqual({ type: 'ok', id: 1 });
    expect(answer).toMatchObject({ type: 'answer', id: 2, sdp: 'v=0 answer' });
    client.close();
  });

  it('rejects a refused request with its error code and stays usable', async () => {
    onMessage = (ws, msg) => {
      if (msg.type === 'muteAll') {
        ws.send(JSON.stringify({ type: 'error', id: msg.id, code: 'forbidden', message: 'host only' }));
      } else {
        ws.send(JSON.stringify({ type: 'ok', id: msg.id }));
      }
    };
    const client = new ProtocolClient(url, factory);
    await client.connect();
    const err = await client.request({ type: 'muteAll', allowSelfUnmute: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe('forbidden');
    await expect(client.request({ type: 'cancelTimer' })).resolves.toMatchObject({ type: 'ok' });
    client.close();
  });

  it('delivers events (and an offer from the server) in order, before the ok that caused them', async () => {
    onMessage = (ws, msg) => {
      if (msg.type === 'startTimer') {
        ws.send(JSON.stringify({ type: 'timerStarted', timerId: 't15', seconds: 15, endsAt: 1000 }));
        ws.send(JSON.stringify({ type: 'offer', target: 'subscriber', sdp: 'v=0 sub' }));
        ws.send(JSON.stringify({ type: 'ok', id: msg.id }));
      }
    };
    const client = new ProtocolClient(url, factory);
    const events: ServerEvent[] = [];
    client.onEvent((e) => events.push(e));
    await client.connect();
    await client.request({ type: 'startTimer', timerId: 't15' });
    expect(events.map((e) => e.type)).toEqual(['timerStarted', 'offer']);
    client.close();
  });

  it('waits past its timeout for a join the lobby holds, until the host decides', async () => {
    let joinId: unknown;
    onMessage = (ws, msg) => {
      if (msg.type === 'join') {
        joinId = msg.id;
        ws.send(JSON.stringify({ type: 'lobbyWaiting' }));
      }
    };
    const client = new ProtocolClient(url, factory);
    const events: ServerEvent[] = [];
    client.onEvent((e) => events.push(e));
    await client.connect();
    let settled = false;
    const joined = client.request({ type: 'join', meetingId: 'm', name: 'Grace' }, 100);
    void joined.then(
      () => (settled = true),
      () => (settled = true),
    );
    await waitFor(() => (events.some((e) => e.type === 'lobbyWaiting') ? true : undefined));
    // Well past the 100 ms timeout, the join is still waiting for its answer.
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false);
    serverSide().send(JSON.stringify({ type: 'error', id: joinId, code: 'denied', message: 'the host did not let you in' }));
    const err = await joined.catch((e: unknown) => e);
    expect((err as ProtocolError).code).toBe('denied');
    client.close();
  });

  it('sends fire-and-forget messages without an id', async () => {
    const client = new ProtocolClient(url, factory);
    await client.connect();
    client.send({ type: 'answer', target: 'subscriber', sdp: 'v=0 a' });
    client.send({
      type: 'candidate',
      target: 'publisher',
      candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: null },
    });
    await waitFor(() => (received.length === 2 ? true : undefined));
    expect(received[0]).toEqual({ type: 'answer', target: 'subscriber', sdp: 'v=0 a' });
    expect(received[1]).not.toHaveProperty('id');
    client.close();
  });

  it('rejects pending requests and reports the close when the server goes away', async () => {
    const client = new ProtocolClient(url, factory);
    let closedWith: number | undefined;
    client.onClose((code) => (closedWith = code));
    await client.connect();
    const pending = client.request({ type: 'leave' });
    await waitFor(() => (received.length === 1 ? true : undefined));
    serverSide().close(4000, 'gone');
    const err = await pending.catch((e: unknown) => e);
    expect((err as ProtocolError).code).toBe('closed');
    expect(await waitFor(() => closedWith)).toBe(4000);
    await expect(client.request({ type: 'leave' })).rejects.toBeInstanceOf(ProtocolError);
  });

  it('fails to connect to a port nobody listens on', async () => {
    const addr = server.address();
    if (typeof addr === 'string' || !addr) throw new Error('no address');
    await new Promise<void>((r) => server.close(() => r()));
    const client = new ProtocolClient(url, factory);
    await expect(client.connect(2000)).rejects.toBeInstanceOf(ProtocolError);
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => server.once('listening', () => r()));
  });

  it('does not call close handlers after a close of its own', async () => {
    const client = new ProtocolClient(url, factory);
    let called = false;
    client.onClose(() => (called = true));
    await client.connect();
    client.close();
    await waitFor(() => (serverSide().readyState === serverSide().CLOSED ? true : undefined));
    expect(called).toBe(false);
    expect(client.isOpen).toBe(false);
  });

  it('ignores frames that are not protocol messages', async () => {
    const client = new ProtocolClient(url, factory);
    const events: ServerEvent[] = [];
    client.onEvent((e) => events.push(e));
    await client.connect();
    serverSide().send('not json');
    serverSide().send('[1,2]');
    serverSide().send('{"no":"type"}');
    serverSide().send(JSON.stringify({ type: 'ok', id: 99 })); // nobody asked
    serverSide().send(JSON.stringify({ type: 'kicked' }));
    await waitFor(() => (events.length === 1 ? true : undefined));
    expect(events).toEqual([{ type: 'kicked' }]);
    client.close();
  });
});

describe('message parsing', () => {
  it('tells events from replies', () => {
    const answer = parseServerMessage('{"type":"answer","id":3,"target":"publisher","sdp":"x"}')!;
    expect(isServerEvent(answer)).toBe(false);
    const offer = parseServerMessage('{"type":"offer","target":"subscriber","sdp":"x"}')!;
    expect(isServerEvent(offer)).toBe(true);
    expect(isServerEvent(parseServerMessage('{"type":"ok","id":1}')!)).toBe(false);
    expect(isServerEvent(parseServerMessage('{"type":"somethingNew"}')!)).toBe(false);
    expect(parseServerMessage('nope')).toBeNull();
  });
});
