// A complete run with a real OpenID client library (openid-client 6, strict by default):
// discovery, authorization code + PKCE through the login form, ID token validated through the
// JWKS, userinfo, refresh with rotation and reuse detection, introspection, revocation, client
// credentials, password grant, logout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { http, BASE, registerUser, createClient, uniq, verifyWithJwks, decodeJwt, pastReuseInterval } from './helpers.mjs';

const REDIRECT = 'http://127.0.0.1:9999/callback';
const LOGOUT_REDIRECT = 'http://127.0.0.1:9999/signed-out';

async function setup() {
  const user = await registerUser();
  const client = await createClient({ post_logout_redirect_uris: [LOGOUT_REDIRECT] });
  const config = await oidc.discovery(new URL(BASE), client.client_id, client.client_secret, oidc.ClientSecretBasic(client.client_secret), {
    execute: [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks],
  });
  return { user, client, config };
}

/** Follows the authorization URL like a browser: GET the page, post its form. */
async function signInThroughPage(authUrl, user) {
  const page = await fetch(authUrl, { redirect: 'manual' });
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /text\/html/);
  const html = await page.text();
  assert.match(html, /<form method="post" action="\/login">/);
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(
      m[1],
      m[2].replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&'),
    );
  }
  form.set('username', user.username);
  form.set('password', user.password);
  // As a browser does, the post carries the cookie the page set (its anti-CSRF token).
  const cookie = page.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const res = await fetch(new URL('/login', BASE), {
    method: 'POST',
    redirect: 'manual',
    body: form,
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: BASE, 'sec-fetch-site': 'same-origin', cookie },
  });
  assert.equal(res.status, 302, await res.clone().text());
  return new URL(res.headers.get('location'));
}

test('openid-client: code flow with PKCE, ID token, userinfo, refresh rotation and reuse, introspection, revocation, logout', async () => {
  const { user, client, config } = await setup();
  assert.equal(config.serverMetadata().issuer, BASE);

  const verifier = oidc.randomPKCECodeVerifier();
  const challenge = await oidc.calculatePKCECodeChallenge(verifier);
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const authUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid profile email',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const callback = await signInThroughPage(authUrl, user);
  assert.equal(callback.origin + callback.pathname, REDIRECT);
  assert.equal(callback.searchParams.get('iss'), BASE);

  const tokens = await oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  assert.equal(claims.sub, user.id);
  assert.equal(claims.aud, client.client_id);
  assert.equal(claims.nonce, nonce);
  assert.equal(claims.preferred_username, user.username);
  assert.equal(claims.email, user.email);
  assert.ok(claims.auth_time && claims.at_hash);
  assert.ok(await verifyWithJwks(tokens.id_token));
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  assert.ok(tokens.refresh_token);

  // RFC 9068 access token.
  const at = decodeJwt(tokens.access_token);
  assert.equal(at.header.typ, 'at+jwt');
  assert.equal(at.header.alg, 'ES256');
  assert.ok(at.header.kid);
  for (const k of ['iss', 'sub', 'aud', 'client_id', 'scope', 'iat', 'nbf', 'exp', 'jti', 'username', 'role'])
    assert.ok(k in at.payload, k);
  assert.ok(await verifyWithJwks(tokens.access_token));

  const info = await oidc.fetchUserInfo(config, tokens.access_token, user.id);
  assert.equal(info.preferred_username, user.username);
  assert.equal(info.email, user.email);
  assert.equal(info.role, 'user');

  // Refresh rotates.
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
  const rotatedAt = Date.now();
  assert.ok(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token);
  assert.ok(refreshed.id_token);

  // Introspection, then revocation of the access token.
  const active = await oidc.tokenIntrospection(config, refreshed.access_token);
  assert.equal(active.active, true);
  assert.equal(active.sub, user.id);
  assert.equal(active.username, user.username);
  assert.equal(active.client_id, client.client_id);
  await oidc.tokenRevocation(config, refreshed.access_token);
  assert.deepEqual(await oidc.tokenIntrospection(config, refreshed.access_token), { active: false });
  await assert.rejects(oidc.fetchUserInfo(config, refreshed.access_token, user.id));
  assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, true, 'only that access token');

  // Reuse of the rotated refresh token after the reuse interval ends the grant: the new refresh
  // token and every access token minted along it stop working too.
  await pastReuseInterval(rotatedAt);
  await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token), (e) => e.error === 'invalid_grant');
  await assert.rejects(oidc.refreshTokenGrant(config, refreshed.refresh_token), (e) => e.error === 'invalid_grant');
  assert.deepEqual(await oidc.tokenIntrospection(config, tokens.access_token), { active: false });

  // Logout back to the registered URI with state.
  const logoutState = uniq('ls');
  const endSession = oidc.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token,
    post_logout_redirect_uri: LOGOUT_REDIRECT,
    state: logoutState,
  });
  const out = await fetch(endSession, { redirect: 'manual' });
  assert.equal(out.status, 302);
  const loc = new URL(out.headers.get('location'));
  assert.equal(loc.origin + loc.pathname, LOGOUT_REDIRECT);
  assert.equal(loc.searchParams.get('state'), logoutState);
});

