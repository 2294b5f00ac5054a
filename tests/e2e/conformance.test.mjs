// Assertions of the OpenID Foundation conformance suite's OP plans (Basic, Config,
// RP-Initiated Logout), each test named after the suite's module (docs/CONFORMANCE.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { http, BASE, registerUser, createClient, login, token, uniq, decodeJwt } from './helpers.mjs';

/** Signs in through the page a browser gets for this authorization request, carrying the
 *  page's cookie and hidden fields as a browser does; returns the redirect URL. */
async function signIn(page, user) {
  assert.equal(page.status, 200, page.text);
  const form = Object.fromEntries(
    [...page.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], m[2].replaceAll('&amp;', '&')]),
  );
  const cookie = page.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const r = await http('POST', '/login', {
    form: { ...form, username: user.username, password: user.password },
    headers: { origin: BASE, 'sec-fetch-site': 'same-origin', cookie },
  });
  assert.equal(r.status, 302, r.text);
  return new URL(r.headers.get('location'));
}

test('oidcc-ensure-post-request-succeeds: the authorization request as a POST form body works', async () => {
  const user = await registerUser();
  const client = await createClient();
  const state = uniq('st');
  const page = await http('POST', '/authorize', {
    form: { response_type: 'code', client_id: client.client_id, redirect_uri: client.redirect_uris[0], scope: 'openid', state, nonce: 'n' },
  });
  const back = await signIn(page, user);
  assert.equal(back.searchParams.get('state'), state);
  const t = await token(client, {
    grant_type: 'authorization_code',
    code: back.searchParams.get('code'),
    redirect_uri: client.redirect_uris[0],
  });
  assert.equal(t.status, 200, t.text);
  assert.equal(decodeJwt(t.json.id_token).payload.nonce, 'n');
});

