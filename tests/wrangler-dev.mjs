// Starting `wrangler dev`: tests/run-e2e.mjs starts the worker under test with it,
// tests/e2e/helpers.mjs a second worker on the same state, bench/run.mjs and bench/ab.mjs the
// workers they measure.
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const wrangler = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', '.bin', 'wrangler');

/** A TCP port of 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts `wrangler dev --ip 127.0.0.1 --port <port> ...args` (its own process group) and waits
 * until `/health` answers 200, asking every `pollMs`; resolves to `{ base, child, startup }`,
 * `startup` being the milliseconds from the spawn of the attempt that answered to its answer.
 *
 * Once its file watcher is ready, this wrangler runs the custom build again and reloads the
 * runtime; now and then that reload fails to bind an internal port the first runtime still holds
 * ("Address already in use") and wrangler exits. Such a start is retried (twice at most); a
 * worker that is up but never answers within `timeoutMs` is not, and rejects.
 *
 * `log(attempt)`: the file for that attempt's output, or undefined to drop it. `onSpawn(child)`
 * learns each process as it starts, so that a caller can stop it whatever happens.
 */
export async function startWranglerDev({
  args,
  env,
  cwd,
  port: fixedPort,
  timeoutMs = 180_000,
  pollMs = 300,
  log = () => undefined,
  onSpawn = () => {},
}) {
  for (let attempt = 1; ; attempt++) {
    const port = fixedPort || (await freePort());
    const logFile = log(attempt);
    const out = logFile ? openSync(logFile, 'w') : 'ignore';
    const started = performance.now();
    const child = spawn(wrangler, ['dev', '--ip', '127.0.0.1', '--port', String(port), ...args], {
      cwd,
      env,
      stdio: ['ignore', out, out],
      detached: true,
    });
    onSpawn(child);
    let gone = false;
    child.once('exit', () => {
      gone = true;
    });
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !gone) {
      try {
        if ((await fetch(`${base}/health`, { signal: AbortSignal.timeout(2000) })).status === 200) {
          return { base, child, startup: performance.now() - started };
        }
      } catch {}
      await new Promise((r) => setTimeout(r, pollMs));
    }
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {}
    const where = logFile ? ` (see ${logFile})` : '';
    if (!gone || attempt === 3) throw new Error(`wrangler dev did not answer on ${base}${where}`);
    console.error(`wrangler dev exited while starting${where}; starting it again`);
  }
}
