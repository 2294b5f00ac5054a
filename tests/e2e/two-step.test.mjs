// Two-step sign-in with an authenticator app (RFC 6238), driven over HTTP as a browser would
// (cookies, anti-CSRF fields, Origin), with codes computed by an independent TOTP library
// (`otpauth`) from the `otpauth://` URI the account page shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import { http, uniq, registerUser, createClient, token, decodeJwt, randomAddress, pkce, Browser, field, hiddenFields } from './helpers.mjs';

async function signInToAccount(b, user) {
  let r = await b.get('/account');
  r = await b.post('/account/login', { username: user.username, password: user.password, csrf: field(r.text, 'csrf') });
  return r;
}

/** Sets an app up from /account; returns the TOTP generator and the recovery codes. */
async function setUpApp(b, user) {
  let r = await signInToAccount(b, user);
  assert.equal(r.status, 303);
  r = await b.get('/account');
  assert.match(r.text, /Set up an authenticator app/);
  r = await b.post('/account/totp', { action: 'setup', csrf: field(r.text, 'csrf') });
  assert.equal(r.status, 200, r.text);
  const uri = r.text.match(/id="totp-uri" href="([^"]+)"/)[1].replace(/&amp;/g, '&');
  assert.match(uri, /^otpauth:\/\/totp\//);
  assert.match(r.text, /<svg[^>]+role="img"[^>]+aria-label="QR code/);
  assert.match(r.text, /<label for="code">Authentication code<\/label>/);
  const totp = OTPAuth.URI.parse(uri);
  assert.equal(totp.secret.base32, r.text.match(/id="totp-secret">([A-Z2-7 ]+)</)[1].replace(/ /g, ''), "the key shown is the URI's");
  assert.deepEqual([totp.algorithm, totp.digits, totp.period], ['SHA1', 6, 30]);
  // A wrong code does not turn it on.
  const wrong = await b.post('/account/totp', {
    action: 'confirm',
    code: '000000' === totp.generate() ? '111111' : '000000',
    csrf: field(r.text, 'csrf'),
  });
  assert.equal(wrong.status, 400);
  assert.match(wrong.text, /role="alert"/);
  r = await b.post('/account/totp', { action: 'confirm', code: totp.generate(), csrf: field(wrong.text, 'csrf') });
  assert.equal(r.status, 200, r.text);
  const codes = [...r.text.matchAll(/<li><code>([A-Z2-7-]+)<\/code><\/li>/g)].map((m) => m[1]);
  assert.equal(codes.length, 10);
  r = await b.get('/account');
  assert.match(r.text, /On: an authenticator app\. 10 recovery codes left\./);
  return { totp, codes };
}

/** GET /authorize, then the password form: returns the page that follows (and its browser). */
async function passwordStep(b, client, user, extra = {}) {
  const p = pkce();
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: client.redirect_uris[0],
    scope: 'openid profile',
    state: 'st',
    nonce: uniq('n'),
    code_challenge: p.challenge,
    code_challenge_method: 'S256',
    ...extra,
  });
  let r = await b.get(`/authorize?${q}`);
  assert.equal(r.status, 200, r.text);
  r = await b.post('/login', { ...hiddenFields(r.text), username: user.username, password: user.password });
  return { r, verifier: p.verifier };
}

async function exchange(client, location, verifier) {
  const url = new URL(location);
  assert.equal(url.searchParams.get('state'), 'st');
  const t = await token(client, {
    grant_type: 'authorization_code',
    code: url.searchParams.get('code'),
    redirect_uri: client.redirect_uris[0],
    code_verifier: verifier,
  });
  assert.equal(t.status, 200, t.text);
  return decodeJwt(t.json.id_token).payload;
}

