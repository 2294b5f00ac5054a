// Shared helpers of the end-to-end tests: plain HTTP against the worker under `wrangler dev`.
import { Agent, setGlobalDispatcher } from 'undici';
import { createHash, randomBytes, createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startWranglerDev } from '../wrangler-dev.mjs';

// wrangler 4.86's dev proxy may answer 503 on a keep-alive connection idle for ~5 s; closing
// idle connections after 1 s avoids reusing one (docs/BUILDING.md, "Running locally"). This affects only the test
// client, never what is asserted.
setGlobalDispatcher(new Agent({ keepAliveTimeout: 1000, keepAliveMaxTimeout: 1000 }));

export const BASE = process.env.E2E_BASE_URL;
export const BOOTSTRAP = process.env.E2E_BOOTSTRAP_TOKEN;
if (!BASE || !BOOTSTRAP) throw new Error('run through tests/run-e2e.mjs (npm test)');

/** The worker's REFRESH_REUSE_INTERVAL, in seconds (tests/run-e2e.mjs sets it). */
export const REUSE_INTERVAL = Number(process.env.E2E_REFRESH_REUSE_INTERVAL);
/** Waits until a refresh token rotated at `rotatedAt` (Date.now() once its rotation was answered)
 *  is past the reuse interval: presenting it again is then theft. */
export async function pastReuseInterval(rotatedAt) {
  const left = rotatedAt + REUSE_INTERVAL * 1000 - Date.now();
  if (left > 0) await new Promise((r) => setTimeout(r, left + 50));
}

export const uniq = (p = 'u') => `${p}${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
export const b64url = (buf) => Buffer.from(buf).toString('base64url');

// wrangler 4.86's dev proxy sometimes loses its pooled connection to the runtime after a burst
// of slow concurrent requests and answers 503 "Your worker restarted mid-request" without the
// worker having answered (docs/BUILDING.md; newer wranglers retry, but need Node 22). Exactly
// that answer is retried here, never any other 503 and never a product answer. A retry cannot
// turn a failure into a pass: a request the worker did process shows up as a conflict or
// invalid_grant on the retry, which the tests count as a failure.
const PROXY_RESTART = 'Your worker restarted mid-request';
export let proxyRetries = 0;

/** A client address of its own (from 198.18.0.0/15, RFC 2544's benchmarking range). */
export const randomAddress = () => `198.${18 + (randomBytes(1)[0] & 1)}.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;

/** One HTTP request; never follows redirects. Unless the test names one with a
 *  `cf-connecting-ip` header, each request comes from an address of its own (as the many users
 *  of a real deployment do): the per-address budgets are tested where a test sets the address. */
// The `[[ratelimits]]` bindings count in fixed windows aligned to the epoch (so does the local
// simulator: `floor(now / period)`), and a window boundary resets every count. A test that counts
// requests against a limit waits, when the current window has fewer than `seconds` left, for the
// next one to begin, so that its requests all land in one window.
export async function withinOneRateWindow(seconds, period = 60) {
  const left = period * 1000 - (Date.now() % (period * 1000));
  if (left < seconds * 1000) await new Promise((r) => setTimeout(r, left + 250));
}

export async function http(method, path, { json, form, headers = {}, body } = {}) {
  const h = { 'cf-connecting-ip': randomAddress(), ...headers };
  let payload = body;
  if (json !== undefined) {
    h['content-type'] = 'application/json';
    payload = JSON.stringify(json);
  }
  if (form !== undefined) {
    h['content-type'] = 'application/x-www-form-urlencoded';
    payload = new URLSearchParams(form).toString();
  }
  let res, text;
  for (let attempt = 0; ; attempt++) {
    res = await fetch(new URL(path, BASE), { method, headers: h, body: payload, redirect: 'manual' });
    text = await res.text();
    if (res.status !== 503 || !text.startsWith(PROXY_RESTART) || attempt === 3) break;
    proxyRetries++;
    console.error(`[harness] wrangler dev proxy answered "${PROXY_RESTART}" for ${method} ${path}; retrying`);
    await new Promise((r) => setTimeout(r, 50));
  }
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  return { status: res.status, headers: res.headers, text, json: data };
}

export const basic = (id, secret) => 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
export const bearer = (t) => ({ authorization: `Bearer ${t}` });
export const admin = () => bearer(BOOTSTRAP);

export async function registerUser({ role, password = 'correct horse battery', headers, username = uniq('user') } = {}) {
  const r = await http('POST', '/register', {
    json: { username, email: `${username}@example.com`, password, ...(role ? { role } : {}) },
    headers,
  });
  if (r.status !== 201) throw new Error(`register: ${r.status} ${r.text}`);
  return { ...r.json, password };
}

export async function createClient(meta = {}) {
  const body = {
    client_name: 'Test app',
    client_type: 'confidential',
    grant_types: ['authorization_code', 'refresh_token', 'password', 'client_credentials'],
    redirect_uris: ['http://127.0.0.1:9999/callback'],
    response_types: ['code'],
    scopes: ['openid', 'profile', 'email', 'api:read'],
    token_endpoint_auth_method: 'client_secret_basic',
    ...meta,
  };
  const r = await http('POST', '/clients', { json: body, headers: admin() });
  if (r.status !== 201) throw new Error(`create client: ${r.status} ${r.text}`);
  return r.json;
}

