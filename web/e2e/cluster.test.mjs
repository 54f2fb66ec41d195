// A meeting on a cluster of three nodes sharing one Redis (started by run.mjs), behind one name as
// a real deployment puts them (deployments/: Caddy in front): a host whose connections reach node
// 1 and a guest whose connections reach node 2 see and hear each other and the host's mute all
// holds; then the node that holds the meeting is killed (kill -9), both pages reconnect through the
// survivors, and the meeting goes on with the guest still muted by the host.
import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  button,
  eventually,
  freePort,
  inboundPackets,
  joinAs,
  launchBrowser,
  newPerson,
  openTab,
  ParleyServer,
  region,
  startMeeting,
  tileId,
  waitVideoPlaying,
} from './harness.mjs';

const redisURL = process.env.PARLEY_E2E_REDIS_URL;

/**
 * The load balancer: a TCP proxy that sends each new connection to the preferred node, or, when
 * that node refuses (it is dead), to the next one that accepts, as a proxy with health checks
 * does. A connection stays on the node it reached.
 */
class Balancer {
  constructor(ports) {
    this.ports = ports;
    this.preferred = 0;
    this.sockets = new Set();
    this.server = createServer((client) => {
      client.pause();
      this.sockets.add(client);
      client.on('close', () => this.sockets.delete(client));
      client.on('error', () => client.destroy());
      this.route(client, 0);
    });
  }

