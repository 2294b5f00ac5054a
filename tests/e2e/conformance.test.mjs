// Assertions of the OpenID Foundation conformance suite's OP plans (Basic, Config,
// RP-Initiated Logout), each test named after the suite's module (docs/CONFORMANCE.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { http, BASE, registerUser, createClient, login, token, uniq, decodeJwt } from './helpers.mjs';

/** Signs in through the page a browser gets for this authorization request, carrying the
 *  page's cookie and hidden fields as a browser does; returns the redirect URL. */
async function signIn(page, user) {
  assert.equal(page.status, 200, page.text);
  const form = Object.fromEntries([...page.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], m[2].replaceAll('&amp;', '&')]));
  const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const r = await http('POST', '/login', { form: { ...form, username: user.username, password: user.password }, headers: { origin: BASE, 'sec-fetch-site': 'same-origin', cookie } });
  assert.equal(r.status, 302, r.text);
  return new URL(r.headers.get('location'));
}

test('oidcc-ensure-post-request-succeeds: the authorization request as a POST form body works', async () => {
  const user = await registerUser();
  const client = await createClient();
  const state = uniq('st');
  const page = await http('POST', '/authorize', { form: { response_type: 'code', client_id: client.client_id, redirect_uri: client.redirect_uris[0], scope: 'openid', state, nonce: 'n' } });
  const back = await signIn(page, user);
  assert.equal(back.searchParams.get('state'), state);
  const t = await token(client, { grant_type: 'authorization_code', code: back.searchParams.get('code'), redirect_uri: client.redirect_uris[0] });
  assert.equal(t.status, 200, t.text);
  assert.equal(decodeJwt(t.json.id_token).payload.nonce, 'n');
});

for (const [module, extra] of [['oidcc-scope-address', 'address'], ['oidcc-scope-phone', 'phone'], ['oidcc-scope-all', 'profile email address phone']]) {
  test(`${module}: unsupported scope values are ignored, not refused (RFC 6749 §3.3, OIDC Core §5.4)`, async () => {
    const user = await registerUser();
    const client = await createClient();
    const page = await http('GET', '/authorize?' + new URLSearchParams({ response_type: 'code', client_id: client.client_id, redirect_uri: client.redirect_uris[0], scope: `openid ${extra}`, state: 's' }));
    const back = await signIn(page, user);
    assert.equal(back.searchParams.get('error'), null);
    const t = await token(client, { grant_type: 'authorization_code', code: back.searchParams.get('code'), redirect_uri: client.redirect_uris[0] });
    assert.equal(t.status, 200);
    const granted = t.json.scope.split(' ');
    assert.ok(granted.includes('openid'));
    assert.ok(!granted.includes('address') && !granted.includes('phone'), 'what was granted is what the answer says');
    const info = await http('GET', '/userinfo', { headers: { authorization: `Bearer ${t.json.access_token}` } });
    assert.equal(info.status, 200);
    assert.equal(info.json.sub, user.id);
  });
}

test('oidcc-ensure-redirect-uri-in-authorization-request: an OpenID request without redirect_uri is an error page', async () => {
  const client = await createClient();
  assert.equal(client.redirect_uris.length, 1);
  const r = await http('GET', '/authorize?' + new URLSearchParams({ response_type: 'code', client_id: client.client_id, scope: 'openid', state: 's' }));
  assert.equal(r.status, 400);
  assert.equal(r.headers.get('location'), null, 'never redirected');
  assert.match(r.text, /redirect_uri is required/);
  // A plain OAuth request may still omit it when exactly one is registered (RFC 6749 §3.1.2.3).
  const oauth = await http('GET', '/authorize?' + new URLSearchParams({ response_type: 'code', client_id: client.client_id, scope: 'profile', state: 's' }));
  assert.equal(oauth.status, 200);
});

test('oidcc-codereuse-30seconds: a reused code is invalid_grant and the tokens it issued are revoked', async () => {
  const user = await registerUser();
  const client = await createClient();
  const { code } = await login(client, user, { scope: 'openid' });
  const form = { grant_type: 'authorization_code', code, redirect_uri: client.redirect_uris[0] };
  const first = await token(client, form);
  assert.equal(first.status, 200);
  const reuse = await token(client, form);
  assert.equal(reuse.status, 400);
  assert.equal(reuse.json.error, 'invalid_grant');
  const info = await http('GET', '/userinfo', { headers: { authorization: `Bearer ${first.json.access_token}` } });
  assert.equal(info.status, 401, 'the access token issued from the code no longer works');
});

