// The client when things are not ideal: no camera, a phone-sized window, a reloaded host tab, a
// connection that drops, a server that goes away.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  button,
  CuttableProxy,
  eventually,
  heading,
  inboundPackets,
  joinAs,
  nameField,
  newPerson,
  outDir,
  region,
  serverAndBrowser,
  startMeeting,
  tileId,
  waitVideoPlaying,
} from './harness.mjs';

// Refuses the camera as a browser does when the person says no (microphone still allowed).
const denyCamera = () => {
  const md = navigator.mediaDevices;
  const original = md.getUserMedia.bind(md);
  md.getUserMedia = (constraints) =>
    constraints && constraints.video
      ? Promise.reject(new DOMException('Permission denied', 'NotAllowedError'))
      : original(constraints);
};

describe('the client when things go wrong', { timeout: 240_000 }, () => {
  const env = serverAndBrowser('server-resilience.log');

  it('without a camera, a guest is told so and joins with sound only; a phone-sized window works', async () => {
    const host = await newPerson(env.browser, { name: 'ada' });
    const phone = await newPerson(env.browser, { name: 'phone', viewport: { width: 390, height: 844 }, initScript: denyCamera });
    try {
      const url = await startMeeting(env.server, host, 'Ada');
      await phone.page.goto(url);
      await phone.page.getByText('Camera access was not allowed. You will join without video.').waitFor();
      await nameField(phone.page).fill('Mo');
      await button(phone.page, 'Join').click();
      await region(phone.page, 'Mo (you)').waitFor();
      await button(phone.page, 'Turn on camera').waitFor();

      const mo = await tileId(host.page, 'Mo');
      await region(host.page, 'Mo').getByRole('img', { name: 'Camera off' }).waitFor();
      const first = await eventually(() => inboundPackets(host.page, mo), { what: "Mo's stream" });
      await eventually(async () => (await inboundPackets(host.page, mo)).audio > (first.audio ?? 0) + 20, {
        what: "Mo's audio at the host",
      });
      const ada = await tileId(phone.page, 'Ada');
      await waitVideoPlaying(phone.page, ada);

      // On a phone the tiles and controls fit the screen; the side panel opens on demand.
      for (const name of ['Mo (you)', 'Ada']) {
        const box = await region(phone.page, name).boundingBox();
        assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `${name} tile fits the width`);
      }
      const leave = await button(phone.page, 'Leave meeting').boundingBox();
      assert.ok(leave && leave.y + leave.height <= 844, 'the controls are on screen');
      await phone.page.screenshot({ path: join(outDir, 'phone.png') });
      await button(phone.page, 'Participants').click();
      await phone.page.getByRole('heading', { name: 'Participants (2)' }).waitFor();
      await phone.page.screenshot({ path: join(outDir, 'phone-participants.png') });
    } finally {
      await host.context.close();
      await phone.context.close();
    }
  });

  it('a host who reloads the tab rejoins as the host', async () => {
    const host = await newPerson(env.browser, { name: 'ada' });
    try {
      await startMeeting(env.server, host, 'Ada');
      await host.page.reload();
      await heading(host.page, 'Rejoin your meeting').waitFor();
      assert.equal(await nameField(host.page).inputValue(), 'Ada');
      await button(host.page, 'Join').click();
      await region(host.page, 'Ada (you)').waitFor();
      await button(host.page, 'End meeting for all').waitFor();
    } finally {
      await host.context.close();
    }
  });

  it('a dropped connection shows "Reconnecting…" and comes back by itself', async () => {
    const host = await newPerson(env.browser, { name: 'ada' });
    const guest = await newPerson(env.browser, { name: 'guest' });
    // The guest reaches the server through a proxy that the test can cut, like a network drop.
    const proxy = new CuttableProxy(env.server.port);
    await proxy.start();
    try {
      const url = await startMeeting(env.server, host, 'Ada');
      await joinAs(guest, url.replace(env.server.base, proxy.base), 'Grace');
      const before = await tileId(host.page, 'Grace');
      await waitVideoPlaying(host.page, before);

      proxy.cut();
      await guest.page.getByRole('alert').filter({ hasText: 'Reconnecting…' }).waitFor();
      // Still a meeting page, not a frozen or blank one.
      await button(guest.page, 'Leave meeting').waitFor();
      proxy.restore();
      await eventually(async () => (await guest.page.getByText('Reconnecting…').count()) === 0, {
        what: 'the reconnect to finish',
        timeout: 30_000,
      });
      // Back as a live participant: one Grace at the host, and media flows both ways again.
      await waitVideoPlaying(guest.page, await tileId(guest.page, 'Ada'));
      await eventually(
        async () => (await region(host.page, 'Grace').count()) === 1 && (await tileId(host.page, 'Grace')) !== before,
        { what: 'the host to see the rejoined Grace' },
      );
      await waitVideoPlaying(host.page, await tileId(host.page, 'Grace'));
    } finally {
      await proxy.stop();
      await host.context.close();
      await guest.context.close();
    }
  });

  it('when the server goes away, the page says "Reconnecting…" rather than freezing, then says how it ended', async () => {
    const host = await newPerson(env.browser, { name: 'ada' });
    try {
      await startMeeting(env.server, host, 'Ada');
      await env.server.stop({ hard: true });
      await host.page.getByRole('alert').filter({ hasText: 'Reconnecting…' }).waitFor();
      // A restarted server (memory only) no longer knows the meeting.
      await env.server.start();
      await heading(host.page, 'The meeting has ended').waitFor({ timeout: 30_000 });
    } finally {
      await host.context.close();
    }
  });
});
