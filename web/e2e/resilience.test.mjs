// The client when things are not ideal: no camera, a phone-sized window, a reloaded host tab, a
// connection that drops, a server that goes away.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  button,
  CuttableProxy,
  eventually,
  expectAccessible,
  openTab,
  heading,
  inboundPackets,
  joinAs,
  nameField,
  newPerson,
  outDir,
  joinedRoom,
  region,
  rowAction,
  serverAndBrowser,
  webDir,
  startMeeting,
  tileId,
  waitVideoPlaying,
  watchEvents,
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

// Publishes a camera that never gives a frame (a canvas nobody draws on): the others' tile for this
// person must say "Connecting…" rather than show a black box.
const framelessCamera = () => {
  const md = navigator.mediaDevices;
  const original = md.getUserMedia.bind(md);
  md.getUserMedia = async (constraints) => {
    const audio = constraints && constraints.audio ? await original({ audio: constraints.audio }) : new MediaStream();
    if (!constraints || !constraints.video) return audio;
    const canvas = document.createElement('canvas');
    canvas.width = 320;
    canvas.height = 180;
    const video = canvas.captureStream(0).getVideoTracks()[0];
    return new MediaStream([...audio.getTracks(), video]);
  };
};

// A network that lets the signaling through but no media: the server's candidates point at a
// closed port and the browser's own are never told, so no ICE check ever gets an answer.
const blockMedia = () => {
  const deadPort = (c) => c.replace(/^((?:a=)?candidate:\S+ \d+ \S+ \d+ \S+ )\d+/, '$19');
  const proto = RTCPeerConnection.prototype;
  const setRemote = proto.setRemoteDescription;
  proto.setRemoteDescription = function (d) {
    const sdp = d && d.sdp ? d.sdp.split('\r\n').map(deadPort).join('\r\n') : undefined;
    return setRemote.call(this, sdp ? { type: d.type, sdp } : d);
  };
  const addCandidate = proto.addIceCandidate;
  proto.addIceCandidate = function (c) {
    return addCandidate.call(this, c && c.candidate ? { ...c, candidate: deadPort(c.candidate) } : c);
  };
  for (const name of ['createOffer', 'createAnswer']) {
    const create = proto[name];
    proto[name] = async function (...args) {
      const d = await create.apply(this, args);
      return { type: d.type, sdp: d.sdp.replace(/a=candidate:[^\r\n]*\r\n/g, '') };
    };
  }
  let owner = proto;
  while (!Object.getOwnPropertyDescriptor(owner, 'onicecandidate')) owner = Object.getPrototypeOf(owner);
  const handler = Object.getOwnPropertyDescriptor(owner, 'onicecandidate');
  Object.defineProperty(proto, 'onicecandidate', {
    configurable: true,
    get() {
      return handler.get.call(this);
    },
    set(h) {
      handler.set.call(this, h && (() => h({ candidate: null })));
    },
  });
};

