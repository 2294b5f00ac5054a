// Key-bound clients under wrangler dev: private_key_jwt (ES256 and RS256, keys by value and at a
// jwks_uri served on loopback) and client_secret_jwt with openid-client 6's own client
// authentication, at /token, /introspect and /revoke; and hostile assertions (replayed jti,
// wrong audience, expired, another key, a secret beside the assertion).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { http, BASE, createClient, decodeJwt, verifyWithJwks } from './helpers.mjs';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const enc = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

async function keyPair(alg) {
  const params =
    alg === 'ES256'
      ? { name: 'ECDSA', namedCurve: 'P-256' }
      : { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
  const { privateKey, publicKey } = await crypto.subtle.generateKey(params, true, ['sign', 'verify']);
  const kid = randomUUID();
  const jwk = { ...(await crypto.subtle.exportKey('jwk', publicKey)), kid, alg, use: 'sig' };
  delete jwk.key_ops;
  delete jwk.ext;
  return { privateKey, jwk, kid, alg };
}

/** A compact JWS signed with WebCrypto (ECDSA signatures are r || s, as JWS wants). */
async function sign(key, payload, header = {}) {
  const input = `${enc({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header })}.${enc(payload)}`;
  const params = key.alg === 'ES256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' };
  const signature = await crypto.subtle.sign(params, key.privateKey, new TextEncoder().encode(input));
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}

function claims(clientId, extra = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { iss: clientId, sub: clientId, aud: BASE, iat: now, exp: now + 60, jti: randomUUID(), ...extra };
}

/** Runs `attempt`, which must fail with a 401 `invalid_client` (openid-client reports it as a
 *  WWW-Authenticate challenge error; the body still says which error it is). */
async function rejectsAsInvalidClient(attempt) {
  try {
    await attempt();
  } catch (e) {
    const response = e.response ?? e.cause?.response;
    assert.equal(e.status ?? response?.status, 401, String(e));
    const body = e.error ? { error: e.error } : await response.json();
    assert.equal(body.error, 'invalid_client');
    return;
  }
  assert.fail('the request was accepted');
}

const assertionForm = (jwt, extra = {}) => ({ client_assertion_type: ASSERTION_TYPE, client_assertion: jwt, ...extra });

async function keyClient(meta) {
  return createClient({ token_endpoint_auth_method: 'private_key_jwt', grant_types: ['client_credentials'], ...meta });
}

async function configFor(client, auth) {
  return oidc.discovery(new URL(BASE), client.client_id, {}, auth, { execute: [oidc.allowInsecureRequests] });
}

test('openid-client PrivateKeyJwt (ES256, jwks by value): client credentials, introspection, revocation', async () => {
  const key = await keyPair('ES256');
  const client = await keyClient({ jwks: { keys: [key.jwk] } });
  assert.equal(client.client_secret, undefined, 'a private_key_jwt client gets no secret');
  assert.deepEqual(client.jwks, { keys: [key.jwk] });
  const config = await configFor(client, oidc.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }));
  const tokens = await oidc.clientCredentialsGrant(config, { scope: 'api:read' });
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  assert.ok(await verifyWithJwks(tokens.access_token));
  assert.equal(decodeJwt(tokens.access_token).payload.client_id, client.client_id);
  const introspected = await oidc.tokenIntrospection(config, tokens.access_token);
  assert.equal(introspected.active, true);
  assert.equal(introspected.client_id, client.client_id);
  await oidc.tokenRevocation(config, tokens.access_token);
  assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, false);
  // Its client_id alone, or a guessed secret, is not enough.
  const plain = await http('POST', '/token', { form: { grant_type: 'client_credentials', client_id: client.client_id } });
  assert.equal(plain.status, 401);
  assert.equal(plain.json.error, 'invalid_client');
});

test('openid-client PrivateKeyJwt (RS256, keys at a jwks_uri on loopback)', async () => {
  const key = await keyPair('RS256');
  let fetches = 0;
  const server = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [key.jwk] }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const jwksUri = `http://127.0.0.1:${server.address().port}/jwks.json`;
    const client = await keyClient({ jwks_uri: jwksUri, token_endpoint_auth_signing_alg: 'RS256' });
    assert.equal(client.jwks_uri, jwksUri);
    const config = await configFor(client, oidc.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }));
    for (let i = 0; i < 2; i++) {
      const tokens = await oidc.clientCredentialsGrant(config, {});
      assert.ok(await verifyWithJwks(tokens.access_token));
    }
    assert.ok(fetches >= 1, 'the JWK Set was fetched');
    // ES256 is not this client's registered algorithm.
    const ec = await keyPair('ES256');
    const wrongAlg = await http('POST', '/token', {
      form: { grant_type: 'client_credentials', ...assertionForm(await sign({ ...ec, kid: key.kid }, claims(client.client_id))) },
    });
    assert.equal(wrongAlg.status, 401);
  } finally {
    server.close();
  }
});

