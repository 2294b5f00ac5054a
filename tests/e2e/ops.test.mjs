// The operator commands of scripts/ops.mjs, run as an operator would, against the worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http, BASE, BOOTSTRAP, uniq, bearer, basic } from './helpers.mjs';

const ops = (args, input) =>
  new Promise((resolve, reject) => {
    const child = execFile(process.execPath, ['scripts/ops.mjs', ...args], { encoding: 'utf8' }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve({ stdout, stderr }),
    );
    if (input !== undefined) {
      child.stdin.end(input);
    }
  });

test('ops bootstrap: the first admin and client, made with the bootstrap token, work', async () => {
  const admin = uniq('root');
  const redirect = 'https://console.example.com/callback';
  const { stdout } = await ops([
    'bootstrap',
    '--url',
    BASE,
    '--token',
    BOOTSTRAP,
    '--admin-username',
    admin,
    '--redirect-uri',
    redirect,
    '--client-name',
    'Console',
  ]);
  const out = JSON.parse(stdout);
  assert.equal(out.admin.username, admin);
  assert.ok(out.admin.password && out.client.client_id && out.client.client_secret);
  // The admin signs in through the new client and manages clients with the token.
  const login = await http('POST', '/login', {
    form: { username: admin, password: out.admin.password, redirect, state: 's', client_id: out.client.client_id },
    headers: { accept: 'application/json' },
  });
  assert.equal(login.status, 200, login.text);
  const code = new URL(login.json).searchParams.get('code');
  const t = await http('POST', '/token', {
    form: { grant_type: 'authorization_code', code, redirect_uri: redirect },
    headers: { authorization: basic(out.client.client_id, out.client.client_secret) },
  });
  assert.equal(t.status, 200, t.text);
  // That ordinary sign-in is not an admin credential...
  assert.equal((await http('GET', '/clients', { headers: bearer(t.json.access_token) })).status, 403);
  // ...the admin token from `ops admin-token` (the administration client, the admin scope) is.
  const { stdout: tokenOut } = await ops(
    [
      'admin-token',
      '--url',
      BASE,
      '--client-id',
      out.admin_client.client_id,
      '--client-secret',
      out.admin_client.client_secret,
      '--username',
      admin,
    ],
    out.admin.password + '\n',
  );
  const adminToken = JSON.parse(tokenOut).access_token;
  const list = await http('GET', '/clients', { headers: bearer(adminToken) });
  assert.equal(list.status, 200);
  assert.ok(list.json.some((c) => c.client_id === out.client.client_id));
  // A user who is not an administrator gets no admin token from it.
  const plain = uniq('plain');
  await http('POST', '/register', { json: { username: plain, email: `${plain}@example.com`, password: 'password123' } });
  await assert.rejects(
    ops([
      'admin-token',
      '--url',
      BASE,
      '--client-id',
      out.admin_client.client_id,
      '--client-secret',
      out.admin_client.client_secret,
      '--username',
      plain,
      '--password',
      'password123',
    ]),
    /not an administrator/,
  );
});

test('ops keys: public JWK and kid match what the server publishes; rotation keeps the old key', async () => {
  const { stdout } = await ops(['keys', 'public', '-'], process.env.E2E_SIGNING_KEY);
  const pub = JSON.parse(stdout);
  const jwks = (await http('GET', '/.well-known/jwks.json')).json;
  assert.deepEqual(jwks.keys[0], pub);

  const dir = mkdtempSync(join(tmpdir(), 'ops-'));
  const file = join(dir, '.dev.vars');
  writeFileSync(file, `JWT_SIGNING_KEY='${process.env.E2E_SIGNING_KEY}'\nBOOTSTRAP_ADMIN_TOKEN='x'\n`);
  await ops(['keys', 'rotate-dev', '--file', file]);
  const text = readFileSync(file, 'utf8');
  const signing = text.match(/^JWT_SIGNING_KEY='(.*)'$/m)[1];
  const previous = JSON.parse(text.match(/^JWT_PREVIOUS_KEYS='(.*)'$/m)[1]);
  assert.notEqual(signing, process.env.E2E_SIGNING_KEY);
  assert.deepEqual(previous, [pub]);
  assert.match(text, /^BOOTSTRAP_ADMIN_TOKEN='x'$/m);
  const { stdout: fresh } = await ops(['keys', 'new']);
  const jwk = JSON.parse(fresh);
  assert.equal(jwk.kty, 'EC');
  assert.equal(jwk.crv, 'P-256');
  assert.ok(jwk.d);
});
