// Passkeys (and the authenticator app's pages) in a real browser: headless Chromium (playwright-core) with a CDP virtual
// authenticator (CTAP2, internal, resident keys, user verification). Browsers refuse an IP
// address as an RP ID, so these pages are opened at http://localhost:<port>, where the issuer
// (the request's origin) is http://localhost:<port> and the RP ID "localhost".
// Then, from node, with the virtual credential's own private key: a forged assertion for another
// RP ID and a replayed assertion are refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, sign } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import * as OTPAuth from 'otpauth';
import { BASE, registerUser, createClient, pkce, token, decodeJwt, uniq, launchChromium } from './helpers.mjs';

const OUT = process.env.E2E_OUTPUT;
const LOCAL = BASE.replace('127.0.0.1', 'localhost');
let CALLBACK;
let browser;
let site;

before(async () => {
  site = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end('<!doctype html><title>Client</title><h1>Client callback</h1>');
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  CALLBACK = `http://127.0.0.1:${site.address().port}/callback`;
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  site?.close();
});

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** A page with a virtual authenticator; console errors other than expected statuses are kept. */
async function pageWithAuthenticator() {
  const context = await browser.newContext({ viewport: { width: 420, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of (401|403|429)/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { context, page, cdp, authenticatorId, problems };
}

async function cookieHeader(context) {
  return (await context.cookies(LOCAL)).map((c) => `${c.name}=${c.value}`).join('; ');
}

/** POSTs a form as this browser (its cookies, a same-origin Origin). */
async function postAs(context, path, form) {
  const res = await fetch(`${LOCAL}${path}`, {
    method: 'POST',
    redirect: 'manual',
    body: new URLSearchParams(form),
    headers: {
      cookie: await cookieHeader(context),
      origin: LOCAL,
      'sec-fetch-site': 'same-origin',
      'content-type': 'application/x-www-form-urlencoded',
    },
  });
  return { status: res.status, text: await res.text(), json: null, headers: res.headers };
}

function authorizeUrl(client, challenge) {
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: CALLBACK,
    scope: 'openid profile',
    state: 'st',
    nonce: uniq('n'),
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  return `${LOCAL}/authorize?${q}`;
}

test('passkeys: add one on /account, sign out, sign in to a client with it alone (amr pop), refuse forged and replayed assertions, remove it', async () => {
  const user = await registerUser();
  const client = await createClient({ client_name: 'Passkey Shop', redirect_uris: [CALLBACK] });
  const { context, page, cdp, authenticatorId, problems } = await pageWithAuthenticator();

  // Sign in to the account page with the password, and add a passkey.
  await page.goto(`${LOCAL}/account`);
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Passkeys' }).waitFor();
  await page.getByLabel('Passkey name').fill('Test laptop');
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await page.getByRole('status').waitFor();
  assert.match(await page.getByRole('status').textContent(), /Passkey .Test laptop. added/);
  assert.match(await page.locator('#passkeys').textContent(), /Test laptop[\s\S]*never used/);
  if (OUT) await page.screenshot({ path: join(OUT, 'account-passkeys.png'), fullPage: true });
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].rpId, 'localhost');
  assert.ok(credentials[0].isResidentCredential, 'a discoverable credential');

  // Sign out, then sign in to the client with "Sign in with a passkey" alone (no username).
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByRole('heading', { name: 'Signed out' }).waitFor();
  const p = pkce();
  // Keep what the browser posts, to replay it later.
  let posted = null;
  await page.route('**/login/passkey', (route) => {
    posted = route.request().postData();
    route.continue();
  });
  const landed = page.waitForURL((u) => u.href.startsWith(CALLBACK));
  await page.goto(authorizeUrl(client, p.challenge));
  // (Where the browser's passkey autofill answers by itself, the page has gone already.)
  await page
    .getByRole('button', { name: 'Sign in with a passkey' })
    .click({ timeout: 5000 })
    .catch(() => {});
  await landed;
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('state'), 'st');
  const t = await token(client, {
    grant_type: 'authorization_code',
    code: url.searchParams.get('code'),
    redirect_uri: CALLBACK,
    code_verifier: p.verifier,
  });
  assert.equal(t.status, 200, t.text);
  const claims = decodeJwt(t.json.id_token).payload;
  assert.equal(claims.sub, user.id);
  assert.deepEqual(claims.amr, ['pop', 'user', 'mfa']);
  assert.equal(claims.acr, '2');

  // The same assertion again: its challenge was used, so it is refused.
  assert.ok(posted, 'the browser posted an assertion');
  const replay = await postAs(context, '/login/passkey', Object.fromEntries(new URLSearchParams(posted)));
  assert.equal(replay.status, 401, replay.text);
  assert.match(replay.text, /expired or was already used/);

  // With the credential's own private key, an assertion for another RP ID is refused, and the
  // same assertion for this RP ID (the control) signs in.
  const {
    credentials: [cred],
  } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  const key = createPrivateKey({ key: Buffer.from(cred.privateKey, 'base64'), format: 'der', type: 'pkcs8' });
  await page.goto(`${LOCAL}/account`);
  const csrf = await page.locator('input[name="csrf"]').first().inputValue();
  const forge = async (rpId, signCount) => {
    const opts = await fetch(`${LOCAL}/passkeys/options`, {
      method: 'POST',
      body: new URLSearchParams({ purpose: 'sign_in', csrf }),
      headers: { cookie: await cookieHeader(context), origin: LOCAL, 'sec-fetch-site': 'same-origin' },
    }).then((r) => r.json());
    const clientData = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: opts.challenge, origin: LOCAL, crossOrigin: false }));
    const count = Buffer.alloc(4);
    count.writeUInt32BE(signCount);
    const authData = Buffer.concat([createHash('sha256').update(rpId).digest(), Buffer.from([0x05]), count]);
    const signature = sign('sha256', Buffer.concat([authData, createHash('sha256').update(clientData).digest()]), key);
    const credential = JSON.stringify({
      id: b64url(Buffer.from(cred.credentialId, 'base64')),
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientData),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        userHandle: b64url(Buffer.from(cred.userHandle, 'base64')),
      },
    });
    return postAs(context, '/login/passkey', { csrf, credential });
  };
  const foreign = await forge('evil.example', cred.signCount + 10);
  assert.equal(foreign.status, 401, foreign.text);
  assert.match(foreign.text, /relying party|RP ID/i);
  const control = await forge('localhost', cred.signCount + 10);
  assert.equal(control.status, 303, control.text);
  assert.equal(control.headers.get('location'), '/account');
  // A counter that does not move forward (a cloned authenticator) is refused.
  const cloned = await forge('localhost', cred.signCount + 10);
  assert.equal(cloned.status, 401, cloned.text);

  // Remove it on /account: it no longer signs in.
  await page.goto(`${LOCAL}/account`);
  assert.match(await page.locator('#passkeys').textContent(), /last used/);
  await page.getByRole('button', { name: 'Remove passkey Test laptop' }).click();
  await page.getByRole('status').waitFor();
  assert.match(await page.getByRole('status').textContent(), /Passkey removed/);
  const gone = await forge('localhost', cred.signCount + 20);
  assert.equal(gone.status, 401);
  assert.match(gone.text, /not registered/);
  assert.deepEqual(problems, []);
  await context.close();
});

