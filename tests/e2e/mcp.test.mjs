// An MCP client, as the MCP TypeScript SDK's OAuth client (`auth()` with an in-memory provider)
// runs it: RFC 9728 protected-resource metadata from a stand-in MCP server, RFC 8414 metadata
// from this issuer, RFC 7591 dynamic registration, the code flow with PKCE through the sign-in
// page, the code exchange and a refresh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { http, BASE, registerUser, createClient, decodeJwt, verifyWithJwks, basic } from './helpers.mjs';

/** A stand-in MCP server: serves its RFC 9728 document naming this issuer. */
async function mcpServer() {
  const server = createServer((req, res) => {
    const base = `http://127.0.0.1:${server.address().port}`;
    if (req.url.startsWith('/.well-known/oauth-protected-resource')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ resource: `${base}/mcp`, authorization_servers: [BASE], scopes_supported: ['openid', 'profile'] }));
      return;
    }
    res.writeHead(401, { 'www-authenticate': `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource"` });
    res.end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${server.address().port}/mcp` };
}

class MemoryProvider {
  constructor() { this.saved = {}; }
  get redirectUrl() { return 'http://127.0.0.1:33418/callback'; }
  get clientMetadata() {
    return { client_name: 'e2e MCP client', redirect_uris: [this.redirectUrl], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  clientInformation() { return this.saved.client; }
  saveClientInformation(info) { this.saved.client = info; }
  tokens() { return this.saved.tokens; }
  saveTokens(tokens) { this.saved.tokens = tokens; }
  redirectToAuthorization(url) { this.saved.authorizationUrl = url; }
  saveCodeVerifier(v) { this.saved.verifier = v; }
  codeVerifier() { return this.saved.verifier; }
}

/** Signs in on the page the authorization URL serves, as a browser does; returns the code. */
async function signIn(authorizationUrl, user) {
  const u = new URL(authorizationUrl);
  const page = await http('GET', u.pathname + u.search);
  assert.equal(page.status, 200, page.text);
  const form = Object.fromEntries([...page.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], m[2].replaceAll('&amp;', '&')]));
  const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const r = await http('POST', '/login', { form: { ...form, username: user.username, password: user.password }, headers: { origin: BASE, 'sec-fetch-site': 'same-origin', cookie } });
  assert.equal(r.status, 302, r.text);
  return new URL(r.headers.get('location')).searchParams.get('code');
}

test('MCP SDK: discovery, dynamic registration, code flow with PKCE, exchange and refresh', async () => {
  const user = await registerUser();
  const { server, url } = await mcpServer();
  try {
    const provider = new MemoryProvider();
    assert.equal(await auth(provider, { serverUrl: url }), 'REDIRECT');
    const client = provider.saved.client;
    assert.ok(client.client_id, 'registered through registration_endpoint');
    assert.ok(client.registration_access_token && client.registration_client_uri, 'RFC 7592 management');
    assert.equal(client.client_secret, undefined, 'a public client');
    const authorizationUrl = new URL(provider.saved.authorizationUrl);
    assert.equal(authorizationUrl.origin + authorizationUrl.pathname, `${BASE}/authorize`);
    assert.equal(authorizationUrl.searchParams.get('code_challenge_method'), 'S256');

    const code = await signIn(authorizationUrl, user);
    assert.equal(await auth(provider, { serverUrl: url, authorizationCode: code }), 'AUTHORIZED');
    const first = provider.saved.tokens;
    assert.ok(first.access_token && first.refresh_token);
    assert.ok(await verifyWithJwks(first.access_token));
    assert.equal(decodeJwt(first.access_token).payload.client_id, client.client_id);
    // The SDK sends the RFC 9728 document's `resource` (RFC 8707): the token is for that server.
    assert.equal(authorizationUrl.searchParams.get('resource'), url);
    assert.equal(decodeJwt(first.access_token).payload.aud, url);
    const info = await http('GET', '/userinfo', { headers: { authorization: `Bearer ${first.access_token}` } });
    assert.equal(info.json.sub, user.id);

    // With tokens in hand, auth() refreshes (rotation: a new refresh token).
    assert.equal(await auth(provider, { serverUrl: url }), 'AUTHORIZED');
    assert.ok(provider.saved.tokens.refresh_token && provider.saved.tokens.refresh_token !== first.refresh_token);

    // The registration access token reads its own client (RFC 7592 §2.1).
    const own = await http('GET', new URL(client.registration_client_uri).pathname, { headers: { authorization: `Bearer ${client.registration_access_token}` } });
    assert.equal(own.status, 200);
    assert.equal(own.json.client_name, 'e2e MCP client');
  } finally {
    server.close();
  }
});

test('RFC 8707: resources held by the grant become aud, narrowed on exchange and refresh, never widened', async () => {
  const user = await registerUser();
  const client = await createClient();
  const mcp = 'https://mcp.example/mcp';
  const api = 'https://api.example/v1';
  const auth = { authorization: basic(client.client_id, client.client_secret) };
  const form = [['username', user.username], ['password', user.password], ['redirect', client.redirect_uris[0]], ['state', 's'],
    ['client_id', client.client_id], ['scope', 'openid profile'], ['resource', mcp], ['resource', api]];
  const signedIn = await http('POST', '/login', { form, headers: { accept: 'application/json' } });
  assert.equal(signedIn.status, 200, signedIn.text);
  const code = new URL(signedIn.json).searchParams.get('code');
  const redirect = client.redirect_uris[0];

  // Another resource at the exchange: invalid_target, and the code is not spent by it.
  const other = await http('POST', '/token', { form: [['grant_type', 'authorization_code'], ['code', code], ['redirect_uri', redirect], ['resource', 'https://other.example/']], headers: auth });
  assert.equal(other.status, 400);
  assert.equal(other.json.error, 'invalid_target');
  const t = await http('POST', '/token', { form: [['grant_type', 'authorization_code'], ['code', code], ['redirect_uri', redirect], ['resource', api]], headers: auth });
  assert.equal(t.status, 200, t.text);
  assert.equal(decodeJwt(t.json.access_token).payload.aud, api);
  const intro = await http('POST', '/introspect', { form: { token: t.json.access_token }, headers: auth });
  assert.equal(intro.json.aud, api, 'introspection reports the audience');

  // The grant holds both: a refresh without `resource` gets both (an array), one may be chosen,
  // another is refused.
  const both = await http('POST', '/token', { form: { grant_type: 'refresh_token', refresh_token: t.json.refresh_token }, headers: auth });
  assert.deepEqual(decodeJwt(both.json.access_token).payload.aud, [mcp, api]);
  const wider = await http('POST', '/token', { form: [['grant_type', 'refresh_token'], ['refresh_token', both.json.refresh_token], ['resource', 'https://evil.example/']], headers: auth });
  assert.equal(wider.status, 400);
  assert.equal(wider.json.error, 'invalid_target');
  const one = await http('POST', '/token', { form: [['grant_type', 'refresh_token'], ['refresh_token', both.json.refresh_token], ['resource', mcp]], headers: auth });
  assert.equal(one.status, 200, 'the refused widening did not spend the refresh token');
  assert.equal(decodeJwt(one.json.access_token).payload.aud, mcp);

  // A malformed resource at /authorize goes back to the client as invalid_target.
  const q = new URLSearchParams({ client_id: client.client_id, redirect_uri: redirect, response_type: 'code', scope: 'openid', state: 'x', resource: 'https://mcp.example/#fragment' });
  const bad = await http('GET', `/authorize?${q}`);
  assert.equal(bad.status, 302);
  const back = new URL(bad.headers.get('location'));
  assert.equal(back.searchParams.get('error'), 'invalid_target');
  assert.equal(back.searchParams.get('state'), 'x');
});
