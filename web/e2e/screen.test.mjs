// Screen share and active speakers in real Chromium (PROTOCOL.md 1.1): a guest shares a screen
// (headless Chromium with fake devices hands getDisplayMedia a fake screen, with sound: the real
// path from the browser's picker on); the others see it large with the sharer's name; the host
// stops it from the host controls and it disappears everywhere; she shares again and the
// browser's own stop bar ends it; with sharing turned off only the host shares; speaker view
// follows the one guest whose fake microphone is on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  button,
  eventually,
  expectAccessible,
  joinAs,
  newPerson,
  openTab,
  region,
  serverAndBrowser,
  startMeeting,
  tileId,
} from './harness.mjs';

/** Whether the page shows a playing video inside the region named name. */
function regionVideoPlaying(page, name) {
  return page.evaluate(async (label) => {
    const v = document.querySelector(`section[aria-label="${CSS.escape(label)}"] video`);
    if (!v || v.videoWidth === 0) return false;
    const t = v.currentTime;
    await new Promise((r) => setTimeout(r, 300));
    return v.currentTime > t;
  }, name);
}

// Keeps every activeSpeakers list the page receives (window.__testSpeakers), for failure messages.
const recordSpeakers = () => {
  window.__testSpeakers = [];
  const Original = window.WebSocket;
  window.WebSocket = class extends Original {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => {
        if (typeof e.data === 'string' && e.data.includes('"activeSpeakers"')) window.__testSpeakers.push(JSON.parse(e.data).speakers);
      });
    }
  };
};

describe('screen share and active speakers', () => {
  const env = serverAndBrowser('screen-server.log');

  it('a guest shares; everyone sees it large; the host stops it; speaker view follows the speaker', async () => {
    const ada = await newPerson(env.browser, { name: 'screen-host' });
    const url = await startMeeting(env.server, ada, 'Ada');
    await button(ada.page, 'Mute microphone').click();
    const grace = await newPerson(env.browser, { name: 'screen-grace' });
    await joinAs(grace, url, 'Grace');
    const bob = await newPerson(env.browser, { name: 'screen-bob', initScript: recordSpeakers });
    await joinAs(bob, url, 'Bob');
    await button(bob.page, 'Mute microphone').click();
    const graceId = await tileId(bob.page, 'Grace');

    // Speaker view: Grace's fake microphone is the only one on; Bob's view features her.
    await button(bob.page, 'Speaker view').click();
    await button(bob.page, 'Grid view').waitFor();
    const featured = region(bob.page, 'Active speaker');
    await eventually(async () => (await featured.getByRole('region', { name: 'Grace', exact: true }).count()) === 1, {
      what: "Bob's speaker view to feature Grace",
      timeout: 30_000,
    }).catch(async (err) => {
      err.message += `\nactiveSpeakers at Bob: ${JSON.stringify(await bob.page.evaluate(() => window.__testSpeakers))}, Grace is ${graceId}`;
      throw err;
    });
    await expectAccessible(bob.page, 'the meeting in speaker view');
    // The participants list says who speaks.
    await openTab(bob.page, 'Participants');
    await eventually(
      async () =>
        (await bob.page.locator(`li[data-participant-id="${graceId}"]`).getByRole('img', { name: 'Speaking', exact: true }).count()) === 1,
      { what: 'the participants list to show Grace speaking' },
    );
    // Grid view again: speaking tiles are outlined there.
    await button(bob.page, 'Grid view').click();
    await eventually(() => bob.page.evaluate((id) => document.querySelector(`section.tile[data-participant-id="${id}"]`)?.classList.contains('speaking'), graceId), {
      what: "Grace's tile outlined as speaking in grid view",
    });

    // Grace shares her screen: the others see it large, named after her; she sees she shares.
    await button(grace.page, 'Share screen').click();
    await button(grace.page, 'Stop sharing').waitFor();
    await grace.page.getByText('You are sharing your screen', { exact: true }).waitFor();
    for (const viewer of [ada, bob]) {
      await region(viewer.page, "Grace's screen").waitFor({ timeout: 30_000 });
      await eventually(() => regionVideoPlaying(viewer.page, "Grace's screen"), { what: "Grace's screen playing", timeout: 30_000 });
    }
    // Large: wider than any tile of the grid.
    const sizes = await bob.page.evaluate(() => ({
      screen: document.querySelector('section.screen-stage')?.getBoundingClientRect().width ?? 0,
      tile: Math.max(...[...document.querySelectorAll('section.tile')].map((t) => t.getBoundingClientRect().width)),
    }));
    assert.ok(sizes.screen > sizes.tile, `the shared screen (${sizes.screen}px) is larger than the tiles (${sizes.tile}px)`);
    await expectAccessible(bob.page, "the meeting with Grace's screen");
    await expectAccessible(grace.page, 'the meeting while sharing a screen');

    // The host stops it from the host controls: it disappears everywhere.
    await openTab(ada.page, 'Host controls');
    await expectAccessible(ada.page, 'the host controls with a screen share to stop');
    await button(ada.page, "Stop Grace's screen share").click();
    for (const viewer of [ada, bob]) {
      await region(viewer.page, "Grace's screen").waitFor({ state: 'hidden' });
    }
    await button(grace.page, 'Share screen').waitFor();
    await region(grace.page, 'Your screen').waitFor({ state: 'hidden' });
    await grace.page.getByText('Your screen share was stopped by the host.', { exact: true }).waitFor();
    await button(ada.page, "Stop Grace's screen share").waitFor({ state: 'detached' });

    // Grace shares again (a new offer with a screen: the server forwards it again), then ends it
    // with the browser's own "Stop sharing" bar, which ends the captured track.
    await button(grace.page, 'Share screen').click();
    await region(bob.page, "Grace's screen").waitFor({ timeout: 30_000 });
    await eventually(() => regionVideoPlaying(bob.page, "Grace's screen"), { what: "Grace's screen playing again", timeout: 30_000 });
    const ended = await grace.page.evaluate(() => {
      for (const pc of window.__testPeerConnections) {
        for (const s of pc.getSenders()) {
          if (s.track?.kind === 'video' && s.track.getSettings().displaySurface) {
            s.track.dispatchEvent(new Event('ended')); // what the browser's stop bar does
            return true;
          }
        }
      }
      return false;
    });
    assert.ok(ended, "Grace's page sends a captured screen");
    await button(grace.page, 'Share screen').waitFor();
    for (const viewer of [ada, bob]) {
      await region(viewer.page, "Grace's screen").waitFor({ state: 'hidden' });
    }

    // Sharing turned off: Grace's button says so; the host may still share.
    // The box shows the meeting's state as the server tells it: a click asks, meetingUpdated answers.
    const allow = ada.page.getByRole('checkbox', { name: 'Allow participants to share their screen', exact: true });
    await allow.click();
    await eventually(async () => !(await allow.isChecked()), { what: 'screen sharing to be off' });
    await eventually(() => button(grace.page, 'Share screen').isDisabled(), { what: "Grace's Share screen disabled" });
    await button(ada.page, 'Share screen').click();
    await region(grace.page, "Ada's screen").waitFor({ timeout: 30_000 });
    await button(ada.page, 'Stop sharing').click();
    await region(grace.page, "Ada's screen").waitFor({ state: 'hidden' });

    for (const p of [ada, grace, bob]) await p.context.close();
  });
});
