// Networks that block media, made with real nftables rules inside the test's network namespace:
// with UDP to the server's media port blocked, the browsers still meet, over ICE-TCP to the media
// port's TCP twin (or the TURN relay over TCP), and getStats says which; with the media port
// blocked altogether and only TCP to the TURN port let through, they meet through the relay over
// TCP.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  ariaLocator,
  eventually,
  freePort,
  inboundPackets,
  joinAs,
  launchBrowser,
  launchFirefox,
  newPerson,
  ParleyServer,
  startMeeting,
  tileId,
  waitVideoPlaying,
} from './harness.mjs';

const NFT = '/usr/sbin/nft';

function nft(...args) {
  const r = spawnSync(NFT, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nft ${args.join(' ')}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** Adds a table whose output chain drops what each rule matches (counted), e.g. ['udp dport 9 counter drop']. */
function block(table, rules) {
  nft('add', 'table', 'inet', table);
  nft('add', 'chain', 'inet', table, 'out', '{ type filter hook output priority 0; policy accept; }');
  for (const rule of rules) nft('add', 'rule', 'inet', table, 'out', ...rule.split(' '));
}

function unblock(table) {
  if (existsSync(NFT)) spawnSync(NFT, ['delete', 'table', 'inet', table]);
}

/** How many packets the table's rules have dropped so far. */
function dropped(table) {
  let n = 0;
  for (const m of nft('list', 'table', 'inet', table).matchAll(/counter packets (\d+)/g)) n += Number(m[1]);
  return n;
}

/** Packets keep arriving both ways between the two pages, audio and video alike. */
async function mediaFlows(a, aName, b, bName) {
  for (const [viewer, from, who] of [
    [a, await tileId(a, bName), `${aName} receiving ${bName}`],
    [b, await tileId(b, aName), `${bName} receiving ${aName}`],
  ]) {
    await waitVideoPlaying(viewer, from);
    const first = await eventually(() => inboundPackets(viewer, from), { what: `${who}: a stream` });
    await eventually(
      async () => {
        const now = await inboundPackets(viewer, from);
        return now.audio > (first.audio ?? 0) + 20 && now.video > (first.video ?? 0) + 20;
      },
      { what: `${who}: audio and video packets arriving` },
    );
  }
}

/**
 * The candidate pair each live peer connection of the page sends its media over: the local
 * candidate's protocol, type and (for a relayed one) the protocol to the relay, and the remote
 * port.
 */
function selectedPairs(page) {
  return page.evaluate(async () => {
    const out = [];
    for (const pc of window.__testPeerConnections) {
      if (pc.connectionState !== 'connected') continue;
      const stats = new Map();
      (await pc.getStats()).forEach((s) => stats.set(s.id, s));
      const transport = [...stats.values()].find((s) => s.type === 'transport' && s.selectedCandidatePairId);
      const pair = transport && stats.get(transport.selectedCandidatePairId);
      const local = pair && stats.get(pair.localCandidateId);
      const remote = pair && stats.get(pair.remoteCandidateId);
      out.push({
        protocol: local?.protocol,
        type: local?.candidateType,
        relayProtocol: local?.relayProtocol,
        remotePort: remote?.port,
      });
    }
    return out;
  });
}

// firewalled sets up a suite: a server with the TURN relay on fresh ports (and extraArgs), the
// nft rules rules({ mediaPort, turnPort }) in table, and a browser; all undone after the suite.
function firewalled(table, logName, extraArgs, rules) {
  const env = { server: null, browser: null, mediaPort: 0, turnPort: 0 };
  before(async () => {
    assert.ok(existsSync(NFT), `${NFT} is missing: install nftables (make browsers does)`);
    env.mediaPort = await freePort();
    env.turnPort = await freePort();
    env.server = new ParleyServer(await freePort(), logName, [
      '-udp-port',
      String(env.mediaPort),
      '-turn',
      '-turn-port',
      String(env.turnPort),
      ...extraArgs,
    ]);
    await env.server.start();
    block(table, rules(env));
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
    unblock(table);
  });
  return env;
}

describe('UDP to the media port blocked', { timeout: 180_000 }, () => {
  const TABLE = 'parley_e2e_udp';
  // Every datagram to the media port is dropped on its way out, whoever sends it (the browsers,
  // and the relay's relayed sockets too).
  const env = firewalled(TABLE, 'firewall-server.log', [], ({ mediaPort }) => [`udp dport ${mediaPort} counter drop`]);

  it('a guest still joins, sees and hears the host, over TCP', async () => {
    const host = await newPerson(env.browser, { name: 'firewall-host' });
    const guest = await newPerson(env.browser, { name: 'firewall-guest' });
    try {
      const url = await startMeeting(env.server, host, 'Hana');
      await joinAs(guest, url, 'Gus');
      const hana = await tileId(guest.page, 'Hana');
      const gus = await tileId(host.page, 'Gus');
      await Promise.all([waitVideoPlaying(guest.page, hana), waitVideoPlaying(host.page, gus)]);
      for (const [viewer, from, who] of [
        [guest.page, hana, 'Gus receiving Hana'],
        [host.page, gus, 'Hana receiving Gus'],
      ]) {
        const first = await eventually(() => inboundPackets(viewer, from), { what: `${who}: a stream` });
        await eventually(
          async () => {
            const now = await inboundPackets(viewer, from);
            return now.audio > (first.audio ?? 0) + 20 && now.video > (first.video ?? 0) + 20;
          },
          { what: `${who}: audio and video packets arriving` },
        );
      }

      const pairs = await selectedPairs(guest.page);
      console.log(`the guest's selected candidate pairs: ${JSON.stringify(pairs)}`);
      assert.equal(pairs.length, 2, "the guest's publisher and subscriber connections are both connected");
      for (const p of pairs) {
        const iceTCP = p.protocol === 'tcp' && p.type !== 'relay' && p.remotePort === env.mediaPort;
        const turnTCP = p.type === 'relay' && p.relayProtocol === 'tcp';
        assert.ok(iceTCP || turnTCP, `media over ICE-TCP to the media port or the relay over TCP, not ${JSON.stringify(p)}`);
      }
      // The rule did block something: the browsers tried UDP to the media port first.
      assert.ok(dropped(TABLE) > 0, 'the nft rule dropped the UDP datagrams sent to the media port');
    } finally {
      await host.context.close();
      await guest.context.close();
    }
  });

  it('a Firefox guest too', async () => {
    const host = await newPerson(env.browser, { name: 'firewall-host-2' });
    const firefox = await launchFirefox('firewall-firefox');
    try {
      const url = await startMeeting(env.server, host, 'Hana');
      const { page } = firefox;
      await page.goto(url);
      await ariaLocator(page, 'textbox', 'Your name').fill('Ffion');
      await ariaLocator(page, 'button', 'Join').click();
      await ariaLocator(page, 'region', 'Ffion (you)').wait();
      const ffion = await tileId(host.page, 'Ffion');
      const hana = await eventually(
        () => page.evaluate(() => document.querySelector('section[aria-label="Hana"]')?.dataset.participantId),
        { what: "Hana's tile at Firefox" },
      );
      await Promise.all([waitVideoPlaying(page, hana), waitVideoPlaying(host.page, ffion)]);
      for (const [viewer, from, who] of [
        [page, hana, 'Ffion receiving Hana'],
        [host.page, ffion, 'Hana receiving Ffion'],
      ]) {
        const first = await eventually(() => inboundPackets(viewer, from), { what: `${who}: a stream` });
        await eventually(
          async () => {
            const now = await inboundPackets(viewer, from);
            return now.audio > (first.audio ?? 0) + 20 && now.video > (first.video ?? 0) + 20;
          },
          { what: `${who}: audio and video packets arriving` },
        );
      }
      const pairs = await selectedPairs(page);
      console.log(`Firefox's selected candidate pairs: ${JSON.stringify(pairs)}`);
      assert.equal(pairs.length, 2, "Firefox's publisher and subscriber connections are both connected");
      for (const p of pairs) {
        const iceTCP = p.protocol === 'tcp' && p.type !== 'relay';
        const turnTCP = p.type === 'relay' && p.relayProtocol === 'tcp';
        assert.ok(iceTCP || turnTCP, `Firefox: media over ICE-TCP or the relay over TCP, not ${JSON.stringify(p)}`);
      }
    } finally {
      await host.context.close();
      await firefox.browser.close();
    }
  });
});

describe('only TCP to the TURN port let through', { timeout: 180_000 }, () => {
  const TABLE = 'parley_e2e_turn_tcp';
  // The relay's own sockets take ports above the kernel's ephemeral range (32768-60999 by
  // default), where no browser socket is, so that the rules can tell the relay's datagrams to the
  // media port from the browsers'.
  const RELAY_PORTS = '61000-61999';
  const env = firewalled(TABLE, 'firewall-turn-server.log', ['-turn-relay-ports', RELAY_PORTS], ({ mediaPort, turnPort }) => [
    `udp dport ${mediaPort} udp sport != ${RELAY_PORTS} counter drop`,
    `tcp dport ${mediaPort} counter drop`,
    `udp dport ${turnPort} counter drop`,
  ]);

  it('host and guest meet through the relay over TCP', async () => {
    const host = await newPerson(env.browser, { name: 'turn-host' });
    const guest = await newPerson(env.browser, { name: 'turn-guest' });
    try {
      const url = await startMeeting(env.server, host, 'Hana');
      await joinAs(guest, url, 'Gus');
      await mediaFlows(host.page, 'Hana', guest.page, 'Gus');
      for (const [page, who] of [
        [guest.page, 'the guest'],
        [host.page, 'the host'],
      ]) {
        const pairs = await selectedPairs(page);
        console.log(`${who}'s selected candidate pairs: ${JSON.stringify(pairs)}`);
        assert.equal(pairs.length, 2, `${who}'s publisher and subscriber connections are both connected`);
        for (const p of pairs) {
          assert.ok(p.type === 'relay' && p.relayProtocol === 'tcp', `${who}: media through the relay over TCP, not ${JSON.stringify(p)}`);
        }
      }
      assert.ok(dropped(TABLE) > 0, 'the nft rules dropped the direct attempts');
    } finally {
      await host.context.close();
      await guest.context.close();
    }
  });
});
