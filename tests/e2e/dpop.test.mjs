// DPoP (RFC 9449) under wrangler dev with openid-client 6's getDPoPHandle: a public client's code
// exchange, userinfo and refresh bound to its key; introspection's cnf; a bound token refused as
// a Bearer; hostile proofs (wrong htu, wrong htm, replayed, another key at refresh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { http, BASE, createClient, registerUser, login, pkce, decodeJwt, admin } from './helpers.mjs';

const enc = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');

async function dpopKey() {
  return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
}

/** RFC 7638: SHA-256 over the required members in lexicographic order. */
async function thumbprint(publicKey) {
  const { crv, kty, x, y } = await crypto.subtle.exportKey('jwk', publicKey);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify({ crv, kty, x, y })));
  return Buffer.from(digest).toString('base64url');
}

/** A proof made by hand (for the hostile cases). */
async function proof(keys, claims) {
  const jwk = await crypto.subtle.exportKey('jwk', keys.publicKey);
  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } };
  const body = { jti: randomUUID(), iat: Math.floor(Date.now() / 1000), ...claims };
  const input = `${enc(header)}.${enc(body)}`;
  const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey, new TextEncoder().encode(input));
  return `${input}.${Buffer.from(sig).toString('base64url')}`;
}

async function signedIn() {
  const user = await registerUser();
  const client = await createClient({
    client_type: 'public',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
  });
  const { verifier, challenge } = pkce();
  const state = 'st';
  const { url } = await login(client, user, { challenge, state, scope: 'openid profile' });
  const config = await oidc.discovery(new URL(BASE), client.client_id, { token_endpoint_auth_method: 'none' }, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
  return { user, client, config, url, verifier, state };
}

test('openid-client getDPoPHandle: bound code exchange, userinfo, refresh; introspection shows cnf', async () => {
  const { user, config, url, verifier, state } = await signedIn();
  const keys = await dpopKey();
  const DPoP = oidc.getDPoPHandle(config, keys);
  const tokens = await oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: verifier, expectedState: state }, undefined, {
    DPoP,
  });
  assert.equal(tokens.token_type.toLowerCase(), 'dpop');
  const { payload } = decodeJwt(tokens.access_token);
  assert.equal(payload.cnf?.jkt, await thumbprint(keys.publicKey), 'cnf.jkt is the RFC 7638 thumbprint of the key');

  const info = await oidc.fetchUserInfo(config, tokens.access_token, user.id, { DPoP });
  assert.equal(info.sub, user.id);

  // As a Bearer token it is refused.
  const asBearer = await http('GET', '/userinfo', { headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(asBearer.status, 401);
  assert.equal(asBearer.json.error, 'invalid_token');
  // With the DPoP scheme but no proof, or a proof without ath, it is refused with a DPoP challenge.
  const noProof = await http('GET', '/userinfo', { headers: { authorization: `DPoP ${tokens.access_token}` } });
  assert.equal(noProof.status, 401);
  assert.match(noProof.headers.get('www-authenticate'), /^DPoP .*error="invalid_dpop_proof"/);
  const noAth = await http('GET', '/userinfo', {
    headers: { authorization: `DPoP ${tokens.access_token}`, dpop: await proof(keys, { htm: 'GET', htu: `${BASE}/userinfo` }) },
  });
  assert.equal(noAth.status, 401);
  assert.match(noAth.headers.get('www-authenticate'), /^DPoP /);

  // Introspection (an admin bearer) reports the binding.
  const intro = await http('POST', '/introspect', { form: { token: tokens.access_token }, headers: admin() });
  assert.equal(intro.json.active, true);
  assert.equal(intro.json.token_type, 'DPoP');
  assert.equal(intro.json.cnf.jkt, payload.cnf.jkt);

  // The public client's refresh token is bound to the key: without a proof, or with another
  // key, it is refused; with the key it rotates.
  const bare = await http('POST', '/token', {
    form: { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: config.clientMetadata().client_id },
  });
  assert.equal(bare.status, 400);
  assert.equal(bare.json.error, 'invalid_grant');
  const other = oidc.getDPoPHandle(config, await dpopKey());
  await assert.rejects(
    oidc.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: other }),
    (e) => e.error === 'invalid_grant',
  );
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP });
  assert.equal(refreshed.token_type.toLowerCase(), 'dpop');
  assert.equal(decodeJwt(refreshed.access_token).payload.cnf.jkt, payload.cnf.jkt);
});

test('hostile DPoP proofs at /token are invalid_dpop_proof (400)', async () => {
  const { client, url, verifier } = await signedIn();
  const keys = await dpopKey();
  const form = {
    grant_type: 'authorization_code',
    code: url.searchParams.get('code'),
    redirect_uri: client.redirect_uris[0],
    code_verifier: verifier,
    client_id: client.client_id,
  };
  const cases = {
    'wrong htu': await proof(keys, { htm: 'POST', htu: `${BASE}/userinfo` }),
    'wrong htm': await proof(keys, { htm: 'GET', htu: `${BASE}/token` }),
    'old iat': await proof(keys, { htm: 'POST', htu: `${BASE}/token`, iat: Math.floor(Date.now() / 1000) - 3600 }),
    garbage: 'not-a-proof',
  };
  for (const [what, p] of Object.entries(cases)) {
    const r = await http('POST', '/token', { form, headers: { dpop: p } });
    assert.equal(r.status, 400, `${what}: ${r.text}`);
    assert.equal(r.json.error, 'invalid_dpop_proof', what);
  }
  // A replayed proof.
  const once = await proof(keys, { htm: 'POST', htu: `${BASE}/token` });
  const first = await http('POST', '/token', { form, headers: { dpop: once } });
  assert.equal(first.status, 200, first.text);
  const replay = await http('POST', '/token', { form, headers: { dpop: once } });
  assert.equal(replay.status, 400);
  assert.equal(replay.json.error, 'invalid_dpop_proof');
});

test('dpop_bound_access_tokens makes a proof mandatory; discovery advertises DPoP', async () => {
  const d = (await http('GET', '/.well-known/openid-configuration')).json;
  assert.deepEqual(d.dpop_signing_alg_values_supported, ['ES256', 'RS256']);
  const client = await createClient({ grant_types: ['client_credentials'], dpop_bound_access_tokens: true });
  assert.equal(client.dpop_bound_access_tokens, true);
  const config = await oidc.discovery(new URL(BASE), client.client_id, {}, oidc.ClientSecretBasic(client.client_secret), {
    execute: [oidc.allowInsecureRequests],
  });
  await assert.rejects(oidc.clientCredentialsGrant(config, {}), (e) => e.error === 'invalid_dpop_proof');
  const bound = await oidc.clientCredentialsGrant(config, {}, { DPoP: oidc.getDPoPHandle(config, await dpopKey()) });
  assert.equal(bound.token_type.toLowerCase(), 'dpop');
});
