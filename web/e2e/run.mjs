// Runs the end-to-end suite: builds the web client and the server binary from this tree, then runs
// the node tests inside a private network namespace that holds only loopback, so that the server,
// Node and Chromium all talk over 127.0.0.1 and nothing else.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
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

if (!existsSync('/usr/bin/chromium')) {
  console.error('e2e: /usr/bin/chromium is missing; install it with: apt-get update && apt-get install -y chromium');
  process.exit(1);
}

const binDir = mkdtempSync(join(tmpdir(), 'parley-e2e-'));
const bin = join(binDir, 'parley');
let code = 1;
try {
  step('building the web client', 'npm', ['run', 'build'], { cwd: webDir });
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
  const inner = `ip link set lo up && exec node --test --test-concurrency=1 ${extra} ${files.join(' ')}`;
  console.log('e2e: running the browser tests in a loopback-only network namespace');
  const r = spawnSync('unshare', ['-rn', 'sh', '-c', inner], {
    cwd: webDir,
    stdio: 'inherit',
    env: { ...process.env, PARLEY_BIN: bin },
  });
  if (r.error) throw r.error;
  code = r.status ?? 1;
} finally {
  rmSync(binDir, { recursive: true, force: true });
}
process.exit(code);
