// A wrapper for any Worker (an entrypoint class or a `{ fetch }` object) that counts the storage
// operations it makes, for `npm run bench`'s estimate of each implementation's own CPU.
//
// Under wrangler dev, local D1 and KV run inside the same workerd process as the Worker, so the
// runtime's CPU per request includes the storage simulators' work; on Cloudflare, D1 and KV are
// other services and that work is not billed to the Worker. The harness runs each implementation
// once more behind this wrapper (never for the timed figures) to learn how many D1 round trips,
// D1 statements and KV operations each request makes, and measures what one of each costs the
// local runtime here (`/__probe/cost`), so that it can take them off.
//
//   GET /__probe/ops             the counts since the last call (and resets them)
//   GET /__probe/cost?op=&n=&c=  n operations on this Worker's bindings, c at a time (as under
//                                the harness's load); answers "ok". ops: d1 (SELECT 1), d1_batch3 (three SELECTs in one batch),
//                                kv_get, kv_miss, kv_put (60 s TTL), kv_delete
import { WorkerEntrypoint } from 'cloudflare:workers';

let counts = {};
// workers-rs checks a binding's type by its constructor's name, so `constructor` passes through.
const count = (k, by = 1) => {
  counts[k] = (counts[k] ?? 0) + by;
};
const kind = (v) => v?.constructor?.name;

const KV_OPS = new Set(['get', 'getWithMetadata', 'put', 'delete', 'list']);
function countingKv(kv) {
  return new Proxy(kv, {
    get(target, p) {
      const v = Reflect.get(target, p, target);
      if (typeof v !== 'function' || p === 'constructor') return v;
      if (!KV_OPS.has(p)) return v.bind(target);
      return (...a) => {
        count(`kv_${p}`);
        return v.apply(target, a);
      };
    },
  });
}

// D1: every statement that runs is one statement; every first/all/run/raw or batch is one round
// trip. Proxies wrap statements so that `batch` can be handed the real ones.
const real = new WeakMap();
function countingStatement(stmt) {
  const proxy = new Proxy(stmt, {
    get(target, p) {
      const v = Reflect.get(target, p, target);
      if (typeof v !== 'function' || p === 'constructor') return v;
      if (p === 'bind') return (...a) => countingStatement(v.apply(target, a));
      if (['first', 'all', 'run', 'raw'].includes(p))
        return (...a) => {
          count('d1_round_trips');
          count('d1_statements');
          return v.apply(target, a);
        };
      return v.bind(target);
    },
  });
  real.set(proxy, stmt);
  return proxy;
}
function countingD1(db) {
  return new Proxy(db, {
    get(target, p) {
      const v = Reflect.get(target, p, target);
      if (typeof v !== 'function' || p === 'constructor') return v;
      if (p === 'prepare') return (...a) => countingStatement(v.apply(target, a));
      if (p === 'batch')
        return (stmts) => {
          count('d1_round_trips');
          count('d1_statements', stmts.length);
          return v.call(
            target,
            stmts.map((s) => real.get(s) ?? s),
          );
        };
      if (p === 'withSession') return (...a) => countingD1(v.apply(target, a));
      return v.bind(target);
    },
  });
}

function countingEnv(env) {
  const out = {};
  for (const [k, v] of Object.entries(env)) {
    out[k] = kind(v) === 'KvNamespace' ? countingKv(v) : kind(v) === 'D1Database' ? countingD1(v) : v;
  }
  return out;
}

async function cost(url, env) {
  const op = url.searchParams.get('op');
  if (!['d1', 'd1_batch3', 'kv_get', 'kv_miss', 'kv_put', 'kv_delete'].includes(op))
    return new Response('op: d1, d1_batch3, kv_get, kv_miss, kv_put, kv_delete', { status: 400 });
  const n = Number(url.searchParams.get('n')) || 100;
  const c = Math.max(1, Number(url.searchParams.get('c')) || 1);
  const db = Object.values(env).find((v) => kind(v) === 'D1Database');
  const kv = Object.values(env).find((v) => kind(v) === 'KvNamespace');
  if (op.startsWith('d1') && !db) return new Response('no D1 binding', { status: 404 });
  if (op.startsWith('kv') && !kv) return new Response('no KV binding', { status: 404 });
  if (op === 'kv_get' || op === 'kv_delete') await kv.put('__probe_present', 'x'.repeat(400), { expirationTtl: 600 });
  let next = 0;
  const one = async (i) => {
    if (op === 'd1') await db.prepare('SELECT 1 AS one').first();
    else if (op === 'd1_batch3')
      await db.batch([db.prepare('SELECT 1 AS one'), db.prepare('SELECT 2 AS two'), db.prepare('SELECT 3 AS three')]);
    else if (op === 'kv_get') await kv.get('__probe_present');
    else if (op === 'kv_miss') await kv.get('__probe_missing');
    else if (op === 'kv_put') await kv.put(`__probe_${i}`, 'x'.repeat(400), { expirationTtl: 60 });
    else if (op === 'kv_delete') await kv.delete(`__probe_absent_${i}`);
  };
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (next < n) await one(next++);
    }),
  );
  return new Response('ok');
}

function probeRoute(request, env) {
  const url = new URL(request.url);
  if (url.pathname === '/__probe/ops') {
    const body = JSON.stringify(counts);
    counts = {};
    return new Response(body, { headers: { 'content-type': 'application/json' } });
  }
  if (url.pathname === '/__probe/cost') return cost(url, env);
  return undefined;
}

export function probe(inner) {
  if (typeof inner === 'function') {
    // An entrypoint class (workers-rs's): one instance per request, as the runtime makes them.
    return class extends WorkerEntrypoint {
      fetch(request) {
        return probeRoute(request, this.env) ?? new inner(this.ctx, countingEnv(this.env)).fetch(request);
      }
    };
  }
  return { fetch: (request, env, ctx) => probeRoute(request, env) ?? inner.fetch(request, countingEnv(env), ctx) };
}
