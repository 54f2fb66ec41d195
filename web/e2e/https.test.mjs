// Parley over https, as two laptops on one network use it: the server in -dev mode makes a
// self-signed certificate for the machine's names and LAN addresses and prints the addresses to
// open; Chromium opens the LAN address (not localhost, so camera and microphone need https),
// trusting that certificate as a person does after accepting it once, and two people exchange
// media. The "LAN address" is 10.77.0.1, added to loopback inside the test's network namespace.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  eventually,
  freePort,
  inboundPackets,
  joinAs,
  launchBrowser,
  newPerson,
  outDir,
  startMeeting,
  tileId,
  waitVideoPlaying,
} from './harness.mjs';

const lanAddress = '10.77.0.1';

describe('https with a -dev certificate, opened at a LAN address', () => {
  const env = { proc: null, browser: null, devDir: null, lines: [], base: null };

  before(async () => {
    const ip = spawnSync('ip', ['addr', 'add', `${lanAddress}/32`, 'dev', 'lo'], { encoding: 'utf8' });
    if (ip.status !== 0 && !/File exists/.test(ip.stderr)) throw new Error(`ip addr add: ${ip.stderr}`);
    env.devDir = mkdtempSync(join(tmpdir(), 'parley-dev-'));
    const port = await freePort();
    env.proc = spawn(
      process.env.PARLEY_BIN,
      ['-listen', `:${port}`, '-dev', '-dev-dir', env.devDir, '-loopback-only', '-udp-port', '0', '-log-format', 'json'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const log = createWriteStream(join(outDir, 'https-server.log'), { flags: 'a' });
    env.proc.stderr.pipe(log);
    createInterface({ input: env.proc.stderr }).on('line', (l) => {
      try {
        env.lines.push(JSON.parse(l));
      } catch {
        // not a log line
      }
    });
    await eventually(() => env.lines.some((l) => l.msg === 'parley is ready'), { timeout: 30_000, what: 'the startup line' });
    env.base = `https://${lanAddress}:${port}`;
  });

  after(async () => {
    await env.browser?.close();
    if (env.proc && env.proc.exitCode === null) {
      const gone = new Promise((r) => env.proc.once('exit', r));
      env.proc.kill('SIGTERM');
      await gone;
    }
    if (env.devDir) rmSync(env.devDir, { recursive: true, force: true });
  });

  test('the startup lines give the LAN address and the certificate; Chromium meets over https there', async () => {
    const urls = env.lines.filter((l) => l.msg === 'open Parley at').map((l) => l.url);
    assert.ok(urls.includes(env.base), `startup URLs ${JSON.stringify(urls)} lack ${env.base}`);
    assert.ok(!env.lines.some((l) => l.level === 'WARN'), 'a warning at startup over https');

    // The certificate in the dev directory is the one whose fingerprint was printed.
    const cert = new X509Certificate(readFileSync(join(env.devDir, 'dev-cert.pem')));
    const printed = env.lines.find((l) => l.msg.startsWith('dev certificate'));
    assert.equal(printed?.fingerprint, cert.fingerprint256);
    assert.ok(cert.checkIP(lanAddress), `the dev certificate does not cover ${lanAddress}`);
    const spki = createHash('sha256')
      .update(cert.publicKey.export({ type: 'spki', format: 'der' }))
      .digest('base64');

    env.browser = await launchBrowser([`--ignore-certificate-errors-spki-list=${spki}`]);
    const host = await newPerson(env.browser, { name: 'https-host' });
    const guest = await newPerson(env.browser, { name: 'https-guest' });
    const link = await startMeeting({ base: env.base }, host, 'Hanna');
    assert.ok(link.startsWith(`${env.base}/m/`), `meeting link ${link}`);
    assert.equal(await host.page.evaluate(() => window.isSecureContext), true);
    await joinAs(guest, link, 'Gus');

    const hostId = await tileId(guest.page, 'Hanna');
    const guestId = await tileId(host.page, 'Gus');
    await waitVideoPlaying(host.page, guestId);
    await waitVideoPlaying(guest.page, hostId);
    // Media keeps flowing both ways: packet counts move on.
    for (const [page, from] of [
      [host.page, guestId],
      [guest.page, hostId],
    ]) {
      const first = await inboundPackets(page, from);
      await eventually(
        async () => {
          const now = await inboundPackets(page, from);
          return now && first && now.audio > first.audio && now.video > first.video;
        },
        { what: `audio and video from ${from} to keep arriving` },
      );
    }
  });
});