export function pkce() {
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

/** Signs in through POST /login (JSON answer) and returns the code and the redirect URL. */
export async function login(client, user, { scope = 'openid profile email', nonce, challenge, state = uniq('s'), redirect } = {}) {
  const form = {
    username: user.username,
    password: user.password,
    redirect: redirect ?? client.redirect_uris[0],
    state,
    client_id: client.client_id,
    scope,
  };
  if (nonce) form.nonce = nonce;
  if (challenge) {
    form.code_challenge = challenge;
    form.code_challenge_method = 'S256';
  }
  const r = await http('POST', '/login', { form, headers: { accept: 'application/json' } });
  if (r.status !== 200) throw new Error(`login: ${r.status} ${r.text}`);
  const url = new URL(r.json);
  return { code: url.searchParams.get('code'), state: url.searchParams.get('state'), url };
}

export async function token(client, form, { auth = 'basic', address } = {}) {
  const headers = address ? { 'cf-connecting-ip': address } : {};
  const f = { ...form };
  if (auth === 'basic') headers.authorization = basic(client.client_id, client.client_secret);
  else if (auth === 'post') {
    f.client_id = client.client_id;
    f.client_secret = client.client_secret;
  } else if (auth === 'none') f.client_id = client.client_id;
  return http('POST', '/token', { form: f, headers });
}

export function decodeJwt(t) {
  const [h, p] = t.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url')), payload: JSON.parse(Buffer.from(p, 'base64url')) };
}

/** Verifies an ES256 JWT against the served JWKS, by kid. */
export async function verifyWithJwks(jwt) {
  const { header } = decodeJwt(jwt);
  const jwks = (await http('GET', '/.well-known/jwks.json')).json;
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk || jwk.alg !== header.alg || !['ES256', 'RS256'].includes(header.alg)) return false;
  const [h, p, s] = jwt.split('.');
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  // node:crypto verifies RS256 (PKCS#1 v1.5) with the plain key, ES256 with the raw r||s encoding.
  return verify(
    'sha256',
    Buffer.from(`${h}.${p}`),
    header.alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key,
    Buffer.from(s, 'base64url'),
  );
}

/** An admin credential: an admin user's token with the `admin` scope, through a client
 *  registered with that scope (an admin's ordinary token is not one). */
export async function adminAccessToken() {
  const user = await registerUser({ role: 'admin', headers: admin() });
  const client = await createClient({ scopes: 'openid profile admin' });
  const r = await token(client, { grant_type: 'password', username: user.username, password: user.password, scope: 'openid admin' });
  if (r.status !== 200) throw new Error(`admin token: ${r.status} ${r.text}`);
  return { token: r.json.access_token, user, client };
}

/** Runs SQL against the worker's local D1 (the throw-away state of this run); returns rows. */
// Asynchronous on purpose: a blocked event loop would keep idle pooled connections open past
// the server's keep-alive timeout, and the next request would fail on a closed socket.
export async function d1(sql) {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const wrangler = new URL('../../node_modules/.bin/wrangler', import.meta.url).pathname;
  const { stdout } = await promisify(execFile)(
    wrangler,
    ['d1', 'execute', 'DB', '--local', '--persist-to', process.env.E2E_PERSIST, '--json', '--command', sql],
    { encoding: 'utf8', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' }, maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout)[0].results;
}

/** Deletes a key from the worker's local KV namespace AUTH_CODES (this run's state). */
export async function kvDelete(key) {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const wrangler = new URL('../../node_modules/.bin/wrangler', import.meta.url).pathname;
  await promisify(execFile)(
    wrangler,
    ['kv', 'key', 'delete', key, '--binding', 'AUTH_CODES', '--local', '--persist-to', process.env.E2E_PERSIST],
    { encoding: 'utf8', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
  );
}

/**
 * Starts a second `wrangler dev` on this run's D1/KV state with the given `.dev.vars` text, as
 * another deployment or location of the same database would see it; resolves to its base URL
 * and the child process (stop it with `process.kill(-child.pid)`).
 */
export async function startSecondWorker(varsText) {
  const vars = join(mkdtempSync(join(tmpdir(), 'second-worker-')), 'vars');
  writeFileSync(vars, varsText);
  // Same issuer as the first worker, as for one deployment.
  const args = [
    '--persist-to',
    process.env.E2E_PERSIST,
    '--env-file',
    vars,
    '--var',
    `ISSUER:${BASE}`,
    '--show-interactive-dev-session=false',
  ];
  try {
    return await startWranglerDev({ args, env: { ...process.env, WRANGLER_SEND_METRICS: 'false' }, timeoutMs: 120_000 });
  } catch {
    throw new Error('the second worker did not start');
  }
}

/** A browser: a cookie jar, one client address, and form posts with the page's anti-CSRF token. */
export class Browser {
  constructor(address = randomAddress()) {
    this.jar = new Map();
    this.address = address;
  }
  cookie() {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  remember(r) {
    for (const c of r.headers.getSetCookie()) {
      const [k, v] = c.split(';')[0].split('=');
      if (/Max-Age=0/.test(c)) this.jar.delete(k);
      else this.jar.set(k, v);
    }
    return r;
  }
  async get(path) {
    return this.remember(
      await http('GET', path, { headers: { cookie: this.cookie(), 'cf-connecting-ip': this.address, 'user-agent': 'TestBrowser/1.0' } }),
    );
  }
  async post(path, form) {
    const headers = {
      cookie: this.cookie(),
      origin: BASE,
      'sec-fetch-site': 'same-origin',
      'cf-connecting-ip': this.address,
      'user-agent': 'TestBrowser/1.0',
    };
    return this.remember(await http('POST', path, { form, headers }));
  }
}

export const field = (html, name) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))?.[1];
/** Every hidden field of the page's (last) form, for posting it back. */
export function hiddenFields(html) {
  const form = html.slice(html.lastIndexOf('<form'));
  return Object.fromEntries(
    [...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
      m[1],
      m[2]
        .replace(/&amp;/g, '&')
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>'),
    ]),
  );
}

/** Debian's Chromium (or CHROMIUM_PATH) as the browser tests drive it: headless, no sandbox
 *  (containers), and none of its background network traffic. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
