// An MCP client, as the MCP TypeScript SDK's OAuth client (`auth()` with an in-memory provider)
// runs it: RFC 9728 protected-resource metadata from a stand-in MCP server, RFC 8414 metadata
// from this issuer, RFC 7591 dynamic registration, the code flow with PKCE and an RFC 8707
// resource, a person in Chromium signing in and pressing "Deny", then "Allow" on the consent
// page, the code exchange and a refresh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { http, BASE, registerUser, createClient, decodeJwt, verifyWithJwks, basic, launchChromium } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** A stand-in MCP server: serves its RFC 9728 document naming this issuer, and the MCP client's
 * redirect target (a page the browser lands on). */
async function mcpServer() {
  const server = createServer((req, res) => {
    const base = `http://127.0.0.1:${server.address().port}`;
    if (req.url.startsWith('/.well-known/oauth-protected-resource')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ resource: `${base}/mcp`, authorization_servers: [BASE], scopes_supported: ['openid', 'profile'] }));
      return;
    }
    if (req.url === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (req.url.startsWith('/callback')) {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>MCP client</title><h1>Back in the MCP client</h1>');
      return;
    }
    res.writeHead(401, { 'www-authenticate': `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource"` });
    res.end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  return { server, url: `${base}/mcp`, callback: `${base}/callback` };
}