for (const [module, extra] of [
  ['oidcc-scope-address', 'address'],
  ['oidcc-scope-phone', 'phone'],
  ['oidcc-scope-all', 'profile email address phone'],
]) {
  test(`${module}: unsupported scope values are ignored, not refused (RFC 6749 §3.3, OIDC Core §5.4)`, async () => {
    const user = await registerUser();
    const client = await createClient();
    const page = await http(
      'GET',
      '/authorize?' +
        new URLSearchParams({
          response_type: 'code',
          client_id: client.client_id,
          redirect_uri: client.redirect_uris[0],
          scope: `openid ${extra}`,
          state: 's',
        }),
    );
    const back = await signIn(page, user);
    assert.equal(back.searchParams.get('error'), null);
    const t = await token(client, {
      grant_type: 'authorization_code',
      code: back.searchParams.get('code'),
      redirect_uri: client.redirect_uris[0],
    });
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
  const r = await http(
    'GET',
    '/authorize?' + new URLSearchParams({ response_type: 'code', client_id: client.client_id, scope: 'openid', state: 's' }),
  );
  assert.equal(r.status, 400);
  assert.equal(r.headers.get('location'), null, 'never redirected');
  assert.match(r.text, /redirect_uri is required/);
  // A plain OAuth request may still omit it when exactly one is registered (RFC 6749 §3.1.2.3).
  const oauth = await http(
    'GET',
    '/authorize?' + new URLSearchParams({ response_type: 'code', client_id: client.client_id, scope: 'profile', state: 's' }),
  );
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
  for (const k of [
    'response_types_supported',
    'subject_types_supported',
    'id_token_signing_alg_values_supported',
    'scopes_supported',
    'claims_supported',
  ]) {
    assert.ok(Array.isArray(d[k]) && d[k].length, k);
  }
  assert.ok(d.scopes_supported.includes('openid'));
  assert.ok(d.response_types_supported.includes('code'));
  assert.ok(d.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
  assert.ok(!d.id_token_signing_alg_values_supported.includes('none'));
  assert.ok(d.id_token_signing_alg_values_supported.includes('RS256'), 'OIDCD-3: RS256 (OIDC Core §15.1)');
  assert.ok(d.grant_types_supported.includes('authorization_code'));
  assert.equal(d.request_uri_parameter_supported, false);
  const jwks = await http('GET', '/.well-known/jwks.json');
  assert.match(jwks.headers.get('content-type'), /application\/(jwk-set\+)?json/);
  const kids = jwks.json.keys.map((k) => k.kid);
  assert.ok(
    kids.every((k) => typeof k === 'string' && k.length > 0),
    'every key has a kid (OIDCC-10.1)',
  );
  assert.equal(new Set(kids).size, kids.length, 'kids are distinct (RFC 7517 §4.5)');
  for (const k of jwks.json.keys) {
    for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.ok(!(m in k), `no private key material (${m})`);
    assert.ok(k.kty === 'EC' ? k.x && k.y : k.n && k.e, 'the key parameters of its type');
  }
});

const unsignedRequestObject = (claims) =>
  `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;

test('oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported: request objects are refused with request_not_supported', async () => {
  const client = await createClient();
  const base = { response_type: 'code', client_id: client.client_id, redirect_uri: client.redirect_uris[0], scope: 'openid' };
  let r = await http(
    'GET',
    '/authorize?' +
      new URLSearchParams({ ...base, state: 'outer', request: unsignedRequestObject({ ...base, state: 'inner', nonce: 'n' }) }),
  );
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
  const r = await http(
    'GET',
    '/authorize?' +
      new URLSearchParams({
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: `${good}_invalid`,
        scope: 'openid',
        request: unsignedRequestObject({
          response_type: 'code',
          client_id: client.client_id,
          redirect_uri: good,
          scope: 'openid',
          state: 's',
        }),
      }),
  );
  assert.equal(r.status, 400);
  assert.equal(r.headers.get('location'), null);
});

test('oidcc-login-hint: the sign-in page starts with the hinted username', async () => {
  const client = await createClient();
  const hint = 'buffy@example.com';
  const r = await http(
    'GET',
    '/authorize?' +
      new URLSearchParams({
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: client.redirect_uris[0],
        scope: 'openid',
        state: 's',
        login_hint: hint,
      }),
  );
  assert.equal(r.status, 200);
  assert.match(r.text, new RegExp(`id="username"[^>]*value="${hint.replace('.', '\\.')}"`));
});

for (const [module, param] of [
  ['oidcc-display-page', { display: 'page' }],
  ['oidcc-display-popup', { display: 'popup' }],
  ['oidcc-ui-locales', { ui_locales: 'se' }],
  ['oidcc-claims-locales', { claims_locales: 'se' }],
  ['oidcc-ensure-request-with-unknown-parameter-succeeds', { extra: 'foobar' }],
  ['oidcc-ensure-request-with-acr-values-succeeds', { acr_values: '1 2' }],
  ['oidcc-claims-essential', { claims: JSON.stringify({ userinfo: { name: { essential: true } } }) }],
]) {
  test(`${module}: the flow succeeds (the parameter is accepted)`, async () => {
    const user = await registerUser();
    const client = await createClient();
    const page = await http(
      'GET',
      '/authorize?' +
        new URLSearchParams({
          response_type: 'code',
          client_id: client.client_id,
          redirect_uri: client.redirect_uris[0],
          scope: 'openid',
          state: 's',
          ...param,
        }),
    );
    const back = await signIn(page, user);
    assert.ok(back.searchParams.get('code'), back.href);
    const t = await token(client, {
      grant_type: 'authorization_code',
      code: back.searchParams.get('code'),
      redirect_uri: client.redirect_uris[0],
    });
    assert.equal(t.status, 200);
  });
}

/** A browser with a cookie jar of its own: follows the sign-in page, remembers the session. */
function browser() {
  const jar = new Map();
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const remember = (res) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const [k, v] = pair.split('=');
      if (/Max-Age=0/.test(c)) jar.delete(k);
      else jar.set(k, v);
    }
  };
  return {
    async get(path) {
      const r = await http('GET', path, { headers: { cookie: cookie() } });
      remember(r);
      return r;
    },
    async signIn(page, user) {
      const form = Object.fromEntries(
        [...page.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], m[2].replaceAll('&amp;', '&')]),
      );
      const r = await http('POST', '/login', {
        form: { ...form, username: user.username, password: user.password },
        headers: { origin: BASE, 'sec-fetch-site': 'same-origin', cookie: cookie() },
      });
      remember(r);
      assert.equal(r.status, 302, r.text);
      return new URL(r.headers.get('location'));
    },
  };
}

async function flow(b, client, user, extra = {}) {
  const page = await b.get(
    '/authorize?' +
      new URLSearchParams({
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: client.redirect_uris[0],
        scope: 'openid',
        state: uniq('s'),
        nonce: 'n',
        ...extra,
      }),
  );
  const back = page.status === 302 ? new URL(page.headers.get('location')) : await b.signIn(page, user);
  assert.ok(back.searchParams.get('code'), back.href);
  const t = await token(client, {
    grant_type: 'authorization_code',
    code: back.searchParams.get('code'),
    redirect_uri: client.redirect_uris[0],
  });
  assert.equal(t.status, 200, t.text);
  return { interactive: page.status === 200, id: decodeJwt(t.json.id_token).payload, tokens: t.json };
}

test('oidcc-max-age-10000: auth_time in both ID tokens, the second flow silent with the same auth_time and sub', async () => {
  const user = await registerUser();
  const client = await createClient();
  const b = browser();
  const first = await flow(b, client, user, { max_age: '15000' });
  const second = await flow(b, client, user, { max_age: '10000' });
  assert.equal(first.interactive, true);
  assert.equal(second.interactive, false, 'signed in by the session');
  assert.ok(Number.isInteger(first.id.auth_time) && Number.isInteger(second.id.auth_time));
  assert.equal(second.id.auth_time, first.id.auth_time);
  assert.equal(second.id.sub, first.id.sub);
});

test('oidcc-max-age-1 and oidcc-prompt-login: re-authentication with a later auth_time', async () => {
  const user = await registerUser();
  const client = await createClient();
  const b = browser();
  const first = await flow(b, client, user);
  await new Promise((r) => setTimeout(r, 2100));
  const again = await flow(b, client, user, { max_age: '1' });
  assert.equal(again.interactive, true, 'asked again');
  assert.ok(again.id.auth_time > first.id.auth_time);
  await new Promise((r) => setTimeout(r, 1100));
  const login = await flow(b, client, user, { prompt: 'login' });
  assert.equal(login.interactive, true);
  assert.ok(login.id.auth_time > again.id.auth_time);
});

test('oidcc-id-token-hint and oidcc-prompt-none-logged-in: prompt=none with an id_token_hint signs in silently as the same user', async () => {
  const user = await registerUser();
  const client = await createClient();
  const b = browser();
  const first = await flow(b, client, user);
  const hinted = await flow(b, client, user, { prompt: 'none', id_token_hint: first.tokens.id_token });
  assert.equal(hinted.interactive, false);
  assert.equal(hinted.id.sub, first.id.sub);
  assert.equal(hinted.id.auth_time, first.id.auth_time);
});

test('oidcc-prompt-none-not-logged-in: login_required with a 128-character state intact', async () => {
  const client = await createClient();
  const state = 'x'.repeat(128);
  const r = await http(
    'GET',
    '/authorize?' +
      new URLSearchParams({
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: client.redirect_uris[0],
        scope: 'openid',
        state,
        prompt: 'none',
      }),
  );
  const loc = new URL(r.headers.get('location'));
  assert.equal(loc.searchParams.get('error'), 'login_required');
  assert.equal(loc.searchParams.get('state'), state);
  assert.equal(loc.searchParams.get('code'), null);
});

test('oidcc-alternate-happy-flow: scope in another order and parameters in reverse order', async () => {
  const user = await registerUser();
  const client = await createClient();
  const params = [
    ['state', 's'],
    ['scope', 'email openid'],
    ['response_type', 'code'],
    ['redirect_uri', client.redirect_uris[0]],
    ['nonce', 'n'],
    ['client_id', client.client_id],
  ];
  const page = await http('GET', '/authorize?' + new URLSearchParams(params));
  const back = await signIn(page, user);
  const t = await token(client, {
    grant_type: 'authorization_code',
    code: back.searchParams.get('code'),
    redirect_uri: client.redirect_uris[0],
  });
  assert.deepEqual(t.json.scope.split(' ').sort(), ['email', 'openid']);
});

test('oidcc-rp-initiated-logout family: no state, no URI, a query added, only state', async () => {
  const user = await registerUser();
  const bye = `https://${uniq('rp')}.example.com/post_logout_redirect`;
  const client = await createClient({ post_logout_redirect_uris: [bye] });
  const b = browser();
  const signedIn = async () => (await flow(b, client, user)).tokens.id_token;
  // oidcc-rp-initiated-logout-no-state: a redirect without state.
  let hint = await signedIn();
  let r = await b.get('/logout?' + new URLSearchParams({ id_token_hint: hint, post_logout_redirect_uri: bye }));
  assert.equal(r.status, 302);
  assert.equal(r.headers.get('location'), bye);
  // …-no-post-logout-redirect-uri: signed out, no redirect.
  hint = await signedIn();
  r = await b.get('/logout?' + new URLSearchParams({ id_token_hint: hint, state: 's' }));
  assert.equal(r.status, 200);
  assert.match(r.text, /Signed out/);
  // …-query-added-to-post-logout-redirect-uri: exact matching, no redirect.
  hint = await signedIn();
  r = await b.get('/logout?' + new URLSearchParams({ id_token_hint: hint, post_logout_redirect_uri: `${bye}?foo=bar`, state: 's' }));
  assert.equal(r.status, 400);
  assert.equal(r.headers.get('location'), null);
  // …-only-state: a signed-in browser is asked to confirm; no redirect either way.
  r = await b.get('/logout?' + new URLSearchParams({ state: 's' }));
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('location'), null);
  assert.match(r.text, /Sign out\?/);
});

for (const [module, scope, claims] of [
  ['oidcc-scope-profile', 'openid profile', ['preferred_username']],
  ['oidcc-scope-email', 'openid email', ['email', 'email_verified']],
]) {
  test(`${module}: userinfo answers the scope's claims for the ID token's sub`, async () => {
    const user = await registerUser();
    const client = await createClient();
    const { id, tokens } = await flow(browser(), client, user, { scope });
    const info = await http('GET', '/userinfo', { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(info.status, 200);
    assert.match(info.headers.get('content-type'), /^application\/json/);
    assert.equal(info.json.sub, id.sub);
    for (const c of claims) assert.ok(c in info.json, c);
    if ('email_verified' in info.json) assert.equal(typeof info.json.email_verified, 'boolean');
  });
}
