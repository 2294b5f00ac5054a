// Runs the end-to-end suite: applies the migrations to a fresh, throw-away local D1/KV state,
// starts the worker under `wrangler dev` on a free port with a freshly generated signing key and
// bootstrap token, runs every tests/e2e/*.test.mjs with node's test runner, and stops the worker
// (its whole process group) whatever happens.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readdirSync, rmSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { devVars, formatVars } from '../scripts/gen-dev-vars.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wrangler = join(root, 'node_modules', '.bin', 'wrangler');
const outDir = join(root, 'test-output');
mkdirSync(outDir, { recursive: true });

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const state = mkdtempSync(join(tmpdir(), 'edge-oidc-e2e-'));
const vars = devVars();
const varsFile = join(state, 'test.vars');
writeFileSync(varsFile, formatVars(vars), { mode: 0o600 });
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' };

let worker;
function stop() {
  if (worker && worker.exitCode === null) {
    try { process.kill(-worker.pid, 'SIGTERM'); } catch {}
  }
}
process.on('exit', () => { stop(); rmSync(state, { recursive: true, force: true }); });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { stop(); process.exit(130); });

const migrate = spawnSync(wrangler, ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', join(state, 'wrangler')],
  { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (migrate.status !== 0) {
  console.error(migrate.stdout, migrate.stderr);
  console.error('applying the D1 migrations failed');
  process.exit(1);
}

// Once its file watcher is ready, this wrangler runs the custom build again and reloads the
// runtime; now and then that reload fails to bind an internal port the first runtime still holds
// ("Address already in use") and wrangler exits. Such a start is retried (twice at most); a
// worker that is up but never answers is not.
let base;
for (let attempt = 1; !base; attempt++) {
  const port = Number(process.env.E2E_PORT) || await freePort();
  const logName = attempt === 1 ? 'wrangler-dev.log' : `wrangler-dev.${attempt}.log`;
  const log = openSync(join(outDir, logName), 'w');
  worker = spawn(wrangler, ['dev', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', join(state, 'wrangler'),
    '--env-file', varsFile, '--show-interactive-dev-session=false'],
    { cwd: root, env, stdio: ['ignore', log, log], detached: true });
  let gone = false;
  worker.once('exit', () => { gone = true; });
  const deadline = Date.now() + 180_000;
  let ready = false;
  while (Date.now() < deadline && !gone) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
      if (r.status === 200) { ready = true; break; }
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
  }
  if (ready) {
    base = `http://127.0.0.1:${port}`;
  } else if (gone && attempt < 3) {
    try { process.kill(-worker.pid, 'SIGTERM'); } catch {}
    console.error(`wrangler dev exited while starting (see test-output/${logName}); starting it again`);
  } else {
    console.error(`wrangler dev did not answer on http://127.0.0.1:${port} (see test-output/${logName})`);
    stop();
    process.exit(1);
  }
}

const e2eDir = join(root, 'tests', 'e2e');
const only = process.argv.slice(2);
const files = readdirSync(e2eDir).filter((f) => f.endsWith('.test.mjs'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o))).sort().map((f) => join(e2eDir, f));
const run = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], {
  cwd: root,
  env: { ...env, E2E_BASE_URL: base, E2E_BOOTSTRAP_TOKEN: vars.BOOTSTRAP_ADMIN_TOKEN, E2E_OUTPUT: outDir, E2E_PERSIST: join(state, 'wrangler'), E2E_SIGNING_KEY: vars.JWT_SIGNING_KEY },
  stdio: 'inherit',
});
stop();
process.exitCode = run.status ?? 1;
