// /register and the admin /clients endpoints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  http,
  admin,
  bearer,
  basic,
  uniq,
  registerUser,
  createClient,
  token,
  adminAccessToken,
  login,
  pkce,
  decodeJwt,
  BASE,
} from './helpers.mjs';

test('register: 201 with the contract shape, never the password', async () => {
  const username = uniq('reg');
  const r = await http('POST', '/register', { json: { username, email: `${username}@example.com`, password: 'correct horse battery' } });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(Object.keys(r.json).sort(), ['createdAt', 'email', 'id', 'role', 'username']);
  assert.equal(r.json.role, 'user');
  assert.ok(!Number.isNaN(Date.parse(r.json.createdAt)));
  assert.ok(!r.text.includes('correct horse'));
});

test('register: duplicates are 409, bad fields 400 naming the field', async () => {
  const u = await registerUser();
  let r = await http('POST', '/register', { json: { username: u.username, email: `${uniq()}@example.com`, password: 'password123' } });
  assert.equal(r.status, 409);
  assert.equal(r.json.error, 'conflict');
  assert.match(r.json.error_description, /username/);
  r = await http('POST', '/register', { json: { username: uniq(), email: u.email.toUpperCase(), password: 'password123' } });
  assert.equal(r.status, 409);
  assert.match(r.json.error_description, /email/);
  const cases = [
    [{ username: 'x', email: 'x@example.com', password: 'password123' }, /username/],
    [{ username: 'bad name!', email: 'x@example.com', password: 'password123' }, /username/],
    [{ username: uniq(), email: 'not-an-email', password: 'password123' }, /email/],
    [{ username: uniq(), email: 'x@example.com', password: 'short' }, /password/],
    [{ username: uniq(), email: 'x@example.com' }, /password/],
    [{ username: 12, email: 'x@example.com', password: 'password123' }, /invalid/],
    [{ username: uniq(), email: 'x@example.com', password: 'password123', extra: 1 }, /extra/],
  ];
  for (const [body, re] of cases) {
    r = await http('POST', '/register', { json: body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.error, 'invalid_request');
    assert.match(r.json.error_description, re);
  }
  r = await http('POST', '/register', { body: '{"username":', headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 400);
  r = await http('POST', '/register', { form: { username: 'a' } });
  assert.equal(r.status, 400);
  r = await http('POST', '/register', {
    body: JSON.stringify({ username: 'a'.repeat(70 * 1024) }),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(r.status, 413);
});

test('register: another role needs an admin bearer', async () => {
  const username = uniq('adm');
  const body = { username, email: `${username}@example.com`, password: 'password123', role: 'admin' };
  let r = await http('POST', '/register', { json: body });
  assert.equal(r.status, 403);
  const plain = await registerUser();
  const client = await createClient();
  const t = await token(client, { grant_type: 'password', username: plain.username, password: plain.password });
  r = await http('POST', '/register', { json: body, headers: bearer(t.json.access_token) });
  assert.equal(r.status, 403);
  r = await http('POST', '/register', { json: body, headers: admin() });
  assert.equal(r.status, 201);
  assert.equal(r.json.role, 'admin');
});

test('clients: admin only (401 without a valid token, 403 for another role)', async () => {
  let r = await http('GET', '/clients');
  assert.equal(r.status, 401);
  assert.equal(r.json.error, 'invalid_token');
  r = await http('GET', '/clients', { headers: bearer('forged.token.here') });
  assert.equal(r.status, 401);
  const user = await registerUser();
  const client = await createClient();
  const t = await token(client, { grant_type: 'password', username: user.username, password: user.password });
  r = await http('GET', '/clients', { headers: bearer(t.json.access_token) });
  assert.equal(r.status, 403);
  assert.equal(r.json.error, 'insufficient_scope');
  const { token: adminToken } = await adminAccessToken();
  r = await http('GET', '/clients', { headers: bearer(adminToken) });
  assert.equal(r.status, 200);
  assert.ok(Array.isArray(r.json));
});

test("clients: an administrator's ordinary token is not an admin credential (admin scope and aud required)", async () => {
  const root = await registerUser({ role: 'admin', headers: admin() });
  // A public SPA the administrator signs in to: its token must not manage clients.
  const spa = await createClient({
    client_type: 'public',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    scopes: 'openid profile',
  });
  const pk = pkce();
  const { code } = await login(spa, root, { scope: 'openid profile', challenge: pk.challenge });
  let r = await token(
    spa,
    { grant_type: 'authorization_code', code, redirect_uri: spa.redirect_uris[0], code_verifier: pk.verifier },
    { auth: 'none' },
  );
  assert.equal(r.status, 200, r.text);
  const spaToken = r.json.access_token;
  for (const [method, path, json] of [
    ['GET', '/clients'],
    ['POST', '/clients', { client_name: 'x', redirect_uris: ['https://x.example/cb'] }],
    ['POST', '/register', { username: uniq('evil'), email: `${uniq('e')}@example.com`, password: 'password123', role: 'admin' }],
  ]) {
    r = await http(method, path, { json, headers: bearer(spaToken) });
    assert.equal(r.status, 403, `${method} ${path}`);
    assert.equal(r.json.error, 'insufficient_scope');
  }
  // A client registered without `admin` cannot hand it out.
  const plain = await createClient();
  r = await token(plain, { grant_type: 'password', username: root.username, password: root.password, scope: 'openid admin' });
  assert.equal(r.json.error, 'invalid_scope');
  // Through a client registered with it, the admin scope is granted only when asked for, and only to admins.
  const ops = await createClient({ scopes: 'openid admin' });
  r = await token(ops, { grant_type: 'password', username: root.username, password: root.password });
  assert.equal(r.json.scope, 'openid');
  assert.equal((await http('GET', '/clients', { headers: bearer(r.json.access_token) })).status, 403);
  const someone = await registerUser();
  r = await token(ops, { grant_type: 'password', username: someone.username, password: someone.password, scope: 'openid admin' });
  assert.equal(r.json.scope, 'openid', 'not an admin: the admin scope is not granted');
  r = await token(ops, { grant_type: 'password', username: root.username, password: root.password, scope: 'admin' });
  assert.equal(r.json.scope, 'admin');
  assert.equal(decodeJwt(r.json.access_token).payload.aud, BASE);
  assert.equal((await http('GET', '/clients', { headers: bearer(r.json.access_token) })).status, 200);
});

test('clients: a change takes effect at once in the isolate that made it (the client cache forgets it)', async () => {
  const c = await createClient({ client_name: 'Cached app' });
  const cc = (secret) =>
    http('POST', '/token', { form: { grant_type: 'client_credentials' }, headers: { authorization: basic(c.client_id, secret) } });
  assert.equal((await cc(c.client_secret)).status, 200, 'authenticated, and now cached');
  assert.equal((await cc('wrong')).status, 401);
  let r = await http('POST', `/clients/${c.client_id}/secret`, { headers: admin() });
  const secret = r.json.client_secret;
  assert.equal((await cc(c.client_secret)).status, 401, 'the old secret stops working at once');
  assert.equal((await cc(secret)).status, 200);
  r = await http('PUT', `/clients/${c.client_id}`, { json: { grant_types: ['authorization_code'] }, headers: admin() });
  assert.equal(r.status, 200);
  r = await cc(secret);
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'unauthorized_client', 'a narrowed grant list applies at once');
  await http('PUT', `/clients/${c.client_id}`, { json: { grant_types: ['client_credentials'], is_active: false }, headers: admin() });
  assert.equal((await cc(secret)).status, 401, 'a deactivated client is refused at once');
  await http('PUT', `/clients/${c.client_id}`, { json: { is_active: true }, headers: admin() });
  assert.equal((await cc(secret)).status, 200, 'and accepted again when re-activated');
  assert.equal((await http('DELETE', `/clients/${c.client_id}`, { headers: admin() })).status, 204);
  assert.equal((await cc(secret)).status, 401, 'a deleted client is refused at once');
});

test('clients: create, list without secrets, read, update, rotate secret, delete', async () => {
  const c = await createClient({ client_name: 'CRUD app' });
  assert.ok(c.client_id && c.client_secret);
  assert.equal(c.client_secret_expires_at, 0);
  let r = await http('GET', '/clients', { headers: admin() });
  assert.ok(r.json.some((x) => x.client_id === c.client_id));
  assert.ok(!r.text.includes(c.client_secret));
  assert.ok(r.json.every((x) => !('client_secret' in x) && !('client_secret_hash' in x)));
  r = await http('GET', `/clients/${c.client_id}`, { headers: admin() });
  assert.equal(r.status, 200);
  assert.equal(r.json.is_active, true);
  assert.equal(r.json.client_name, 'CRUD app');
  assert.equal(r.json.client_secret, undefined);
  r = await http('PUT', `/clients/${c.client_id}`, {
    json: { client_name: 'Renamed', redirect_uris: ['https://app.example.com/cb'] },
    headers: admin(),
  });
  assert.equal(r.status, 200);
  assert.equal(r.json.client_name, 'Renamed');
  assert.deepEqual(r.json.redirect_uris, ['https://app.example.com/cb']);
  r = await http('PUT', `/clients/${c.client_id}`, { json: { redirect_uris: ['http://evil.example.com/cb'] }, headers: admin() });
  assert.equal(r.status, 400);
  r = await http('GET', `/clients/${c.client_id}`, { headers: admin() });
  assert.equal(r.json.client_name, 'Renamed', 'a refused update changes nothing');
  r = await http('POST', `/clients/${c.client_id}/secret`, { headers: admin() });
  assert.equal(r.status, 200);
  const secret = r.json.client_secret;
  assert.ok(secret && secret !== c.client_secret);
  r = await http('POST', '/token', {
    form: { grant_type: 'client_credentials' },
    headers: { authorization: basic(c.client_id, c.client_secret) },
  });
  assert.equal(r.status, 401);
  r = await http('POST', '/token', { form: { grant_type: 'client_credentials' }, headers: { authorization: basic(c.client_id, secret) } });
  assert.equal(r.status, 200);
  r = await http('DELETE', `/clients/${c.client_id}`, { headers: admin() });
  assert.equal(r.status, 204);
  r = await http('GET', `/clients/${c.client_id}`, { headers: admin() });
  assert.equal(r.status, 404);
  assert.equal(r.json.error, 'not_found');
  r = await http('DELETE', `/clients/${c.client_id}`, { headers: admin() });
  assert.equal(r.status, 404);
  r = await http('PUT', '/clients/nope', { json: { client_name: 'x' }, headers: admin() });
  assert.equal(r.status, 404);
  r = await http('POST', '/clients/nope/secret', { headers: admin() });
  assert.equal(r.status, 404);
});

test('clients: registration rules', async () => {
  const base = { client_name: 'X', client_type: 'confidential', redirect_uris: ['https://app.example.com/cb'] };
  const bad = [
    { ...base, redirect_uris: ['http://app.example.com/cb'] },
    { ...base, redirect_uris: ['javascript:alert(1)'] },
    { ...base, redirect_uris: ['data:text/html,x'] },
    { ...base, redirect_uris: ['https://app.example.com/cb#frag'] },
    { ...base, redirect_uris: ['/relative'] },
    { ...base, client_type: 'public', grant_types: ['client_credentials'] },
    { ...base, client_type: 'public', token_endpoint_auth_method: 'client_secret_basic' },
    { ...base, grant_types: ['implicit'] },
    { ...base, response_types: ['token'] },
    { ...base, client_type: 'weird' },
    { ...base, client_name: '' },
    { ...base, redirect_uris: 'https://app.example.com/cb' },
  ];
  for (const body of bad) {
    const r = await http('POST', '/clients', { json: body, headers: admin() });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.error, 'invalid_request');
  }
  const pub = await createClient({ client_type: 'public', token_endpoint_auth_method: 'none', grant_types: ['authorization_code'] });
  assert.equal(pub.client_secret, undefined);
  assert.equal(pub.token_endpoint_auth_method, 'none');
  const r = await http('POST', `/clients/${pub.client_id}/secret`, { headers: admin() });
  assert.equal(r.status, 400);
  const loop = await createClient({ redirect_uris: ['http://127.0.0.1/cb', 'http://[::1]:8080/cb', 'http://localhost:3000/cb'] });
  assert.equal(loop.redirect_uris.length, 3);
});

test('clients: token_endpoint_auth_method none without client_type registers a public client', async () => {
  const r = await http('POST', '/clients', {
    json: {
      client_name: 'SPA',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      redirect_uris: ['http://127.0.0.1:5173/cb'],
    },
    headers: admin(),
  });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.client_type, 'public');
  assert.equal(r.json.client_secret, undefined);
});
