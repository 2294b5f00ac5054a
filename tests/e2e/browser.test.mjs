// The login page in a real browser (headless Chromium driven by playwright-core): sign in, see
// the error for a wrong password, be remembered by the session, log out. Screenshots go to
// test-output/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { BASE, registerUser, createClient, pkce, token, uniq, launchChromium } from './helpers.mjs';

const OUT = process.env.E2E_OUTPUT;
let CALLBACK;
let browser;
let clientSite;
let framedUrl = '';

before(async () => {
  // The client application: a real server on loopback (Playwright cannot intercept the
  // request that follows a redirect, and the browser must land somewhere real).
  clientSite = createServer((req, res) => {
    res.setHeader('content-type', 'text/html');
    if (req.url.startsWith('/frame')) res.end(`<!doctype html><title>Framer</title><iframe id="f" src="${framedUrl}"></iframe>`);
    else res.end('<!doctype html><title>Client</title><h1>Client callback</h1>');
  });
  await new Promise((r) => clientSite.listen(0, '127.0.0.1', r));
  CALLBACK = `http://127.0.0.1:${clientSite.address().port}/callback`;
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  clientSite?.close();
});

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 420, height: 780 } });
  const page = await context.newPage();
  const problems = [];
  // The failed-login page is served with its 401/429 status on purpose; anything else logged as
  // an error (a CSP violation, a script error, a failed asset) is a problem.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/responded with a status of (401|429)/.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  return { context, page, problems };
}

function authorizeUrl(client, { challenge, state, prompt } = {}) {
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: CALLBACK,
    scope: 'openid profile',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  if (prompt) q.set('prompt', prompt);
  return `${BASE}/authorize?${q}`;
}

test('a person signs in through the page, sees errors, is remembered, and logs out', async () => {
  const user = await registerUser();
  const client = await createClient({
    client_name: 'Acme Shop',
    redirect_uris: [CALLBACK],
    post_logout_redirect_uris: [`${CALLBACK}?signed-out=1`],
  });
  const { page, problems, context } = await newPage();
  const p = pkce();
  const state = uniq('st');

  await page.goto(authorizeUrl(client, { challenge: p.challenge, state }));
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.match(await page.textContent('main'), /to continue to Acme Shop/);
  // Inputs are labelled (getByLabel finds them through <label for>).
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill('not the password');
  await page.screenshot({ path: join(OUT, 'login-page.png'), fullPage: true });
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();

  // Wrong password: the same page, an alert tied to the inputs, the username kept.
  await page.getByRole('alert').waitFor();
  assert.equal((await page.getByRole('alert').textContent()).trim(), 'Invalid username or password.');
  assert.equal(await page.getByLabel('Password').getAttribute('aria-describedby'), 'login-error');
  assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true');
  assert.equal(await page.getByLabel('Username').inputValue(), user.username);
  await page.screenshot({ path: join(OUT, 'login-error.png'), fullPage: true });

  // Keyboard only: type the password and press Enter.
  await page.getByLabel('Password').fill(user.password);
  await Promise.all([page.waitForURL((u) => u.href.startsWith(CALLBACK)), page.getByLabel('Password').press('Enter')]);
  const cb = new URL(page.url());
  assert.equal(cb.searchParams.get('state'), state);
  const t = await token(client, {
    grant_type: 'authorization_code',
    code: cb.searchParams.get('code'),
    redirect_uri: CALLBACK,
    code_verifier: p.verifier,
  });
  assert.equal(t.status, 200, t.text);

  const cookies = await context.cookies(BASE);
  const session = cookies.find((c) => c.name === 'edge_oidc_session');
  assert.ok(session, 'a session cookie is set');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Lax');

  // Remembered: the next authorization request goes straight back with a code.
  const p2 = pkce();
  await page.goto(authorizeUrl(client, { challenge: p2.challenge, state: 'again' }));
  await page.waitForURL((u) => u.href.startsWith(CALLBACK));
  assert.ok(new URL(page.url()).searchParams.get('code'));

  // A sign-out link without an id_token_hint asks first; "Sign out" ends the session and goes
  // back to the client; the form is then shown again.
  await page.goto(
    `${BASE}/logout?client_id=${client.client_id}&post_logout_redirect_uri=${encodeURIComponent(`${CALLBACK}?signed-out=1`)}&state=bye`,
  );
  await page.getByRole('heading', { name: 'Sign out?' }).waitFor();
  await page.screenshot({ path: join(OUT, 'confirm-sign-out.png'), fullPage: true });
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/signed-out=1/);
  assert.equal(new URL(page.url()).searchParams.get('state'), 'bye');
  await page.goto(authorizeUrl(client, { challenge: pkce().challenge, state: 'third' }));
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.goto(`${BASE}/logout`);
  await page.getByRole('heading', { name: 'Signed out' }).waitFor();
  await page.screenshot({ path: join(OUT, 'signed-out.png'), fullPage: true });

  assert.deepEqual(problems, [], 'no console errors or CSP violations');
  await context.close();
});

test('the page refuses framing and shows lockout', async () => {
  const user = await registerUser();
  const client = await createClient({ client_name: 'Framed', redirect_uris: [CALLBACK] });
  const { page, context } = await newPage();
  // A page on another origin tries to frame the login page: the browser refuses it.
  framedUrl = authorizeUrl(client, { challenge: pkce().challenge, state: 'x' });
  await page.goto(new URL('/frame', CALLBACK).href);
  await page.waitForTimeout(500);
  const frame = page.frames().find((f) => f.url().includes('/authorize'));
  // biome-ignore lint/performance/useDomNodeTextContent: what the frame renders is what counts, not hidden text.
  const framedText = frame ? await frame.evaluate(() => document.body?.innerText ?? '').catch(() => '') : '';
  assert.ok(!framedText.includes('Sign in'), 'the login form must not render inside a frame');

  await page.goto(authorizeUrl(client, { challenge: pkce().challenge, state: 'y' }));
  for (let i = 0; i < 5; i++) {
    await page.getByLabel('Username').fill(user.username);
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').waitFor();
  }
  assert.match(await page.getByRole('alert').textContent(), /Too many failed sign-in attempts/);
  await page.screenshot({ path: join(OUT, 'login-locked.png'), fullPage: true });
  await context.close();
});
