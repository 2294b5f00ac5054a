// The contract's base endpoints driven exactly as a client written only from the original
// "Authentication Service" document would: its request bodies, its field names and JSON types
// (notably `scopes` as one space-separated string), and discovery's registration endpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { http, BASE, admin, basic, uniq } from './helpers.mjs';

const kind = (v) =>
  Array.isArray(v) ? (v.every((x) => typeof x === 'string') ? 'string[]' : 'array') : Number.isInteger(v) ? 'integer' : typeof v;
function assertShape(what, value, shape) {
  for (const [field, type] of Object.entries(shape)) {
    assert.ok(field in value, `${what}: no ${field} in ${JSON.stringify(value)}`);
    assert.equal(kind(value[field]), type, `${what}: ${field} is ${JSON.stringify(value[field])}`);
  }
}

const DISCOVERY = {
  authorization_endpoint: 'string',
  claims_supported: 'string[]',
  end_session_endpoint: 'string',
  id_token_signing_alg_values_supported: 'string[]',
  issuer: 'string',
  jwks_uri: 'string',
  registration_endpoint: 'string',
  response_types_supported: 'string[]',
  scopes_supported: 'string[]',
  subject_types_supported: 'string[]',
  token_endpoint: 'string',
  token_endpoint_auth_methods_supported: 'string[]',
  userinfo_endpoint: 'string',
};
const CLIENT = {
  client_id: 'string',
  client_name: 'string',
  client_type: 'string',
  grant_types: 'string[]',
  is_active: 'boolean',
  redirect_uris: 'string[]',
  response_types: 'string[]',
  scopes: 'string',
  token_endpoint_auth_method: 'string',
};
const REGISTERED = {
  client_id: 'string',
  client_name: 'string',
  client_secret: 'string',
  client_secret_expires_at: 'integer',
  client_type: 'string',
  grant_types: 'string[]',
  redirect_uris: 'string[]',
  response_types: 'string[]',
  scopes: 'string',
  token_endpoint_auth_method: 'string',
};
const TOKEN = { access_token: 'string', expires_in: 'integer', refresh_token: 'string', scope: 'string', token_type: 'string' };
const INTROSPECTION = {
  active: 'boolean',
  aud: 'string',
  client_id: 'string',
  exp: 'integer',
  iat: 'integer',
  jti: 'string',
  nbf: 'integer',
  scope: 'string',
  sub: 'string',
  token_type: 'string',
  username: 'string',
};
const USER = { createdAt: 'string', email: 'string', id: 'string', role: 'string', username: 'string' };

test('contract: discovery has every base field with its type; registration_endpoint is client registration', async () => {
  const r = await http('GET', '/.well-known/openid-configuration');
  assert.equal(r.status, 200);
  assertShape('discovery', r.json, DISCOVERY);
  assert.equal(r.json.registration_endpoint, `${BASE}/clients`);
  // RFC 8414: the same metadata at the OAuth location.
  const oauth = await http('GET', '/.well-known/oauth-authorization-server');
  assert.equal(oauth.status, 200);
  assert.deepEqual(oauth.json, r.json);
  assert.equal(oauth.headers.get('access-control-allow-origin'), '*');
});

