// Runs the end-to-end suite: applies the migrations to a fresh, throw-away local D1/KV state,
// starts the worker under `wrangler dev` on a free port with a freshly generated signing key and
// bootstrap token, runs every tests/e2e/*.test.mjs with node's test runner, and stops the worker
// (its whole process group) whatever happens.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { devVars, formatVars } from '../scripts/gen-dev-vars.mjs';
import { startWranglerDev } from './wrangler-dev.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wrangler = join(root, 'node_modules', '.bin', 'wrangler');
const outDir = join(root, 'test-output');
mkdirSync(outDir, { recursive: true });

const state = mkdtempSync(join(tmpdir(), 'edge-oidc-e2e-'));
// A short refresh reuse interval (docs/API.md "Reuse interval"; the default is 30 s): the tests
// that present a rotated refresh token as a thief would wait this long after its rotation.
const vars = { ...devVars(), REFRESH_REUSE_INTERVAL: '4' };
const varsFile = join(state, 'test.vars');
writeFileSync(varsFile, formatVars(vars), { mode: 0o600 });
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' };

let worker;
function stop() {
  if (worker && worker.exitCode === null) {
    try {
      process.kill(-worker.pid, 'SIGTERM');
    } catch {}
  }
}
process.on('exit', () => {
  stop();
  rmSync(state, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    stop();
    process.exit(130);
  });

const migrate = spawnSync(wrangler, ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', join(state, 'wrangler')], {
  cwd: root,
  env,
  stdio: ['ignore', 'pipe', 'pipe'],
  encoding: 'utf8',
});
if (migrate.status !== 0) {
  console.error(migrate.stdout, migrate.stderr);
  console.error('applying the D1 migrations failed');
  process.exit(1);
}

let base;
try {
  ({ base } = await startWranglerDev({
    args: ['--persist-to', join(state, 'wrangler'), '--env-file', varsFile, '--show-interactive-dev-session=false'],
    cwd: root,
    env,
    port: Number(process.env.E2E_PORT) || undefined,
    log: (attempt) => join(outDir, attempt === 1 ? 'wrangler-dev.log' : `wrangler-dev.${attempt}.log`),
    onSpawn: (child) => {
      worker = child;
    },
  }));
} catch (e) {
  console.error(e.message);
  stop();
  process.exit(1);
}

const e2eDir = join(root, 'tests', 'e2e');
const only = process.argv.slice(2);
const files = readdirSync(e2eDir)
  .filter((f) => f.endsWith('.test.mjs'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort()
  .map((f) => join(e2eDir, f));
const run = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], {
  cwd: root,
  env: {
    ...env,
    E2E_BASE_URL: base,
    E2E_BOOTSTRAP_TOKEN: vars.BOOTSTRAP_ADMIN_TOKEN,
    E2E_OUTPUT: outDir,
    E2E_PERSIST: join(state, 'wrangler'),
    E2E_SIGNING_KEY: vars.JWT_SIGNING_KEY,
    E2E_REFRESH_REUSE_INTERVAL: vars.REFRESH_REUSE_INTERVAL,
  },
  stdio: 'inherit',
});
stop();
process.exitCode = run.status ?? 1;
