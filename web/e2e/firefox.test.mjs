// The client in Firefox, against a Chromium participant: Firefox starts a meeting, Chromium joins
// by its link, and media flows both ways (packets counted on each side, videos playing, each
// showing the other speaking). Kept to one meeting so that it stays quick; the full feature tour
// runs in Chromium (meeting.test.mjs).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ariaLocator,
  CuttableProxy,
  eventually,
  inboundPackets,
  joinAs,
  launchFirefox,
  mediaState,
  newPerson,
  region,
  serverAndBrowser,
  startMeeting,
  tileId,
  waitVideoPlaying,
  watchEvents,
} from './harness.mjs';

describe('the client in Firefox', { timeout: 240_000 }, () => {
  // The resuming guest reaches the server through a proxy on another port (CuttableProxy): her
  // page's origin is that port's, which the server's origin check refuses unless allowed.
  const env = serverAndBrowser('server-firefox.log', ['-allowed-origin', '127.0.0.1:*']);
  let firefox;

  before(async () => {
    firefox = await launchFirefox();
  });

  after(async () => {
    await firefox?.browser.close();
  });

  it('starts a meeting, and exchanges audio and video with a Chromium guest', async () => {
    const { page } = firefox;
    await page.goto(env.server.base + '/');
    await ariaLocator(page, 'textbox', 'Your name').fill('Ffion');
    await ariaLocator(page, 'button', 'New meeting').click();
    // The host's preview: pickers listing Firefox's fake devices, and the level meter. (Whether the
    // meter moves is checked in Chromium: Firefox here has no audio output device, and keeps every
    // AudioContext suspended without one, so its analyser reads silence.)
    await ariaLocator(page, 'heading', 'Ready to start your meeting?').wait();
    await ariaLocator(page, 'combobox', 'Microphone').wait();
    await ariaLocator(page, 'combobox', 'Camera').wait();
    await ariaLocator(page, 'meter', 'Microphone level').wait();
    const mics = await page.evaluate(() => document.querySelector('select')?.options.length ?? 0);
    assert.ok(mics >= 1, 'Firefox lists a microphone');
    await ariaLocator(page, 'button', 'Join').click();
    await ariaLocator(page, 'region', 'Ffion (you)').wait();
    const joinUrl = await eventually(
      () => page.evaluate(() => document.querySelector('[aria-label="Meeting link"]')?.value),
      { what: 'the meeting link' },
    );
    assert.match(joinUrl, /\/m\/[^/]+$/);

    const guest = await newPerson(env.browser, { name: 'firefox-guest' });
    try {
      await joinAs(guest, joinUrl, 'Grace');
      const ffion = await tileId(guest.page, 'Ffion');
      await ariaLocator(page, 'region', 'Grace').wait();
      const grace = await page.evaluate(() => document.querySelector('section[aria-label="Grace"]')?.dataset.participantId);
      assert.ok(grace, "Grace's tile names her participantId");

      await Promise.all([waitVideoPlaying(page, grace), waitVideoPlaying(guest.page, ffion)]);
      // Packets keep arriving both ways, audio and video alike.
      for (const [viewer, from, who] of [
        [page, grace, 'Grace at Firefox'],
        [guest.page, ffion, 'Ffion at Chromium'],
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
      // Both fake microphones make sound: each side marks the other's tile as speaking.
      const speaking = (viewer, id) =>
        viewer.evaluate((pid) => document.querySelector(`section[data-participant-id="${pid}"]`)?.classList.contains('speaking'), id);
      await eventually(() => speaking(page, grace), { what: 'Firefox to show Grace speaking', interval: 100 });
      await eventually(() => speaking(guest.page, ffion), { what: 'Chromium to show Ffion speaking', interval: 100 });

      // Firefox sends its camera as the three simulcast layers too, each an outbound stream of
      // its own; the server forwards Chromium one of them.
      const layers = await page.evaluate(async () => {
        const out = { rids: [], streams: 0 };
        for (const pc of window.__testPeerConnections) {
          for (const s of pc.getSenders()) {
            if (s.track?.kind === 'video') out.rids.push(...s.getParameters().encodings.map((e) => e.rid));
          }
          (await pc.getStats()).forEach((st) => {
            if (st.type === 'outbound-rtp' && st.kind === 'video') out.streams++;
          });
        }
        return out;
      });
      assert.deepEqual(layers.rids, ['q', 'h', 'f'], 'Firefox sends the camera as layers q, h, f');
      assert.equal(layers.streams, 3, 'Firefox has an outbound stream per layer');

      // Switching the camera in the settings replaces the track in Firefox too: no new offer, and
      // Grace keeps receiving video.
      await ariaLocator(page, 'button', 'Settings').click();
      await ariaLocator(page, 'combobox', 'Camera').wait();
      const cams = await page.evaluate(() => {
        const select = [...document.querySelectorAll('dialog select')].find((s) => s.labels[0]?.textContent === 'Camera');
        return select ? [...select.options].map((o) => o.value).filter(Boolean) : [];
      });
      assert.ok(cams.length >= 1, 'Firefox lists a camera');
      const offers = await page.evaluate(() => window.__testOffers ?? 0);
      const before = await inboundPackets(guest.page, ffion);
      const target = cams.at(-1);
      await page.evaluate((value) => {
        const select = [...document.querySelectorAll('dialog select')].find((s) => s.labels[0]?.textContent === 'Camera');
        // A pick of the same camera still goes through the switch: set it, then say it changed.
        select.value = value;
        select.dispatchEvent(new Event('change', { bubbles: true }));
      }, target);
      await eventually(
        () =>
          page.evaluate(
            (value) =>
              window.__testPeerConnections.some((pc) =>
                pc.getSenders().some((s) => s.track?.kind === 'video' && s.track.getSettings().deviceId === value),
              ),
            target,
          ),
        { what: 'Firefox to send the picked camera' },
      );
      assert.equal(await page.evaluate(() => window.__testOffers ?? 0), offers, 'no new offer in Firefox');
      await eventually(async () => (await inboundPackets(guest.page, ffion)).video > before.video + 30, {
        what: "Ffion's video to keep arriving at Chromium",
      });

      // Grace shares her screen: Firefox tells it from her camera (by the section's a=msid, as
      // Firefox gives remote tracks ids of its own) and shows it large, her camera still in her
      // tile.
      await guest.page.getByRole('button', { name: 'Share screen', exact: true }).click();
      await eventually(() => page.evaluate(() => document.querySelector('section[aria-label="Grace\'s screen"]') !== null), {
        what: "Grace's screen in Firefox's page",
      }).catch(async (err) => {
        err.message += `\n${JSON.stringify(await mediaState(page), null, 1)}`;
        throw err;
      });
      const shown = await eventually(
        () =>
          page.evaluate(() => {
            const screen = document.querySelector('section.screen-stage video');
            const tile = document.querySelector('section.tile[aria-label="Grace"] video');
            const s = screen?.srcObject?.getVideoTracks()[0];
            const c = tile?.srcObject?.getVideoTracks()[0];
            return screen && screen.videoWidth > 0 && s && c && s !== c ? { screen: screen.videoWidth, camera: tile.videoWidth } : null;
          }),
        { what: "Grace's screen playing in Firefox beside her camera" },
      );
      assert.ok(shown.screen > 0 && shown.camera > 0, `screen ${shown.screen}px, camera ${shown.camera}px wide`);
      await guest.page.getByRole('button', { name: 'Stop sharing', exact: true }).click();
      await eventually(() => page.evaluate(() => document.querySelector('section.screen-stage') === null), {
        what: "Grace's screen to leave Firefox's page",
      });

      // Firefox shares (the settings dialog closed first): headless Firefox captures no display, so this test hands the page a
      // canvas's stream as "the screen" (the test's stand-in for the browser's picker); from the
      // offer on, the path is the client's own: a renegotiation naming the screen's section.
      await page.keyboard.press('Escape');
      await eventually(() => page.evaluate(() => document.querySelector('dialog[open]') === null), { what: 'the settings closed' });
      await page.evaluate(() => {
        navigator.mediaDevices.getDisplayMedia = async () => {
          const canvas = document.createElement('canvas');
          canvas.width = 640;
          canvas.height = 360;
          const ctx = canvas.getContext('2d');
          let n = 0;
          setInterval(() => {
            ctx.fillStyle = `hsl(${(n += 7) % 360} 60% 40%)`;
            ctx.fillRect(0, 0, 640, 360);
          }, 66);
          return canvas.captureStream(15);
        };
      });
      await ariaLocator(page, 'button', 'Share screen').click();
      await guest.page
        .getByRole('region', { name: "Ffion's screen", exact: true })
        .waitFor({ timeout: 30_000 })
        .catch(async (err) => {
          err.message += `\nFirefox: ${JSON.stringify(await mediaState(page))} ${await page.evaluate(() => document.querySelector('#tool-screen')?.outerHTML)}\nChromium: ${JSON.stringify(await mediaState(guest.page))}`;
          throw err;
        });
      await eventually(
        () => guest.page.evaluate(() => (document.querySelector('section.screen-stage video')?.videoWidth ?? 0) > 0),
        { what: "Ffion's screen playing in Chromium", timeout: 30_000 },
      );
      await ariaLocator(page, 'button', 'Stop sharing').click();
      await guest.page.getByRole('region', { name: "Ffion's screen", exact: true }).waitFor({ state: 'hidden' });
    } finally {
      await guest.context.close();
    }
  });

  it('a Firefox guest whose connection drops, or who reloads, comes back as the same participant', async () => {
    const host = await newPerson(env.browser, { name: 'firefox-resume-host' });
    // The guest reaches the server through a proxy the test can cut (media does not pass it).
    const proxy = new CuttableProxy(env.server.port);
    await proxy.start();
    const page = await firefox.browser.newPage();
    page.setDefaultTimeout(20_000);
    try {
      const events = watchEvents(host.page);
      const url = await startMeeting(env.server, host, 'Ada');
      await page.goto(url.replace(env.server.base, proxy.base));
      await ariaLocator(page, 'textbox', 'Your name').fill('Ffion');
      await ariaLocator(page, 'button', 'Join').click();
      await ariaLocator(page, 'region', 'Ffion (you)').wait();
      const ffion = await tileId(host.page, 'Ffion');
      await waitVideoPlaying(host.page, ffion);
      assert.deepEqual(events.since(), [`participantJoined ${ffion}`]);

      // A dropped WebSocket: resumed on the same peer connections.
      proxy.cut();
      await region(host.page, 'Ffion').getByRole('status').filter({ hasText: 'Reconnecting…' }).waitFor();
      proxy.restore();
      await eventually(async () => (await region(host.page, 'Ffion').getByText('Reconnecting…').count()) === 0, {
        what: 'Ffion back',
        timeout: 30_000,
      });
      assert.equal(await tileId(host.page, 'Ffion'), ffion);
      await waitVideoPlaying(host.page, ffion);

      // A reload: new peer connections, the same participant.
      await page.reload();
      await ariaLocator(page, 'textbox', 'Your name').fill('Ffion');
      await ariaLocator(page, 'button', 'Join').click();
      await ariaLocator(page, 'region', 'Ffion (you)').wait();
      assert.equal(await tileId(host.page, 'Ffion'), ffion);
      await waitVideoPlaying(host.page, ffion);
      assert.deepEqual(events.since(), [], 'the host saw a leave or a join');
    } finally {
      await page.close();
      await proxy.stop();
      await host.context.close();
    }
  });
});
