// Refresh tokens that real clients survive (docs/API.md "Reuse interval", RFC 9700 §4.14.2): a
// rotated refresh token presented again by its own client within REFRESH_REUSE_INTERVAL (4 s in
// this run, 30 s by default) is answered from the same family, and every token so issued stays
// valid; after the interval, or from another client, it is theft and the grant ends. A second
// worker on the same state with REFRESH_REUSE_INTERVAL=0 is strict.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import {
  BASE,
  BOOTSTRAP,
  http,
  admin,
  registerUser,
  createClient,
  token,
  decodeJwt,
  d1,
  pastReuseInterval,
  startSecondWorker,
} from './helpers.mjs';

const refresh = (client, t, extra = {}) => token(client, { grant_type: 'refresh_token', refresh_token: t, ...extra });
const active = async (t) => (await http('POST', '/introspect', { form: { token: t }, headers: admin() })).json.active;
const statuses = async (client) =>
  Object.fromEntries(
    (await d1(`SELECT status, COUNT(*) AS n FROM refresh_tokens WHERE client_id = '${client.client_id}' GROUP BY status`)).map((r) => [
      r.status,
      r.n,
    ]),
  );

async function signedIn(scope = 'openid profile') {
  const user = await registerUser();
  const client = await createClient();
  const t = await token(client, { grant_type: 'password', username: user.username, password: user.password, scope });
  assert.equal(t.status, 200, t.text);
  return { user, client, t: t.json };
}

let second;
after(() => {
  if (second)
    try {
      process.kill(-second.pid, 'SIGTERM');
    } catch {}
});

test('reuse interval: two tabs at once and a retry are answered from the family; every token stays valid', async () => {
  const { user, client, t } = await signedIn();
  const [tab1, tab2] = await Promise.all([refresh(client, t.refresh_token), refresh(client, t.refresh_token)]);
  const rotatedAt = Date.now();
  // The answer to tab1 was lost: the client retries with the same token, asking for less.
  const retry = await refresh(client, t.refresh_token, { scope: 'openid' });
  for (const r of [tab1, tab2, retry]) assert.equal(r.status, 200, r.text);
  assert.equal(new Set([tab1, tab2, retry].map((r) => r.json.refresh_token)).size, 3, 'each answer has a new refresh token');
  // Same grant and subject; never wider than the grant.
  const grant = decodeJwt(t.access_token).payload.grant_id;
  for (const r of [tab1, tab2, retry]) {
    const claims = decodeJwt(r.json.access_token).payload;
    assert.deepEqual([claims.grant_id, claims.sub], [grant, user.id]);
  }
  assert.equal(retry.json.scope, 'openid');
  const wider = await refresh(client, t.refresh_token, { scope: 'openid email' });
  assert.deepEqual([wider.status, wider.json.error], [400, 'invalid_scope']);
  // Every token so issued stays valid: the access tokens introspect active, each refresh token rotates.
  for (const r of [tab1, tab2, retry]) assert.equal(await active(r.json.access_token), true);
  const next = await Promise.all([tab1, tab2, retry].map((r) => refresh(client, r.json.refresh_token)));
  for (const r of next) assert.equal(r.status, 200, r.text);
  assert.deepEqual(await statuses(client), { active: 3, rotated: 4 }, 'nothing was revoked');

  // After the interval the first token is theft: the whole grant ends.
  await pastReuseInterval(rotatedAt);
  const theft = await refresh(client, t.refresh_token);
  assert.deepEqual([theft.status, theft.json.error], [400, 'invalid_grant']);
  for (const r of next) {
    assert.equal((await refresh(client, r.json.refresh_token)).json.error, 'invalid_grant');
    assert.equal(await active(r.json.access_token), false);
  }
  assert.equal(await active(t.access_token), false);
  const audit = await http('GET', `/audit?user_id=${user.id}&type=refresh_token.reuse`, { headers: admin() });
  assert.equal(audit.status, 200, audit.text);
  assert.equal(audit.json.events.length, 1, 'only the late reuse is recorded as theft');
});

test('reuse interval: a rotated token presented by another client is theft at once', async () => {
  const { client, t } = await signedIn();
  const rotated = await refresh(client, t.refresh_token);
  assert.equal(rotated.status, 200);
  const thief = await createClient();
  const stolen = await refresh(thief, t.refresh_token);
  assert.deepEqual([stolen.status, stolen.json.error], [400, 'invalid_grant']);
  assert.equal((await refresh(client, rotated.json.refresh_token)).json.error, 'invalid_grant', 'the grant ended');
  assert.equal(await active(rotated.json.access_token), false);
});

test('reuse interval: openid-client refreshing twice at once keeps the person signed in', async () => {
  const { client, t } = await signedIn();
  const config = await oidc.discovery(new URL(BASE), client.client_id, client.client_secret, oidc.ClientSecretBasic(client.client_secret), {
    execute: [oidc.allowInsecureRequests],
  });
  const [a, b] = await Promise.all([oidc.refreshTokenGrant(config, t.refresh_token), oidc.refreshTokenGrant(config, t.refresh_token)]);
  assert.ok(a.refresh_token && b.refresh_token && a.refresh_token !== b.refresh_token);
  const [a2, b2] = await Promise.all([oidc.refreshTokenGrant(config, a.refresh_token), oidc.refreshTokenGrant(config, b.refresh_token)]);
  assert.equal((await oidc.tokenIntrospection(config, a2.access_token)).active, true);
  assert.equal((await oidc.tokenIntrospection(config, b2.access_token)).active, true);
});

test('reuse interval: REFRESH_REUSE_INTERVAL=0 is strict', async () => {
  const started = await startSecondWorker(
    `JWT_SIGNING_KEY='${process.env.E2E_SIGNING_KEY}'\nBOOTSTRAP_ADMIN_TOKEN='${BOOTSTRAP}'\nREFRESH_REUSE_INTERVAL='0'\n`,
  );
  second = started.child;
  const { client, t } = await signedIn();
  const at = (path, form) =>
    fetch(`${started.base}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
      },
      body: new URLSearchParams(form),
    }).then(async (r) => ({ status: r.status, json: await r.json() }));
  const rotated = await at('/token', { grant_type: 'refresh_token', refresh_token: t.refresh_token });
  assert.equal(rotated.status, 200);
  const again = await at('/token', { grant_type: 'refresh_token', refresh_token: t.refresh_token });
  assert.deepEqual([again.status, again.json.error], [400, 'invalid_grant']);
  assert.equal(
    (await at('/token', { grant_type: 'refresh_token', refresh_token: rotated.json.refresh_token })).json.error,
    'invalid_grant',
  );
  assert.deepEqual(await statuses(client), { revoked: 2 }, 'the family ended');
});
