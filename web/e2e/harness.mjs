// Shared parts of the browser tests: the real server binary, Debian's Chromium with fake devices,
// finding controls the way a person does (role and name), the steps every test takes to start or
// join a meeting, and waiting on conditions with deadlines (never sleeping for correctness).
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';

export const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const outDir = join(webDir, 'e2e', 'out');
mkdirSync(outDir, { recursive: true });

const chromiumArgs = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
];

/** Polls fn until it returns a truthy value (returned) or the deadline passes (throws). */
export async function eventually(fn, { timeout = 20_000, interval = 200, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${detail})`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

/** The server binary from this tree, on 127.0.0.1 with media on loopback only; extraArgs are added to its flags. */
export class ParleyServer {
  constructor(port, logName = 'server.log', extraArgs = []) {
    this.extraArgs = extraArgs;
    this.port = port;
    this.base = `http://127.0.0.1:${port}`;
    this.logPath = join(outDir, logName);
    this.proc = null;
  }

  async start() {
    const bin = process.env.PARLEY_BIN;
    if (!bin) throw new Error('PARLEY_BIN is not set: run the suite with `npm run e2e`');
    const log = createWriteStream(this.logPath, { flags: 'a' });
    this.proc = spawn(
      bin,
      [
        '-listen',
        `127.0.0.1:${this.port}`,
        '-loopback-only',
        '-udp-port',
        '0',
        '-public-url',
        this.base,
        '-log-level',
        'debug',
        // Every browser of a test comes from 127.0.0.1: one address for several people.
        '-addr-request-rate',
        '100000',
        ...this.extraArgs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.proc.stdout.pipe(log);
    this.proc.stderr.pipe(log);
    const proc = this.proc;
    let exited = null;
    proc.once('exit', (code, signal) => (exited = { code, signal }));
    await eventually(
      async () => {
        if (exited) throw new Error(`server exited early: ${JSON.stringify(exited)}; see ${this.logPath}`);
        const res = await fetch(`${this.base}/readyz`);
        return res.status === 200;
      },
      { timeout: 30_000, what: 'the server to be ready (/readyz)' },
    );
  }

  /** Stops the server: SIGTERM, then SIGKILL if it lingers. `hard` kills at once, like a crash. */
  async stop({ hard = false } = {}) {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill(hard ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
    this.proc = null;
  }

  async createMeeting(hostName) {
    const res = await fetch(`${this.base}/api/meetings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hostName }),
    });
    if (res.status !== 201) throw new Error(`create meeting: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  }

  async meeting(meetingId) {
    const res = await fetch(`${this.base}/api/meetings/${meetingId}`);
    return { status: res.status, body: await res.json() };
  }
}

/**
 * A TCP proxy in front of the server's HTTP port, so a test can cut a browser's connection to the
 * server (as a network drop would) and let it back in later. Media (UDP) does not pass through it.
 */
export class CuttableProxy {
  constructor(targetPort) {
    this.targetPort = targetPort;
    this.sockets = new Set();
    this.down = false;
    this.server = createServer((client) => {
      if (this.down) {
        client.destroy();
        return;
      }
      const upstream = connect(this.targetPort, '127.0.0.1');
      for (const [a, b] of [
        [client, upstream],
        [upstream, client],
      ]) {
        a.pipe(b);
        a.on('error', () => b.destroy());
        a.on('close', () => b.destroy());
        this.sockets.add(a);
        a.on('close', () => this.sockets.delete(a));
      }
    });
  }

  async start() {
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${this.server.address().port}`;
  }

  /** Drops every open connection and refuses new ones until restore(). */
  cut() {
    this.down = true;
    for (const s of this.sockets) s.destroy();
  }

  restore() {
    this.down = false;
  }

  async stop() {
    this.cut();
    await new Promise((r) => this.server.close(r));
  }
}

/** Debian's Chromium with fake devices; extraArgs are added to its command line. */
export function launchBrowser(extraArgs = []) {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    chromiumSandbox: false,
    args: [...chromiumArgs, ...extraArgs],
    timeout: 60_000,
  });
}

// Counts what the page says to the server by type (window.__testSent: an offer after a device
// switch would show there) and the notes it plays (window.__testTones: the timer's end chime).
const countSignals = () => {
  window.__testSent = {};
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    try {
      const type = JSON.parse(data).type;
      window.__testSent[type] = (window.__testSent[type] ?? 0) + 1;
    } catch {
      // Not JSON: not ours to count.
    }
    return send.call(this, data);
  };
  window.__testTones = 0;
  const osc = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () {
    window.__testTones++;
    return osc.call(this);
  };
};

// Counts the publisher offers a page sends (window.__testOffers), for Firefox where the page's
// WebSocket is not wrapped by countSignals.
const countOffers = () => {
  window.__testOffers = 0;
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (typeof data === 'string' && data.includes('"type":"offer"')) window.__testOffers++;
    return send.call(this, data);
  };
};

// Keeps every RTCPeerConnection the page makes within reach of the test's getStats() calls.
const capturePeerConnections = () => {
  const Original = window.RTCPeerConnection;
  window.__testPeerConnections = [];
  window.RTCPeerConnection = class extends Original {
    constructor(...args) {
      super(...args);
      window.__testPeerConnections.push(this);
    }
  };
};

/**
 * The server (on a free port, logging to logName in e2e/out) and one Chromium for the tests of the
 * describe block this is called in: started before the first test, stopped after the last. The
 * returned object holds them once started. serverArgs are added to the server's flags.
 */
export function serverAndBrowser(logName, serverArgs = []) {
  const env = { server: null, browser: null };
  before(async () => {
    env.server = new ParleyServer(await freePort(), logName, serverArgs);
    await env.server.start();
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
  });
  return env;
}

// Firefox with fake devices that need no prompt. Firefox offers host candidates only to pages
// allowed to use camera and microphone (a permission, which permission.disabled does not grant:
// hence the defaults), then over loopback only when told to, and with their real address only
// when not told to hide it: loopback is the only network in the test namespace, and the server
// resolves no mDNS names.
const firefoxPrefs = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'permissions.default.camera': 1,
  'permissions.default.microphone': 1,
  'media.peerconnection.ice.loopback': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.autoplay.default': 0,
};

/**
 * Debian's Firefox ESR, driven by puppeteer-core over WebDriver BiDi, with one page that keeps its
 * peer connections within reach (like newPerson). Puppeteer's page API differs from Playwright's:
 * controls are found with `::-p-aria(...)` selectors, see ariaLocator.
 */
export async function launchFirefox(name = 'firefox') {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: '/usr/bin/firefox-esr',
    headless: true,
    extraPrefsFirefox: firefoxPrefs,
    timeout: 60_000,
  });
  const page = await browser.newPage();
  page.setDefaultTimeout(20_000);
  await page.evaluateOnNewDocument(capturePeerConnections);
  await page.evaluateOnNewDocument(countOffers);
  const log = createWriteStream(join(outDir, `${name}.console.log`), { flags: 'a' });
  const stamp = () => new Date().toISOString();
  page.on('pageerror', (err) => log.write(`${stamp()} pageerror ${err.stack ?? err}\n`));
  page.on('console', (msg) => log.write(`${stamp()} ${msg.type()} ${msg.text()}\n`));
  return { browser, page };
}

/** A Puppeteer locator for the control with this role and exact accessible name. */
export function ariaLocator(page, role, name) {
  return page.locator(`::-p-aria([name=${JSON.stringify(name)}][role="${role}"])`);
}

/** A fresh browser context (its own storage, like another person's browser) with one page. */
export async function newPerson(
  browser,
  { viewport = { width: 1280, height: 800 }, initScript, name = 'page', isMobile = false } = {},
) {
  // Reduced motion: no transitions, so that what axe measures (colours) is the settled state.
  const context = await browser.newContext({ viewport, reducedMotion: 'reduce', isMobile, hasTouch: isMobile });
  await context.addInitScript(capturePeerConnections);
  await context.addInitScript(countSignals);
  if (initScript) await context.addInitScript(initScript);
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  // The page's console, for reading after a failure.
  const log = createWriteStream(join(outDir, `${name}.console.log`), { flags: 'a' });
  const stamp = () => new Date().toISOString();
  page.on('pageerror', (err) => log.write(`${stamp()} pageerror ${err.stack ?? err}\n`));
  page.on('console', (msg) => log.write(`${stamp()} ${msg.type()} ${msg.text()}\n`));
  // What the server's Content-Security-Policy refused on this page (Chromium reports each
  // refusal on the console): a test may assert the app needs nothing it forbids.
  const csp = [];
  page.on('console', (msg) => {
    if (msg.text().includes('Content Security Policy')) csp.push(msg.text());
  });
  return { context, page, csp };
}

/** The participantId of the tile named `name` on page. */
export async function tileId(page, name) {
  const tile = page.getByRole('region', { name, exact: true });
  await tile.waitFor();
  return tile.getAttribute('data-participant-id');
}

/**
 * Waits until the <video> of a participant really plays: it has a picture (videoWidth > 0) and its
 * currentTime moves on between two looks.
 */
export async function waitVideoPlaying(page, participantId, timeout = 30_000) {
  const sel = `video[data-participant-id="${participantId}"]`;
  let before = -1;
  try {
    await eventually(
      async () => {
        const now = await page.evaluate((s) => {
          const v = document.querySelector(s);
          return v && v.videoWidth > 0 && v.readyState >= 2 ? v.currentTime : -1;
        }, sel);
        const advanced = before >= 0 && now > before;
        before = now;
        return advanced;
      },
      { timeout, interval: 300, what: `video of ${participantId} playing` },
    );
  } catch (err) {
    err.message += `\n${JSON.stringify(await mediaState(page), null, 1)}`;
    throw err;
  }
}

/** What the page's media looks like, for failure messages. */
export function mediaState(page) {
  return page.evaluate(() => ({
    url: location.pathname,
    peerConnections: window.__testPeerConnections.map((pc) => ({
      state: `${pc.connectionState}/${pc.iceConnectionState}/${pc.signalingState}`,
      transceivers: pc
        .getTransceivers()
        .map((t) => `${t.mid}:${t.direction}/${t.currentDirection}:${t.receiver.track.kind}${t.receiver.track.muted ? '(muted)' : ''}`),
    })),
    videos: [...document.querySelectorAll('video')].map((v) => ({
      id: v.dataset.participantId,
      size: `${v.videoWidth}x${v.videoHeight}`,
      t: v.currentTime,
      readyState: v.readyState,
      paused: v.paused,
      tracks: v.srcObject ? v.srcObject.getTracks().map((t) => `${t.kind}:${t.readyState}${t.muted ? '(muted)' : ''}`) : null,
    })),
  }));
}

/**
 * Packets received so far for a participant's audio and video, from the stats of the receivers
 * of the tracks its tile plays. (Not by track id: the server names tracks after their source,
 * "microphone" and "camera", the same for everyone.)
 */
export function inboundPackets(page, participantId) {
  return page.evaluate(async (id) => {
    const v = document.querySelector(`video[data-participant-id="${id}"]`);
    const stream = v && v.srcObject;
    if (!stream) return null;
    const audio = stream.getAudioTracks()[0];
    const video = stream.getVideoTracks()[0];
    const out = { audio: null, video: null };
    for (const pc of window.__testPeerConnections) {
      if (pc.connectionState === 'closed') continue;
      for (const r of pc.getReceivers()) {
        const kind = r.track === audio ? 'audio' : r.track === video ? 'video' : null;
        if (!kind) continue;
        (await r.getStats()).forEach((s) => {
          if (s.type === 'inbound-rtp') out[kind] = s.packetsReceived;
        });
      }
    }
    return out;
  }, participantId);
}

/**
 * Records the participantJoined and participantLeft events the page's WebSocket receives;
 * since() returns those after the previous call, as "type participantId" strings.
 */
export function watchEvents(page) {
  const seen = [];
  let from = 0;
  page.on('websocket', (ws) =>
    ws.on('framereceived', ({ payload }) => {
      try {
        const m = JSON.parse(String(payload));
        if (m.type === 'participantJoined') seen.push(`${m.type} ${m.participant.participantId}`);
        if (m.type === 'participantLeft') seen.push(`${m.type} ${m.participantId}`);
      } catch {
        // not JSON: nothing of ours
      }
    }),
  );
  return {
    since() {
      const out = seen.slice(from);
      from = seen.length;
      return out;
    },
  };
}

/** Seconds shown by the countdown (role "timer"), or null when there is none. */
export async function countdownSeconds(page) {
  const timer = page.getByRole('timer');
  if ((await timer.count()) === 0) return null;
  const text = (await timer.textContent({ timeout: 2000 }).catch(() => null)) ?? '';
  const m = /^(\d+):(\d\d)$/.exec(text.trim());
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

// Controls are found as a person finds them: by role and exact accessible name.
export const region = (page, name) => page.getByRole('region', { name, exact: true });
export const button = (page, name) => page.getByRole('button', { name, exact: true });
export const heading = (page, name) => page.getByRole('heading', { name, exact: true });
export const nameField = (page) => page.getByRole('textbox', { name: 'Your name' });

/**
 * Starts a meeting from the home page as its host, through the same preview step as guests;
 * returns the meeting link it shows.
 */
export async function startMeeting(server, person, name) {
  await person.page.goto(server.base + '/');
  await nameField(person.page).fill(name);
  await button(person.page, 'New meeting').click();
  await heading(person.page, 'Ready to start your meeting?').waitFor();
  await button(person.page, 'Join').click();
  await joinedRoom(person.page, name);
  return person.page.getByRole('textbox', { name: 'Meeting link' }).inputValue();
}

/** Joins the meeting at url by its link, as a guest named name. */
export async function joinAs(person, url, name) {
  await person.page.goto(url);
  await nameField(person.page).fill(name);
  await button(person.page, 'Join').click();
  await joinedRoom(person.page, name);
}

/**
 * Waits until the server's "joined" has arrived: the own tile shows at once, with a "Joining…"
 * banner in the same render until then.
 */
export async function joinedRoom(page, name) {
  await region(page, `${name} (you)`).waitFor();
  await page.getByRole('status').filter({ hasText: 'Joining…' }).waitFor({ state: 'hidden' });
}

// ---- accessibility ----

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core on the page as it is now and fails on any violation, with what and where. Every
 * rule axe runs by default (WCAG 2.0-2.2 A and AA, best practices), plus the experimental
 * label-content-name-mismatch (the visible text of a control must be part of its name).
 * Videos are left out of the colour checks: their pixels are not text.
 */
export async function expectAccessible(page, screen) {
  const hasAxe = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!hasAxe) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, {
      rules: { 'label-content-name-mismatch': { enabled: true } },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary?.replace(/\s+/g, ' ')}`),
    }));
  });
  if (violations.length > 0) {
    const detail = violations.map((v) => `- ${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.join('\n    ')}`).join('\n');
    throw new Error(`axe found ${violations.length} kind(s) of violation on ${screen}:\n${detail}`);
  }
}

/** Shows the side panel's tab named name ("Participants", the host's "Host controls"). */
export async function openTab(page, name) {
  const tab = page.getByRole('tab', { name, exact: true });
  if ((await tab.count()) > 0) {
    if ((await tab.getAttribute('aria-selected')) !== 'true') await tab.click();
    return;
  }
  // The panel is closed, or holds one tab only (a guest's): its toolbar button opens it there.
  const toggle = button(page, name);
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  await page.getByRole('heading', { name: new RegExp(`^${name}`) }).first().waitFor();
}

/** Opens the row menu of a participant in the people tab; returns the button of one action. */
export async function rowAction(page, who, action) {
  await openTab(page, 'Participants');
  const more = button(page, `More actions for ${who}`);
  if ((await more.getAttribute('aria-expanded')) !== 'true') await more.click();
  return button(page, action);
}