test('authenticator app: set up on /account; then the password alone is not enough, a right code signs in once, recovery codes once', async () => {
  const user = await registerUser();
  const client = await createClient();
  const { totp, codes } = await setUpApp(new Browser(), user);

  // The password grant cannot ask for a second factor: refused, saying why.
  const grant = await token(client, { grant_type: 'password', username: user.username, password: user.password });
  assert.equal(grant.status, 400);
  assert.equal(grant.json.error, 'invalid_grant');
  assert.match(grant.json.error_description, /two-step/);
  // The JSON /login says what it needs.
  const form = {
    username: user.username,
    password: user.password,
    redirect: client.redirect_uris[0],
    state: 'st',
    client_id: client.client_id,
    scope: 'openid',
  };
  const api = await http('POST', '/login', { form, headers: { accept: 'application/json' } });
  assert.equal(api.status, 400);
  assert.equal(api.json.error, 'interaction_required');

  // A browser: the password leads to the second page, not to the client.
  const b = new Browser();
  let { r, verifier } = await passwordStep(b, client, user);
  assert.equal(r.status, 200, r.text);
  assert.match(r.text, /<h1>Two-step sign-in<\/h1>/);
  assert.match(r.text, /<label for="code">Authentication code<\/label>/);
  assert.match(r.text, /<button type="submit">Verify<\/button>/);
  assert.equal(r.headers.get('location'), null);
  // A wrong code is refused (and the page comes back); the next step's code (±1 step) signs in.
  const next = totp.generate({ timestamp: Date.now() + 30_000 });
  let wrong = await b.post('/login/second-factor', { ...hiddenFields(r.text), code: next === '123456' ? '654321' : '123456' });
  assert.equal(wrong.status, 401);
  assert.match(wrong.text, /not right/);
  r = await b.post('/login/second-factor', { ...hiddenFields(wrong.text), code: next });
  assert.equal(r.status, 302, r.text);
  let claims = await exchange(client, r.headers.get('location'), verifier);
  assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
  assert.equal(claims.acr, '2');

  // The same code again (another sign-in) is a replay: refused. A recovery code works once.
  const b2 = new Browser();
  ({ r, verifier } = await passwordStep(b2, client, user));
  wrong = await b2.post('/login/second-factor', { ...hiddenFields(r.text), code: next });
  assert.equal(wrong.status, 401, 'a used code is refused');
  r = await b2.post('/login/second-factor', { ...hiddenFields(wrong.text), code: codes[0].toLowerCase() });
  assert.equal(r.status, 302, r.text);
  claims = await exchange(client, r.headers.get('location'), verifier);
  assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
  const b3 = new Browser();
  ({ r } = await passwordStep(b3, client, user));
  assert.equal(
    (await b3.post('/login/second-factor', { ...hiddenFields(r.text), code: codes[0] })).status,
    401,
    'a recovery code works once',
  );

  // The second page cannot be skipped: a pending sign-in is bound to its browser.
  const thief = new Browser();
  const stolen = await thief.post('/login/second-factor', { ...hiddenFields(r.text), code: codes[1] });
  assert.equal(stolen.status, 403);

  // The API caller sends the code with the password.
  const withCode = await http('POST', '/login', { form: { ...form, otp: codes[2] }, headers: { accept: 'application/json' } });
  assert.equal(withCode.status, 200, withCode.text);
  assert.ok(new URL(withCode.json).searchParams.get('code'));

  // The account page says how many recovery codes are left; turning the app off needs a code.
  const owner = new Browser();
  r = await signInToAccount(owner, user);
  assert.equal(r.status, 200, 'the account page asks for the second step too');
  r = await owner.post('/login/second-factor', { ...hiddenFields(r.text), code: codes[3] });
  assert.equal(r.status, 303);
  r = await owner.get('/account');
  assert.match(r.text, /7 recovery codes left/, 'three were used: two sign-ins and the API call');
  // New recovery codes (a right code needed) replace every old one.
  r = await owner.post('/account/totp', { action: 'recovery', code: codes[5], csrf: field(r.text, 'csrf') });
  const fresh = [...r.text.matchAll(/<li><code>([A-Z2-7-]+)<\/code><\/li>/g)].map((m) => m[1]);
  assert.equal(fresh.length, 10, r.text);
  r = await owner.get('/account');
  assert.match(r.text, /10 recovery codes left/);
  r = await owner.post('/account/totp', { action: 'disable', code: codes[6], csrf: field(r.text, 'csrf') });
  assert.equal(r.status, 400, 'the old codes are gone');
  r = await owner.post('/account/totp', { action: 'disable', code: fresh[0], csrf: field(r.text, 'csrf') });
  assert.match(r.text, /Two-step sign-in is off/);
  assert.equal((await token(client, { grant_type: 'password', username: user.username, password: user.password })).status, 200);
});

test('authenticator app: wrong codes count in the sign-in throttling of that address', async () => {
  const user = await registerUser();
  const client = await createClient();
  await setUpApp(new Browser(), user);
  const b = new Browser();
  const { r } = await passwordStep(b, client, user);
  let page = r;
  const statuses = [];
  for (let i = 0; i < 5; i++) {
    page = await b.post('/login/second-factor', { ...hiddenFields(page.text), code: String(100000 + i) });
    statuses.push(page.status);
  }
  // The password counted as a success; then four wrong codes, and the fifth locks.
  assert.deepEqual(statuses, [401, 401, 401, 401, 429]);
  assert.ok(Number(page.headers.get('retry-after')) > 0);
  // The codes' lock is their own: the right password again does not lift it (from this
  // address), and the owner elsewhere is not locked out.
  const again = await passwordStep(b, client, user);
  assert.equal(again.r.status, 200);
  const locked = await b.post('/login/second-factor', { ...hiddenFields(again.r.text), code: '123456' });
  assert.equal(locked.status, 429);
  const elsewhere = await passwordStep(new Browser(), client, user);
  assert.equal(elsewhere.r.status, 200);
  assert.match(elsewhere.r.text, /Two-step sign-in/);
});

