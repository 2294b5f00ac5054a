// A grant ends whole: refresh-token reuse, revocation of a refresh token and code replay end
// the refresh family *and* every access token minted along it, at /introspect, /userinfo and
// the admin endpoints; other grants of the same user and client live on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  http,
  admin,
  bearer,
  basic,
  registerUser,
  createClient,
  token,
  login,
  decodeJwt,
  kvDelete,
  d1,
  pastReuseInterval,
} from './helpers.mjs';

const introspect = (t) => http('POST', '/introspect', { form: { token: t }, headers: admin() });
const active = async (t) => (await introspect(t)).json.active;
const userinfo = async (t) => (await http('GET', '/userinfo', { headers: bearer(t) })).status;

test('grants: refresh-token reuse ends the access tokens minted along the family', async () => {
  const user = await registerUser();
  const client = await createClient();
  const pw = { grant_type: 'password', username: user.username, password: user.password, scope: 'openid' };
  const t1 = (await token(client, pw)).json;
  const t2 = (await token(client, { grant_type: 'refresh_token', refresh_token: t1.refresh_token })).json;
  const rotatedAt = Date.now();
  const other = (await token(client, pw)).json;
  assert.equal(decodeJwt(t1.access_token).payload.grant_id, decodeJwt(t2.access_token).payload.grant_id);
  assert.notEqual(decodeJwt(other.access_token).payload.grant_id, decodeJwt(t1.access_token).payload.grant_id);
  assert.equal(await userinfo(t2.access_token), 200);
  // The stolen, already rotated t1 refresh token is presented again, after the reuse interval.
  await pastReuseInterval(rotatedAt);
  const r = await token(client, { grant_type: 'refresh_token', refresh_token: t1.refresh_token });
  assert.equal(r.json.error, 'invalid_grant');
  for (const at of [t1.access_token, t2.access_token]) {
    assert.equal(await active(at), false);
    assert.equal(await userinfo(at), 401);
  }
  assert.equal(await active(other.access_token), true, 'another grant is untouched');
});

test('grants: revoking a refresh token ends the access tokens of its grant', async () => {
  const user = await registerUser();
  const client = await createClient();
  const t = (await token(client, { grant_type: 'password', username: user.username, password: user.password, scope: 'openid' })).json;
  const r = await http('POST', '/revoke', {
    form: { token: t.refresh_token },
    headers: { authorization: basic(client.client_id, client.client_secret) },
  });
  assert.equal(r.status, 200);
  assert.equal(await active(t.access_token), false);
  assert.equal(await userinfo(t.access_token), 401);
});

test('grants: a replayed code ends the grant it started (oidcc-codereuse)', async () => {
  const user = await registerUser();
  const client = await createClient({ grant_types: ['authorization_code'] });
  const { code } = await login(client, user, { scope: 'openid' });
  const form = { grant_type: 'authorization_code', code, redirect_uri: client.redirect_uris[0] };
  const first = await token(client, form);
  assert.equal(first.status, 200);
  assert.equal(first.json.refresh_token, undefined);
  assert.equal(await active(first.json.access_token), true);
  const replay = await token(client, form);
  assert.equal(replay.json.error, 'invalid_grant');
  assert.equal(await active(first.json.access_token), false);
});

test('grants: an admin token of an ended grant no longer opens the admin endpoints', async () => {
  const adminUser = await registerUser({ role: 'admin', headers: admin() });
  const client = await createClient({ scopes: 'openid admin' });
  const t = (await token(client, { grant_type: 'password', username: adminUser.username, password: adminUser.password, scope: 'admin' }))
    .json;
  assert.equal((await http('GET', '/clients', { headers: bearer(t.access_token) })).status, 200);
  await http('POST', '/revoke', {
    form: { token: t.refresh_token },
    headers: { authorization: basic(client.client_id, client.client_secret) },
  });
  const r = await http('GET', '/clients', { headers: bearer(t.access_token) });
  assert.equal(r.status, 401);
  assert.equal(r.json.error, 'invalid_token');
});

test('codes: a code KV has not brought to this location is redeemed from its D1 copy, still once', async () => {
  const user = await registerUser();
  const client = await createClient();
  const { code } = await login(client, user, { scope: 'openid' });
  const key = createHash('sha256').update(code).digest('base64url');
  // As at a location KV has not reached yet: the KV entry is gone, the D1 copy is there.
  await kvDelete(key);
  assert.equal((await d1(`SELECT COUNT(*) AS n FROM pending_codes WHERE code_hash = '${key}'`))[0].n, 1);
  const form = { grant_type: 'authorization_code', code, redirect_uri: client.redirect_uris[0] };
  const first = await token(client, form);
  assert.equal(first.status, 200, first.text);
  assert.equal(await active(first.json.access_token), true);
  const replay = await token(client, form);
  assert.equal(replay.json.error, 'invalid_grant');
  assert.equal(await active(first.json.access_token), false, 'the replay is seen there too');
});
