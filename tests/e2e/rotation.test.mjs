// Key rotation as an operator does it: a second worker on the same D1/KV state starts with a
// new JWT_SIGNING_KEY and the old public key in JWT_PREVIOUS_KEYS. Tokens signed before the
// rotation keep verifying there, the JWKS publishes both keys, and new tokens use the new kid.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { BASE, BOOTSTRAP, registerUser, createClient, token, decodeJwt } from './helpers.mjs';

let second;
after(() => { if (second) try { process.kill(-second.pid, 'SIGTERM'); } catch {} });

const freePort = () => new Promise((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }); });

test('rotation: old tokens verify under the new key set; the JWKS serves both keys', async () => {
  const user = await registerUser();
  const client = await createClient();
  const before = await token(client, { grant_type: 'password', username: user.username, password: user.password, scope: 'openid profile' });
  assert.equal(before.status, 200);
  const oldKid = decodeJwt(before.json.access_token).header.kid;

  const previous = execFileSync(process.execPath, ['scripts/ops.mjs', 'keys', 'public', '-'], { input: process.env.E2E_SIGNING_KEY, encoding: 'utf8' }).trim();
  const fresh = execFileSync(process.execPath, ['scripts/ops.mjs', 'keys', 'new'], { encoding: 'utf8' }).trim();
  const dir = mkdtempSync(join(tmpdir(), 'rotation-'));
  const vars = join(dir, 'vars');
  writeFileSync(vars, `JWT_SIGNING_KEY='${fresh}'\nJWT_PREVIOUS_KEYS='[${previous}]'\nBOOTSTRAP_ADMIN_TOKEN='${BOOTSTRAP}'\n`);
  const port = await freePort();
  // Same issuer as the first worker, as after a real rotation of one deployment.
  second = spawn('node_modules/.bin/wrangler', ['dev', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', process.env.E2E_PERSIST,
    '--env-file', vars, '--var', `ISSUER:${BASE}`, '--show-interactive-dev-session=false'], { detached: true, stdio: 'ignore', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } });
  const base2 = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    try { if ((await fetch(`${base2}/health`)).status === 200) break; } catch {}
    if (Date.now() > deadline) throw new Error('the rotated worker did not start');
    await new Promise((r) => setTimeout(r, 300));
  }
  const jwks = await (await fetch(`${base2}/.well-known/jwks.json`)).json();
  assert.equal(jwks.keys.length, 2);
  assert.ok(jwks.keys.some((k) => k.kid === oldKid), 'the previous key is still published');
  // The token signed with the old key still works at the rotated worker.
  const info = await fetch(`${base2}/userinfo`, { headers: { authorization: `Bearer ${before.json.access_token}` } });
  assert.equal(info.status, 200);
  // New tokens carry the new kid.
  const after = await fetch(`${base2}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded',
    authorization: 'Basic ' + Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64') }, body: 'grant_type=client_credentials' });
  const newKid = decodeJwt((await after.json()).access_token).header.kid;
  assert.notEqual(newKid, oldKid);
  assert.ok(jwks.keys.some((k) => k.kid === newKid));
  process.kill(-second.pid, 'SIGTERM');
  second = undefined;
});
