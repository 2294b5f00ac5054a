// What bench/run.mjs and bench/ab.mjs both set up on a running edge-oidc worker before they
// measure its token endpoint.

export const form = (o) => new URLSearchParams(o).toString();
export const basic = (id, secret) => 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');

/** A form POST; resolves to `{ status, text, json }` (`json` undefined when the body is not JSON). */
export async function post(url, body, headers) {
  const r = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
  const text = await r.text();
  return {
    status: r.status,
    text,
    json: (() => {
      try {
        return JSON.parse(text);
      } catch {
        return undefined;
      }
    })(),
  };
}

/**
 * On the worker at `base` (admin API through `adminToken`): a confidential client for the code,
 * refresh and client_credentials grants, a user signed in once (its session cookie), and
 * `newCode()`, which has /authorize issue a code for that session: no password check per code.
 * Resolves to `{ auth, redirect, newCode, exchange(code) }` (`auth`: the client's Basic header).
 */
export async function codeClient(base, adminToken) {
  const admin = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const redirect = 'https://client.example/cb';
  const client = await (
    await fetch(`${base}/clients`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({
        client_name: 'bench',
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
        redirect_uris: [redirect],
        scopes: ['openid', 'profile', 'api:read'],
      }),
    })
  ).json();
  const auth = { authorization: basic(client.client_id, client.client_secret) };
  const user = { username: 'bench' + Date.now(), password: 'correct horse battery' };
  await fetch(`${base}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...user, email: `${user.username}@example.com` }),
  });
  const login = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form({ ...user, redirect, state: 's', client_id: client.client_id, scope: 'openid profile' }),
  });
  const cookie = login.headers.get('set-cookie').split(';')[0];
  const authorizeUrl = `${base}/authorize?${form({ response_type: 'code', client_id: client.client_id, redirect_uri: redirect, scope: 'openid profile', state: 's' })}`;
  async function newCode() {
    const r = await fetch(authorizeUrl, { headers: { cookie }, redirect: 'manual' });
    return new URL(r.headers.get('location')).searchParams.get('code');
  }
  const exchange = (code) => post(`${base}/token`, form({ grant_type: 'authorization_code', code, redirect_uri: redirect }), auth);
  return { auth, redirect, newCode, exchange };
}