test('openid-client ClientSecretJwt: HS256 under the client secret', async () => {
  const client = await createClient({ token_endpoint_auth_method: 'client_secret_jwt', grant_types: ['client_credentials'] });
  assert.ok(client.client_secret);
  const config = await configFor(client, oidc.ClientSecretJwt(client.client_secret));
  const tokens = await oidc.clientCredentialsGrant(config, {});
  assert.ok(await verifyWithJwks(tokens.access_token));
  const wrong = await configFor(client, oidc.ClientSecretJwt('not-the-secret'));
  await rejectsAsInvalidClient(() => oidc.clientCredentialsGrant(wrong, {}));
  // Basic with the same secret is not this client's method.
  const basic = await configFor(client, oidc.ClientSecretBasic(client.client_secret));
  await rejectsAsInvalidClient(() => oidc.clientCredentialsGrant(basic, {}));
});

test('hostile assertions are invalid_client (401), never a 500', async () => {
  const key = await keyPair('ES256');
  const client = await keyClient({ jwks: { keys: [key.jwk] } });
  const id = client.client_id;
  const post = (form) => http('POST', '/token', { form: { grant_type: 'client_credentials', ...form } });

  const once = await sign(key, claims(id));
  assert.equal((await post(assertionForm(once))).status, 200);
  const replay = await post(assertionForm(once));
  assert.equal(replay.status, 401);
  assert.equal(replay.json.error, 'invalid_client');
  assert.match(replay.json.error_description, /already used/);

  const now = Math.floor(Date.now() / 1000);
  const other = await keyPair('ES256');
  const cases = {
    'wrong audience': await sign(key, claims(id, { aud: 'https://elsewhere.example' })),
    expired: await sign(key, claims(id, { iat: now - 120, exp: now - 60 })),
    'too long-lived': await sign(key, claims(id, { exp: now + 3600 })),
    'another key': await sign({ ...other, kid: key.kid }, claims(id)),
    'no jti': await sign(key, { ...claims(id), jti: undefined }),
    'iss is not the client': await sign(key, claims(id, { iss: 'someone-else' })),
    'alg none': `${enc({ alg: 'none' })}.${enc(claims(id))}.`,
    garbage: 'not.a.jwt',
  };
  for (const [what, jwt] of Object.entries(cases)) {
    const r = await post(assertionForm(jwt));
    assert.equal(r.status, 401, `${what}: ${r.text}`);
    assert.equal(r.json.error, 'invalid_client', what);
  }
  const wrongType = await post({ client_assertion_type: 'urn:example:other', client_assertion: await sign(key, claims(id)) });
  assert.equal(wrongType.status, 401);
  const half = await post({ client_assertion: await sign(key, claims(id)) });
  assert.equal(half.status, 400);
  assert.equal(half.json.error, 'invalid_request');
  const both = await post(assertionForm(await sign(key, claims(id)), { client_secret: 'x', client_id: id }));
  assert.equal(both.status, 400);
  assert.equal(both.json.error, 'invalid_request');
});

test('discovery advertises the assertion methods and algorithms; bad key metadata is refused', async () => {
  const d = (await http('GET', '/.well-known/openid-configuration')).json;
  for (const field of ['token_endpoint_auth_methods_supported', 'introspection_endpoint_auth_methods_supported']) {
    assert.ok(d[field].includes('private_key_jwt'), field);
    assert.ok(d[field].includes('client_secret_jwt'), field);
  }
  assert.deepEqual(d.token_endpoint_auth_signing_alg_values_supported, ['ES256', 'RS256', 'HS256']);
  const key = await keyPair('ES256');
  for (const meta of [
    { token_endpoint_auth_method: 'private_key_jwt' },
    { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ ...key.jwk, d: 'AAAA' }] } },
    { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.jwk] }, jwks_uri: 'https://a.example/k' },
  ]) {
    const r = await http('POST', '/clients', {
      json: { client_name: 'K', grant_types: ['client_credentials'], ...meta },
      headers: { authorization: `Bearer ${process.env.E2E_BOOTSTRAP_TOKEN}` },
    });
    assert.equal(r.status, 400, JSON.stringify(meta));
    assert.equal(r.json.error, 'invalid_request');
  }
});
