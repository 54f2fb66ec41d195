// Measures the web client's cold and warm load in Chromium against the real server: bytes over
// the wire and time until the home page can be used, with an empty cache and then again with the
// cache the first visit left. Not a test (nothing is asserted); docs/web-performance.md has the
// command and the numbers. Run: go build -o /tmp/parley ./cmd/parley && PARLEY_BIN=/tmp/parley node web/e2e/perf.mjs
import { freePort, launchBrowser, ParleyServer } from './harness.mjs';

// A mid-range mobile link: 1.6 Mbit/s down, 750 kbit/s up, 150 ms round trip (Lighthouse's "slow 4G").
const network = { offline: false, latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 };
const runs = Number(process.env.RUNS ?? 5);

const server = new ParleyServer(await freePort(), 'server-perf.log');
await server.start();
const browser = await launchBrowser();

async function visit(page, cdp) {
  const responses = [];
  const onResponse = (e) => responses.push(e);
  const finished = new Map();
  const onFinished = (e) => finished.set(e.requestId, e.encodedDataLength);
  cdp.on('Network.responseReceived', onResponse);
  cdp.on('Network.loadingFinished', onFinished);
  const start = Date.now();
  await page.goto(server.base + '/', { waitUntil: 'load' });
  await page.getByRole('button', { name: 'New meeting', exact: true }).waitFor();
  const usable = Date.now() - start;
  cdp.off('Network.responseReceived', onResponse);
  cdp.off('Network.loadingFinished', onFinished);
  const files = responses
    .filter((r) => r.response.url.startsWith(server.base))
    .map((r) => ({
      path: new URL(r.response.url).pathname,
      status: r.response.status,
      fromCache: r.response.fromDiskCache || r.response.fromMemoryCache,
      encoding: r.response.headers['content-encoding'] ?? r.response.headers['Content-Encoding'] ?? '',
      bytes: finished.get(r.requestId) ?? 0,
    }));
  return { usable, bytes: files.reduce((s, f) => s + f.bytes, 0), files };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = { cold: [], warm: [] };
let example;
for (let i = 0; i < runs; i++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', network);
  const cold = await visit(page, cdp);
  const warm = await visit(page, cdp);
  results.cold.push(cold);
  results.warm.push(warm);
  example ??= { cold, warm };
  await context.close();
}
for (const kind of ['cold', 'warm']) {
  const rs = results[kind];
  console.log(`${kind}: usable after ${median(rs.map((r) => r.usable))} ms (median of ${runs}), ${median(rs.map((r) => r.bytes))} bytes over the wire`);
  for (const f of example[kind].files) {
    console.log(`  ${f.status} ${f.path} ${f.encoding || 'identity'} ${f.fromCache ? '(cache)' : ''} ${f.bytes} B`);
  }
}
await browser.close();
await server.stop();