test('oidcc-discovery-endpoint-verification: required metadata, consistent values, and a JWKS with kids', async () => {
  const d = (await http('GET', '/.well-known/openid-configuration')).json;
  assert.equal(d.issuer, BASE);
  for (const k of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint']) assert.ok(d[k].startsWith('http'), k);
  for (const k of ['response_types_supported', 'subject_types_supported', 'id_token_signing_alg_values_supported', 'scopes_supported', 'claims_supported']) {
    assert.ok(Array.isArray(d[k]) && d[k].length, k);
  }
  assert.ok(d.scopes_supported.includes('openid'));
  assert.ok(d.response_types_supported.includes('code'));
  assert.ok(d.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
  assert.ok(!d.id_token_signing_alg_values_supported.includes('none'));
  assert.ok(d.grant_types_supported.includes('authorization_code'));
  assert.equal(d.request_uri_parameter_supported, false);
  const jwks = await http('GET', '/.well-known/jwks.json');
  assert.match(jwks.headers.get('content-type'), /application\/(jwk-set\+)?json/);
  const kids = jwks.json.keys.map((k) => k.kid);
  assert.ok(kids.every((k) => typeof k === 'string' && k.length > 0), 'every key has a kid (OIDCC-10.1)');
  assert.equal(new Set(kids).size, kids.length, 'kids are distinct (RFC 7517 §4.5)');
  for (const k of jwks.json.keys) assert.ok(!('d' in k), 'no private key material');
});

const unsignedRequestObject = (claims) =>
  `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;

test('oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported: request objects are refused with request_not_supported', async () => {
  const client = await createClient();
  const base = { response_type: 'code', client_id: client.client_id, redirect_uri: client.redirect_uris[0], scope: 'openid' };
  let r = await http('GET', '/authorize?' + new URLSearchParams({ ...base, state: 'outer', request: unsignedRequestObject({ ...base, state: 'inner', nonce: 'n' }) }));
  assert.equal(r.status, 302);
  let loc = new URL(r.headers.get('location'));
  assert.equal(loc.searchParams.get('error'), 'request_not_supported');
  assert.equal(loc.searchParams.get('state'), 'outer');
  assert.equal(loc.searchParams.get('code'), null);
  r = await http('GET', '/authorize?' + new URLSearchParams({ ...base, state: 's', request_uri: 'https://rp.example/request.jwt' }));
  loc = new URL(r.headers.get('location'));
  assert.equal(loc.searchParams.get('error'), 'request_uri_not_supported');
  const d = (await http('GET', '/.well-known/openid-configuration')).json;
  assert.equal(d.request_parameter_supported, false);
});

test('oidcc-ensure-request-object-with-redirect-uri: an invalid outer redirect_uri is an error page, never a redirect', async () => {
  const client = await createClient();
  const good = client.redirect_uris[0];
  const r = await http('GET', '/authorize?' + new URLSearchParams({ response_type: 'code', client_id: client.client_id, redirect_uri: `${good}_invalid`, scope: 'openid',
    request: unsignedRequestObject({ response_type: 'code', client_id: client.client_id, redirect_uri: good, scope: 'openid', state: 's' }) }));
  assert.equal(r.status, 400);
  assert.equal(r.headers.get('location'), null);
});

test('oidcc-login-hint: the sign-in page starts with the hinted username', async () => {
  const client = await createClient();
  const hint = 'buffy@example.com';
  const r = await http('GET', '/authorize?' + new URLSearchParams({ response_type: 'code', client_id: client.client_id, redirect_uri: client.redirect_uris[0], scope: 'openid', state: 's', login_hint: hint }));
  assert.equal(r.status, 200);
  assert.match(r.text, new RegExp(`id="username"[^>]*value="${hint.replace('.', '\\.')}"`));
});

for (const [module, param] of [['oidcc-display-page', { display: 'page' }], ['oidcc-display-popup', { display: 'popup' }], ['oidcc-ui-locales', { ui_locales: 'se' }],
  ['oidcc-claims-locales', { claims_locales: 'se' }], ['oidcc-ensure-request-with-unknown-parameter-succeeds', { extra: 'foobar' }],
  ['oidcc-ensure-request-with-acr-values-succeeds', { acr_values: '1 2' }], ['oidcc-claims-essential', { claims: JSON.stringify({ userinfo: { name: { essential: true } } }) }]]) {
  test(`${module}: the flow succeeds (the parameter is accepted)`, async () => {
    const user = await registerUser();
    const client = await createClient();
    const page = await http('GET', '/authorize?' + new URLSearchParams({ response_type: 'code', client_id: client.client_id, redirect_uri: client.redirect_uris[0], scope: 'openid', state: 's', ...param }));
    const back = await signIn(page, user);
    assert.ok(back.searchParams.get('code'), back.href);
    const t = await token(client, { grant_type: 'authorization_code', code: back.searchParams.get('code'), redirect_uri: client.redirect_uris[0] });
    assert.equal(t.status, 200);
  });
}
