// /token, /introspect, /revoke and /userinfo: success and failure paths with their RFC codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { http, admin, basic, bearer, registerUser, createClient, login, token, pkce, decodeJwt } from './helpers.mjs';

async function codeFor(client, user, opts = {}) {
  const p = pkce();
  const { code } = await login(client, user, { challenge: p.challenge, ...opts });
  return {
    code,
    verifier: p.verifier,
    form: { grant_type: 'authorization_code', code, redirect_uri: client.redirect_uris[0], code_verifier: p.verifier },
  };
}

const introspect = (client, tok) =>
  http('POST', '/introspect', { form: { token: tok }, headers: { authorization: basic(client.client_id, client.client_secret) } });

test('token endpoint: request and client errors', async () => {
  const client = await createClient();
  let r = await token(client, {});
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'invalid_request');
  r = await token(client, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code' });
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'unsupported_grant_type');
  r = await http('POST', '/token', {
    form: { grant_type: 'client_credentials' },
    headers: { authorization: basic(client.client_id, 'wrong') },
  });
  assert.equal(r.status, 401);
  assert.equal(r.json.error, 'invalid_client');
  assert.match(r.headers.get('www-authenticate'), /^Basic/);
  r = await http('POST', '/token', {
    form: { grant_type: 'client_credentials' },
    headers: { authorization: basic('no-such-client', 'x') },
  });
  assert.equal(r.status, 401);
  assert.equal(r.json.error, 'invalid_client');
  r = await http('POST', '/token', { form: { grant_type: 'client_credentials' } });
  assert.equal(r.status, 401);
  assert.equal(r.json.error, 'invalid_client');
  // Registered for client_secret_basic: client_secret_post is refused.
  r = await token(client, { grant_type: 'client_credentials' }, { auth: 'post' });
  assert.equal(r.status, 401);
  assert.equal(r.json.error, 'invalid_client');
  r = await http('POST', '/token', {
    json: { grant_type: 'client_credentials' },
    headers: { authorization: basic(client.client_id, client.client_secret) },
  });
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'invalid_request');
  r = await http('POST', '/token', {
    body: 'grant_type=client_credentials&grant_type=password',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.client_id, client.client_secret) },
  });
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'invalid_request');

  const narrow = await createClient({ grant_types: ['authorization_code'] });
  r = await token(narrow, { grant_type: 'client_credentials' });
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'unauthorized_client');
  r = await token(client, { grant_type: 'client_credentials', scope: 'openid' });
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'invalid_scope');
  r = await token(client, { grant_type: 'client_credentials', scope: 'api:write' });
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'invalid_scope');
});

test('token endpoint: client_secret_post clients and the response headers', async () => {
  const client = await createClient({ token_endpoint_auth_method: 'client_secret_post' });
  const r = await token(client, { grant_type: 'client_credentials' }, { auth: 'post' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  assert.equal(r.headers.get('pragma'), 'no-cache');
  assert.equal(r.json.token_type, 'Bearer');
  assert.equal(r.json.expires_in, 3600);
  const b = await token(client, { grant_type: 'client_credentials' });
  assert.equal(b.status, 401);
});

test('authorization code: redirect URI, PKCE and client binding are enforced', async () => {
  const user = await registerUser();
  const client = await createClient({ redirect_uris: ['http://127.0.0.1:9999/callback', 'https://app.example.com/cb'] });
  const other = await createClient();
  let c = await codeFor(client, user);
  let r = await token(client, { ...c.form, redirect_uri: 'https://app.example.com/cb' });
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'invalid_grant');
  c = await codeFor(client, user);
  r = await token(client, { ...c.form, code_verifier: pkce().verifier });
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'invalid_grant');
  c = await codeFor(client, user);
  const { code_verifier, ...noVerifier } = c.form;
  r = await token(client, noVerifier);
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'invalid_grant');
  c = await codeFor(client, user);
  r = await token(other, c.form);
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'invalid_grant');
  r = await token(client, { ...c.form, code: 'not-a-code' });
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'invalid_grant');
  r = await token(client, { grant_type: 'authorization_code', redirect_uri: client.redirect_uris[0] });
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'invalid_request');
  // A confidential client without PKCE still works when no challenge was sent.
  const { code } = await login(client, user);
  r = await token(client, { grant_type: 'authorization_code', code, redirect_uri: client.redirect_uris[0] });
  assert.equal(r.status, 200, r.text);
  // ...but a verifier for a code without a challenge is refused.
  const { code: code2 } = await login(client, user);
  r = await token(client, {
    grant_type: 'authorization_code',
    code: code2,
    redirect_uri: client.redirect_uris[0],
    code_verifier: pkce().verifier,
  });
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'invalid_grant');
});

test('authorization code replay revokes what the first redemption issued', async () => {
  const user = await registerUser();
  const client = await createClient();
  const c = await codeFor(client, user);
  const first = await token(client, c.form);
  assert.equal(first.status, 200);
  assert.equal((await introspect(client, first.json.access_token)).json.active, true);
  const replay = await token(client, c.form);
  assert.equal(replay.status, 400);
  assert.equal(replay.json.error, 'invalid_grant');
  assert.deepEqual((await introspect(client, first.json.access_token)).json, { active: false });
  const r = await token(client, { grant_type: 'refresh_token', refresh_token: first.json.refresh_token });
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'invalid_grant');
});