  route(client, tried) {
    if (tried >= this.ports.length) {
      client.destroy();
      return;
    }
    const port = this.ports[(this.preferred + tried) % this.ports.length];
    const upstream = connect(port, '127.0.0.1');
    upstream.once('error', () => {
      if (!upstream.connecting) {
        client.destroy();
        return;
      }
      upstream.destroy();
      this.route(client, tried + 1);
    });
    upstream.once('connect', () => {
      upstream.on('error', () => client.destroy());
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }

  async start() {
    const port = await freePort();
    await new Promise((r) => this.server.listen(port, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${port}`;
  }

  async stop() {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

/** One command to the Redis at redisURL; the answer: a simple or bulk string, or null. */
function redisCommand(...args) {
  const { hostname, port } = new URL(redisURL);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), hostname);
    sock.setTimeout(5_000, () => sock.destroy(new Error(`redis ${args[0]}: no answer`)));
    let buf = '';
    const done = (fn, v) => {
      sock.end();
      fn(v);
    };
    sock.on('error', reject);
    sock.on('data', (d) => {
      buf += d.toString();
      const eol = buf.indexOf('\r\n');
      if (eol < 0) return;
      const head = buf.slice(1, eol);
      if (buf[0] === '+' || buf[0] === ':') return done(resolve, head);
      if (buf[0] === '-') return done(reject, new Error(`redis ${args[0]}: ${head}`));
      const len = Number(head);
      if (len < 0) return done(resolve, null);
      if (buf.length >= eol + 2 + len) done(resolve, buf.slice(eol + 2, eol + 2 + len));
    });
    sock.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join(''));
  });
}

/** The id of the node that owns the meeting (redisstore: hash parley:m:{id}, field owner). */
const ownerOf = (meetingId) => redisCommand('HGET', `parley:m:{${meetingId}}`, 'owner');

/** Waits until the video of the participant named name plays on page, finding its tile anew (a rejoin is a new tile). */
async function playing(page, name) {
  await eventually(
    async () => {
      // Briefly: a tile of before the takeover never plays again, and its successor is looked up anew.
      await waitVideoPlaying(page, await tileId(page, name), 1_500);
      return true;
    },
    { timeout: 30_000, what: `${name}'s video playing` },
  );
}

/** The video of the participant named name keeps arriving at page (getStats: packets received grow). */
async function videoGrows(page, name) {
  const id = await tileId(page, name);
  const t0 = await eventually(() => inboundPackets(page, id), { what: `${name}'s stream at the page` });
  await eventually(async () => (await inboundPackets(page, id)).video > t0.video + 30, { what: `${name}'s video packets to grow` });
}

/** Audio stops arriving from the participant named name at page while its video keeps arriving. */
async function audioHeldVideoFlows(page, name) {
  let id = await tileId(page, name);
  let settled = await inboundPackets(page, id);
  await eventually(
    async () => {
      id = await tileId(page, name);
      const now = await inboundPackets(page, id);
      const still = now !== null && settled !== null && now.audio === settled.audio;
      settled = now;
      return still;
    },
    { what: `${name}'s audio to stop arriving`, interval: 1000 },
  );
  const t0 = settled;
  await eventually(async () => (await inboundPackets(page, id)).video > t0.video + 30, { what: `more of ${name}'s video` });
  const t1 = await inboundPackets(page, id);
  assert.equal(t1.audio, t0.audio, `no audio packets from ${name} while muted by the host`);
}

describe('a meeting on a cluster of three nodes behind one name', { timeout: 120_000 }, () => {
  const nodes = [];
  let balancer;
  let browser;
  let host;
  let guest;
  let meetingId;
  let joinUrl;

  before(async () => {
    assert.ok(redisURL, 'PARLEY_E2E_REDIS_URL is not set: run the suite with web/e2e/run.mjs, which starts Redis');
    await redisCommand('FLUSHALL'); // a meeting or node of an earlier run is no part of this one
    const ports = await Promise.all([1, 2, 3].map(() => freePort()));
    balancer = new Balancer(ports);
    await balancer.start();
    for (let i = 0; i < 3; i++) {
      // The nodes answer to the balancer's name: the pages' origin, and the links they give.
      const node = new ParleyServer(ports[i], `server-cluster-${i + 1}.log`, [
        '-redis-url',
        redisURL,
        '-node-id',
        `node-${i + 1}`,
        '-public-url',
        balancer.base,
      ]);
      await node.start();
      nodes.push(node);
    }
    browser = await launchBrowser();
    host = await newPerson(browser, { name: 'cluster-host' });
    guest = await newPerson(browser, { name: 'cluster-guest' });
  });

  after(async () => {
    await browser?.close();
    await balancer?.stop();
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('the host starts a meeting through node 1 and a guest joins through node 2: they see each other', async () => {
    balancer.preferred = 0;
    joinUrl = await startMeeting(balancer, host, 'Ada');
    meetingId = new URL(joinUrl).pathname.split('/').pop();
    assert.match(await ownerOf(meetingId), /^node-[123]$/);
    balancer.preferred = 1;
    await joinAs(guest, joinUrl, 'Grace');
    await Promise.all([playing(host.page, 'Grace'), playing(guest.page, 'Ada')]);
    await Promise.all([videoGrows(host.page, 'Grace'), videoGrows(guest.page, 'Ada')]);
  });

  it('mute all holds the guest: her audio stops at the host', async () => {
    await openTab(host.page, 'Participants');
    await button(host.page, 'Mute all').click();
    const dialog = host.page.getByRole('dialog', { name: 'Mute everyone?' });
    await dialog.getByRole('button', { name: 'Mute all' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await guest.page.getByText('The host muted you', { exact: true }).waitFor();
    await audioHeldVideoFlows(host.page, 'Grace');
  });

  it("kill -9 of the meeting's node: both pages come back through the survivors, the guest still muted", async () => {
    const ownerId = await ownerOf(meetingId);
    const owner = nodes[Number(ownerId.slice('node-'.length)) - 1];
    const killed = Date.now();
    await owner.stop({ hard: true });
    // New connections go to the preferred node, or past it when it was the one killed.
    await eventually(
      async () => {
        const now = await ownerOf(meetingId);
        return now && now !== ownerId;
      },
      { what: 'a survivor to take the meeting over', interval: 50 },
    );
    const takenOver = Date.now() - killed;
    await Promise.all([playing(host.page, 'Grace'), playing(guest.page, 'Ada')]);
    await Promise.all([videoGrows(host.page, 'Grace'), videoGrows(guest.page, 'Ada')]);
    console.log(`cluster: kill -9 of ${ownerId}: taken over after ${takenOver} ms, both videos playing again after ${Date.now() - killed} ms`);
    const unmute = button(guest.page, 'Unmute microphone');
    await unmute.waitFor();
    assert.equal(await unmute.isDisabled(), true, 'the guest cannot unmute: the host mute held across the takeover');
    await region(host.page, 'Grace').getByRole('img', { name: 'Muted by the host' }).waitFor();
    await audioHeldVideoFlows(host.page, 'Grace');
  });
});