test('passkeys: the sign-in page offers "Sign in with a passkey" and passkey autofill; options need the page token', async () => {
  const client = await createClient({ redirect_uris: [CALLBACK] });
  const { context, page, problems } = await pageWithAuthenticator();
  await page.goto(authorizeUrl(client, pkce().challenge));
  await page.getByRole('button', { name: 'Sign in with a passkey' }).waitFor();
  assert.equal(await page.getByLabel('Username').getAttribute('autocomplete'), 'username webauthn');
  // The options endpoint refuses a request without the page's anti-CSRF token.
  const bare = await fetch(`${LOCAL}/passkeys/options`, { method: 'POST', body: new URLSearchParams({ purpose: 'sign_in' }) });
  assert.equal(bare.status, 403);
  // Registration options need a signed-in browser.
  const csrf = await page.locator('input[name="csrf"]').first().inputValue();
  const anon = await fetch(`${LOCAL}/passkeys/options`, {
    method: 'POST',
    body: new URLSearchParams({ purpose: 'register', csrf }),
    headers: { cookie: await cookieHeader(context), origin: LOCAL, 'sec-fetch-site': 'same-origin' },
  });
  assert.equal(anon.status, 401);
  // With no passkey on this authenticator, the button says the request did not succeed.
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await page.getByRole('alert').waitFor({ timeout: 20_000 });
  assert.deepEqual(problems, []);
  await context.close();
});

test('two-step sign-in in a browser: set an app up on /account, then a sign-in continues to "Authentication code" and lands at the client', async () => {
  const user = await registerUser();
  const client = await createClient({ client_name: 'Two-step Shop', redirect_uris: [CALLBACK] });
  const context = await browser.newContext({ viewport: { width: 420, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of (401|403|429)/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  await page.goto(`${LOCAL}/account`);
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  await page.getByRole('img', { name: /QR code/ }).waitFor();
  const uri = await page.locator('#totp-uri').getAttribute('href');
  const totp = OTPAuth.URI.parse(uri);
  if (OUT) await page.screenshot({ path: join(OUT, 'totp-setup.png'), fullPage: true });
  await page.getByLabel('Authentication code').fill(totp.generate());
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('list', { name: 'Recovery codes' }).waitFor();
  assert.equal(await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').count(), 10);
  // A new sign-in (prompt=login): the password, then the second page, then the client.
  const p = pkce();
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: CALLBACK,
    scope: 'openid',
    state: 'st',
    prompt: 'login',
    code_challenge: p.challenge,
    code_challenge_method: 'S256',
  });
  await page.goto(`${LOCAL}/authorize?${q}`);
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Two-step sign-in' }).waitFor();
  if (OUT) await page.screenshot({ path: join(OUT, 'second-factor.png'), fullPage: true });
  await page.getByLabel('Authentication code').fill(totp.generate({ timestamp: Date.now() + 30_000 }));
  await Promise.all([page.waitForURL((u) => u.href.startsWith(CALLBACK)), page.getByRole('button', { name: 'Verify' }).click()]);
  const code = new URL(page.url()).searchParams.get('code');
  const t = await token(client, { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: p.verifier });
  assert.equal(t.status, 200, t.text);
  assert.deepEqual(decodeJwt(t.json.id_token).payload.amr, ['pwd', 'otp', 'mfa']);
  assert.deepEqual(problems, []);
  await context.close();
});