test('refresh: scope narrowing only, and not across clients', async () => {
  const user = await registerUser();
  const client = await createClient();
  const other = await createClient();
  const t = await token(client, {
    grant_type: 'password',
    username: user.username,
    password: user.password,
    scope: 'openid profile email',
  });
  assert.equal(t.status, 200);
  let r = await token(client, { grant_type: 'refresh_token', refresh_token: t.json.refresh_token, scope: 'openid api:read' });
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'invalid_scope');
  r = await token(other, { grant_type: 'refresh_token', refresh_token: t.json.refresh_token });
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'invalid_grant');
  r = await token(client, { grant_type: 'refresh_token', refresh_token: t.json.refresh_token, scope: 'openid' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.scope, 'openid');
  assert.equal(decodeJwt(r.json.access_token).payload.scope, 'openid');
  // The next refresh may ask for the originally granted scope again.
  const again = await token(client, { grant_type: 'refresh_token', refresh_token: r.json.refresh_token });
  assert.equal(again.status, 200);
  assert.equal(again.json.scope, 'email openid profile');
  // No refresh token for a client without the refresh_token grant.
  const noRefresh = await createClient({ grant_types: ['password'] });
  const p = await token(noRefresh, { grant_type: 'password', username: user.username, password: user.password });
  assert.equal(p.status, 200);
  assert.equal(p.json.refresh_token, undefined);
});

test('introspection: authentication, JSON and form bodies, inactive answers', async () => {
  const user = await registerUser();
  const client = await createClient();
  const t = await token(client, { grant_type: 'password', username: user.username, password: user.password, scope: 'openid profile' });
  let r = await http('POST', '/introspect', { form: { token: t.json.access_token } });
  assert.equal(r.status, 401);
  r = await http('POST', '/introspect', { json: { token: t.json.access_token }, headers: admin() });
  assert.equal(r.status, 200);
  const a = r.json;
  assert.equal(a.active, true);
  for (const k of ['sub', 'username', 'client_id', 'scope', 'aud', 'iss', 'exp', 'iat', 'nbf', 'jti', 'token_type']) assert.ok(k in a, k);
  r = await introspect(client, t.json.refresh_token);
  assert.equal(r.json.active, true);
  assert.equal(r.json.token_type, 'refresh_token');
  for (const bad of ['', 'garbage', 'a.b.c', t.json.access_token.slice(0, -4) + 'AAAA', 'x'.repeat(5000)]) {
    r = await http('POST', '/introspect', {
      form: { token: bad },
      headers: { authorization: basic(client.client_id, client.client_secret) },
    });
    if (bad === '') {
      assert.equal(r.status, 400);
      continue;
    }
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { active: false });
  }
  r = await http('POST', '/introspect', { form: { token: 'x' }, headers: { authorization: basic(client.client_id, 'wrong') } });
  assert.equal(r.status, 401);
  assert.equal(r.json.error, 'invalid_client');
  r = await http('POST', '/introspect', { form: { token: 'x' }, headers: bearer('not-a-token') });
  assert.equal(r.status, 401);
});

test('revocation: refresh token families, other clients, unknown tokens', async () => {
  const user = await registerUser();
  const client = await createClient();
  const other = await createClient();
  const t = await token(client, { grant_type: 'password', username: user.username, password: user.password });
  const rev = (c, tok, extra = {}) =>
    http('POST', '/revoke', { form: { token: tok, ...extra }, headers: { authorization: basic(c.client_id, c.client_secret) } });
  let r = await rev(other, t.json.refresh_token);
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'unauthorized_client');
  r = await rev(client, 'unknown-token');
  assert.equal(r.status, 200);
  r = await http('POST', '/revoke', { form: {}, headers: { authorization: basic(client.client_id, client.client_secret) } });
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'invalid_request');
  r = await http('POST', '/revoke', { form: { token: 'x' } });
  assert.equal(r.status, 401);
  r = await rev(client, t.json.refresh_token, { token_type_hint: 'refresh_token' });
  assert.equal(r.status, 200);
  r = await token(client, { grant_type: 'refresh_token', refresh_token: t.json.refresh_token });
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'invalid_grant');
  assert.deepEqual((await introspect(client, t.json.refresh_token)).json, { active: false });
  // Access token revocation by jti.
  r = await rev(client, t.json.access_token);
  assert.equal(r.status, 200);
  assert.deepEqual((await introspect(client, t.json.access_token)).json, { active: false });
});

