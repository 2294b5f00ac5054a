// The per-isolate client cache across isolates: a second worker on the same D1/KV state, with
// CLIENT_CACHE_TTL = 2, stands in for another location. Changes made through the first worker
// must reach it: at once when they make a client work (a cached copy never decides a refusal),
// and within the TTL when they make it stop working (docs/SCALE.md, "What each isolate keeps").
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { BOOTSTRAP, createClient, http, admin, basic, startSecondWorker } from './helpers.mjs';

let second;
after(() => {
  if (second)
    try {
      process.kill(-second.pid, 'SIGTERM');
    } catch {}
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TTL = 2;

test('client cache: another isolate accepts a new secret or a re-activation at once, and stops accepting within the TTL', async () => {
  const started = await startSecondWorker(
    `JWT_SIGNING_KEY='${process.env.E2E_SIGNING_KEY}'\nBOOTSTRAP_ADMIN_TOKEN='${BOOTSTRAP}'\nCLIENT_CACHE_TTL='${TTL}'\n`,
  );
  second = started.child;
  const other = started.base;
  const c = await createClient({ client_name: 'Cache across isolates' });
  const cc = async (secret) =>
    (
      await fetch(`${other}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.client_id, secret) },
        body: 'grant_type=client_credentials',
      })
    ).status;

  assert.equal(await cc(c.client_secret), 200, 'the second worker authenticates, and caches, the client');
  const r = await http('POST', `/clients/${c.client_id}/secret`, { headers: admin() });
  assert.equal(r.status, 200);
  const secret = r.json.client_secret;
  assert.equal(await cc(secret), 200, 'a new secret works there at once');
  await sleep(TTL * 1000 + 1100);
  assert.equal(await cc(c.client_secret), 401, 'the old secret stops working there within the TTL');

  await http('PUT', `/clients/${c.client_id}`, { json: { is_active: false }, headers: admin() });
  await sleep(TTL * 1000 + 1100);
  assert.equal(await cc(secret), 401, 'a deactivated client is refused there within the TTL');
  await http('PUT', `/clients/${c.client_id}`, { json: { is_active: true }, headers: admin() });
  assert.equal(await cc(secret), 200, 'a re-activated client works there at once');

  process.kill(-second.pid, 'SIGTERM');
  second = undefined;
});
