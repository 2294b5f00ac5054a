// The Worker's entry module (wrangler.toml `main`): hands each request to the wasm's `fetch`
// (src/cloudflare/entry.rs) and each cron event to its `scheduled`, without the per-request work of the
// default export worker-build generates (build/index.js). That export is a class behind a Proxy:
// for every request the runtime constructs it (a Proxy construct trap that builds a handler
// object and a second Proxy around the instance), then reads `fetch` through a get trap that
// wraps the method in a third Proxy. Measured: see docs/SCALE.md, "The request floor".
//
// What the proxies are for is kept: after a wasm trap (a Rust panic is an `unreachable` trap,
// since the release profile aborts on panic) worker-build's glue marks the instance broken in
// `globalThis.__worker_init_state`, and the next request must start a fresh wasm instance.
// Constructing worker-build's class does exactly that, so a request that finds the mark set goes
// through it; every other request calls the handler its prototype holds.
import Worker from '../build/index.js';

const state = globalThis.__worker_init_state;
const { fetch: handleFetch, scheduled: handleScheduled } = Worker.prototype;
// These are worker-build 0.8's generated internals: if a new version changes them, fail at start
// (every test then fails) rather than serve requests wrongly.
if (!state || typeof state.criticalError !== 'boolean' || typeof handleFetch !== 'function' || typeof handleScheduled !== 'function') {
  throw new Error('src/entry.mjs: build/index.js is not the worker-build output this entry expects');
}

/**
 * Runs `handler` (the prototype's `fetch` or `scheduled`) for one event; after a trap, through
 * a fresh instance of worker-build's class (`method`) instead. A trap thrown here marks the
 * instance broken, as worker-build's own wrapper does; the error goes on to the runtime.
 */
function run(handler, method, arg, env, ctx) {
  if (state.criticalError) return new Worker(ctx, env)[method](arg);
  try {
    return handler.call({ env, ctx }, arg);
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) state.criticalError = true;
    throw e;
  }
}

export default {
  fetch: (request, env, ctx) => run(handleFetch, 'fetch', request, env, ctx),
  scheduled: (event, env, ctx) => run(handleScheduled, 'scheduled', event, env, ctx),
};