test('contract: a client registered exactly as the document shows works unchanged, end to end', async () => {
  const discovery = (await http('GET', '/.well-known/openid-configuration')).json;
  const redirect = `https://app.example/cb-${uniq()}`;
  // The registration body, field for field (scopes: one string).
  const registration = {
    client_name: 'Seed app',
    client_type: 'confidential',
    grant_types: ['authorization_code', 'password', 'refresh_token'],
    redirect_uris: [redirect],
    response_types: ['code'],
    scopes: 'openid profile',
    token_endpoint_auth_method: 'client_secret_basic',
  };
  let r = await http('POST', new URL(discovery.registration_endpoint).pathname, { json: registration, headers: admin() });
  assert.equal(r.status, 201, r.text);
  assertShape('registered client', r.json, REGISTERED);
  assert.equal(r.json.scopes, 'openid profile');
  assert.equal(r.json.scope, 'openid profile');
  assert.equal(r.json.client_secret_expires_at, 0);
  const client = r.json;

  r = await http('GET', '/clients', { headers: admin() });
  assert.equal(r.status, 200);
  const listed = r.json.find((c) => c.client_id === client.client_id);
  assertShape('listed client', listed, CLIENT);
  assert.equal(listed.scopes, 'openid profile');
  assert.equal(listed.client_secret, undefined);

  r = await http('GET', `/clients/${client.client_id}`, { headers: admin() });
  assert.equal(r.status, 200);
  assertShape('client', r.json, CLIENT);

  // The update body, field for field.
  const update = {
    client_name: 'Seed app renamed',
    grant_types: ['authorization_code', 'password', 'refresh_token'],
    is_active: true,
    redirect_uris: [redirect],
    response_types: ['code'],
    scopes: 'openid profile email',
    token_endpoint_auth_method: 'client_secret_basic',
  };
  r = await http('PUT', `/clients/${client.client_id}`, { json: update, headers: admin() });
  assert.equal(r.status, 200, r.text);
  assertShape('updated client', r.json, CLIENT);
  assert.equal(r.json.scopes, 'openid profile email');
  // A list is still accepted on input, and answered as a string.
  r = await http('PUT', `/clients/${client.client_id}`, { json: { scopes: ['openid', 'profile', 'email'] }, headers: admin() });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.scopes, 'openid profile email');

  // A user registered with the document's body.
  const username = uniq('seed');
  r = await http('POST', '/register', {
    json: { email: `${username}@example.com`, password: 'correct horse battery', role: 'user', username },
  });
  assert.equal(r.status, 201, r.text);
  assertShape('user', r.json, USER);
  assert.equal(r.json.password, undefined);

  // Login with the document's form: 302, the body the redirect URL as a JSON string.
  const state = uniq('st');
  r = await http('POST', '/login', { form: { username, password: 'correct horse battery', redirect, state } });
  assert.equal(r.status, 302, r.text);
  assert.equal(typeof r.json, 'string');
  assert.equal(r.headers.get('location'), r.json);
  const location = new URL(r.json);
  assert.equal(location.searchParams.get('state'), state);

  // Token with the document's form fields (the secret in the Basic header, as registered).
  r = await http('POST', '/token', {
    form: {
      grant_type: 'authorization_code',
      code: location.searchParams.get('code'),
      redirect_uri: redirect,
      client_id: client.client_id,
    },
    headers: { authorization: basic(client.client_id, client.client_secret) },
  });
  assert.equal(r.status, 200, r.text);
  assertShape('token response', r.json, TOKEN);
  assert.equal(r.json.token_type, 'Bearer');
  // A scope is a set (RFC 6749 §3.3): the order of its names carries no meaning.
  assert.deepEqual(r.json.scope.split(' ').sort(), ['email', 'openid', 'profile']);

  r = await http('POST', '/token', {
    form: { grant_type: 'password', username, password: 'correct horse battery', client_id: client.client_id },
    headers: { authorization: basic(client.client_id, client.client_secret) },
  });
  assert.equal(r.status, 200, r.text);
  assertShape('password grant response', r.json, TOKEN);

  // Introspection with the document's JSON body.
  const introspected = await http('POST', '/introspect', { json: { token: r.json.access_token }, headers: admin() });
  assert.equal(introspected.status, 200);
  assertShape('introspection', introspected.json, INTROSPECTION);
  assert.equal(introspected.json.active, true);
  assert.equal(introspected.json.username, username);
});

test('contract: the OpenAPI document states scopes as a string in every client schema', async () => {
  const doc = (await http('GET', '/openapi.json')).json;
  const ref = (s) => (s.$ref ? doc.components.schemas[s.$ref.split('/').pop()] : s);
  const bodies = [
    ref(doc.paths['/clients'].post.requestBody.content['application/json'].schema),
    ref(doc.paths['/clients/{client_id}'].put.requestBody.content['application/json'].schema),
    ref(doc.paths['/clients'].post.responses['201'].content['application/json'].schema),
    ref(doc.paths['/clients/{client_id}'].get.responses['200'].content['application/json'].schema),
    ref(doc.paths['/clients'].get.responses['200'].content['application/json'].schema.items),
  ];
  for (const s of bodies) assert.equal(s.properties.scopes.type, 'string', JSON.stringify(s.properties.scopes));
  assert.ok(doc.paths['/.well-known/oauth-authorization-server'].get);
});
