// Key rotation as an operator does it: a second worker on the same D1/KV state starts with a
// new JWT_SIGNING_KEY and the old public key in JWT_PREVIOUS_KEYS. Tokens signed before the
// rotation keep verifying there, the JWKS publishes both keys, and new tokens use the new kid.
// The new key is given as a PKCS#8 PEM (as `openssl genpkey` or a key manager exports it), which
// the Worker reads with WebCrypto; the first worker's key is a JWK.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, createPublicKey, verify } from 'node:crypto';
import { BOOTSTRAP, registerUser, createClient, token, decodeJwt, basic, startSecondWorker } from './helpers.mjs';

let second;
after(() => {
  if (second)
    try {
      process.kill(-second.pid, 'SIGTERM');
    } catch {}
});

test('rotation to a PEM key: old tokens verify under the new key set; the JWKS serves both keys', async () => {
  const user = await registerUser();
  const client = await createClient();
  const before = await token(client, { grant_type: 'password', username: user.username, password: user.password, scope: 'openid profile' });
  assert.equal(before.status, 200);
  const oldKid = decodeJwt(before.json.access_token).header.kid;

  const previous = execFileSync(process.execPath, ['scripts/ops.mjs', 'keys', 'public', '-'], {
    input: process.env.E2E_SIGNING_KEY,
    encoding: 'utf8',
  }).trim();
  const fresh = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).trim();
  const freshPublic = JSON.parse(
    execFileSync(process.execPath, ['scripts/ops.mjs', 'keys', 'public', '-'], { input: fresh, encoding: 'utf8' }),
  );
  // The rotated worker: same issuer and state, as after a real rotation of one deployment.
  const started = await startSecondWorker(
    `JWT_SIGNING_KEY='${fresh}'\nJWT_PREVIOUS_KEYS='[${previous}]'\nBOOTSTRAP_ADMIN_TOKEN='${BOOTSTRAP}'\n`,
  );
  second = started.child;
  const base2 = started.base;
  const jwks = await (await fetch(`${base2}/.well-known/jwks.json`)).json();
  assert.equal(jwks.keys.length, 2);
  assert.ok(
    jwks.keys.some((k) => k.kid === oldKid),
    'the previous key is still published',
  );
  // The token signed with the old key still works at the rotated worker.
  const info = await fetch(`${base2}/userinfo`, { headers: { authorization: `Bearer ${before.json.access_token}` } });
  assert.equal(info.status, 200);
  // New tokens carry the new kid.
  const after = await fetch(`${base2}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.client_id, client.client_secret) },
    body: 'grant_type=client_credentials',
  });
  const issued = (await after.json()).access_token;
  const newKid = decodeJwt(issued).header.kid;
  assert.notEqual(newKid, oldKid);
  // The PEM's key signs: its kid is the thumbprint of the PEM's public key, and the signature
  // verifies with the public key the JWKS publishes under that kid.
  assert.equal(newKid, freshPublic.kid);
  const published = jwks.keys.find((k) => k.kid === newKid);
  assert.deepEqual([published.x, published.y], [freshPublic.x, freshPublic.y]);
  const [h, p, sig] = issued.split('.');
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: published.x, y: published.y }, format: 'jwk' });
  assert.ok(verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig, 'base64url')));
  process.kill(-second.pid, 'SIGTERM');
  second = undefined;
});