test('userinfo: bearer rules of RFC 6750', async () => {
  const user = await registerUser();
  const client = await createClient();
  const t = await token(client, {
    grant_type: 'password',
    username: user.username,
    password: user.password,
    scope: 'openid profile email',
  });
  let r = await http('GET', '/userinfo');
  assert.equal(r.status, 401);
  assert.match(r.headers.get('www-authenticate'), /^Bearer/);
  r = await http('GET', '/userinfo', { headers: bearer('garbage') });
  assert.equal(r.status, 401);
  assert.equal(r.json.error, 'invalid_token');
  assert.match(r.headers.get('www-authenticate'), /error="invalid_token"/);
  r = await http('POST', '/userinfo', { form: { access_token: t.json.access_token } });
  assert.equal(r.status, 200);
  assert.deepEqual(Object.keys(r.json).sort(), ['email', 'email_verified', 'preferred_username', 'role', 'sub']);
  const cc = await token(client, { grant_type: 'client_credentials' });
  r = await http('GET', '/userinfo', { headers: bearer(cc.json.access_token) });
  assert.equal(r.status, 403);
  assert.equal(r.json.error, 'insufficient_scope');
  const noOpenid = await token(client, { grant_type: 'password', username: user.username, password: user.password, scope: 'profile' });
  r = await http('GET', '/userinfo', { headers: bearer(noOpenid.json.access_token) });
  assert.equal(r.status, 403);
});

test('a deactivated client gets no tokens and its grants end for good; deleting revokes refresh tokens', async () => {
  const user = await registerUser();
  const client = await createClient();
  const t = await token(client, { grant_type: 'password', username: user.username, password: user.password, scope: 'openid' });
  let r = await http('PUT', `/clients/${client.client_id}`, { json: { is_active: false }, headers: admin() });
  assert.equal(r.status, 200);
  assert.equal(r.json.is_active, false);
  r = await token(client, { grant_type: 'client_credentials' });
  assert.equal(r.status, 401);
  assert.equal(r.json.error, 'invalid_client');
  r = await http('GET', '/userinfo', { headers: bearer(t.json.access_token) });
  assert.equal(r.status, 401);
  r = await http('POST', '/introspect', { form: { token: t.json.access_token }, headers: admin() });
  assert.deepEqual(r.json, { active: false });
  await http('PUT', `/clients/${client.client_id}`, { json: { is_active: true }, headers: admin() });
  // Deactivation ended the client's grants: re-activation brings none of them back.
  r = await http('GET', '/userinfo', { headers: bearer(t.json.access_token) });
  assert.equal(r.status, 401);
  r = await token(client, { grant_type: 'refresh_token', refresh_token: t.json.refresh_token });
  assert.equal(r.json.error, 'invalid_grant');
  // Tokens issued after the re-activation work (issued in a later second than the end).
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const fresh = await token(client, { grant_type: 'password', username: user.username, password: user.password, scope: 'openid' });
  r = await http('GET', '/userinfo', { headers: bearer(fresh.json.access_token) });
  assert.equal(r.status, 200);
  r = await http('DELETE', `/clients/${client.client_id}`, { headers: admin() });
  assert.equal(r.status, 204);
  r = await http('POST', '/introspect', { form: { token: t.json.refresh_token }, headers: admin() });
  assert.deepEqual(r.json, { active: false });
});

test('introspection: a bearer token of a non-admin user is refused with 401', async () => {
  const user = await registerUser();
  const client = await createClient();
  const t = await token(client, { grant_type: 'password', username: user.username, password: user.password });
  const r = await http('POST', '/introspect', { form: { token: t.json.access_token }, headers: bearer(t.json.access_token) });
  assert.equal(r.status, 401);
  assert.equal(r.json.error, 'invalid_token');
});

test('introspection privacy: a refresh token is active only to its own client; public clients see only their own tokens', async () => {
  const user = await registerUser();
  const client = await createClient();
  const other = await createClient();
  const t = (await token(client, { grant_type: 'password', username: user.username, password: user.password, scope: 'openid' })).json;
  assert.equal((await introspect(client, t.refresh_token)).json.active, true);
  // Another confidential client, or an administrator, learns nothing about it (not even the user).
  assert.deepEqual((await introspect(other, t.refresh_token)).json, { active: false });
  assert.deepEqual((await http('POST', '/introspect', { form: { token: t.refresh_token }, headers: admin() })).json, { active: false });
  // An access token: any confidential client (a resource server) and an admin may introspect it.
  assert.equal((await introspect(other, t.access_token)).json.active, true);
  // A public client sees its own tokens only.
  const spa = await createClient({
    client_type: 'public',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
  });
  const pk = pkce();
  const { code } = await login(spa, user, { scope: 'openid', challenge: pk.challenge });
  const own = (
    await token(
      spa,
      { grant_type: 'authorization_code', code, redirect_uri: spa.redirect_uris[0], code_verifier: pk.verifier },
      { auth: 'none' },
    )
  ).json;
  const asSpa = (tok) => http('POST', '/introspect', { form: { token: tok, client_id: spa.client_id } });
  assert.equal((await asSpa(own.access_token)).json.active, true);
  assert.equal((await asSpa(own.refresh_token)).json.active, true);
  assert.deepEqual((await asSpa(t.access_token)).json, { active: false });
  assert.deepEqual((await asSpa(t.refresh_token)).json, { active: false });
});
