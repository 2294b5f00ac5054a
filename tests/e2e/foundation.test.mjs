// The chain works: the worker serves discovery and keys, writes and reads D1 (users), writes a
// code to KV with a TTL and reads it back at the token endpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { http, BASE, registerUser, createClient, login, token, pkce } from './helpers.mjs';

test('discovery document names this issuer and its endpoints', async () => {
  const r = await http('GET', '/.well-known/openid-configuration');
  assert.equal(r.status, 200);
  const d = r.json;
  assert.equal(d.issuer, BASE);
  for (const k of [
    'authorization_endpoint',
    'token_endpoint',
    'userinfo_endpoint',
    'jwks_uri',
    'registration_endpoint',
    'end_session_endpoint',
    'introspection_endpoint',
    'revocation_endpoint',
  ]) {
    assert.ok(d[k].startsWith(BASE + '/'), k);
  }
  assert.deepEqual(d.response_types_supported, ['code']);
  assert.deepEqual(d.subject_types_supported, ['public']);
  assert.deepEqual(
    d.id_token_signing_alg_values_supported,
    ['ES256', 'RS256'],
    'RS256 where the deployment has JWT_RS256_KEY, as the test set-up does',
  );
  assert.deepEqual(d.code_challenge_methods_supported, ['S256']);
  assert.deepEqual(d.response_modes_supported, ['query']);
  assert.deepEqual(d.token_endpoint_auth_methods_supported.sort(), [
    'client_secret_basic',
    'client_secret_jwt',
    'client_secret_post',
    'none',
    'private_key_jwt',
  ]);
  assert.deepEqual(d.token_endpoint_auth_signing_alg_values_supported, ['ES256', 'RS256', 'HS256']);
  assert.ok(d.scopes_supported.includes('openid'));
  assert.ok(d.grant_types_supported.includes('authorization_code'));
  assert.ok(d.claims_supported.includes('sub'));
});

test('JWKS serves the ES256 public key with an RFC 7638 thumbprint kid', async () => {
  const r = await http('GET', '/.well-known/jwks.json');
  assert.equal(r.status, 200);
  const [k] = r.json.keys;
  assert.equal(k.kty, 'EC');
  assert.equal(k.crv, 'P-256');
  assert.equal(k.alg, 'ES256');
  assert.equal(k.use, 'sig');
  assert.equal(k.d, undefined);
  const { createHash } = await import('node:crypto');
  const canonical = JSON.stringify({ crv: k.crv, kty: k.kty, x: k.x, y: k.y });
  assert.equal(k.kid, createHash('sha256').update(canonical).digest('base64url'));
  // The RS256 key (the test set-up has one): RFC 7638's members for RSA are e, kty, n.
  const rsa = r.json.keys.find((x) => x.kty === 'RSA');
  assert.equal(rsa.alg, 'RS256');
  assert.equal(Buffer.from(rsa.n, 'base64url').length, 256);
  for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(rsa[m], undefined, m);
  assert.equal(
    rsa.kid,
    createHash('sha256')
      .update(JSON.stringify({ e: rsa.e, kty: 'RSA', n: rsa.n }))
      .digest('base64url'),
  );
});

test('D1 write and read: a registered user can sign in', async () => {
  const user = await registerUser();
  const client = await createClient();
  const r = await token(client, { grant_type: 'password', username: user.username, password: user.password });
  assert.equal(r.status, 200, r.text);
  const bad = await token(client, { grant_type: 'password', username: user.username, password: 'wrong password' });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error, 'invalid_grant');
});

test('KV write with TTL and read: a code issued at /login is redeemed once at /token', async () => {
  const user = await registerUser();
  const client = await createClient();
  const { verifier, challenge } = pkce();
  const { code } = await login(client, user, { challenge });
  const form = { grant_type: 'authorization_code', code, redirect_uri: client.redirect_uris[0], code_verifier: verifier };
  const r = await token(client, form);
  assert.equal(r.status, 200, r.text);
  assert.ok(r.json.access_token);
  const again = await token(client, form);
  assert.equal(again.status, 400);
  assert.equal(again.json.error, 'invalid_grant');
});

test('unknown paths are 404 and wrong methods 405, as JSON errors', async () => {
  const nf = await http('GET', '/nope');
  assert.equal(nf.status, 404);
  assert.equal(nf.json.error, 'not_found');
  const m = await http('DELETE', '/token');
  assert.equal(m.status, 405);
  assert.equal(m.json.error, 'method_not_allowed');
  assert.match(m.headers.get('allow'), /POST/);
});