class MemoryProvider {
  constructor(redirectUrl) {
    this.saved = {};
    this.redirect = redirectUrl;
  }
  get redirectUrl() {
    return this.redirect;
  }
  get clientMetadata() {
    return {
      client_name: 'e2e MCP client',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return this.saved.client;
  }
  saveClientInformation(info) {
    this.saved.client = info;
  }
  tokens() {
    return this.saved.tokens;
  }
  saveTokens(tokens) {
    this.saved.tokens = tokens;
  }
  redirectToAuthorization(url) {
    this.saved.authorizationUrl = url;
  }
  saveCodeVerifier(v) {
    this.saved.verifier = v;
  }
  codeVerifier() {
    return this.saved.verifier;
  }
}

/** Opens the authorization URL in the browser page and waits for the consent page. */
async function consentPage(page, authorizationUrl, user) {
  await page.goto(String(authorizationUrl));
  if (user) {
    await page.getByLabel('Username').fill(user.username);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }
  await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
}

test('MCP SDK: discovery, dynamic registration, consent in Chromium (Deny, then Allow), exchange and refresh', async () => {
  const user = await registerUser();
  const { server, url, callback } = await mcpServer();
  const context = await browser.newContext({ viewport: { width: 420, height: 780 } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  try {
    const provider = new MemoryProvider(callback);
    assert.equal(await auth(provider, { serverUrl: url }), 'REDIRECT');
    const client = provider.saved.client;
    assert.ok(client.client_id, 'registered through registration_endpoint');
    // (The SDK keeps only the RFC 7591 client information; RFC 7592 is checked below.)
    assert.equal(client.client_secret, undefined, 'a public client');
    const authorizationUrl = new URL(provider.saved.authorizationUrl);
    assert.equal(authorizationUrl.origin + authorizationUrl.pathname, `${BASE}/authorize`);
    assert.equal(authorizationUrl.searchParams.get('code_challenge_method'), 'S256');
    // The SDK sends the RFC 9728 document's `resource` (RFC 8707).
    assert.equal(authorizationUrl.searchParams.get('resource'), url);

    // Signed in, the person is asked: the client's name, where it sends them, what it may do.
    await consentPage(page, authorizationUrl, user);
    const text = await page.textContent('main');
    assert.match(text, /e2e MCP client/);
    assert.match(text, /127\.0\.0\.1:\d+/);
    assert.match(text, /See your username and role/);
    assert.ok(text.includes(url), 'the resource is named');
    await page.screenshot({ path: join(process.env.E2E_OUTPUT, 'consent-page.png'), fullPage: true });
    // "Deny": back at the client with access_denied and no code.
    await Promise.all([page.waitForURL((u) => u.href.startsWith(callback)), page.getByRole('button', { name: 'Deny' }).click()]);
    const denied = new URL(page.url());
    assert.equal(denied.searchParams.get('error'), 'access_denied');
    assert.equal(denied.searchParams.get('code'), null);

    // Again (the browser is still signed in, so straight to the question), by keyboard: "Allow".
    assert.equal(await auth(provider, { serverUrl: url }), 'REDIRECT');
    await consentPage(page, provider.saved.authorizationUrl);
    await page.getByRole('button', { name: 'Allow' }).focus();
    await Promise.all([page.waitForURL((u) => u.href.startsWith(callback)), page.keyboard.press('Enter')]);
    const code = new URL(page.url()).searchParams.get('code');
    assert.ok(code, 'Allow redirects with a code');

    assert.equal(await auth(provider, { serverUrl: url, authorizationCode: code }), 'AUTHORIZED');
    const first = provider.saved.tokens;
    assert.ok(first.access_token && first.refresh_token);
    assert.ok(await verifyWithJwks(first.access_token));
    assert.equal(decodeJwt(first.access_token).payload.client_id, client.client_id);
    assert.equal(decodeJwt(first.access_token).payload.aud, url, 'the token is for the MCP server');
    // A token for the MCP server is not a token for this server's /userinfo (its aud names only
    // the MCP server).
    const info = await http('GET', '/userinfo', { headers: { authorization: `Bearer ${first.access_token}` } });
    assert.deepEqual([info.status, info.json.error], [401, 'invalid_token']);
    assert.equal(decodeJwt(first.access_token).payload.sub, user.id);

    // With tokens in hand, auth() refreshes (rotation: a new refresh token, the same audience).
    assert.equal(await auth(provider, { serverUrl: url }), 'AUTHORIZED');
    assert.ok(provider.saved.tokens.refresh_token && provider.saved.tokens.refresh_token !== first.refresh_token);
    assert.equal(decodeJwt(provider.saved.tokens.access_token).payload.aud, url);

    // The consent is remembered: a new authorization goes straight back with a code.
    await page.goto(String(provider.saved.authorizationUrl));
    await page.waitForURL((u) => u.href.startsWith(callback));
    assert.ok(new URL(page.url()).searchParams.get('code'));

    // On the account page the person sees the app and removes its access: its grant ends.
    await page.goto(`${BASE}/account`);
    await page.getByRole('heading', { name: 'Connected apps' }).waitFor();
    assert.match(await page.textContent('main'), /e2e MCP client/);
    await page.getByRole('button', { name: 'Remove access for e2e MCP client' }).click();
    await page.getByRole('status').waitFor();
    assert.match(await page.getByRole('status').textContent(), /Access removed/);
    const refused = await http('POST', '/token', {
      form: { grant_type: 'refresh_token', refresh_token: provider.saved.tokens.refresh_token, client_id: client.client_id },
    });
    assert.equal(refused.json.error, 'invalid_grant');
    const inactive = await http('POST', '/introspect', {
      form: { token: provider.saved.tokens.access_token, client_id: client.client_id },
    });
    assert.equal(inactive.json.active, false);

    // RFC 7592: a registration access token reads, changes and deletes its own client, and
    // cannot touch the SDK's client or list clients.
    const other = await http('POST', '/clients', {
      json: { client_name: 'raw', redirect_uris: [callback], token_endpoint_auth_method: 'none' },
    });
    assert.equal(other.status, 201, other.text);
    const manage = { authorization: `Bearer ${other.json.registration_access_token}` };
    const own = await http('GET', new URL(other.json.registration_client_uri).pathname, { headers: manage });
    assert.equal(own.status, 200);
    assert.equal(own.json.client_name, 'raw');
    const renamed = await http('PUT', `/clients/${other.json.client_id}`, { json: { client_name: 'renamed' }, headers: manage });
    assert.equal(renamed.json.client_name, 'renamed');
    for (const [method, path] of [
      ['GET', `/clients/${client.client_id}`],
      ['DELETE', `/clients/${client.client_id}`],
      ['GET', '/clients'],
    ]) {
      const r = await http(method, path, { headers: manage });
      assert.ok(r.status === 401 || r.status === 403, `${method} ${path}: ${r.status}`);
    }
    assert.equal((await http('DELETE', `/clients/${other.json.client_id}`, { headers: manage })).status, 204);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
    server.close();
  }
});

test('RFC 8707: resources held by the grant become aud, narrowed on exchange and refresh, never widened', async () => {
  const user = await registerUser();
  const client = await createClient();
  const mcp = 'https://mcp.example/mcp';
  const api = 'https://api.example/v1';
  const auth = { authorization: basic(client.client_id, client.client_secret) };
  const form = [
    ['username', user.username],
    ['password', user.password],
    ['redirect', client.redirect_uris[0]],
    ['state', 's'],
    ['client_id', client.client_id],
    ['scope', 'openid profile'],
    ['resource', mcp],
    ['resource', api],
  ];
  const signedIn = await http('POST', '/login', { form, headers: { accept: 'application/json' } });
  assert.equal(signedIn.status, 200, signedIn.text);
  const code = new URL(signedIn.json).searchParams.get('code');
  const redirect = client.redirect_uris[0];

  // Another resource at the exchange: invalid_target, and the code is not spent by it.
  const other = await http('POST', '/token', {
    form: [
      ['grant_type', 'authorization_code'],
      ['code', code],
      ['redirect_uri', redirect],
      ['resource', 'https://other.example/'],
    ],
    headers: auth,
  });
  assert.equal(other.status, 400);
  assert.equal(other.json.error, 'invalid_target');
  const t = await http('POST', '/token', {
    form: [
      ['grant_type', 'authorization_code'],
      ['code', code],
      ['redirect_uri', redirect],
      ['resource', api],
    ],
    headers: auth,
  });
  assert.equal(t.status, 200, t.text);
  assert.equal(decodeJwt(t.json.access_token).payload.aud, api);
  const intro = await http('POST', '/introspect', { form: { token: t.json.access_token }, headers: auth });
  assert.equal(intro.json.aud, api, 'introspection reports the audience');

  // The grant holds both: a refresh without `resource` gets both (an array), one may be chosen,
  // another is refused.
  const both = await http('POST', '/token', { form: { grant_type: 'refresh_token', refresh_token: t.json.refresh_token }, headers: auth });
  assert.deepEqual(decodeJwt(both.json.access_token).payload.aud, [mcp, api]);
  const wider = await http('POST', '/token', {
    form: [
      ['grant_type', 'refresh_token'],
      ['refresh_token', both.json.refresh_token],
      ['resource', 'https://evil.example/'],
    ],
    headers: auth,
  });
  assert.equal(wider.status, 400);
  assert.equal(wider.json.error, 'invalid_target');
  const one = await http('POST', '/token', {
    form: [
      ['grant_type', 'refresh_token'],
      ['refresh_token', both.json.refresh_token],
      ['resource', mcp],
    ],
    headers: auth,
  });
  assert.equal(one.status, 200, 'the refused widening did not spend the refresh token');
  assert.equal(decodeJwt(one.json.access_token).payload.aud, mcp);

  // A malformed resource at /authorize goes back to the client as invalid_target.
  const q = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: redirect,
    response_type: 'code',
    scope: 'openid',
    state: 'x',
    resource: 'https://mcp.example/#fragment',
  });
  const bad = await http('GET', `/authorize?${q}`);
  assert.equal(bad.status, 302);
  const back = new URL(bad.headers.get('location'));
  assert.equal(back.searchParams.get('error'), 'invalid_target');
  assert.equal(back.searchParams.get('state'), 'x');
});

/** A local server of client ID metadata documents: a good one, one lying about its client_id, a
 * too big one and a slow one. */
async function documentServer(callback) {
  const server = createServer((req, res) => {
    const self = `http://127.0.0.1:${server.address().port}${req.url}`;
    const send = (doc, headers = {}) => {
      res.writeHead(200, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(doc));
    };
    const meta = {
      client_name: 'Doc MCP client',
      redirect_uris: [callback],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
      scope: 'openid profile',
    };
    if (req.url === '/good.json') return send({ client_id: self, ...meta }, { 'cache-control': 'max-age=60' });
    if (req.url === '/liar.json') return send({ client_id: `http://127.0.0.1:${server.address().port}/good.json`, ...meta });
    if (req.url === '/big.json') return send({ client_id: self, ...meta, padding: 'x'.repeat(20000) });
    if (req.url === '/slow.json') {
      setTimeout(() => send({ client_id: self, ...meta }), 6000);
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${server.address().port}` };
}

test('Client ID metadata documents: a URL as client_id, fetched, validated, consented, exchanged; liars, giants and sloths refused', async () => {
  const discovery = await http('GET', '/.well-known/oauth-authorization-server');
  assert.equal(discovery.json.client_id_metadata_document_supported, true);
  const user = await registerUser();
  const callback = 'http://127.0.0.1:33419/callback';
  const { server, base } = await documentServer(callback);
  try {
    const clientId = `${base}/good.json`;
    const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: callback,
      scope: 'openid profile',
      state: 'doc',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    const page = await http('GET', `/authorize?${q}`);
    assert.equal(page.status, 200, page.text);
    assert.match(page.text, /Doc MCP client/, 'the name comes from the document');
    const fields = (html) =>
      [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], m[2].replaceAll('&amp;', '&')]);
    let cookies = page.headers.getSetCookie().map((c) => c.split(';')[0]);
    const browser = () => ({ origin: BASE, 'sec-fetch-site': 'same-origin', cookie: cookies.join('; ') });
    const signedIn = await http('POST', '/login', {
      form: [...fields(page.text), ['username', user.username], ['password', user.password]],
      headers: browser(),
    });
    assert.equal(signedIn.status, 200, 'a third-party client: the consent page');
    assert.match(signedIn.text, /Allow access\?/);
    cookies = [
      ...cookies.filter((c) => !c.startsWith('edge_oidc_session=')),
      ...signedIn.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .filter((c) => c.startsWith('edge_oidc_session=')),
    ];
    const allowed = await http('POST', '/consent', { form: [...fields(signedIn.text), ['decision', 'allow']], headers: browser() });
    assert.equal(allowed.status, 302, allowed.text);
    const code = new URL(allowed.headers.get('location')).searchParams.get('code');
    const t = await http('POST', '/token', {
      form: { grant_type: 'authorization_code', code, redirect_uri: callback, client_id: clientId, code_verifier: verifier },
    });
    assert.equal(t.status, 200, t.text);
    assert.equal(decodeJwt(t.json.access_token).payload.client_id, clientId);
    const r = await http('POST', '/token', {
      form: { grant_type: 'refresh_token', refresh_token: t.json.refresh_token, client_id: clientId },
    });
    assert.equal(r.status, 200, r.text);

    // Too big, too slow, missing (HTTP 404), a closed port, and internal addresses (refused
    // before any connection): one and the same answer, so that the error is no port-scan oracle.
    // What happened is in the log line only.
    const failures = [];
    for (const url of [
      `${base}/liar.json`,
      `${base}/big.json`,
      `${base}/slow.json`,
      `${base}/missing.json`,
      'http://127.0.0.1:1/client.json',
      'https://10.0.0.1/client.json',
      'https://169.254.169.254/latest/meta-data',
      'https://0x0a000001/client.json',
      'https://[fd00::1]/client.json',
      'https://metadata/client.json',
    ]) {
      const bad = new URLSearchParams({
        response_type: 'code',
        client_id: url,
        redirect_uri: callback,
        scope: 'openid',
        state: 's',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      });
      const started = Date.now();
      const out = await http('GET', `/authorize?${bad}`);
      assert.equal(out.status, 400, `${url}: ${out.status} ${out.text.slice(0, 200)}`);
      assert.equal(out.headers.get('location'), null, 'never redirected to an unverified redirect URI');
      assert.ok(Date.now() - started < 5500, `${url} answered within the fetch timeout`);
      if (url.endsWith('/liar.json')) assert.match(out.text, /client_id is not its own URL/);
      else failures.push(out.text.match(/metadata document could not be fetched[^<]*/)?.[0]);
    }
    assert.ok(failures[0], 'a fetch failure says so');
    assert.deepEqual(failures, Array(failures.length).fill(failures[0]), 'every fetch failure reads the same');
  } finally {
    server.close();
    server.closeAllConnections?.();
  }
});
