// What one password check costs inside the worker: CPU seconds of the workerd process that runs
// the worker (read from /proc/<pid>/stat), for N password grants against N client_credentials
// grants (same path minus the PBKDF2 check). Usage: node bench/login-cost.mjs <base-url> <bootstrap-token> [N]
import { readFileSync, readdirSync } from 'node:fs';

const [base, bootstrap, nArg] = process.argv.slice(2);
const N = Number(nArg) || 20;
const TICK = 100; // USER_HZ

function runtimePid() {
  // wrangler dev starts two workerd processes: the dev proxy (on the served port) and the
  // runtime (entry on port 0, with --inspect). The runtime is the one that runs the worker.
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes('workerd') && cmd.includes('--inspect')) return pid;
    } catch {}
  }
  throw new Error('no workerd runtime process found');
}
const cpu = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
};
const post = (path, body, headers = {}) => fetch(base + path, { method: 'POST', body, headers });

const pid = runtimePid();
const name = 'bench' + Date.now();
await post('/register', JSON.stringify({ username: name, email: `${name}@example.com`, password: 'correct horse battery' }), {
  'content-type': 'application/json',
});
const c = await (
  await post('/clients', JSON.stringify({ client_name: 'bench', grant_types: ['password', 'client_credentials'] }), {
    'content-type': 'application/json',
    authorization: `Bearer ${bootstrap}`,
  })
).json();
const auth = {
  authorization: 'Basic ' + Buffer.from(`${c.client_id}:${c.client_secret}`).toString('base64'),
  'content-type': 'application/x-www-form-urlencoded',
};

async function measure(form) {
  const before = cpu(pid);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const r = await post('/token', form, auth);
    if (r.status !== 200) throw new Error(`${r.status} ${await r.text()}`);
  }
  return { cpuMs: ((cpu(pid) - before) * 1000) / N, wallMs: (performance.now() - t0) / N };
}
const cc = await measure('grant_type=client_credentials');
const pw = await measure(`grant_type=password&username=${name}&password=correct+horse+battery`);
console.log(`| grant | CPU ms/request | wall ms/request |\n|---|---|---|`);
console.log(`| client_credentials | ${cc.cpuMs.toFixed(1)} | ${cc.wallMs.toFixed(1)} |`);
console.log(`| password (PBKDF2) | ${pw.cpuMs.toFixed(1)} | ${pw.wallMs.toFixed(1)} |`);
console.log(`PBKDF2 check ≈ ${(pw.cpuMs - cc.cpuMs).toFixed(1)} ms CPU at the configured iterations (N=${N})`);
