// A whole meeting in real browsers against the real server: a host and two guests in separate
// browser contexts, then the host's powers one by one. The steps share one meeting and run in order.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  button,
  countdownSeconds,
  eventually,
  heading,
  inboundPackets,
  joinAs,
  joinedRoom,
  nameField,
  newPerson,
  outDir,
  region,
  serverAndBrowser,
  tileId,
  waitVideoPlaying,
  webDir,
} from './harness.mjs';

describe('a meeting with a host and two guests', { timeout: 240_000 }, () => {
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

  it('the host starts a meeting from the home page and gets a link', async () => {
    const { page } = host;
    // Granting replaces the page's permissions: camera and microphone must be in the list too, or
    // Chromium treats media as not granted and hides its host candidates (no ICE in the namespace).
    await host.context.grantPermissions(['clipboard-read', 'clipboard-write', 'camera', 'microphone'], {
      origin: server.base,
    });
    await page.goto(server.base + '/');
    assert.match(await page.title(), /Parley/);
    assert.equal(await page.locator('link[rel="icon"]').getAttribute('href'), '/favicon.svg');
    const favicon = await fetch(server.base + '/favicon.svg');
    assert.equal(favicon.status, 200);

    await nameField(page).fill('Ada');
    await button(page, 'New meeting').click();
    await page.waitForURL(/\/m\/[^/]+$/);
    meetingId = new URL(page.url()).pathname.split('/')[2];
    joinUrl = await page.getByRole('textbox', { name: 'Meeting link' }).inputValue();
    assert.equal(joinUrl, `${server.base}/m/${meetingId}`);

    await button(page, 'Copy link').click();
    await eventually(async () => (await page.evaluate(() => navigator.clipboard.readText())) === joinUrl, {
      what: 'the link on the clipboard',
    });

    await joinedRoom(page, 'Ada');
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
  });

  it('two guests join by the link', async () => {
    for (const [person, name] of [
      [grace, 'Grace'],
      [linus, 'Linus'],
    ]) {
      await joinAs(person, joinUrl, name);
      // Guests get no host controls.
      assert.equal(await button(person.page, 'Mute all').count(), 0);
    }
    // The own tile shows before the server's "joined" arrives: wait for the server to count.
    await eventually(async () => (await server.meeting(meetingId)).body.participantCount === 3, {
      what: 'the server to count 3 participants',
    });
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
  });

  it('the timer counts down on all three pages, and ends', async () => {
    const pages = [host.page, grace.page, linus.page];
    await button(host.page, 'Start 15 second timer').click();
    const first = await Promise.all(
      pages.map((page) =>
        eventually(() => countdownSeconds(page), { what: 'the countdown to show', timeout: 10_000 }),
      ),
    );
    for (const s of first) assert.ok(s > 0 && s <= 15, `countdown starts at ${s}`);

    // A meeting in progress, for the README (docs/meeting.png) or for looking at (e2e/out).
    await waitVideoPlaying(host.page, ids.linus);
    const shot =
      process.env.UPDATE_SCREENSHOT === '1'
        ? join(webDir, '..', 'docs', 'meeting.png')
        : join(outDir, 'meeting.png');
    mkdirSync(join(shot, '..'), { recursive: true });
    await host.page.screenshot({ path: shot });

    await Promise.all(
      pages.map((page, i) =>
        eventually(
          async () => {
            const s = await countdownSeconds(page);
            return s !== null && s > 0 && s < first[i] - 1;
          },
          {
            what: 'the countdown to go down',
            timeout: 10_000,
          },
        ),
      ),
    );
    await Promise.all(
      pages.map(async (page) => {
        await page.getByText('Time is up.').waitFor({ timeout: 25_000 });
        assert.equal(await page.getByRole('timer').count(), 0);
      }),
    );
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

  it("after Mute all the guests are held muted and the host stops receiving their audio", async () => {
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

    await button(host.page, 'Mute all').click();
    for (const guest of [grace, linus]) {
      await guest.page.getByText('Muted by the host.').waitFor();
      const unmute = button(guest.page, 'Unmute microphone');
      await unmute.waitFor();
      assert.equal(await unmute.isDisabled(), true, 'the microphone cannot be turned back on');
    }
    await region(host.page, 'Grace').getByRole('img', { name: 'Muted by the host' }).waitFor();
    await region(linus.page, 'Grace').getByRole('img', { name: 'Muted by the host' }).waitFor();

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

  it('once the host allows it, a guest unmutes and the audio flows again', async () => {
    await button(host.page, 'Allow Grace to unmute').click();
    const unmute = button(grace.page, 'Unmute microphone');
    await eventually(async () => !(await unmute.isDisabled()), { what: 'the microphone to be allowed' });
    const before = await inboundPackets(host.page, ids.grace);
    await unmute.click();
    await button(grace.page, 'Mute microphone').waitFor();
    await eventually(async () => (await inboundPackets(host.page, ids.grace)).audio > before.audio + 20, {
      what: "Grace's audio to arrive again",
    });
    // Linus is still held.
    assert.equal(await button(linus.page, 'Unmute microphone').isDisabled(), true);
  });

  it('the host locks the meeting: newcomers see a locked page; unlocking lets them in again', async () => {
    await button(host.page, 'Lock meeting').click();
    await button(host.page, 'Unlock meeting').waitFor();
    const late = await newPerson(browser, { name: 'barbara' });
    try {
      await late.page.goto(joinUrl);
      await heading(late.page, 'This meeting is locked').waitFor();
      await button(host.page, 'Unlock meeting').click();
      await button(host.page, 'Lock meeting').waitFor();
      await button(late.page, 'Try again').click();
      await nameField(late.page).fill('Barbara');
      await button(late.page, 'Join').click();
      await region(late.page, 'Barbara (you)').waitFor();
      await region(host.page, 'Barbara').waitFor();
      // The mute-all without self-unmute is still in force: she joins held muted.
      await late.page.getByText('Muted by the host.').waitFor();
      assert.equal(await button(late.page, 'Unmute microphone').isDisabled(), true);
      // Leaving ends on its own screen, and the tile goes for the others.
      await button(late.page, 'Leave meeting').click();
      await heading(late.page, 'You left the meeting').waitFor();
      await late.page.getByRole('link', { name: 'Back to home' }).waitFor();
      await eventually(async () => (await region(host.page, 'Barbara').count()) === 0, {
        what: "Barbara's tile to go",
      });
    } finally {
      await late.context.close();
    }
  });

  it('Remove Linus sends him to his end screen and his tile disappears for the others', async () => {
    await button(host.page, 'Remove Linus').click();
    await heading(linus.page, 'You were removed from the meeting').waitFor();
    await linus.page.getByRole('link', { name: 'Back to home' }).waitFor();
    for (const page of [host.page, grace.page]) {
      await eventually(async () => (await region(page, 'Linus').count()) === 0, { what: "Linus's tile to go" });
    }
  });

  it('End meeting for all, after a confirmation, sends everyone to "The meeting has ended"', async () => {
    await button(host.page, 'End meeting for all').click();
    const dialog = host.page.getByRole('alertdialog');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'End meeting for all' }).click();
    for (const page of [host.page, grace.page]) {
      await heading(page, 'The meeting has ended').waitFor();
      await page.getByRole('link', { name: 'Back to home' }).waitFor();
    }
    const info = await server.meeting(meetingId);
    assert.equal(info.body.state, 'ended');

    // The link now leads to a clear page, and home is one click away.
    await grace.page.goto(joinUrl);
    await heading(grace.page, 'The meeting has ended').waitFor();
    await grace.page.getByRole('link', { name: 'Back to home' }).click();
    await button(grace.page, 'New meeting').waitFor();
  });

  it('a link to a meeting that does not exist says so', async () => {
    await grace.page.goto(`${server.base}/m/no-such-meeting`);
    await heading(grace.page, 'Meeting not found').waitFor();
  });
});
