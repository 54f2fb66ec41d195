// Simulcast in real Chromium (PROTOCOL.md 1.1): the host's camera goes out as three layers, and
// a guest gets the layer its tile needs: the lowest while the host's tile is small, the full one
// once it is the one large tile on a large screen.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { button, eventually, joinAs, newPerson, serverAndBrowser, startMeeting, tileId, waitVideoPlaying } from './harness.mjs';

/** The page's outbound camera layers: RID, width of what it encodes, bytes sent so far. */
function outboundLayers(page) {
  return page.evaluate(async () => {
    const out = {};
    for (const pc of window.__testPeerConnections) {
      if (pc.connectionState === 'closed') continue;
      const stats = await pc.getStats();
      stats.forEach((s) => {
        if (s.type === 'outbound-rtp' && s.kind === 'video') {
          out[s.rid ?? ''] = { frameWidth: s.frameWidth ?? 0, bytesSent: s.bytesSent ?? 0, active: s.active };
        }
      });
    }
    return out;
  });
}

/** The width of the frames a page receives from a participant's camera now. */
function inboundWidth(page, participantId) {
  return page.evaluate(async (id) => {
    const v = document.querySelector(`video[data-participant-id="${id}"]`);
    const track = v?.srcObject?.getVideoTracks()[0];
    if (!track) return 0;
    let width = 0;
    for (const pc of window.__testPeerConnections) {
      if (pc.connectionState === 'closed') continue;
      for (const r of pc.getReceivers()) {
        if (r.track !== track) continue;
        (await r.getStats()).forEach((s) => {
          if (s.type === 'inbound-rtp') width = s.frameWidth ?? 0;
        });
      }
    }
    return width;
  }, participantId);
}

/** The width the page shows a participant's video at, in CSS pixels. */
function shownWidth(page, participantId) {
  return page.evaluate((id) => document.querySelector(`video[data-participant-id="${id}"]`)?.clientWidth ?? 0, participantId);
}

describe('simulcast', () => {
  const env = serverAndBrowser('simulcast-server.log');

  it('the host sends three layers; each tile size gets its layer', async () => {
    const host = await newPerson(env.browser, { name: 'simulcast-host' });
    const url = await startMeeting(env.server, host, 'Ada');
    const guest = await newPerson(env.browser, { name: 'simulcast-guest', viewport: { width: 1600, height: 1000 } });
    await joinAs(guest, url, 'Grace');
    const adaId = await tileId(guest.page, 'Ada');
    await waitVideoPlaying(guest.page, adaId);
    // Ada's the only tile from here on.
    await button(guest.page, 'Settings').click();
    await guest.page.getByRole('checkbox', { name: 'Hide self-view' }).check();
    await guest.page.keyboard.press('Escape');

    // Each size of tile in turn: the layer it gets, received as wide as the host encodes it.
    const widths = {};
    for (const step of [
      { viewport: { width: 1600, height: 1000 }, rid: 'f' },
      { viewport: { width: 1000, height: 700 }, rid: 'h' },
      { viewport: { width: 480, height: 400 }, rid: 'q' },
      { viewport: { width: 1600, height: 1000 }, rid: 'f' },
    ]) {
      await guest.page.setViewportSize(step.viewport);
      const shown = await shownWidth(guest.page, adaId);
      widths[step.rid] = await eventually(
        async () => {
          const l = await outboundLayers(host.page);
          const w = await inboundWidth(guest.page, adaId);
          if (!(l[step.rid]?.frameWidth > 0) || w !== l[step.rid].frameWidth) {
            throw new Error(`receiving ${w} wide; host sends ${JSON.stringify(l)}`);
          }
          return w;
        },
        { what: `Grace receiving layer ${step.rid} for a tile ${shown} px wide`, timeout: 30_000 },
      );
    }
    const full = widths.f;
    assert.ok(full >= 960, `the full layer is ${full} wide: the camera should give 1280x720`);
    // A quarter, half and all of the camera's width; the small tile got at most a quarter.
    assert.ok(widths.q <= full / 4 && widths.h <= full / 2 && widths.h > widths.q, JSON.stringify(widths));
    const layers = await outboundLayers(host.page);
    assert.deepEqual(Object.keys(layers).sort(), ['f', 'h', 'q']);
    for (const rid of ['q', 'h', 'f']) assert.ok(layers[rid].bytesSent > 0, `layer ${rid} was never sent`);
  });

  it('the host encodes only the layers someone needs', async () => {
    const host = await newPerson(env.browser, { name: 'dynacast-host' });
    const url = await startMeeting(env.server, host, 'Ada');
    const guest = await newPerson(env.browser, { name: 'dynacast-guest', viewport: { width: 560, height: 420 } });
    await joinAs(guest, url, 'Grace');
    const adaId = await tileId(guest.page, 'Ada');
    await waitVideoPlaying(guest.page, adaId);
    // A small tile: the lowest layer, and the host is told that nobody needs the others.
    await eventually(
      async () => {
        const l = await outboundLayers(host.page);
        const w = await inboundWidth(guest.page, adaId);
        if (l.q?.active === false || l.h?.active !== false || l.f?.active !== false || w !== l.q.frameWidth) {
          throw new Error(`receiving ${w} wide; host sends ${JSON.stringify(l)}`);
        }
        return true;
      },
      { what: 'the host sending q only, to a guest with a small tile', timeout: 30_000 },
    );
    // Made large (the one tile, self-view hidden), the host sends the full layer again.
    await guest.page.setViewportSize({ width: 1600, height: 1000 });
    await button(guest.page, 'Settings').click();
    await guest.page.getByRole('checkbox', { name: 'Hide self-view' }).check();
    await guest.page.keyboard.press('Escape');
    await eventually(
      async () => {
        const l = await outboundLayers(host.page);
        const w = await inboundWidth(guest.page, adaId);
        if (l.f?.active === false || w !== l.f.frameWidth) throw new Error(`receiving ${w} wide; host sends ${JSON.stringify(l)}`);
        return true;
      },
      { what: 'the host sending f again, to a guest with one large tile', timeout: 30_000 },
    );
  });
});
