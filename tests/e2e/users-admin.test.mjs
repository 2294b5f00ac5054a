// User administration and the audit log under wrangler dev (real D1), and the operator's
// `npm run ops -- users ...` commands on the same API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  http,
  BASE,
  BOOTSTRAP,
  admin,
  bearer,
  registerUser,
  createClient,
  token,
  uniq,
  randomAddress,
  adminAccessToken,
  d1,
} from './helpers.mjs';

const ops = (args) =>
  new Promise((resolve, reject) => {
    execFile(process.execPath, ['scripts/ops.mjs', ...args], { encoding: 'utf8' }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });

test('users: list by prefix with pages, read, change, refuse bad input; 401/403/404/409', async () => {
  const prefix = uniq('adm');
  const made = [];
  for (let i = 0; i < 3; i++) made.push(await registerUser({ username: `${prefix}-${i}` }));
  let r = await http('GET', `/users?q=${prefix}&limit=2`, { headers: admin() });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(
    r.json.users.map((u) => u.username),
    made.slice(0, 2).map((u) => u.username),
  );
  const u0 = r.json.users[0];
  assert.deepEqual(Object.keys(u0).sort(), ['createdAt', 'disabled', 'email', 'factors', 'id', 'role', 'username']);
  r = await http('GET', `/users?q=${prefix}&limit=2&cursor=${r.json.next_cursor}`, { headers: admin() });
  assert.deepEqual(
    r.json.users.map((u) => u.username),
    [made[2].username],
  );
  assert.equal(r.json.next_cursor, null);
  assert.equal((await http('GET', `/users/${made[0].id}`, { headers: admin() })).json.username, made[0].username);
  assert.equal((await http('GET', '/users/no-such-user', { headers: admin() })).status, 404);
  assert.equal((await http('GET', '/users')).status, 401);
  const plainClient = await createClient();
  const t = await token(plainClient, { grant_type: 'password', username: made[0].username, password: made[0].password });
  assert.equal((await http('GET', '/users', { headers: bearer(t.json.access_token) })).status, 403);
  r = await http('PATCH', `/users/${made[0].id}`, { json: { email: made[1].email }, headers: admin() });
  assert.equal(r.status, 409);
  r = await http('PATCH', `/users/${made[0].id}`, { json: { email: 'not-an-email' }, headers: admin() });
  assert.equal(r.status, 400);
  assert.match(r.json.error_description, /^email/);
  r = await http('PATCH', `/users/${made[0].id}`, { json: { password_hash: 'x' }, headers: admin() });
  assert.equal(r.status, 400);
  r = await http('PATCH', `/users/${made[0].id}`, { json: { role: 'auditor' }, headers: admin() });
  assert.equal(r.status, 200);
  assert.equal(r.json.role, 'auditor');
});

test('users: disabling ends access tokens, refresh tokens and sign-in at once; re-enabling brings no old token back', async () => {
  const user = await registerUser();
  const client = await createClient();
  const t = (await token(client, { grant_type: 'password', username: user.username, password: user.password, scope: 'openid' })).json;
  assert.equal((await http('GET', '/userinfo', { headers: bearer(t.access_token) })).status, 200);
  let r = await http('PATCH', `/users/${user.id}`, { json: { disabled: true }, headers: admin() });
  assert.equal(r.json.disabled, true);
  assert.equal((await http('GET', '/userinfo', { headers: bearer(t.access_token) })).status, 401);
  assert.equal((await token(client, { grant_type: 'refresh_token', refresh_token: t.refresh_token })).json.error, 'invalid_grant');
  r = await token(client, { grant_type: 'password', username: user.username, password: user.password });
  assert.equal(r.json.error, 'invalid_grant');
  r = await http('POST', '/login', {
    form: { username: user.username, password: user.password, redirect: client.redirect_uris[0], state: 's', client_id: client.client_id },
    headers: { accept: 'application/json' },
  });
  assert.equal(r.status, 401);
  await http('PATCH', `/users/${user.id}`, { json: { disabled: false }, headers: admin() });
  await new Promise((resolve) => setTimeout(resolve, 1100));
  assert.equal((await token(client, { grant_type: 'password', username: user.username, password: user.password })).status, 200);
  assert.equal((await http('GET', '/userinfo', { headers: bearer(t.access_token) })).status, 401, 'the old token stays dead');
});

test('users: an admin-set password and deletion end the grants; the deleted user is gone', async () => {
  const user = await registerUser();
  const client = await createClient();
  const t = (await token(client, { grant_type: 'password', username: user.username, password: user.password, scope: 'openid' })).json;
  let r = await http('PATCH', `/users/${user.id}`, { json: { password: 'a completely new one' }, headers: admin() });
  assert.equal(r.status, 200);
  assert.equal((await http('GET', '/userinfo', { headers: bearer(t.access_token) })).status, 401);
  assert.equal((await token(client, { grant_type: 'password', username: user.username, password: user.password })).status, 400);
  const t2 = (await token(client, { grant_type: 'password', username: user.username, password: 'a completely new one', scope: 'openid' }))
    .json;
  r = await http('DELETE', `/users/${user.id}`, { headers: admin() });
  assert.equal(r.status, 204);
  assert.equal((await http('GET', '/userinfo', { headers: bearer(t2.access_token) })).status, 401);
  assert.equal((await http('GET', `/users/${user.id}`, { headers: admin() })).status, 404);
  assert.equal((await http('DELETE', `/users/${user.id}`, { headers: admin() })).status, 404);
});

test('audit: sign-ins with the address, administration, newest first, filters; never a secret', async () => {
  const user = await registerUser({ password: 'audit-canary-password' });
  const client = await createClient();
  const address = randomAddress();
  await token(client, { grant_type: 'password', username: user.username, password: 'audit-wrong-password' }, { address });
  const ok = await token(client, { grant_type: 'password', username: user.username, password: user.password }, { address });
  await http('PATCH', `/users/${user.id}`, { json: { disabled: true }, headers: admin() });
  // Events are written after the response (waitUntil): allow them a moment.
  let events = [];
  for (let i = 0; i < 20 && events.length < 4; i++) {
    await new Promise((r) => setTimeout(r, 150));
    events = (await http('GET', `/audit?user_id=${user.id}`, { headers: admin() })).json.events;
  }
  const kinds = events.map((e) => e.type);
  assert.deepEqual(kinds.slice(0, 3), ['user.disabled', 'sign_in.succeeded', 'sign_in.failed'], kinds.join(','));
  assert.ok(kinds.includes('user.registered'));
  const failed = events.find((e) => e.type === 'sign_in.failed');
  assert.equal(failed.address, address);
  assert.ok(Number.isInteger(failed.at));
  assert.equal(events.find((e) => e.type === 'user.disabled').detail.by, 'bootstrap');
  const only = (await http('GET', `/audit?type=sign_in.failed&user_id=${user.id}`, { headers: admin() })).json.events;
  assert.equal(only.length, 1);
  const all = (await http('GET', '/audit?limit=200', { headers: admin() })).text;
  for (const secret of [
    'audit-canary-password',
    'audit-wrong-password',
    ok.json.access_token,
    ok.json.refresh_token,
    client.client_secret,
    BOOTSTRAP,
  ]) {
    assert.ok(!all.includes(secret), 'a secret reached the audit log');
  }
  assert.equal((await http('GET', '/audit')).status, 401);
  assert.equal((await http('GET', '/audit?cursor=%%%', { headers: admin() })).status, 400);
});

test('ops users: list, show, disable, enable, set-role, delete through the API', async () => {
  const prefix = uniq('opsu');
  const user = await registerUser({ username: `${prefix}-a` });
  const base = ['--url', BASE, '--token', BOOTSTRAP];
  const listed = JSON.parse(await ops(['users', 'list', '--q', prefix, ...base]));
  assert.deepEqual(
    listed.map((u) => u.username),
    [user.username],
  );
  assert.equal(JSON.parse(await ops(['users', 'show', user.username, ...base])).id, user.id);
  assert.equal(JSON.parse(await ops(['users', 'disable', user.username, ...base])).disabled, true);
  assert.equal(JSON.parse(await ops(['users', 'enable', user.id, ...base])).disabled, false);
  assert.equal(JSON.parse(await ops(['users', 'set-role', user.username, 'auditor', ...base])).role, 'auditor');
  await ops(['users', 'delete', user.username, ...base]);
  assert.equal((await http('GET', `/users/${user.id}`, { headers: admin() })).status, 404);
});

test('account: sign in on the account page, change the password, the other sessions and grants end', async () => {
  const user = await registerUser();
  const client = await createClient();
  const t = (await token(client, { grant_type: 'password', username: user.username, password: user.password, scope: 'openid' })).json;
  const jar = new Map();
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const remember = (r) => {
    for (const c of r.headers.getSetCookie()) {
      const [k, v] = c.split(';')[0].split('=');
      jar.set(k, v);
    }
  };
  const browser = { origin: BASE, 'sec-fetch-site': 'same-origin' };
  let r = await http('GET', '/account');
  remember(r);
  assert.match(r.text, /action="\/account\/login"/);
  let csrf = r.text.match(/name="csrf" value="([\w-]{43})"/)[1];
  r = await http('POST', '/account/login', {
    form: { username: user.username, password: user.password, csrf },
    headers: { ...browser, cookie: cookie() },
  });
  assert.equal(r.status, 303);
  assert.equal(r.headers.get('location'), '/account');
  remember(r);
  r = await http('GET', '/account', { headers: { cookie: cookie() } });
  assert.match(r.text, new RegExp(`Signed in as <strong>${user.username}</strong>`));
  csrf = r.text.match(/name="csrf" value="([\w-]{43})"/)[1];
  r = await http('POST', '/account/password', {
    form: { current_password: user.password, new_password: 'changed through the page', csrf },
    headers: { ...browser, cookie: cookie() },
  });
  assert.equal(r.status, 200, r.text);
  assert.match(r.text, /Your password was changed/);
  assert.equal((await http('GET', '/userinfo', { headers: bearer(t.access_token) })).status, 401, 'the grants ended');
  assert.equal(
    (await token(client, { grant_type: 'password', username: user.username, password: 'changed through the page' })).status,
    200,
  );
  r = await http('GET', '/account', { headers: { cookie: cookie() } });
  assert.match(r.text, /Signed in as/, 'this browser stays signed in');
  // Sign out from the account page ends the session.
  r = await http('POST', '/logout', { form: { csrf }, headers: { ...browser, cookie: cookie() } });
  assert.match(r.text, /Signed out/);
  remember(r);
  r = await http('GET', '/account', { headers: { cookie: cookie() } });
  assert.match(r.text, /action="\/account\/login"/);
});

test("a demoted administrator: the current role counts, not the token's claim; the role change ends their grants", async () => {
  const first = await adminAccessToken();
  assert.equal((await http('GET', '/clients', { headers: bearer(first.token) })).status, 200);
  // The role changes in D1 behind the token's back: the admin endpoints read the role as it is now.
  await d1(`UPDATE users SET role = 'user' WHERE id = '${first.user.id}'`);
  const stale = await http('GET', '/users', { headers: bearer(first.token) });
  assert.deepEqual([stale.status, stale.json.error], [403, 'insufficient_scope']);
  await d1(`UPDATE users SET role = 'admin' WHERE id = '${first.user.id}'`);
  assert.equal((await http('GET', '/clients', { headers: bearer(first.token) })).status, 200);

  // Demoted through the user administration: every token of theirs ends with it.
  const t = await token(first.client, {
    grant_type: 'password',
    username: first.user.username,
    password: first.user.password,
    scope: 'openid admin',
  });
  assert.equal(t.status, 200);
  // Rotated just now, so within the reuse interval: ending the grants must end it as well.
  const rotated = await token(first.client, { grant_type: 'refresh_token', refresh_token: t.json.refresh_token });
  assert.equal(rotated.status, 200);
  const r = await http('PATCH', `/users/${first.user.id}`, { json: { role: 'user' }, headers: admin() });
  assert.deepEqual([r.status, r.json.role], [200, 'user']);
  for (const at of [first.token, t.json.access_token, rotated.json.access_token]) {
    const refused = await http('GET', '/clients', { headers: bearer(at) });
    assert.deepEqual([refused.status, refused.json.error], [401, 'invalid_token']);
  }
  for (const rt of [t.json.refresh_token, rotated.json.refresh_token]) {
    assert.equal((await token(first.client, { grant_type: 'refresh_token', refresh_token: rt })).json.error, 'invalid_grant');
  }
  // Signing in again (after the second of the change, whose tokens ended with it) gives an
  // ordinary token: the admin scope is no longer granted.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const again = await token(first.client, {
    grant_type: 'password',
    username: first.user.username,
    password: first.user.password,
    scope: 'openid admin',
  });
  assert.equal(again.json.scope, 'openid');
  assert.equal((await http('GET', '/clients', { headers: bearer(again.json.access_token) })).status, 403);
});
