// The client when things are not ideal: no camera, a phone-sized window, a reloaded host tab, a
// connection that drops, a server that goes away.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CuttableProxy,
  eventually,
  freePort,
  inboundPackets,
  launchBrowser,
  newPerson,
  outDir,
  ParleyServer,
  tileId,
  waitVideoPlaying,
} from './harness.mjs';

const region = (page, name) => page.getByRole('region', { name, exact: true });
const button = (page, name) => page.getByRole('button', { name, exact: true });
const heading = (page, name) => page.getByRole('heading', { name, exact: true });

// Refuses the camera as a browser does when the person says no (microphone still allowed).
const denyCamera = () => {
  const md = navigator.mediaDevices;
  const original = md.getUserMedia.bind(md);
  md.getUserMedia = (constraints) =>
    constraints && constraints.video
      ? Promise.reject(new DOMException('Permission denied', 'NotAllowedError'))
      : original(constraints);
};

async function startMeeting(server, person, name) {
  await person.page.goto(server.base + '/');
  await person.page.getByRole('textbox', { name: 'Your name' }).fill(name);
  await button(person.page, 'New meeting').click();
  await joinedRoom(person.page, name);
  return person.page.getByRole('textbox', { name: 'Meeting link' }).inputValue();
}

async function joinAs(person, url, name) {
  await person.page.goto(url);
  await person.page.getByRole('textbox', { name: 'Your name' }).fill(name);
  await button(person.page, 'Join').click();
  await joinedRoom(person.page, name);
}

// joinedRoom waits until the server's "joined" has arrived: the own tile shows at once, with a
// "Joining…" banner in the same render until then.
async function joinedRoom(page, name) {
  await region(page, `${name} (you)`).waitFor();
  await page.getByRole('status').filter({ hasText: 'Joining…' }).waitFor({ state: 'hidden' });
}

describe('the client when things go wrong', { timeout: 240_000 }, () => {
  let server;
  let browser;

  before(async () => {
    server = new ParleyServer(await freePort(), 'server-resilience.log');
    await server.start();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('without a camera, a guest is told so and joins with sound only; a phone-sized window works', async () => {
    const host = await newPerson(browser, { name: 'ada' });
    const phone = await newPerson(browser, { name: 'phone', viewport: { width: 390, height: 844 }, initScript: denyCamera });
    try {
      const url = await startMeeting(server, host, 'Ada');
      await phone.page.goto(url);
      await phone.page.getByText('Camera access was not allowed. You will join without video.').waitFor();
      await phone.page.getByRole('textbox', { name: 'Your name' }).fill('Mo');
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
    const host = await newPerson(browser, { name: 'ada' });
    try {
      await startMeeting(server, host, 'Ada');
      await host.page.reload();
      await heading(host.page, 'Rejoin your meeting').waitFor();
      assert.equal(await host.page.getByRole('textbox', { name: 'Your name' }).inputValue(), 'Ada');
      await button(host.page, 'Join').click();
      await region(host.page, 'Ada (you)').waitFor();
      await button(host.page, 'End meeting for all').waitFor();
    } finally {
      await host.context.close();
    }
  });

  it('a dropped connection shows "Reconnecting…" and comes back by itself', async () => {
    const host = await newPerson(browser, { name: 'ada' });
    const guest = await newPerson(browser, { name: 'guest' });
    // The guest reaches the server through a proxy that the test can cut, like a network drop.
    const proxy = new CuttableProxy(server.port);
    await proxy.start();
    try {
      const url = await startMeeting(server, host, 'Ada');
      await joinAs(guest, url.replace(server.base, proxy.base), 'Grace');
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
    const host = await newPerson(browser, { name: 'ada' });
    try {
      await startMeeting(server, host, 'Ada');
      await server.stop({ hard: true });
      await host.page.getByRole('alert').filter({ hasText: 'Reconnecting…' }).waitFor();
      // A restarted server (memory only) no longer knows the meeting.
      await server.start();
      await heading(host.page, 'The meeting has ended').waitFor({ timeout: 30_000 });
    } finally {
      await host.context.close();
    }
  });
});