describe('the client when things go wrong', { timeout: 480_000 }, () => {
  // A guest reaches the server through a proxy on another port (CuttableProxy): her page's origin
  // is the proxy's, which the server's origin check (the public URL only) must be told about.
  const env = serverAndBrowser('server-resilience.log', ['-allowed-origin', '127.0.0.1:*']);

  it('without a camera, a guest is told so in plain words; on a phone the tiles fill the screen', async () => {
    const host = await newPerson(env.browser, { name: 'ada' });
    const phone = await newPerson(env.browser, {
      name: 'phone',
      viewport: { width: 390, height: 844 },
      isMobile: true,
      initScript: denyCamera,
    });
    const eve = await newPerson(env.browser, { name: 'eve', initScript: framelessCamera });
    const linus = await newPerson(env.browser, { name: 'linus' });
    try {
      const url = await startMeeting(env.server, host, 'Ada');
      await phone.page.goto(url);
      // Item 12: what happened and how to fix it, not "NotAllowedError".
      await phone.page
        .getByText(/^Your browser is blocking the camera\. You will join without video\. To allow it, .* then reload this page\.$/)
        .waitFor();
      assert.equal(await phone.page.getByText(/NotAllowedError/).count(), 0);
      await expectAccessible(phone.page, 'the pre-join page on a phone');
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

      await joinAs(eve, url, 'Eve');
      await joinAs(linus, url, 'Linus');
      await waitVideoPlaying(phone.page, await tileId(phone.page, 'Linus'));
      // Item 5: a camera that sends no frame yet shows "Connecting…", not a black box.
      await region(phone.page, 'Eve').getByText('Connecting…').waitFor();
      assert.equal(await region(phone.page, 'Linus').getByText('Connecting…').count(), 0);

      // Four tiles on a phone: two columns of upright tiles that fill the grid.
      const names = ['Mo (you)', 'Ada', 'Eve', 'Linus'];
      const boxes = await Promise.all(names.map((n) => region(phone.page, n).boundingBox()));
      for (const [i, box] of boxes.entries()) {
        assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `${names[i]} tile fits the width`);
      }
      assert.equal(new Set(boxes.map((b) => Math.round(b.x))).size, 2, 'two columns');
      assert.ok(boxes.every((b) => b.height >= b.width * 0.7), 'tiles are not thin 16:9 strips');
      const gridBox = await phone.page.locator('.grid').boundingBox();
      const covered = boxes.reduce((sum, b) => sum + b.width * b.height, 0) / (gridBox.width * gridBox.height);
      assert.ok(covered > 0.6, `tiles cover ${Math.round(covered * 100)}% of the grid`);
      // The initials sit above the name plate, not under it.
      const avatar = await region(phone.page, 'Mo (you)').locator('.avatar span').boundingBox();
      const plate = await region(phone.page, 'Mo (you)').locator('.nameplate').boundingBox();
      assert.ok(avatar.y + avatar.height <= plate.y, 'the avatar does not overlap the name');
      const leave = await button(phone.page, 'Leave meeting').boundingBox();
      assert.ok(leave && leave.y + leave.height <= 844, 'the controls are on screen');
      await expectAccessible(phone.page, 'the meeting on a phone');
      await button(phone.page, 'Dismiss').click();
      await eventually(async () => (await phone.page.getByText(/^Your browser is blocking/).count()) === 0, {
        what: 'the warning to go',
      });
      const shot = process.env.UPDATE_SCREENSHOT === '1' ? join(webDir, '..', 'docs', 'phone.png') : join(outDir, 'phone.png');
      await phone.page.screenshot({ path: shot, style: '.toasts { visibility: hidden; }' });
      await openTab(phone.page, 'Participants');
      await phone.page.getByRole('heading', { name: 'Participants (4)' }).waitFor();
      await expectAccessible(phone.page, 'the participants panel on a phone');
      await phone.page.screenshot({ path: join(outDir, 'phone-participants.png') });
    } finally {
      await Promise.all([host, phone, eve, linus].map((p) => p.context.close()));
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
      await openTab(host.page, 'Host controls');
      await button(host.page, 'End meeting for all').waitFor();
    } finally {
      await host.context.close();
    }
  });

  it('a dropped connection shows "Reconnecting…" to her and on her tile, and resumes as the same participant', async () => {
    const host = await newPerson(env.browser, { name: 'ada' });
    const guest = await newPerson(env.browser, { name: 'guest' });
    // The guest reaches the server through a proxy that the test can cut, like a network drop.
    const proxy = new CuttableProxy(env.server.port);
    await proxy.start();
    try {
      const events = watchEvents(host.page); // before the host's WebSocket opens
      const url = await startMeeting(env.server, host, 'Ada');
      await joinAs(guest, url.replace(env.server.base, proxy.base), 'Grace');
      const before = await tileId(host.page, 'Grace');
      await waitVideoPlaying(host.page, before);
      // The watch sees the host's events: her join is there.
      assert.deepEqual(events.since(), [`participantJoined ${before}`]);

      proxy.cut();
      await guest.page.getByRole('alert').filter({ hasText: 'Reconnecting…' }).waitFor();
      // Still a meeting page, not a frozen or blank one.
      await button(guest.page, 'Leave meeting').waitFor();
      // The host sees her reconnecting, and her media still flows (only the WebSocket was cut).
      await region(host.page, 'Grace').getByRole('status').filter({ hasText: 'Reconnecting…' }).waitFor();
      await waitVideoPlaying(host.page, before);
      proxy.restore();
      await eventually(async () => (await guest.page.getByText('Reconnecting…').count()) === 0, {
        what: 'the reconnect to finish',
        timeout: 30_000,
      });
      await eventually(async () => (await region(host.page, 'Grace').getByText('Reconnecting…').count()) === 0, {
        what: 'the host to see Grace back',
      });
      // The same participant: the same tile, media both ways, and no leave or join at the host.
      assert.equal(await tileId(host.page, 'Grace'), before);
      await waitVideoPlaying(guest.page, await tileId(guest.page, 'Ada'));
      await waitVideoPlaying(host.page, before);
      assert.deepEqual(events.since(), [], 'the host saw a leave or a join');
    } finally {
      await proxy.stop();
      await host.context.close();
      await guest.context.close();
    }
  });

  it('a guest who reloads comes back as the same participant, still muted by the host', async () => {
    const host = await newPerson(env.browser, { name: 'ada' });
    const guest = await newPerson(env.browser, { name: 'guest' });
    try {
      const events = watchEvents(host.page); // before the host's WebSocket opens
      const url = await startMeeting(env.server, host, 'Ada');
      await joinAs(guest, url, 'Grace');
      const grace = await tileId(host.page, 'Grace');
      await waitVideoPlaying(host.page, grace);
      await (await rowAction(host.page, 'Grace', 'Mute Grace')).click();
      await region(host.page, 'Grace').getByRole('img', { name: 'Muted by the host' }).waitFor();
      // The watch sees the host's events: her join is there.
      assert.deepEqual(events.since(), [`participantJoined ${grace}`]);

      await guest.page.reload();
      await button(guest.page, 'Join').click();
      await joinedRoom(guest.page, 'Grace');
      // The same participant: same tile, no leave or join at the host.
      assert.equal(await tileId(host.page, 'Grace'), grace);
      await waitVideoPlaying(host.page, grace);
      await waitVideoPlaying(guest.page, await tileId(guest.page, 'Ada'));
      assert.deepEqual(events.since(), [], 'the host saw a leave or a join');
      // Still muted by the host: she is told, cannot unmute, and not one audio packet of hers
      // reaches the host while her video flows.
      await guest.page.locator('.tool-caption').getByText('The host muted you').waitFor();
      await region(host.page, 'Grace').getByRole('img', { name: 'Muted by the host' }).waitFor();
      const first = await inboundPackets(host.page, grace);
      await eventually(async () => ((await inboundPackets(host.page, grace))?.video ?? 0) >= (first?.video ?? 0) + 100, {
        what: 'more video from Grace',
      });
      const last = await inboundPackets(host.page, grace);
      assert.equal(last.audio ?? 0, first.audio ?? 0, 'audio of the host-muted guest reached the host after her reload');
    } finally {
      await host.context.close();
      await guest.context.close();
    }
  });

  it('the network coming back ("online") restarts ICE on both peer connections, and the media carries on', async () => {
    const host = await newPerson(env.browser, { name: 'ada' });
    const guest = await newPerson(env.browser, { name: 'guest' });
    const ufrags = (page) =>
      page.evaluate(() =>
        window.__testPeerConnections
          .filter((pc) => pc.connectionState !== 'closed' && pc.remoteDescription)
          .map((pc) => [pc.localDescription.sdp, pc.remoteDescription.sdp].map((sdp) => /a=ice-ufrag:(\S+)/.exec(sdp)?.[1]).join('/')),
      );
    try {
      const url = await startMeeting(env.server, host, 'Ada');
      await joinAs(guest, url, 'Grace');
      const grace = await tileId(host.page, 'Grace');
      const ada = await tileId(guest.page, 'Ada');
      await waitVideoPlaying(host.page, grace);
      await waitVideoPlaying(guest.page, ada);
      const before = await ufrags(guest.page);
      assert.equal(before.length, 2, `the guest's peer connections: ${before}`);

      await guest.page.evaluate(() => window.dispatchEvent(new Event('online')));
      // New credentials on both sides of both connections: the publisher's by the guest's offer,
      // the subscriber's by the server's offer that iceRestart asked for.
      await eventually(
        async () => {
          const now = await ufrags(guest.page);
          return now.length === 2 && now.every((pair, i) => pair.split('/').every((u, j) => u !== before[i].split('/')[j]));
        },
        { what: 'new ICE credentials on both connections' },
      );
      assert.equal(await guest.page.evaluate(() => window.__testSent.iceRestart), 1);
      const seen = await inboundPackets(host.page, grace);
      const got = await inboundPackets(guest.page, ada);
      await eventually(
        async () =>
          (await inboundPackets(host.page, grace)).video > seen.video + 50 && (await inboundPackets(guest.page, ada)).video > got.video + 50,
        { what: 'video both ways after the restart' },
      );
    } finally {
      await host.context.close();
      await guest.context.close();
    }
  });

  it('a host mute survives leaving and joining again from the same browser', async () => {
    const host = await newPerson(env.browser, { name: 'ada' });
    const guest = await newPerson(env.browser, { name: 'guest' });
    try {
      const url = await startMeeting(env.server, host, 'Ada');
      await joinAs(guest, url, 'Grace');
      await (await rowAction(host.page, 'Grace', 'Mute Grace')).click();
      await guest.page.locator('.tool-caption').getByText('The host muted you').waitFor();
      await button(guest.page, 'Leave meeting').click();
      await heading(guest.page, 'You left the meeting').waitFor();
      await eventually(async () => (await region(host.page, 'Grace').count()) === 0, { what: 'Grace to leave' });

      // A fresh join (no resume: she left) from the same browser comes in muted by the host.
      await joinAs(guest, url, 'Grace');
      await guest.page.locator('.tool-caption').getByText('The host muted you').waitFor();
      await region(host.page, 'Grace').getByRole('img', { name: 'Muted by the host' }).waitFor();
    } finally {
      await host.context.close();
      await guest.context.close();
    }
  });

  it('"Remove and don\'t let back in" keeps the removed browser out of the meeting', async () => {
    const host = await newPerson(env.browser, { name: 'ada' });
    const guest = await newPerson(env.browser, { name: 'guest' });
    const other = await newPerson(env.browser, { name: 'other' });
    try {
      const url = await startMeeting(env.server, host, 'Ada');
      await joinAs(guest, url, 'Mallory');
      await (await rowAction(host.page, 'Mallory', "Remove Mallory and don't let back in")).click();
      const confirm = host.page.getByRole('alertdialog', { name: "Remove Mallory and don't let them back in?" });
      await confirm.getByRole('button', { name: "Remove and don't let back in", exact: true }).click();
      await heading(guest.page, 'You were removed from the meeting').waitFor();

      await guest.page.goto(url);
      await nameField(guest.page).fill('Mallory');
      await button(guest.page, 'Join').click();
      await heading(guest.page, 'You cannot join this meeting').waitFor();
      await expectAccessible(guest.page, 'the page of a banned guest');
      // Anyone else still gets in.
      await joinAs(other, url, 'Grace');
      assert.equal(await region(host.page, 'Mallory').count(), 0);
    } finally {
      await host.context.close();
      await guest.context.close();
      await other.context.close();
    }
  });

  it('a guest whose network blocks the media is told so after a few tries instead of rejoining forever', { timeout: 200_000 }, async () => {
    const host = await newPerson(env.browser, { name: 'ada' });
    const guest = await newPerson(env.browser, { name: 'blocked', initScript: blockMedia });
    let sockets = 0;
    guest.page.on('websocket', () => sockets++);
    try {
      const events = watchEvents(host.page);
      const url = await startMeeting(env.server, host, 'Ada');
      await guest.page.goto(url);
      await nameField(guest.page).fill('Grace');
      await button(guest.page, 'Join').click();
      await heading(guest.page, 'Your network blocks the call').waitFor({ timeout: 150_000 });
      await guest.page.getByText("Your network blocks the call's media", { exact: false }).waitFor();
      await expectAccessible(guest.page, 'the page saying the network blocks the media');
      // Three joins, each after a longer wait, all as the same participant: one join and one
      // leave at the host, not a stranger each time.
      assert.equal(sockets, 3, 'WebSocket connections the guest opened');
      const seen = events.since();
      const joins = seen.filter((e) => e.startsWith('participantJoined'));
      assert.equal(joins.length, 1, `the host saw ${seen.join(', ')}`);
      await eventually(async () => (await region(host.page, 'Grace').count()) === 0, { what: 'Grace to leave' });
    } finally {
      await host.context.close();
      await guest.context.close();
    }
  });

  it('a server shutting down says it is restarting and disables host controls, then says how it ended', async () => {
    const host = await newPerson(env.browser, { name: 'ada' });
    try {
      await startMeeting(env.server, host, 'Ada');
      await button(host.page, 'Mute all').waitFor();
      // A graceful stop: the server tells every client it is going away, then closes.
      await env.server.stop();
      const overlay = host.page.getByRole('alert').filter({ hasText: 'Reconnecting…' });
      await overlay.waitFor();
      await overlay.getByText('The server is restarting. You will be back in a moment.').waitFor();
      assert.equal(await button(host.page, 'Mute all').isDisabled(), true, 'host controls wait for the connection');
      await openTab(host.page, 'Host controls');
      assert.equal(await button(host.page, 'Lock meeting').isDisabled(), true);
      assert.equal(await button(host.page, 'End meeting for all').isDisabled(), true);
      await expectAccessible(host.page, 'the meeting while reconnecting');
      // A restarted server (memory only) no longer knows the meeting.
      await env.server.start();
      await heading(host.page, 'The meeting has ended').waitFor({ timeout: 30_000 });
    } finally {
      await host.context.close();
    }
  });

  it('when the server crashes, the page says "Reconnecting…" rather than freezing', async () => {
    const host = await newPerson(env.browser, { name: 'ada' });
    try {
      await startMeeting(env.server, host, 'Ada');
      await env.server.stop({ hard: true });
      await host.page.getByRole('alert').filter({ hasText: 'Reconnecting…' }).waitFor();
      assert.equal(await host.page.getByText('The server is restarting.', { exact: false }).count(), 0);
      await env.server.start();
      await heading(host.page, 'The meeting has ended').waitFor({ timeout: 30_000 });
    } finally {
      await host.context.close();
    }
  });
});
