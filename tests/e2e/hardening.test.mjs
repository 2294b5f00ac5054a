// What an auditor finds once the basics hold (the third security round), each hole tried with a
// real request against wrangler dev: consent per resource, any loopback port only for native
// clients, /userinfo and a token for another resource, introspection by an anonymous registrant,
// a squatted first-party redirect URI, a forced sign-out, and the user administration's factors.
// (Second-factor guessing: two-step.test.mjs; a demoted admin: users-admin.test.mjs; internal
// addresses as metadata documents: mcp.test.mjs; the refresh reuse interval: refresh-reuse.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  http,
  admin,
  basic,
  bearer,
  registerUser,
  createClient,
  token,
  decodeJwt,
  pkce,
  uniq,
  d1,
  Browser,
  hiddenFields,
} from './helpers.mjs';

const REDIRECT = 'http://127.0.0.1:9999/callback';

/** A third-party (anonymously registered, public) client. */
async function thirdParty(redirect = REDIRECT) {
  const r = await http('POST', '/clients', {
    json: { client_name: uniq('Third party'), redirect_uris: [redirect], token_endpoint_auth_method: 'none' },
  });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

function authorizeUrl(client, extra = []) {
  const p = pkce();
  const q = new URLSearchParams([
    ['response_type', 'code'],
    ['client_id', client.client_id],
    ['redirect_uri', client.redirect_uris[0]],
    ['scope', 'openid'],
    ['state', 'st'],
    ['code_challenge', p.challenge],
    ['code_challenge_method', 'S256'],
    ...extra,
  ]);
  return `/authorize?${q}`;
}

test('consent: allowing resource A is not allowing resource B', async () => {
  const user = await registerUser();
  const client = await thirdParty();
  const b = new Browser();
  const A = 'https://a.example/mcp';
  const B = 'https://b.example/mcp';
  // Sign in and allow the client for A.
  let r = await b.get(authorizeUrl(client, [['resource', A]]));
  r = await b.post('/login', { ...hiddenFields(r.text), username: user.username, password: user.password });
  assert.equal(r.status, 200);
  assert.match(r.text, /Allow access\?/);
  assert.match(r.text, /https:\/\/a\.example\/mcp/, 'the page names the resource');
  r = await b.post('/consent', { ...hiddenFields(r.text), decision: 'allow' });
  assert.equal(r.status, 302, r.text);
  // Signed in: A again goes straight to the code; B asks, naming B.
  r = await b.get(authorizeUrl(client, [['resource', A]]));
  assert.equal(r.status, 302, 'remembered for A');
  assert.ok(new URL(r.headers.get('location')).searchParams.get('code'));
  r = await b.get(authorizeUrl(client, [['resource', B]]));
  assert.equal(r.status, 200, 'B was never allowed');
  assert.match(r.text, /Allow access\?/);
  assert.match(r.text, /https:\/\/b\.example\/mcp/);
  r = await b.get(
    authorizeUrl(client, [
      ['resource', A],
      ['resource', B],
    ]),
  );
  assert.equal(r.status, 200, 'nor A and B together');
});

test('redirect URIs: any loopback port only for public (native) clients', async () => {
  const registered = 'http://127.0.0.1/callback';
  const elsewhere = 'http://127.0.0.1:51234/callback';
  const confidential = await createClient({ redirect_uris: [registered] });
  const native = await createClient({
    redirect_uris: [registered],
    client_type: 'public',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
  });
  const ask = (client) => http('GET', authorizeUrl({ ...client, redirect_uris: [elsewhere] }));
  const refused = await ask(confidential);
  assert.equal(refused.status, 400);
  assert.equal(refused.headers.get('location'), null, 'never redirected');
  assert.match(refused.text, /redirect_uri is not registered/);
  assert.equal((await ask(native)).status, 200, 'RFC 8252 §7.3: the native app picks its port');
  assert.equal((await http('GET', authorizeUrl(confidential))).status, 200, 'exactly as registered');
});

test('/userinfo refuses a token issued for another resource', async () => {
  const user = await registerUser();
  const client = await createClient();
  const exchange = async (resource) => {
    const p = pkce();
    const form = {
      username: user.username,
      password: user.password,
      redirect: REDIRECT,
      state: 's',
      client_id: client.client_id,
      scope: 'openid profile',
      code_challenge: p.challenge,
      code_challenge_method: 'S256',
      ...(resource ? { resource } : {}),
    };
    const r = await http('POST', '/login', { form, headers: { accept: 'application/json' } });
    assert.equal(r.status, 200, r.text);
    const code = new URL(r.json).searchParams.get('code');
    const t = await token(client, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: p.verifier });
    assert.equal(t.status, 200, t.text);
    return t.json.access_token;
  };
  const forMcp = await exchange('https://mcp.example/mcp');
  assert.equal(decodeJwt(forMcp).payload.aud, 'https://mcp.example/mcp');
  const refused = await http('GET', '/userinfo', { headers: bearer(forMcp) });
  assert.deepEqual([refused.status, refused.json.error], [401, 'invalid_token']);
  assert.match(refused.headers.get('www-authenticate'), /invalid_token/);
  const plain = await http('GET', '/userinfo', { headers: bearer(await exchange()) });
  assert.deepEqual([plain.status, plain.json.sub], [200, user.id]);
});