test('openid-client: client credentials and password grants', async () => {
  const { user, client, config } = await setup();
  const cc = await oidc.clientCredentialsGrant(config, { scope: 'api:read' });
  assert.equal(cc.scope, 'api:read');
  assert.equal(cc.refresh_token, undefined);
  assert.equal(cc.id_token, undefined);
  assert.equal(decodeJwt(cc.access_token).payload.sub, client.client_id);
  const cci = await oidc.tokenIntrospection(config, cc.access_token);
  assert.equal(cci.active, true);

  const pw = await oidc.genericGrantRequest(config, 'password', {
    username: user.username,
    password: user.password,
    scope: 'openid email',
  });
  assert.ok(pw.access_token && pw.refresh_token && pw.id_token);
  assert.equal(pw.scope, 'email openid');
  const info = await oidc.fetchUserInfo(config, pw.access_token, user.id);
  assert.equal(info.email, user.email);
  assert.equal(info.preferred_username, undefined, 'profile claims need the profile scope');
  await assert.rejects(
    oidc.genericGrantRequest(config, 'password', { username: user.username, password: 'not the password' }),
    (e) => e.error === 'invalid_grant',
  );
});

test('openid-client: a public client uses PKCE and authenticates with none', async () => {
  const user = await registerUser();
  const client = await createClient({
    client_type: 'public',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
  });
  assert.equal(client.client_secret, undefined);
  const config = await oidc.discovery(new URL(BASE), client.client_id, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const authUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const callback = await signInThroughPage(authUrl, user);
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
  assert.equal(tokens.claims().sub, user.id);
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
  assert.ok(refreshed.access_token);
});

test('openid-client: a client registered for RS256 ID tokens (OIDC Core §15.1) gets RS256 ID tokens that verify and serve as logout hints', async () => {
  const user = await registerUser();
  const client = await createClient({ id_token_signed_response_alg: 'RS256', post_logout_redirect_uris: [LOGOUT_REDIRECT] });
  assert.equal(client.id_token_signed_response_alg, 'RS256');
  const config = await oidc.discovery(
    new URL(BASE),
    client.client_id,
    { client_secret: client.client_secret, id_token_signed_response_alg: 'RS256' },
    oidc.ClientSecretBasic(client.client_secret),
    { execute: [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks] },
  );
  assert.ok(config.serverMetadata().id_token_signing_alg_values_supported.includes('RS256'));
  const jwks = (await http('GET', '/.well-known/jwks.json')).json;
  assert.ok(jwks.keys.some((k) => k.kty === 'RSA' && k.alg === 'RS256' && k.kid && !k.d));
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const authUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const callback = await signInThroughPage(authUrl, user);
  const tokens = await oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  assert.equal(decodeJwt(tokens.id_token).header.alg, 'RS256');
  assert.equal(tokens.claims().sub, user.id);
  assert.ok(await verifyWithJwks(tokens.id_token));
  assert.equal(decodeJwt(tokens.access_token).header.alg, 'ES256', 'access tokens stay ES256');
  const out = await fetch(
    oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: LOGOUT_REDIRECT, state: 'rs' }),
    { redirect: 'manual' },
  );
  assert.equal(out.status, 302);
  assert.equal(new URL(out.headers.get('location')).searchParams.get('state'), 'rs');
});
