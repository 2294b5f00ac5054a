// src/entry.mjs on its own (no worker needed): it calls the handler worker-build's class holds,
// marks the instance broken on a wasm trap, and after one goes through the class (whose
// construction starts a fresh wasm instance) once. Run against a stand-in for build/index.js
// that records what it is asked, shaped as worker-build 0.8's output is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';

async function loadEntry(fakeBuild) {
  const dir = mkdtempSync(join(tmpdir(), 'entry-'));
  mkdirSync(join(dir, 'src'));
  mkdirSync(join(dir, 'build'));
  copyFileSync(new URL('../../src/entry.mjs', import.meta.url), join(dir, 'src', 'entry.mjs'));
  writeFileSync(join(dir, 'build', 'index.js'), fakeBuild);
  return (await import(pathToFileURL(join(dir, 'src', 'entry.mjs')).href)).default;
}

const FAKE = `
const state = globalThis.__worker_init_state = { criticalError: false, instanceId: 0 };
export const calls = globalThis.__entryCalls = [];
class Entrypoint {
  constructor(ctx, env) {
    // worker-build's construct hook: a broken instance is replaced first.
    if (state.criticalError) { calls.push('reinit'); state.criticalError = false; state.instanceId++; }
    this.ctx = ctx; this.env = env;
  }
}
Entrypoint.prototype.fetch = function (request) {
  calls.push(['fetch', request, this.env, this.ctx, state.instanceId]);
  if (request === 'trap') throw new WebAssembly.RuntimeError('unreachable');
  if (request === 'js error') throw new TypeError('not a trap');
  return Promise.resolve('response to ' + request);
};
Entrypoint.prototype.scheduled = function (event) {
  calls.push(['scheduled', event, this.env, this.ctx, state.instanceId]);
  return Promise.resolve();
};
export default new Proxy(Entrypoint, {});
`;

test('entry module: calls the wasm handlers directly, and after a wasm trap starts a fresh instance once', async () => {
  const entry = await loadEntry(FAKE);
  const calls = globalThis.__entryCalls;
  const env = { DB: 'db' },
    ctx = { waitUntil() {} };
  assert.equal(await entry.fetch('a', env, ctx), 'response to a');
  assert.deepEqual(calls.shift(), ['fetch', 'a', env, ctx, 0]);
  await entry.scheduled('cron', env, ctx);
  assert.deepEqual(calls.shift(), ['scheduled', 'cron', env, ctx, 0]);
  // A JavaScript error goes on to the runtime and breaks nothing.
  assert.throws(() => entry.fetch('js error', env, ctx), TypeError);
  calls.shift();
  assert.equal(globalThis.__worker_init_state.criticalError, false);
  // A trap goes on too, and marks the instance broken: the next request reinitialises first.
  assert.throws(() => entry.fetch('trap', env, ctx), WebAssembly.RuntimeError);
  calls.shift();
  assert.equal(globalThis.__worker_init_state.criticalError, true);
  assert.equal(await entry.fetch('b', env, ctx), 'response to b');
  assert.deepEqual(calls.splice(0), ['reinit', ['fetch', 'b', env, ctx, 1]]);
  // Then the direct path again, on the fresh instance.
  assert.equal(await entry.fetch('c', env, ctx), 'response to c');
  assert.deepEqual(calls.splice(0), [['fetch', 'c', env, ctx, 1]]);
});

test('entry module: refuses to start on a build/index.js it does not know', async () => {
  delete globalThis.__worker_init_state;
  await assert.rejects(loadEntry('export default class {}'), /not the worker-build output this entry expects/);
});