test('introspection: an anonymously registered confidential client learns only of its own tokens', async () => {
  const user = await registerUser();
  const app = await createClient();
  const t = await token(app, { grant_type: 'password', username: user.username, password: user.password, scope: 'openid' });
  assert.equal(t.status, 200);
  const reg = await http('POST', '/clients', { json: { client_name: 'Stranger', redirect_uris: ['https://stranger.example/cb'] } });
  assert.equal(reg.status, 201, reg.text);
  assert.ok(reg.json.client_secret, 'a confidential registrant');
  const stranger = { authorization: basic(reg.json.client_id, reg.json.client_secret) };
  const seen = await http('POST', '/introspect', { form: { token: t.json.access_token }, headers: stranger });
  assert.deepEqual([seen.status, seen.json], [200, { active: false }]);
  // A resource server an administrator registered sees it; so does the admin.
  const server = await createClient({ grant_types: ['client_credentials'] });
  const rs = await http('POST', '/introspect', {
    form: { token: t.json.access_token },
    headers: { authorization: basic(server.client_id, server.client_secret) },
  });
  assert.equal(rs.json.active, true);
  assert.equal((await http('POST', '/introspect', { form: { token: t.json.access_token }, headers: admin() })).json.active, true);
});

test('the seed /login without client_id: an anonymous registration of the same redirect URI neither breaks nor takes it', async () => {
  const user = await registerUser();
  const redirect = `http://127.0.0.1:${40000 + Math.floor(Math.random() * 20000)}/first-party`;
  const first = await createClient({ redirect_uris: [redirect] });
  await thirdParty(redirect);
  const r = await http('POST', '/login', {
    form: { username: user.username, password: user.password, redirect, state: 's' },
    headers: { accept: 'application/json' },
  });
  assert.equal(r.status, 200, r.text);
  const code = new URL(r.json).searchParams.get('code');
  const t = await token(first, { grant_type: 'authorization_code', code, redirect_uri: redirect });
  assert.equal(t.status, 200, "the code is the first-party client's");
  assert.equal(decodeJwt(t.json.access_token).payload.client_id, first.client_id);
});

test("logout: an ID token of someone else asks before it ends this browser's session", async () => {
  const victim = await registerUser();
  const attacker = await registerUser();
  const client = await createClient({ post_logout_redirect_uris: ['http://127.0.0.1:9999/bye'] });
  const idToken = async (u) =>
    (await token(client, { grant_type: 'password', username: u.username, password: u.password, scope: 'openid' })).json.id_token;
  const b = new Browser();
  let r = await b.get('/account');
  r = await b.post('/account/login', { ...hiddenFields(r.text), username: victim.username, password: victim.password });
  assert.equal(r.status, 303, r.text);
  const signedIn = async () => (await b.get('/account')).text.includes(victim.username);
  assert.ok(await signedIn());
  // The attacker's own (valid) ID token in a link: a question, not a sign-out.
  const forced = await b.get(
    `/logout?${new URLSearchParams({ id_token_hint: await idToken(attacker), post_logout_redirect_uri: 'http://127.0.0.1:9999/bye', state: 'x' })}`,
  );
  assert.equal(forced.status, 200);
  assert.match(forced.text, /Sign out/);
  assert.equal(hiddenFields(forced.text).client_id, client.client_id, 'the hinted client carries through the question');
  assert.ok(await signedIn(), 'the session lives on');
  // The person's own ID token: signed out and sent back.
  const own = await b.get(
    `/logout?${new URLSearchParams({ id_token_hint: await idToken(victim), post_logout_redirect_uri: 'http://127.0.0.1:9999/bye', state: 'y' })}`,
  );
  assert.equal(own.status, 302);
  assert.equal(own.headers.get('location'), 'http://127.0.0.1:9999/bye?state=y');
  assert.ok(!(await signedIn()));
});

test("GET /users reports each user's real factors", async () => {
  const prefix = uniq('fac');
  const withFactors = await registerUser({ username: `${prefix}-a` });
  await registerUser({ username: `${prefix}-b` });
  const now = Math.floor(Date.now() / 1000);
  await d1(`INSERT INTO passkeys (credential_id, user_id, name, public_key, algorithm, created_at) VALUES
    ('${prefix}-1', '${withFactors.id}', 'one', 'x', -7, ${now}), ('${prefix}-2', '${withFactors.id}', 'two', 'x', -7, ${now})`);
  await d1(`INSERT INTO totp_factors (user_id, secret, confirmed_at, created_at) VALUES ('${withFactors.id}', 'sealed', ${now}, ${now})`);
  const r = await http('GET', `/users?q=${prefix}`, { headers: admin() });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(
    r.json.users.map((u) => [u.username, u.factors]),
    [
      [`${prefix}-a`, { passkeys: 2, totp: true }],
      [`${prefix}-b`, { passkeys: 0, totp: false }],
    ],
  );
  const one = await http('GET', `/users/${withFactors.id}`, { headers: admin() });
  assert.deepEqual(one.json.factors, { passkeys: 2, totp: true });
});