test('authenticator app: with the right password before every guess, wrong codes still reach the lock (browser and JSON /login)', async () => {
  const user = await registerUser();
  const client = await createClient();
  const { totp, codes } = await setUpApp(new Browser(), user);
  const wrong = () => {
    const right = totp.generate();
    return right === '000000' ? '111111' : '000000';
  };
  // The browser: a fresh password step (a success) before each wrong code.
  const b = new Browser();
  const browser = [];
  for (let i = 0; i < 5; i++) {
    const { r } = await passwordStep(b, client, user);
    assert.equal(r.status, 200, `password step ${i}`);
    browser.push((await b.post('/login/second-factor', { ...hiddenFields(r.text), code: wrong() })).status);
  }
  assert.deepEqual(browser, [401, 401, 401, 401, 429]);
  // The JSON /login: password and code in one request, each with the right password.
  const address = randomAddress();
  const form = {
    username: user.username,
    password: user.password,
    redirect: client.redirect_uris[0],
    state: 's',
    client_id: client.client_id,
    scope: 'openid',
  };
  const json = [];
  for (let i = 0; i < 6; i++) {
    json.push(
      (
        await http('POST', '/login', {
          form: { ...form, otp: wrong() },
          headers: { accept: 'application/json', 'cf-connecting-ip': address },
        })
      ).status,
    );
  }
  assert.deepEqual(json, [401, 401, 401, 401, 429, 429]);
  // Locked: a right code is refused from that address too; the owner elsewhere signs in.
  const right = await http('POST', '/login', {
    form: { ...form, otp: codes[0] },
    headers: { accept: 'application/json', 'cf-connecting-ip': address },
  });
  assert.equal(right.status, 429);
  const home = await http('POST', '/login', { form: { ...form, otp: codes[0] }, headers: { accept: 'application/json' } });
  assert.equal(home.status, 200, home.text);
});

test('require_mfa: a client that demands two factors has the person set an app up before the code', async () => {
  const user = await registerUser();
  const client = await createClient({ require_mfa: true });
  assert.equal(client.require_mfa, true);
  // The password grant cannot satisfy it.
  const grant = await token(client, { grant_type: 'password', username: user.username, password: user.password });
  assert.equal(grant.json.error, 'invalid_grant');
  const b = new Browser();
  let { r, verifier } = await passwordStep(b, client, user);
  assert.equal(r.status, 200, r.text);
  assert.match(r.text, /requires two-step sign-in/);
  const uri = r.text.match(/id="totp-uri" href="([^"]+)"/)[1].replace(/&amp;/g, '&');
  const totp = OTPAuth.URI.parse(uri);
  r = await b.post('/login/second-factor', { ...hiddenFields(r.text), code: totp.generate() });
  assert.equal(r.status, 200, r.text);
  assert.equal([...r.text.matchAll(/<li><code>/g)].length, 10, 'the recovery codes, once');
  assert.match(r.text, /<button type="submit">Continue<\/button>/);
  r = await b.post('/login/second-factor', hiddenFields(r.text));
  assert.equal(r.status, 302, r.text);
  const claims = await exchange(client, r.headers.get('location'), verifier);
  assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
});

test('acr_values=2: a password-only session is not enough; prompt=none answers interaction_required', async () => {
  const user = await registerUser();
  const client = await createClient();
  const b = new Browser();
  let { r, verifier } = await passwordStep(b, client, user);
  assert.equal(r.status, 302);
  const claims = await exchange(client, r.headers.get('location'), verifier);
  assert.deepEqual(claims.amr, ['pwd']);
  assert.equal(claims.acr, '1');
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: client.redirect_uris[0],
    scope: 'openid',
    state: 'st',
    acr_values: '2',
    prompt: 'none',
  });
  r = await b.get(`/authorize?${q}`);
  assert.equal(r.status, 302);
  assert.equal(new URL(r.headers.get('location')).searchParams.get('error'), 'interaction_required');
  q.delete('prompt');
  r = await b.get(`/authorize?${q}`);
  assert.equal(r.status, 200);
  assert.match(r.text, /Set up two-step sign-in/, 'the signed-in person is asked to set a second factor up');
  const discovery = await http('GET', '/.well-known/openid-configuration');
  assert.deepEqual(discovery.json.acr_values_supported, ['1', '2']);
});

test('account: browser sessions are listed, and one can be signed out from another', async () => {
  const user = await registerUser();
  const laptop = new Browser();
  const phone = new Browser();
  assert.equal((await signInToAccount(laptop, user)).status, 303);
  assert.equal((await signInToAccount(phone, user)).status, 303);
  let r = await laptop.get('/account');
  const sessions = [...r.text.matchAll(/name="session" value="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(sessions.length, 2);
  assert.match(r.text, /TestBrowser\/1\.0 \(this browser\)/);
  // The other one is the session without "(this browser)".
  const items = r.text.split('<li>').filter((x) => x.includes('name="session"'));
  const other = items.find((x) => !x.includes('(this browser)')).match(/name="session" value="([^"]+)"/)[1];
  r = await laptop.post('/account/sessions', { session: other, csrf: field(r.text, 'csrf') });
  assert.match(r.text, /That session was signed out/);
  assert.match((await phone.get('/account')).text, /action="\/account\/login"/, 'the phone is signed out');
  assert.match((await laptop.get('/account')).text, /Signed in as/, 'the laptop is not');
  // Another person's session id is not found.
  r = await laptop.get('/account');
  r = await laptop.post('/account/sessions', { session: 'not-a-session', csrf: field(r.text, 'csrf') });
  assert.equal(r.status, 404);
});
