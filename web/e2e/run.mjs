// Runs the end-to-end suite: builds the server binary from this tree around the web client already
// built in web/dist, then runs the node tests inside a private network namespace that holds only
// loopback, so that the server, Node and the browsers all talk over 127.0.0.1 and nothing else.
// The client is built by whoever calls this (`npm run e2e` builds it first; `make e2e` depends on
// `make web`), so that one `make` run builds it once however many targets need it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoDir = resolve(webDir, '..');

function step(what, cmd, args, opts = {}) {
  const started = Date.now();
  console.log(`e2e: ${what}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.error) throw new Error(`${what}: ${r.error.message}`);
  if (r.status !== 0) {
    console.error(`e2e: ${what} failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
  console.log(`e2e: ${what} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (!existsSync(join(webDir, 'dist', 'index.html'))) {
  console.error('e2e: the web client is not built (web/dist/index.html is missing); run `npm run e2e` or `make e2e`, which build it');
  process.exit(1);
}
for (const [bin, pkg] of [
  ['/usr/bin/chromium', 'chromium'],
  ['/usr/bin/firefox-esr', 'firefox-esr'],
  ['/usr/sbin/nft', 'nftables'],
  ['/usr/bin/redis-server', 'redis-server'],
]) {
  if (!existsSync(bin)) {
    console.error(`e2e: ${bin} is missing; install it with: apt-get update && apt-get install -y ${pkg} (or make browsers)`);
    process.exit(1);
  }
}

// printLogs shows, after a failed run, what the servers and pages logged during it: CI keeps only
// this output, and a failure on a busy machine that does not repeat here is explained only by it.
function printLogs(since) {
  if (!existsSync(outDir)) return;
  for (const f of readdirSync(outDir).filter((n) => n.endsWith('.log')).sort()) {
    const path = join(outDir, f);
    if (statSync(path).mtimeMs < since) continue;
    let lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
    // Server logs: their warnings and errors and the last lines; page consoles: the last lines.
    if (f.includes('server')) {
      const loud = lines.filter((l) => /level=(WARN|ERROR)/.test(l)).slice(-20);
      lines = [...loud, '...', ...lines.slice(-15)];
    } else {
      lines = lines.slice(-10);
    }
    console.log(`e2e: --- ${f} ---`);
    for (const l of lines) console.log(`e2e: ${l.slice(0, 400)}`);
  }
}

const runStarted = Date.now();
const binDir = mkdtempSync(join(tmpdir(), 'parley-e2e-'));
const bin = join(binDir, 'parley');
const outDir = join(webDir, 'e2e', 'out');
mkdirSync(outDir, { recursive: true });
let code;
try {
  step('building the server', 'go', ['build', '-o', bin, './cmd/parley'], { cwd: repoDir });

  // Arguments naming test files pick those files; any others go to node --test.
  const args = process.argv.slice(2);
  const picked = args.filter((a) => a.endsWith('.test.mjs'));
  const files = picked.length
    ? picked
    : readdirSync(join(webDir, 'e2e'))
        .filter((f) => f.endsWith('.test.mjs'))
        .map((f) => join('e2e', f));
  const extra = args
    .filter((a) => !a.endsWith('.test.mjs'))
    .map((a) => `'${a.replaceAll("'", "'\\''")}'`)
    .join(' ');
  // One Redis in the namespace for the tests of a cluster (cluster.test.mjs), started before
  // them and stopped after, however they end: a daemon left behind would keep the namespace.
  const redisPort = 6390;
  const redisDir = join(binDir, 'redis');
  mkdirSync(redisDir);
  const redisPid = join(redisDir, 'redis.pid');
  const inner = [
    'ip link set lo up',
    `redis-server --port ${redisPort} --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --dir ${redisDir} --pidfile ${redisPid} --logfile ${join(outDir, 'redis.log')}`,
    `trap 'kill $(cat ${redisPid}) 2>/dev/null' EXIT INT TERM`,
    // Up to 10 s for it to answer (daemonized, it forks before it listens).
    `n=0; until redis-cli -p ${redisPort} ping >/dev/null 2>&1; do n=$((n+1)); if [ $n -gt 200 ]; then echo 'e2e: redis-server did not answer' >&2; exit 1; fi; sleep 0.05; done`,
    `node --test --test-concurrency=1 ${extra} ${files.join(' ')}`,
  ].join(' && ');
  console.log('e2e: running the browser tests in a loopback-only network namespace');
  const r = spawnSync('unshare', ['-rn', 'sh', '-c', inner], {
    cwd: webDir,
    stdio: 'inherit',
    env: { ...process.env, PARLEY_BIN: bin, PARLEY_E2E_REDIS_URL: `redis://127.0.0.1:${redisPort}` },
  });
  if (r.error) throw r.error;
  code = r.status ?? 1;
  if (code !== 0) printLogs(runStarted);
} finally {
  rmSync(binDir, { recursive: true, force: true });
}
process.exit(code);
