// A whole meeting in real browsers against the real server: a host and two guests in separate
// browser contexts (and a second tab of one guest), then the host's powers one by one, with axe
// run on every screen and dialog on the way. The steps share one meeting and run in order.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  button,
  countdownSeconds,
  eventually,
  expectAccessible,
  heading,
  inboundPackets,
  joinAs,
  joinedRoom,
  nameField,
  newPerson,
  openTab,
  outDir,
  region,
  rowAction,
  serverAndBrowser,
  tileId,
  waitVideoPlaying,
  webDir,
} from './harness.mjs';

/** Where a screenshot goes: docs/ with UPDATE_SCREENSHOT=1, else e2e/out for looking at. */
function shotPath(name) {
  const path = process.env.UPDATE_SCREENSHOT === '1' ? join(webDir, '..', 'docs', name) : join(outDir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  return path;
}

const toast = (page, text) => page.locator('.toasts').getByText(text, { exact: true });
const sent = (page, type) => page.evaluate((t) => window.__testSent[t] ?? 0, type);

/** The track the page's publisher sends for a kind, by label. */
const sentTrackLabel = (page, kind) =>
  page.evaluate((k) => {
    for (const pc of window.__testPeerConnections) {
      if (pc.connectionState === 'closed') continue;
      for (const s of pc.getSenders()) if (s.track?.kind === k) return s.track.label;
    }
    return null;
  }, kind);

describe('a meeting with a host and two guests', { timeout: 300_000 }, () => {
  const env = serverAndBrowser('server.log');
  let server;
  let browser;
  let host;
  let grace;
  let linus;
  let meetingId;
  let joinUrl;
  const ids = {};

  before(async () => {
    ({ server, browser } = env);
    host = await newPerson(browser, { name: 'ada' });
    grace = await newPerson(browser, { name: 'grace' });
    linus = await newPerson(browser, { name: 'linus' });
  });

  it('the host starts a meeting through the same preview as guests, alone with the link to share', async () => {
    const { page } = host;
    // Granting replaces the page's permissions: camera and microphone must be in the list too, or
    // Chromium treats media as not granted and hides its host candidates (no ICE in the namespace).
    await host.context.grantPermissions(['clipboard-read', 'clipboard-write', 'camera', 'microphone'], {
      origin: server.base,
    });
    const home = await page.goto(server.base + '/');
    assert.match(await page.title(), /Parley/);
    // The app is served under a policy that forbids framing it and anything not its own.
    const headers = home.headers();
    assert.match(headers['content-security-policy'], /frame-ancestors 'none'/);
    assert.match(headers['content-security-policy'], /script-src 'self';/);
    assert.equal(headers['x-content-type-options'], 'nosniff');
    assert.equal(headers['referrer-policy'], 'no-referrer');
    assert.equal(await page.locator('link[rel="icon"]').getAttribute('href'), '/favicon.svg');
    const favicon = await fetch(server.base + '/favicon.svg');
    assert.equal(favicon.status, 200);
    await expectAccessible(page, 'the home page');

    await nameField(page).fill('Ada');
    await button(page, 'New meeting').click();
    // Item 1: a preview first, camera and microphone not yet in any meeting.
    await heading(page, 'Ready to start your meeting?').waitFor();
    await page.waitForURL(/\/m\/[^/]+$/);
    meetingId = new URL(page.url()).pathname.split('/')[2];
    assert.equal((await server.meeting(meetingId)).body.participantCount, 0);
    // Item 2: device pickers and a live level meter before joining.
    await page.getByRole('combobox', { name: 'Microphone' }).waitFor();
    await page.getByRole('combobox', { name: 'Camera' }).waitFor();
    const meter = page.getByRole('meter', { name: 'Microphone level' });
    await eventually(async () => Number(await meter.getAttribute('aria-valuenow')) > 0, {
      what: 'the level meter to move with the fake microphone',
      interval: 100,
    });
    await expectAccessible(page, 'the host’s pre-join page');
    await button(page, 'Join').click();
    await joinedRoom(page, 'Ada');
    // Item 11: after joining, the focus is on the meeting's first control.
    await eventually(
      async () => (await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))) === 'Mute microphone',
      { what: 'the focus on the microphone button' },
    );

    // Item 8: alone, the host sees so, with the whole link and a confirmed copy.
    await heading(page, "You're the only one here").waitFor();
    joinUrl = await page.getByRole('textbox', { name: 'Meeting link' }).inputValue();
    assert.equal(joinUrl, `${server.base}/m/${meetingId}`);
    await button(page, 'Copy link').click();
    await page.getByText('Link copied', { exact: true }).waitFor();
    assert.ok(await page.getByText('Link copied', { exact: true }).isVisible());
    await eventually(async () => (await page.evaluate(() => navigator.clipboard.readText())) === joinUrl, {
      what: 'the link on the clipboard',
    });
    // The link box shows the whole link: nothing of it scrolled out of sight.
    const box = await page.getByRole('textbox', { name: 'Meeting link' }).evaluate((el) => el.scrollHeight <= el.clientHeight + 1);
    assert.ok(box, 'the whole link is visible');

    // The hostKey stays in this tab's session storage, nowhere else.
    const storage = await page.evaluate(() => ({
      session: JSON.stringify(Object.entries(sessionStorage)),
      local: JSON.stringify(Object.entries(localStorage)),
      cookies: document.cookie,
    }));
    assert.match(storage.session, /hostKey/);
    assert.doesNotMatch(storage.local, /hostKey/);
    assert.equal(storage.cookies, '');
    await button(page, 'Mute all').waitFor();
    await expectAccessible(page, 'the meeting, host alone');
  });

  it('a skip link leads to the controls', async () => {
    const { page } = host;
    // Hidden until a keyboard reaches it, as skip links are.
    const skip = page.getByRole('link', { name: 'Skip to controls' });
    await skip.focus();
    assert.ok(await skip.isVisible(), 'the skip link shows when focused');
    await skip.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'controls');
  });

  it('two guests join by the link, and the others are told', async () => {
    for (const [person, name] of [
      [grace, 'Grace'],
      [linus, 'Linus'],
    ]) {
      await joinAs(person, joinUrl, name);
      // Item 7: a polite toast for each arrival (in a live region).
      await toast(host.page, `${name} joined`).waitFor();
      // Guests get no host controls.
      assert.equal(await button(person.page, 'Mute all').count(), 0);
      assert.equal(await button(person.page, 'Host controls').count(), 0);
    }
    await toast(grace.page, 'Linus joined').waitFor();
    assert.equal(await grace.page.locator('.toasts').getAttribute('aria-live'), 'polite');
    // The own tile shows before the server's "joined" arrives: wait for the server to count.
    await eventually(async () => (await server.meeting(meetingId)).body.participantCount === 3, {
      what: 'the server to count 3 participants',
    });
    await heading(host.page, 'Participants (3)').waitFor();
    await expectAccessible(grace.page, 'the meeting, as a guest');
  });

  it("every page shows the two others' videos playing", async () => {
    ids.ada = await tileId(grace.page, 'Ada');
    ids.grace = await tileId(host.page, 'Grace');
    ids.linus = await tileId(host.page, 'Linus');
    const views = [
      [host.page, [ids.grace, ids.linus]],
      [grace.page, [ids.ada, ids.linus]],
      [linus.page, [ids.ada, ids.grace]],
    ];
    await Promise.all(views.flatMap(([page, others]) => others.map((id) => waitVideoPlaying(page, id))));
    // Every tile has its first frame: no "Connecting…" left.
    for (const page of [host.page, grace.page, linus.page]) {
      await eventually(async () => (await page.getByText('Connecting…').count()) === 0, { what: 'no tile connecting' });
    }
    await expectAccessible(host.page, 'the meeting, host with guests');
  });

  it('a guest switches microphone in the settings: the track is replaced without a new offer, and remembered', async () => {
    const { page } = grace;
    const offersBefore = await sent(page, 'offer');
    const labelBefore = await sentTrackLabel(page, 'audio');
    const settings = button(page, 'Settings');
    await settings.click();
    const dialog = page.getByRole('dialog', { name: 'Settings' });
    await dialog.waitFor();
    const mic = dialog.getByRole('combobox', { name: 'Microphone' });
    // The dialog lists the devices once the browser has enumerated them, not always at once.
    let options = [];
    const other = await eventually(
      async () => {
        options = await mic.locator('option').evaluateAll((os) => os.map((o) => ({ value: o.value, label: o.textContent })));
        return options.find((o) => o.value && o.label !== labelBefore);
      },
      { what: 'the microphones to be listed' },
    ).catch(() => undefined);
    assert.ok(other, `another microphone to pick (have ${JSON.stringify(options)}, sending ${labelBefore})`);
    await dialog.getByRole('meter', { name: 'Microphone level' }).waitFor();
    await expectAccessible(page, 'the settings dialog');
    const before = await inboundPackets(host.page, ids.grace);
    await mic.selectOption(other.value);
    await eventually(async () => (await sentTrackLabel(page, 'audio')) === other.label, {
      what: 'the publisher to send the new microphone',
    });
    assert.equal(await sent(page, 'offer'), offersBefore, 'no new offer: replaceTrack');
    await eventually(async () => (await inboundPackets(host.page, ids.grace)).audio > before.audio + 20, {
      what: "Grace's audio to keep arriving from the new microphone",
    });
    const remembered = await page.evaluate(() => JSON.parse(localStorage.getItem('parley.devices')));
    assert.equal(remembered.audioinput.deviceId, other.value);
    // Item 11: closing the dialog gives the focus back to the button that opened it.
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Settings');
    ids.graceMic = other.value;
  });

  it('a second tab of the same guest is told apart everywhere: "Grace (2)"', async () => {
    // Same browser context (same person, same storage), another tab.
    const page = await grace.context.newPage();
    try {
      await page.goto(joinUrl);
      // The remembered microphone is the one the join page starts with.
      const mic = page.getByRole('combobox', { name: 'Microphone' });
      await eventually(async () => (await mic.inputValue()) === ids.graceMic, { what: 'the remembered microphone' });
      await nameField(page).fill('Grace');
      await button(page, 'Join').click();
      await joinedRoom(page, 'Grace (2)');
      await region(host.page, 'Grace (2)').waitFor();
      await region(host.page, 'Grace').waitFor();
      await toast(host.page, 'Grace (2) joined').waitFor();
      await button(host.page, 'More actions for Grace (2)').waitFor();
      await button(host.page, 'More actions for Grace').waitFor();
      await region(linus.page, 'Grace (2)').waitFor();
      await button(page, 'Leave meeting').click();
      await heading(page, 'You left the meeting').waitFor();
      await expectAccessible(page, 'the end screen after leaving');
      await toast(host.page, 'Grace (2) left').waitFor();
      await eventually(async () => (await region(host.page, 'Grace (2)').count()) === 0, { what: 'the second Grace to go' });
    } finally {
      await page.close();
    }
  });

  it('keyboard shortcuts switch microphone and camera, and the buttons say so', async () => {
    const { page } = linus;
    const mic = button(page, 'Mute microphone');
    assert.match(await mic.getAttribute('title'), /\(Ctrl\+D\)$/);
    assert.equal(await mic.getAttribute('aria-keyshortcuts'), 'Control+D');
    await page.keyboard.press('Control+d');
    await button(page, 'Unmute microphone').waitFor();
    await region(host.page, 'Linus').getByRole('img', { name: 'Microphone muted' }).waitFor();
    await page.keyboard.press('Control+d');
    await button(page, 'Mute microphone').waitFor();
    assert.match(await button(page, 'Turn off camera').getAttribute('title'), /\(Ctrl\+E\)$/);
    await page.keyboard.press('Control+e');
    await button(page, 'Turn on camera').waitFor();
    await region(host.page, 'Linus').getByRole('img', { name: 'Camera off' }).waitFor();
    await page.keyboard.press('Control+e');
    await button(page, 'Turn off camera').waitFor();
    await waitVideoPlaying(host.page, ids.linus);
  });

  it('the timer counts down everywhere; a cancel is announced; its end chimes unless sounds are off', async () => {
    const pages = [host.page, grace.page, linus.page];
    // Linus turns the sounds off, and tries hiding his self-view.
    await button(linus.page, 'Settings').click();
    await linus.page.getByRole('checkbox', { name: 'Play a sound when the timer ends' }).uncheck();
    const hideSelf = linus.page.getByRole('checkbox', { name: 'Hide self-view' });
    await hideSelf.check();
    await eventually(async () => (await region(linus.page, 'Linus (you)').count()) === 0, { what: 'the self-view to hide' });
    await hideSelf.uncheck();
    await region(linus.page, 'Linus (you)').waitFor();
    await button(linus.page, 'Done').click();

    await openTab(host.page, 'Host controls');
    await expectAccessible(host.page, 'the host controls tab');
    await button(host.page, 'Start 30 second timer').click();
    await Promise.all(pages.map((page) => eventually(() => countdownSeconds(page), { what: 'the countdown', timeout: 10_000 })));
    await button(host.page, 'Cancel timer').click();
    await Promise.all(pages.map((page) => toast(page, 'The timer was cancelled.').waitFor()));
    assert.equal(await grace.page.getByRole('timer').count(), 0);

    await button(host.page, 'Start 15 second timer').click();
    const first = await Promise.all(
      pages.map((page) => eventually(() => countdownSeconds(page), { what: 'the countdown to show', timeout: 10_000 })),
    );
    for (const s of first) assert.ok(s > 0 && s <= 15, `countdown starts at ${s}`);
    await expectAccessible(grace.page, 'the meeting with the timer running');

    // A meeting in progress with the host's panel, for the README (docs/) or for looking at.
    await openTab(host.page, 'Participants');
    await waitVideoPlaying(host.page, ids.linus);
    // Toasts come and go: left out of the pictures. Hidden through the DOM: the screenshot's own
    // style option injects a style sheet, which the app's content security policy refuses.
    const calm = (on) =>
      host.page.evaluate((hide) => {
        const toasts = document.querySelector('.toasts');
        if (toasts) toasts.style.visibility = hide ? 'hidden' : '';
      }, on);
    await calm(true);
    await host.page.screenshot({ path: shotPath('meeting.png') });
    await openTab(host.page, 'Host controls');
    await host.page.screenshot({ path: shotPath('host-panel.png') });
    await calm(false);

    await Promise.all(
      pages.map((page, i) =>
        eventually(
          async () => {
            const s = await countdownSeconds(page);
            return s !== null && s > 0 && s < first[i] - 1;
          },
          { what: 'the countdown to go down', timeout: 10_000 },
        ),
      ),
    );
    const tones = await Promise.all(pages.map((page) => page.evaluate(() => window.__testTones)));
    await Promise.all(
      pages.map(async (page) => {
        await toast(page, 'Time is up.').waitFor({ timeout: 25_000 });
        assert.equal(await page.getByRole('timer').count(), 0);
      }),
    );
    await eventually(async () => (await host.page.evaluate(() => window.__testTones)) > tones[0], { what: 'the host’s chime' });
    await eventually(async () => (await grace.page.evaluate(() => window.__testTones)) > tones[1], { what: 'Grace’s chime' });
    assert.equal(await linus.page.evaluate(() => window.__testTones), tones[2], 'no sound with sounds off');
  });

  it('picture-in-picture shows another participant’s video, and closes again', async () => {
    const pip = button(host.page, 'Picture-in-picture');
    await pip.click();
    const inPip = () => host.page.evaluate(() => document.pictureInPictureElement?.dataset.participantId ?? null);
    const shown = await eventually(inPip, { what: 'a video in picture-in-picture' });
    assert.ok([ids.grace, ids.linus].includes(shown), `picture-in-picture shows a guest (${shown})`);
    assert.equal(await pip.getAttribute('aria-pressed'), 'true');
    await pip.click();
    await eventually(async () => (await inPip()) === null, { what: 'picture-in-picture to close' });
  });

  it('a guest turning the camera off and on shows on the others’ tiles', async () => {
    await button(grace.page, 'Turn off camera').click();
    await button(grace.page, 'Turn on camera').waitFor();
    await region(host.page, 'Grace').getByRole('img', { name: 'Camera off' }).waitFor();
    await button(grace.page, 'Turn on camera').click();
    await button(grace.page, 'Turn off camera').waitFor();
    await eventually(async () => (await region(host.page, 'Grace').getByRole('img', { name: 'Camera off' }).count()) === 0, {
      what: 'the camera-off mark to go',
    });
    await waitVideoPlaying(host.page, ids.grace);
  });

  it('Mute all asks whether people may unmute; the guests are held, told where the button is, and their audio stops', async () => {
    const guests = [ids.grace, ids.linus];
    // Before: audio and video flow from both guests.
    const start = await Promise.all(guests.map((id) => inboundPackets(host.page, id)));
    await eventually(
      async () => {
        const now = await Promise.all(guests.map((id) => inboundPackets(host.page, id)));
        return now.every((n, i) => n.audio > start[i].audio && n.video > start[i].video);
      },
      { what: 'audio and video packets arriving from both guests' },
    );

    await openTab(host.page, 'Participants');
    await button(host.page, 'Mute all').click();
    const dialog = host.page.getByRole('dialog', { name: 'Mute everyone?' });
    await dialog.waitFor();
    const allow = dialog.getByRole('checkbox', { name: 'Allow participants to unmute themselves' });
    assert.equal(await allow.isChecked(), false);
    await expectAccessible(host.page, 'the mute-all dialog');
    await dialog.getByRole('button', { name: 'Mute all' }).click();
    await dialog.waitFor({ state: 'hidden' });
    for (const guest of [grace, linus]) {
      // Item 10: said where the microphone button is; item 7: and as news.
      await guest.page.getByText('The host muted you', { exact: true }).waitFor();
      await toast(guest.page, 'The host muted you. You can unmute once the host allows it.').waitFor();
      const unmute = button(guest.page, 'Unmute microphone');
      await unmute.waitFor();
      assert.equal(await unmute.isDisabled(), true, 'the microphone cannot be turned back on');
      assert.equal(await unmute.getAttribute('aria-describedby'), 'mic-caption');
    }
    // Item 9: the state of the room, for the host.
    await host.page.getByText('Everyone muted · muted by host', { exact: true }).waitFor();
    await region(host.page, 'Grace').getByRole('img', { name: 'Muted by the host' }).waitFor();
    await region(linus.page, 'Grace').getByRole('img', { name: 'Muted by the host' }).waitFor();
    await expectAccessible(grace.page, 'the meeting, as a guest muted by the host');

    // Audio stops growing (allowing for packets already on their way), video keeps growing.
    let settled = await Promise.all(guests.map((id) => inboundPackets(host.page, id)));
    await eventually(
      async () => {
        const now = await Promise.all(guests.map((id) => inboundPackets(host.page, id)));
        const still = now.every((n, i) => n.audio === settled[i].audio);
        settled = now;
        return still;
      },
      { what: 'guest audio to stop arriving', interval: 1000 },
    );
    const t0 = await Promise.all(guests.map((id) => inboundPackets(host.page, id)));
    await eventually(
      async () => {
        const now = await Promise.all(guests.map((id) => inboundPackets(host.page, id)));
        return now.every((n, i) => n.video > t0[i].video + 50);
      },
      { what: 'more guest video to arrive' },
    );
    const t1 = await Promise.all(guests.map((id) => inboundPackets(host.page, id)));
    for (let i = 0; i < guests.length; i++) {
      assert.equal(t1[i].audio, t0[i].audio, 'no audio packets while muted by the host');
      assert.ok(t1[i].video > t0[i].video, 'video keeps flowing');
    }
  });

  it('once the host allows it (from the row menu), a guest unmutes and the audio flows again', async () => {
    await (await rowAction(host.page, 'Grace', 'Allow Grace to unmute')).click();
    await toast(grace.page, 'The host allows you to unmute.').waitFor();
    const unmute = button(grace.page, 'Unmute microphone');
    await eventually(async () => !(await unmute.isDisabled()), { what: 'the microphone to be allowed' });
    assert.equal(await grace.page.getByText('The host muted you', { exact: true }).count(), 0);
    const before = await inboundPackets(host.page, ids.grace);
    await unmute.click();
    await button(grace.page, 'Mute microphone').waitFor();
    await eventually(async () => (await inboundPackets(host.page, ids.grace)).audio > before.audio + 20, {
      what: "Grace's audio to arrive again",
    });
    // Linus is still held, so the summary no longer says everyone.
    assert.equal(await button(linus.page, 'Unmute microphone').isDisabled(), true);
    await eventually(async () => (await host.page.getByText(/^Everyone muted/).count()) === 0, { what: 'the summary to go' });
  });

  it('the host locks the meeting: a newcomer by code sees a locked page; unlocking lets them in again', async () => {
    await openTab(host.page, 'Host controls');
    await button(host.page, 'Lock meeting').click();
    await button(host.page, 'Unlock meeting').waitFor();
    const late = await newPerson(browser, { name: 'barbara' });
    try {
      // Item 14: joining with the code from the home page.
      await late.page.goto(server.base + '/');
      await late.page.getByRole('textbox', { name: 'Meeting link or code' }).fill(meetingId);
      await button(late.page, 'Join').click();
      await heading(late.page, 'This meeting is locked').waitFor();
      await expectAccessible(late.page, 'the locked page');
      await button(host.page, 'Unlock meeting').click();
      await button(host.page, 'Lock meeting').waitFor();
      await button(late.page, 'Try again').click();
      await nameField(late.page).fill('Barbara');
      await button(late.page, 'Join').click();
      await region(late.page, 'Barbara (you)').waitFor();
      await region(host.page, 'Barbara').waitFor();
      // The mute-all without self-unmute is still in force: she joins held muted.
      await late.page.getByText('The host muted you', { exact: true }).waitFor();
      assert.equal(await button(late.page, 'Unmute microphone').isDisabled(), true);
      // Leaving ends on its own screen, and the tile goes for the others.
      await button(late.page, 'Leave meeting').click();
      await heading(late.page, 'You left the meeting').waitFor();
      await late.page.getByRole('link', { name: 'Back to home' }).waitFor();
      await toast(host.page, 'Barbara left').waitFor();
      await eventually(async () => (await region(host.page, 'Barbara').count()) === 0, {
        what: "Barbara's tile to go",
      });
    } finally {
      await late.context.close();
    }
  });

  it('Remove Linus asks first, tells him, and offers the host to lock the meeting', async () => {
    await (await rowAction(host.page, 'Linus', 'Remove Linus')).click();
    const confirm = host.page.getByRole('alertdialog', { name: 'Remove Linus?' });
    await confirm.waitFor();
    await expectAccessible(host.page, 'the remove confirmation');
    // Cancel keeps him, and the focus goes back where it was.
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'hidden' });
    await region(host.page, 'Linus').waitFor();

    await (await rowAction(host.page, 'Linus', 'Remove Linus')).click();
    await confirm.getByRole('button', { name: 'Remove', exact: true }).click();
    await heading(linus.page, 'You were removed from the meeting').waitFor();
    await linus.page.getByText('The host removed you from this meeting.', { exact: false }).waitFor();
    await linus.page.getByRole('link', { name: 'Back to home' }).waitFor();
    await expectAccessible(linus.page, 'the removed end screen');
    await toast(grace.page, 'Linus was removed').waitFor();
    for (const page of [host.page, grace.page]) {
      await eventually(async () => (await region(page, 'Linus').count()) === 0, { what: "Linus's tile to go" });
    }
    // The offer to keep him out.
    await host.page.getByText('Linus was removed. Lock the meeting so that they cannot come back with the link?').waitFor();
    await button(host.page, 'Lock the meeting').click();
    await eventually(async () => (await server.meeting(meetingId)).body.locked === true, { what: 'the meeting to lock' });
    await host.page.getByText('Locked', { exact: true }).waitFor();
  });

  it('End meeting for all, after a confirmation, ends it for everyone; the host is told it was them', async () => {
    await openTab(host.page, 'Host controls');
    await button(host.page, 'End meeting for all').click();
    const dialog = host.page.getByRole('alertdialog');
    await dialog.waitFor();
    await expectAccessible(host.page, 'the end-meeting confirmation');
    await dialog.getByRole('button', { name: 'End meeting for all' }).click();
    for (const page of [host.page, grace.page]) {
      await heading(page, 'The meeting has ended').waitFor();
      await page.getByRole('link', { name: 'Back to home' }).waitFor();
    }
    await host.page.getByText('You ended the meeting for everyone.').waitFor();
    await grace.page.getByText('The host ended the meeting for everyone.').waitFor();
    await expectAccessible(host.page, 'the host’s end screen');
    const info = await server.meeting(meetingId);
    assert.equal(info.body.state, 'ended');

    // The link now leads to a clear page, and home is one click away.
    await grace.page.goto(joinUrl);
    await heading(grace.page, 'The meeting has ended').waitFor();
    await grace.page.getByRole('link', { name: 'Back to home' }).click();
    await button(grace.page, 'New meeting').waitFor();
  });

  it('a link to a meeting that does not exist says so; an unknown page is the app’s own', async () => {
    await grace.page.goto(`${server.base}/m/no-such-meeting`);
    await heading(grace.page, 'Meeting not found').waitFor();
    await expectAccessible(grace.page, 'the meeting-not-found page');
    const res = await grace.page.goto(`${server.base}/no/such/page`);
    assert.equal(res.status(), 404);
    await heading(grace.page, 'Page not found').waitFor();
    assert.match(await grace.page.title(), /Page not found/);
    await expectAccessible(grace.page, 'the not-found page');
    await grace.page.getByRole('link', { name: 'Back to home' }).click();
    await button(grace.page, 'New meeting').waitFor();
  });

  it('nothing the pages did was refused by the content security policy', () => {
    for (const [who, person] of Object.entries({ host, grace, linus })) {
      assert.deepEqual(person.csp, [], `${who}'s page broke the policy`);
    }
  });
});
