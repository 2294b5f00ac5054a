// Interleaved A/B of two checkouts of this repository (e.g. main and a change), for effects smaller
// than the run-to-run noise of `npm run bench` on a shared machine:
//
//   node bench/ab.mjs <dir A> <dir B>        (each dir built already: bash scripts/build.sh)
//   ROUNDS=8 BURST=200 SCENS=discovery,cc,code,refresh,introspect
//
// Both workers run under wrangler dev at once, each with fresh local D1/KV; the scenarios
// alternate bursts of BURST requests at concurrency 16 between them (A B, B A, ...), after one
// untimed round, and read each runtime process's CPU per request. Machine noise then lands on both
// alike; compare the ratio B/A, not the absolute figures. Latency p50/p99 are over all of a side's
// timed bursts. The process CPU is read in 10 ms ticks:
// for effects of a few per cent use BURST=800 or more (a 200-request burst of ~1 ms requests is
// quantised to 5%). Not part of `npm test` or `npm run bench`.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { devVars, formatVars } from '../scripts/gen-dev-vars.mjs';
import { startWranglerDev } from '../tests/wrangler-dev.mjs';
import { form, post as postForm, codeClient } from './edge-oidc.mjs';
const [A, B] = process.argv.slice(2);
if (!A || !B) {
  console.error('usage: node bench/ab.mjs <dir A> <dir B>');
  process.exit(2);
}
const ROUNDS = Number(process.env.ROUNDS || 8),
  BURST = Number(process.env.BURST || 200);
const children = [];
process.on('exit', () => {
  for (const c of children)
    try {
      process.kill(-c.pid, 'SIGTERM');
    } catch {}
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
const cpu = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
function isDesc(pid, anc) {
  for (let p = String(pid); p && p !== '1' && p !== '0'; ) {
    if (p === String(anc)) return true;
    p = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')[1];
  }
  return false;
}
const rt = (child) =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .find((p) => {
      try {
        const c = readFileSync(`/proc/${p}/cmdline`, 'utf8');
        return c.includes('workerd') && c.includes('--inspect') && isDesc(p, child.pid);
      } catch {
        return false;
      }
    });
const wrangler = join(fileURLToPath(new URL('..', import.meta.url)), 'node_modules', '.bin', 'wrangler');
async function start(root) {
  const state = mkdtempSync(join(tmpdir(), 'abi-'));
  const vars = devVars();
  // Codes are minted before each burst; a longer code lifetime keeps them valid through it.
  writeFileSync(join(state, 'vars'), formatVars({ ...vars, AUTH_CODE_TTL: '900' }));
  execFileSync(wrangler, ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', join(state, 'w')], {
    cwd: root,
    stdio: 'ignore',
    env: { ...process.env, CI: 'true' },
  });
  const { base, child } = await startWranglerDev({
    args: ['--persist-to', join(state, 'w'), '--env-file', join(state, 'vars'), '--show-interactive-dev-session=false'],
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
    log: (attempt) => join(state, attempt === 1 ? 'log' : `log.${attempt}`),
    // Stopped when this script ends, however it ends (an interrupted run left them running).
    onSpawn: (c) => children.push(c),
  });
  const { auth, redirect, newCode } = await codeClient(base, vars.BOOTSTRAP_ADMIN_TOKEN);
  const post = async (path, body) => {
    const { status, json } = await postForm(base + path, body, auth);
    return { status, json };
  };
  const s = { base, pid: rt(child), post, newCode, redirect };
  s.at = (await post('/token', 'grant_type=client_credentials')).json.access_token;
  return s;
}
const a = await start(A),
  b = await start(B);
const scen = {
  discovery: (s) => async () => {
    const r = await fetch(`${s.base}/.well-known/openid-configuration`);
    await r.arrayBuffer();
    return r.status;
  },
  cc: (s) => async () => (await s.post('/token', 'grant_type=client_credentials&scope=api%3Aread')).status,
  code: (s) => {
    let codes = [];
    return {
      prep: async () => {
        codes = [];
        for (let i = 0; i < BURST; i++) codes.push(await s.newCode());
      },
      run: async (i) =>
        (await s.post('/token', form({ grant_type: 'authorization_code', code: codes[i], redirect_uri: s.redirect }))).status,
    };
  },
  refresh: (s) => {
    let tokens = [];
    return {
      prep: async () => {
        tokens = [];
        for (let i = 0; i < BURST; i++)
          tokens.push(
            (await s.post('/token', form({ grant_type: 'authorization_code', code: await s.newCode(), redirect_uri: s.redirect }))).json
              .refresh_token,
          );
      },
      run: async (i) => (await s.post('/token', form({ grant_type: 'refresh_token', refresh_token: tokens[i] }))).status,
    };
  },
  introspect: (s) => async () => (await s.post('/introspect', form({ token: s.at }))).status,
};
/** One burst at c16: `{ cpu, lat }`, the runtime CPU ms per request and each request's latency (ms). */
async function burst(s, fn) {
  let i = 0;
  const c0 = cpu(s.pid);
  const lat = [];
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (i < BURST) {
        const k = i++;
        const t0 = performance.now();
        const st = await fn(k);
        lat.push(performance.now() - t0);
        if (st !== 200) throw new Error('status ' + st);
      }
    }),
  );
  return { cpu: ((cpu(s.pid) - c0) * 1000) / BURST, lat };
}
for (const name of (process.env.SCENS || 'discovery,cc,code,refresh,introspect').split(',')) {
  const fa = scen[name](a),
    fb = scen[name](b);
  const res = { A: [], B: [] },
    lat = { A: [], B: [] };
  for (let r = 0; r < ROUNDS + 1; r++) {
    for (const [k, s, f] of r % 2
      ? [
          ['B', b, fb],
          ['A', a, fa],
        ]
      : [
          ['A', a, fa],
          ['B', b, fb],
        ]) {
      if (f.prep) await f.prep();
      const v = await burst(s, f.run ?? f);
      if (r > 0) {
        res[k].push(v.cpu);
        lat[k].push(...v.lat);
      }
    }
  }
  const med = (x) => {
    const y = [...x].sort((p, q) => p - q);
    return y[Math.floor(y.length / 2)];
  };
  const sum = (x) => x.reduce((p, q) => p + q, 0) / x.length;
  const pct = (x, p) => {
    const y = [...x].sort((m, n) => m - n);
    return y[Math.min(y.length - 1, Math.floor(p * y.length))];
  };
  const latency = (k) => `p50 ${pct(lat[k], 0.5).toFixed(1)} p99 ${pct(lat[k], 0.99).toFixed(1)} ms`;
  console.log(
    `${name}: A median ${med(res.A).toFixed(3)} mean ${sum(res.A).toFixed(3)} (${latency('A')}) | B median ${med(res.B).toFixed(3)} mean ${sum(res.B).toFixed(3)} (${latency('B')}) | B/A ${(sum(res.B) / sum(res.A)).toFixed(3)}`,
  );
}
process.exit(0);
