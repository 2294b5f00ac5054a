// /authorize, /login, /logout and /openapi.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { http, BASE, registerUser, createClient, pkce, token, uniq, decodeJwt } from './helpers.mjs';

const authz = (params) => http('GET', '/authorize?' + new URLSearchParams(params));

test('authorize: serves the login page with the request carried in hidden fields', async () => {
  const client = await createClient({ client_name: 'Shop <&> App' });
  const { challenge } = pkce();
  const r = await authz({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: client.redirect_uris[0],
    scope: 'openid profile',
    state: 'st"ate',
    nonce: 'n-1',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/html/);
  assert.match(r.headers.get('content-security-policy'), /frame-ancestors 'none'/);
  assert.equal(r.headers.get('x-frame-options'), 'DENY');
  assert.equal(r.headers.get('cache-control'), 'no-store');
  assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
  assert.ok(r.text.includes('Shop &lt;&amp;&gt; App'));
  assert.ok(r.text.includes('value="st&quot;ate"'));
  assert.ok(r.text.includes(`name="code_challenge" value="${challenge}"`));
  assert.ok(r.text.includes('name="nonce" value="n-1"'));
});

test('authorize: a bad client or redirect URI is shown, never redirected to', async () => {
  const client = await createClient();
  for (const params of [
    { response_type: 'code', client_id: 'no-such-client', redirect_uri: client.redirect_uris[0], state: 's' },
    { response_type: 'code', client_id: client.client_id, redirect_uri: 'https://evil.example.com/cb', state: 's' },
    { response_type: 'code', client_id: client.client_id, redirect_uri: client.redirect_uris[0] + '/../x', state: 's' },
    { response_type: 'code', redirect_uri: client.redirect_uris[0], state: 's' },
  ]) {
    const r = await authz(params);
    assert.equal(r.status, 400, JSON.stringify(params));
    assert.equal(r.headers.get('location'), null);
    assert.match(r.headers.get('content-type'), /text\/html/);
  }
});

test('authorize: other errors go back to the client with error and state (RFC 6749 §4.1.2.1)', async () => {
  const client = await createClient();
  const pub = await createClient({ client_type: 'public', token_endpoint_auth_method: 'none', grant_types: ['authorization_code'] });
  const base = { response_type: 'code', client_id: client.client_id, redirect_uri: client.redirect_uris[0], state: 'xyz' };
  const cases = [
    [{ ...base, response_type: 'token' }, 'unsupported_response_type'],
    [{ ...base, response_type: undefined }, 'invalid_request'],
    [{ ...base, scope: 'openid bad"scope' }, 'invalid_scope'],
    [{ ...base, code_challenge: pkce().challenge, code_challenge_method: 'plain' }, 'invalid_request'],
    [{ ...base, code_challenge: 'short', code_challenge_method: 'S256' }, 'invalid_request'],
    [{ ...base, prompt: 'none' }, 'login_required'],
    [{ ...base, response_mode: 'fragment' }, 'invalid_request'],
    [{ ...base, client_id: pub.client_id }, 'invalid_request'],
  ];
  for (const [params, error] of cases) {
    const clean = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
    const r = await authz(clean);
    assert.equal(r.status, 302, JSON.stringify(params));
    const loc = new URL(r.headers.get('location'));
    assert.equal(loc.origin + loc.pathname, client.redirect_uris[0]);
    assert.equal(loc.searchParams.get('error'), error, JSON.stringify(params));
    assert.equal(loc.searchParams.get('state'), 'xyz');
    assert.equal(loc.searchParams.get('iss'), BASE);
  }
});

test('login: seed shapes (302 with a JSON string body, 200 with Accept: application/json)', async () => {
  const user = await registerUser();
  // Its own redirect URI, so that /login finds the client without client_id.
  const client = await createClient({ redirect_uris: [`https://${uniq('app')}.example.com/cb`] });
  const form = { username: user.username, password: user.password, redirect: client.redirect_uris[0], state: 'abc' };
  let r = await http('POST', '/login', { form });
  assert.equal(r.status, 302);
  const loc = r.headers.get('location');
  assert.equal(r.json, loc);
  const url = new URL(loc);
  assert.equal(url.searchParams.get('state'), 'abc');
  assert.ok(url.searchParams.get('code'));
  r = await http('POST', '/login', { form, headers: { accept: 'application/json' } });
  assert.equal(r.status, 200);
  assert.equal(typeof r.json, 'string');
  // The code works at /token (client found from its registered redirect URI).
  const code = new URL(r.json).searchParams.get('code');
  const t = await token(client, { grant_type: 'authorization_code', code, redirect_uri: client.redirect_uris[0] });
  assert.equal(t.status, 200, t.text);
});

test('login: wrong password and unknown user get the same 401', async () => {
  const user = await registerUser();
  const client = await createClient();
  const base = { redirect: client.redirect_uris[0], state: 's', client_id: client.client_id };
  const wrong = await http('POST', '/login', {
    form: { ...base, username: user.username, password: 'wrong password' },
    headers: { accept: 'application/json' },
  });
  const unknown = await http('POST', '/login', {
    form: { ...base, username: uniq('ghost'), password: 'wrong password' },
    headers: { accept: 'application/json' },
  });
  assert.equal(wrong.status, 401);
  assert.equal(unknown.status, 401);
  assert.deepEqual(wrong.json, unknown.json);
  const page = await http('POST', '/login', { form: { ...base, username: user.username, password: 'wrong password' } });
  assert.equal(page.status, 401);
  assert.match(page.text, /Invalid username or password/);
  assert.match(page.headers.get('content-type'), /text\/html/);
});

test('login: missing fields are 400; cross-site posts are 403; ambiguous redirect needs client_id', async () => {
  const user = await registerUser();
  const client = await createClient({ redirect_uris: [`https://${uniq('app')}.example.com/cb`] });
  const full = { username: user.username, password: user.password, redirect: client.redirect_uris[0], state: 's' };
  for (const k of ['username', 'password', 'redirect', 'state']) {
    const { [k]: _, ...form } = full;
    const r = await http('POST', '/login', { form, headers: { accept: 'application/json' } });
    assert.equal(r.status, 400, k);
    assert.equal(r.json.error, 'invalid_request');
    assert.match(r.json.error_description, new RegExp(k));
  }
  let r = await http('POST', '/login', { form: full, headers: { origin: 'https://evil.example.com' } });
  assert.equal(r.status, 403);
  r = await http('POST', '/login', { form: full, headers: { 'sec-fetch-site': 'cross-site' } });
  assert.equal(r.status, 403);
  // Same-origin, but without the sign-in page's anti-CSRF token: refused too (the test below
  // signs in with it).
  r = await http('POST', '/login', { form: full, headers: { origin: BASE, 'sec-fetch-site': 'same-origin' } });
  assert.equal(r.status, 403);
  const shared = 'https://shared.example.com/cb-' + uniq();
  await createClient({ redirect_uris: [shared] });
  await createClient({ redirect_uris: [shared] });
  r = await http('POST', '/login', { form: { ...full, redirect: shared }, headers: { accept: 'application/json' } });
  assert.equal(r.status, 400);
  r = await http('POST', '/login', { form: { ...full, redirect: 'https://evil.example.com/cb' }, headers: { accept: 'application/json' } });
  assert.equal(r.status, 400);
});

test('logout: redirects only to registered URIs', async () => {
  const user = await registerUser();
  const client = await createClient({ post_logout_redirect_uris: ['https://app.example.com/bye'] });
  const t = await token(client, { grant_type: 'password', username: user.username, password: user.password, scope: 'openid' });
  const idt = t.json.id_token;
  let r = await http('GET', '/logout');
  assert.equal(r.status, 200);
  assert.match(r.text, /Signed out/);
  r = await http(
    'GET',
    '/logout?' + new URLSearchParams({ id_token_hint: idt, post_logout_redirect_uri: 'https://app.example.com/bye', state: 'q' }),
  );
  assert.equal(r.status, 302);
  assert.equal(r.headers.get('location'), 'https://app.example.com/bye?state=q');
  r = await http('POST', '/logout', { form: { client_id: client.client_id, post_logout_redirect_uri: 'https://app.example.com/bye' } });
  assert.equal(r.status, 302);
  for (const params of [
    { id_token_hint: idt, post_logout_redirect_uri: 'https://evil.example.com/' },
    { id_token_hint: idt, post_logout_redirect_uri: client.redirect_uris[0] },
    { post_logout_redirect_uri: 'https://app.example.com/bye' },
    { id_token_hint: idt.slice(0, -5) + 'AAAAA', post_logout_redirect_uri: 'https://app.example.com/bye' },
    { id_token_hint: 'garbage', post_logout_redirect_uri: 'https://app.example.com/bye' },
  ]) {
    r = await http('GET', '/logout?' + new URLSearchParams(params));
    assert.equal(r.status, 400, JSON.stringify(params));
    assert.equal(r.headers.get('location'), null);
  }
  // Without post_logout_redirect_uris, the client's redirect_uris are the allowed targets.
  const plain = await createClient();
  const t2 = await token(plain, { grant_type: 'password', username: user.username, password: user.password, scope: 'openid' });
  r = await http(
    'GET',
    '/logout?' + new URLSearchParams({ id_token_hint: t2.json.id_token, post_logout_redirect_uri: plain.redirect_uris[0] }),
  );
  assert.equal(r.status, 302);
});

test('openapi: every served route is documented and every documented path is served', async () => {
  const r = await http('GET', '/openapi.json');
  assert.equal(r.status, 200);
  const doc = r.json;
  assert.equal(doc.openapi, '3.1.0');
  const expected = {
    '/.well-known/openid-configuration': ['get'],
    '/.well-known/jwks.json': ['get'],
    '/openapi.json': ['get'],
    '/authorize': ['get', 'post'],
    '/login': ['post'],
    '/token': ['post'],
    '/introspect': ['post'],
    '/revoke': ['post'],
    '/userinfo': ['get', 'post'],
    '/logout': ['get', 'post'],
    '/register': ['post'],
    '/clients': ['get', 'post'],
    '/clients/{client_id}': ['delete', 'get', 'put'],
    '/clients/{client_id}/secret': ['post'],
  };
  for (const [path, methods] of Object.entries(expected)) {
    assert.ok(doc.paths[path], path);
    for (const m of methods) assert.ok(doc.paths[path][m], `${m} ${path}`);
  }
  for (const [path, ops] of Object.entries(doc.paths)) {
    const concrete = path.replace('{client_id}', 'some-id');
    for (const m of Object.keys(ops)) {
      const res = await http(m.toUpperCase(), concrete);
      assert.ok(!(res.status === 404 && res.json?.error_description === 'no such endpoint'), `${m} ${path}`);
      assert.notEqual(res.status, 405, `${m} ${path}`);
    }
  }
});

test('CORS: browser apps may call discovery, keys, token, userinfo and revoke; not login or admin', async () => {
  const pre = await http('OPTIONS', '/token', {
    headers: {
      origin: 'https://spa.example.com',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  assert.match(pre.headers.get('access-control-allow-headers'), /content-type/);
  const disc = await http('GET', '/.well-known/openid-configuration', { headers: { origin: 'https://spa.example.com' } });
  assert.equal(disc.headers.get('access-control-allow-origin'), '*');
  const err = await http('POST', '/token', { form: {}, headers: { origin: 'https://spa.example.com' } });
  assert.equal(err.status, 400);
  assert.equal(err.headers.get('access-control-allow-origin'), '*');
  const login = await http('OPTIONS', '/login', { headers: { origin: 'https://spa.example.com' } });
  assert.equal(login.status, 405);
  assert.equal(login.headers.get('access-control-allow-origin'), null);
  const clients = await http('GET', '/clients', { headers: { origin: 'https://spa.example.com' } });
  assert.equal(clients.headers.get('access-control-allow-origin'), null);
});

test('session: a signed-in browser skips the form; prompt=login forces it; prompt=none needs it; logout ends it', async () => {
  const user = await registerUser();
  const client = await createClient();
  const params = {
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: client.redirect_uris[0],
    scope: 'openid',
    state: 's1',
  };
  // Without a session, prompt=none is login_required.
  let r = await authz({ ...params, prompt: 'none' });
  assert.equal(new URL(r.headers.get('location')).searchParams.get('error'), 'login_required');
  const login = await http('POST', '/login', {
    form: {
      username: user.username,
      password: user.password,
      redirect: client.redirect_uris[0],
      state: 's1',
      client_id: client.client_id,
      scope: 'openid',
    },
  });
  assert.equal(login.status, 302);
  const setCookie = login.headers.get('set-cookie');
  assert.match(setCookie, /^edge_oidc_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+/);
  const cookie = setCookie.split(';')[0];
  const withCookie = (q) => http('GET', '/authorize?' + new URLSearchParams(q), { headers: { cookie } });
  r = await withCookie(params);
  assert.equal(r.status, 302);
  const loc = new URL(r.headers.get('location'));
  assert.ok(loc.searchParams.get('code'));
  assert.equal(loc.searchParams.get('state'), 's1');
  const t = await token(client, {
    grant_type: 'authorization_code',
    code: loc.searchParams.get('code'),
    redirect_uri: client.redirect_uris[0],
  });
  assert.equal(t.status, 200);
  assert.equal(decodeJwt(t.json.id_token).payload.sub, user.id);
  r = await withCookie({ ...params, prompt: 'none' });
  assert.ok(new URL(r.headers.get('location')).searchParams.get('code'));
  r = await withCookie({ ...params, prompt: 'login' });
  assert.equal(r.status, 200);
  assert.match(r.text, /<form method="post" action="\/login"/);
  r = await withCookie({ ...params, max_age: '0' });
  assert.equal(r.status, 200, 'an exceeded max_age asks again');
  r = await withCookie({ ...params, prompt: 'none login' });
  assert.equal(new URL(r.headers.get('location')).searchParams.get('error'), 'invalid_request');
  // A sign-out link without an id_token_hint (a cross-site link could be one) asks first and
  // ends nothing (RP-Initiated Logout 1.0 §2)...
  r = await http('GET', '/logout', { headers: { cookie } });
  assert.equal(r.status, 200);
  assert.match(r.text, /<form method="post" action="\/logout">/);
  assert.equal((await withCookie({ ...params, prompt: 'none' })).status, 302, 'still signed in');
  assert.ok(new URL((await withCookie({ ...params, prompt: 'none' })).headers.get('location')).searchParams.get('code'));
  const csrfCookie = r.headers.get('set-cookie').split(';')[0];
  const csrf = r.text.match(/name="csrf" value="([\w-]{43})"/)[1];
  // ...a post without the page's token asks again...
  r = await http('POST', '/logout', { form: {}, headers: { cookie } });
  assert.match(r.text, /Sign out\?/);
  // ...and the person's "Sign out" ends the session server-side, not only in the browser.
  r = await http('POST', '/logout', { form: { csrf }, headers: { cookie: `${cookie}; ${csrfCookie}` } });
  assert.equal(r.status, 200);
  assert.match(r.text, /Signed out/);
  assert.match(r.headers.get('set-cookie'), /^edge_oidc_session=; .*Max-Age=0/);
  r = await withCookie(params);
  assert.equal(r.status, 200);
  r = await withCookie({ ...params, prompt: 'none' });
  assert.equal(new URL(r.headers.get('location')).searchParams.get('error'), 'login_required');
});

test('login: a same-origin form under no-referrer (Origin: null) with its anti-CSRF token is accepted; anything cross-site is not', async () => {
  const user = await registerUser();
  const client = await createClient({ redirect_uris: [`https://${uniq('app')}.example.com/cb`] });
  // The sign-in page gives this browser its token, in a cookie and in the form.
  const page = await http(
    'GET',
    '/authorize?' +
      new URLSearchParams({
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: client.redirect_uris[0],
        scope: 'openid',
        state: 's',
      }),
  );
  const cookie = page.headers.get('set-cookie').split(';')[0];
  assert.match(page.headers.get('set-cookie'), /^edge_oidc_csrf=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict/);
  const csrf = page.text.match(/name="csrf" value="([\w-]{43})"/)[1];
  const form = {
    username: user.username,
    password: user.password,
    redirect: client.redirect_uris[0],
    state: 's',
    client_id: client.client_id,
  };
  let r = await http('POST', '/login', { form: { ...form, csrf }, headers: { origin: 'null', 'sec-fetch-site': 'same-origin', cookie } });
  assert.equal(r.status, 302);
  // The same post without the token, or with another browser's, is refused.
  r = await http('POST', '/login', { form, headers: { origin: 'null', 'sec-fetch-site': 'same-origin', cookie } });
  assert.equal(r.status, 403);
  r = await http('POST', '/login', { form: { ...form, csrf }, headers: { origin: BASE, cookie: 'edge_oidc_csrf=' + 'A'.repeat(43) } });
  assert.equal(r.status, 403);
  // Origin: null alone (sandboxed frames, older browsers) is not same-origin.
  r = await http('POST', '/login', { form: { ...form, csrf }, headers: { origin: 'null', cookie } });
  assert.equal(r.status, 403);
  r = await http('POST', '/login', { form, headers: { origin: 'null', 'sec-fetch-site': 'cross-site' } });
  assert.equal(r.status, 403);
  r = await http('POST', '/login', { form, headers: { 'sec-fetch-site': 'same-site' } });
  assert.equal(r.status, 403);
});

test('openapi: the document is valid OpenAPI 3.1 (maintained schema validator)', async () => {
  const { Validator } = await import('@seriousme/openapi-schema-validator');
  const doc = (await http('GET', '/openapi.json')).json;
  const validator = new Validator();
  const result = await validator.validate(doc);
  assert.equal(validator.version, '3.1');
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  // The validator does reject a broken document (so the check above can fail).
  assert.equal((await new Validator().validate({ ...doc, paths: { '/x': { get: { responses: 5 } } } })).valid, false);
  // Every operation has a request body where it takes one, and responses with schemas.
  assert.ok(doc.paths['/token'].post.requestBody.content['application/x-www-form-urlencoded']);
  assert.ok(doc.paths['/register'].post.requestBody.content['application/json']);
  assert.ok(doc.components.securitySchemes.bearerAuth);
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(ops)) assert.ok(Object.keys(op.responses).length >= 2, `${m} ${path}`);
  }
});

test('logout: an access token is not an id_token_hint', async () => {
  const user = await registerUser();
  const client = await createClient({ post_logout_redirect_uris: ['https://app.example.com/bye'] });
  const t = await token(client, { grant_type: 'password', username: user.username, password: user.password, scope: 'openid' });
  const r = await http(
    'GET',
    '/logout?' + new URLSearchParams({ id_token_hint: t.json.access_token, post_logout_redirect_uri: 'https://app.example.com/bye' }),
  );
  assert.equal(r.status, 400);
  assert.equal(r.headers.get('location'), null);
});
