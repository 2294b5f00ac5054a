// Abuse, races and hostile input: brute-force lockout, forged tokens, concurrent redemptions,
// refreshes and registrations, malformed input, and the expired-data clean-up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  http,
  BASE,
  admin,
  bearer,
  basic,
  b64url,
  uniq,
  registerUser,
  createClient,
  login,
  token,
  pkce,
  decodeJwt,
  d1,
  randomAddress,
  withinOneRateWindow,
  verifyWithJwks,
} from './helpers.mjs';

test('brute force: five failures lock the account (known or not) for that address only, with 429 and Retry-After', async () => {
  const user = await registerUser();
  const client = await createClient();
  for (const username of [user.username, uniq('ghost')]) {
    const attacker = randomAddress();
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      const r = await token(client, { grant_type: 'password', username, password: 'wrong password' }, { address: attacker });
      statuses.push(r.status);
      if (i === 4) {
        assert.equal(r.json.error, 'rate_limited');
        assert.ok(Number(r.headers.get('retry-after')) >= 60, 'the first lock is a minute');
      }
    }
    assert.deepEqual(statuses, [400, 400, 400, 400, 429]);
    // Locked for that address: even the right password is refused, at /token and at /login.
    const t = await token(client, { grant_type: 'password', username, password: user.password }, { address: attacker });
    assert.equal(t.status, 429);
    const l = await http('POST', '/login', {
      form: { username, password: user.password, redirect: client.redirect_uris[0], state: 's', client_id: client.client_id },
      headers: { 'cf-connecting-ip': attacker },
    });
    assert.equal(l.status, 429);
    assert.ok(Number(l.headers.get('retry-after')) > 0);
    assert.match(l.text, /Too many failed sign-in attempts/);
  }
  // The owner, at another address, is not locked out of their own account.
  assert.equal(
    (await token(client, { grant_type: 'password', username: user.username, password: user.password }, { address: randomAddress() }))
      .status,
    200,
  );
});

test('brute force: a burst of concurrent guesses gets exactly the budget, however the requests race', async () => {
  const user = await registerUser();
  const client = await createClient();
  const attacker = randomAddress();
  // 30 concurrent wrong guesses from one address: each attempt is reserved atomically before
  // the password is checked, so exactly five are checked (the fifth earns the lock and says so).
  const results = await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      token(client, { grant_type: 'password', username: user.username, password: `wrong-${i}` }, { address: attacker }),
    ),
  );
  const statuses = results.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 400).length, 4, statuses.join(','));
  assert.equal(statuses.filter((s) => s === 429).length, 26, statuses.join(','));
  for (const r of results.filter((r) => r.status === 429)) assert.ok(Number(r.headers.get('retry-after')) > 0);
  // The right password from that address is refused now; its owner elsewhere signs in.
  assert.equal(
    (await token(client, { grant_type: 'password', username: user.username, password: user.password }, { address: attacker })).status,
    429,
  );
  assert.equal(
    (await token(client, { grant_type: 'password', username: user.username, password: user.password }, { address: randomAddress() }))
      .status,
    200,
  );
});

test('password spraying: one address is limited across accounts; registrations per address too', async () => {
  const client = await createClient();
  const sprayer = randomAddress();
  await withinOneRateWindow(25);
  const statuses = [];
  for (let i = 0; i < 22; i++) {
    statuses.push(
      (await token(client, { grant_type: 'password', username: uniq('victim'), password: 'Summer2026!' }, { address: sprayer })).status,
    );
  }
  assert.deepEqual(statuses.slice(0, 20), Array(20).fill(400), statuses.join(','));
  assert.deepEqual(statuses.slice(20), [429, 429]);
  const other = await token(client, { grant_type: 'password', username: uniq('victim'), password: 'x' }, { address: randomAddress() });
  assert.equal(other.status, 400, 'another address is not limited');

  const registrar = randomAddress();
  await withinOneRateWindow(15);
  const regs = [];
  for (let i = 0; i < 11; i++) {
    const username = uniq('bot');
    regs.push(
      await http('POST', '/register', {
        json: { username, email: `${username}@example.com`, password: 'password123' },
        headers: { 'cf-connecting-ip': registrar },
      }),
    );
  }
  assert.deepEqual(
    regs.map((r) => r.status),
    [...Array(10).fill(201), 429],
  );
  assert.equal(regs[10].json.error, 'rate_limited');
  assert.ok(Number(regs[10].headers.get('retry-after')) > 0);
});

test('forged, alg:none, foreign-key and tampered tokens are refused everywhere', async () => {
  const user = await registerUser();
  const client = await createClient();
  const t = await token(client, { grant_type: 'password', username: user.username, password: user.password, scope: 'openid profile' });
  const { header, payload } = decodeJwt(t.json.access_token);
  const [h, , sig] = t.json.access_token.split('.');
  const adminPayload = b64url(JSON.stringify({ ...payload, role: 'admin' }));
  const forged = [
    `${h}.${adminPayload}.${sig}`,
    `${b64url(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: header.kid }))}.${adminPayload}.`,
    `${b64url(JSON.stringify({ ...header, alg: 'HS256' }))}.${adminPayload}.${sig}`,
    `${b64url(JSON.stringify({ ...header, kid: 'other' }))}.${adminPayload}.${sig}`,
    `${h}.${adminPayload}`,
  ];
  for (const f of forged) {
    assert.equal((await http('GET', '/clients', { headers: bearer(f) })).status, 401);
    assert.equal((await http('GET', '/userinfo', { headers: bearer(f) })).status, 401);
    const i = await http('POST', '/introspect', { form: { token: f }, headers: admin() });
    assert.deepEqual(i.json, { active: false });
  }
  // An ID token is not an access token.
  assert.equal((await http('GET', '/userinfo', { headers: bearer(t.json.id_token) })).status, 401);
});

test('ES256 signed and checked by WebCrypto: tokens verify with the JWKS; the high-s twin of a signature is accepted too, a changed one is not', async () => {
  const user = await registerUser();
  const client = await createClient();
  const t = await token(client, { grant_type: 'password', username: user.username, password: user.password, scope: 'openid' });
  assert.equal(t.status, 200);
  assert.ok(await verifyWithJwks(t.json.access_token));
  assert.ok(await verifyWithJwks(t.json.id_token));
  // RFC 7518 plain ECDSA: (r, s) and (r, n - s) are both valid; this server accepts both (it keys
  // nothing by signature bytes), whichever verifier runs.
  const n = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
  const [h, p, sig] = t.json.access_token.split('.');
  const raw = Buffer.from(sig, 'base64url');
  const s = BigInt('0x' + raw.subarray(32).toString('hex'));
  const twin = Buffer.concat([raw.subarray(0, 32), Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex')]);
  assert.equal((await http('GET', '/userinfo', { headers: bearer(`${h}.${p}.${twin.toString('base64url')}`) })).status, 200);
  const changed = Buffer.from(raw);
  changed[63] ^= 1;
  assert.equal((await http('GET', '/userinfo', { headers: bearer(`${h}.${p}.${changed.toString('base64url')}`) })).status, 401);
  assert.equal((await http('GET', '/userinfo', { headers: bearer(t.json.access_token) })).status, 200);
});

test('race: 20 concurrent redemptions of one code, exactly one wins', async () => {
  const user = await registerUser();
  const client = await createClient();
  const p = pkce();
  const { code } = await login(client, user, { challenge: p.challenge });
  const form = { grant_type: 'authorization_code', code, redirect_uri: client.redirect_uris[0], code_verifier: p.verifier };
  const results = await Promise.all(Array.from({ length: 20 }, () => token(client, form)));
  const ok = results.filter((r) => r.status === 200);
  assert.equal(ok.length, 1, results.map((r) => r.status).join(','));
  for (const r of results.filter((x) => x.status !== 200)) {
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'invalid_grant');
  }
});

test('race: 20 concurrent uses of one refresh token never end the grant; nothing is half-written', async () => {
  const user = await registerUser();
  const client = await createClient();
  const t = await token(client, { grant_type: 'password', username: user.username, password: user.password });
  // Within the reuse interval (docs/API.md "Reuse interval") every one is answered from the family.
  const results = await Promise.all(
    Array.from({ length: 20 }, () => token(client, { grant_type: 'refresh_token', refresh_token: t.json.refresh_token })),
  );
  assert.deepEqual(
    results.map((r) => r.status),
    Array(20).fill(200),
    results.map((r) => r.text).join('\n'),
  );
  assert.equal(new Set(results.map((r) => r.json.refresh_token)).size, 20, 'twenty new refresh tokens');
  const rows = await d1(
    `SELECT status, COUNT(*) AS n FROM refresh_tokens WHERE client_id = '${client.client_id}' GROUP BY status ORDER BY status`,
  );
  assert.deepEqual(
    rows.map((r) => [r.status, r.n]),
    [
      ['active', 20],
      ['rotated', 1],
    ],
    'one rotated, twenty new: nothing half-written, nothing revoked',
  );
});

test('race: 20 concurrent registrations of one username, exactly one wins', async () => {
  const username = uniq('race');
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      http('POST', '/register', { json: { username, email: `${username}-${i}@example.com`, password: 'password123' } }),
    ),
  );
  assert.equal(results.filter((r) => r.status === 201).length, 1, results.map((r) => r.status).join(','));
  for (const r of results.filter((x) => x.status !== 201)) {
    assert.equal(r.status, 409);
    assert.equal(r.json.error, 'conflict');
  }
  const rows = await d1(`SELECT COUNT(*) AS n FROM users WHERE username = '${username}'`);
  assert.equal(rows[0].n, 1);
});

test('a batch of 50 concurrent registrations: all stored and usable', async () => {
  const prefix = uniq('batch');
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      http('POST', '/register', { json: { username: `${prefix}-${i}`, email: `${prefix}-${i}@example.com`, password: `password-${i}` } }),
    ),
  );
  assert.deepEqual([...new Set(results.map((r) => r.status))], [201]);
  const rows = await d1(`SELECT username FROM users WHERE username LIKE '${prefix}-%'`);
  assert.equal(rows.length, 50);
  const client = await createClient();
  for (const i of [0, 17, 49]) {
    const r = await token(client, { grant_type: 'password', username: `${prefix}-${i}`, password: `password-${i}` });
    assert.equal(r.status, 200);
  }
});

test('malformed input across endpoints always gets a 4xx, never a 5xx', async () => {
  const client = await createClient();
  const auth = { authorization: basic(client.client_id, client.client_secret) };
  const raw = (method, path, body, ct, headers = {}) =>
    http(method, path, { body, headers: { ...(ct ? { 'content-type': ct } : {}), ...headers } });
  const cases = [
    () => raw('POST', '/register', '{', 'application/json'),
    () => raw('POST', '/register', '[]', 'application/json'),
    () => raw('POST', '/register', 'null', 'application/json'),
    () => raw('POST', '/register', '{"username":null,"email":1,"password":[]}', 'application/json'),
    () => raw('POST', '/register', '{"username":"a\u0000b","email":"x@example.com","password":"password123"}', 'application/json'),
    () =>
      raw(
        'POST',
        '/register',
        '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[',
        'application/json',
      ),
    () => raw('POST', '/register', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'application/json'),
    () => raw('POST', '/register', 'username=a', 'text/plain'),
    () =>
      raw(
        'POST',
        '/register',
        JSON.stringify({ username: 'u'.repeat(100), email: 'x@example.com', password: 'password123' }),
        'application/json',
      ),
    () =>
      raw(
        'POST',
        '/register',
        JSON.stringify({ username: uniq(), email: 'x@example.com', password: 'p'.repeat(5000) }),
        'application/json',
      ),
    () => raw('POST', '/token', 'grant_type=%ZZ&code=%', 'application/x-www-form-urlencoded', auth),
    () => raw('POST', '/token', Buffer.from('grant_type=client_credentials&scope=%ff%fe'), 'application/x-www-form-urlencoded', auth),
    () => raw('POST', '/token', 'grant_type=client_credentials', 'application/x-www-form-urlencoded', { authorization: 'Basic !!!!' }),
    () =>
      raw('POST', '/token', 'grant_type=client_credentials', 'application/x-www-form-urlencoded', {
        authorization: 'Basic ' + Buffer.from('nocolon').toString('base64'),
      }),
    () =>
      raw(
        'POST',
        '/token',
        'grant_type=authorization_code&code=' + 'x'.repeat(10000) + '&redirect_uri=a',
        'application/x-www-form-urlencoded',
        auth,
      ),
    () => raw('POST', '/token', 'grant_type=refresh_token&refresh_token=' + 'y'.repeat(300), 'application/x-www-form-urlencoded', auth),
    () =>
      raw('POST', '/token', 'grant_type=password&username=' + 'z'.repeat(3000) + '&password=x', 'application/x-www-form-urlencoded', auth),
    () => raw('POST', '/token', 'grant_type=client_credentials&scope=a"b', 'application/x-www-form-urlencoded', auth),
    () => raw('POST', '/token', 'x'.repeat(70 * 1024), 'application/x-www-form-urlencoded', auth),
    () => raw('POST', '/introspect', '{"token":5}', 'application/json', admin()),
    () => raw('POST', '/introspect', 'token_type_hint=access_token', 'application/x-www-form-urlencoded', admin()),
    () => raw('POST', '/revoke', 'token=%', 'application/json', auth),
    () => raw('GET', '/userinfo', undefined, undefined, { authorization: 'Bearer ' + 'a'.repeat(9000) }),
    () => raw('GET', '/userinfo', undefined, undefined, { authorization: 'Bearer a.b' }),
    () => raw('POST', '/clients', '{"client_name":{"x":1}}', 'application/json', admin()),
    () =>
      raw(
        'POST',
        '/clients',
        JSON.stringify({ client_name: 'x', redirect_uris: Array(100).fill('https://a.example.com/cb') }),
        'application/json',
        admin(),
      ),
    () =>
      raw(
        'POST',
        '/clients',
        JSON.stringify({ client_name: 'x', redirect_uris: ['https://a.example.com/\u202ecb'] }),
        'application/json',
        admin(),
      ),
    () => raw('PUT', '/clients/x', 'not json', 'application/json', admin()),
    () => raw('POST', '/login', 'username=a&password=b&redirect=javascript:alert(1)&state=s', 'application/x-www-form-urlencoded'),
    () => raw('POST', '/login', 'username=a&username=b&password=b&redirect=x&state=s', 'application/x-www-form-urlencoded'),
    () => raw('POST', '/login', '{"username":"a"}', 'application/json'),
    () => http('GET', '/authorize?client_id=%ff'),
    () => http('GET', '/authorize?client_id=' + 'c'.repeat(5000) + '&redirect_uri=x'),
    () => http('GET', '/logout?id_token_hint=' + 'a.b.c'),
    () => http('GET', '/logout?post_logout_redirect_uri=https://evil.example.com&client_id=' + client.client_id),
    () => http('GET', '/clients/%00', { headers: admin() }),
  ];
  assert.ok(cases.length >= 30);
  for (const [i, run] of cases.entries()) {
    const r = await run();
    assert.ok(r.status >= 400 && r.status < 500, `case ${i}: ${r.status} ${r.text.slice(0, 200)}`);
  }
});

test('expired rows are deleted by the cron trigger', async () => {
  const past = Math.floor(Date.now() / 1000) - 10;
  const tag = uniq('exp');
  await d1(
    `INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, scope, auth_time, issued_at, expires_at) VALUES ('${tag}', 'f', 'c', 'u', '', 0, 0, ${past})`,
  );
  await d1(`INSERT INTO consumed_codes (code_hash, access_jti, access_exp, expires_at) VALUES ('${tag}', 'j', 0, ${past})`);
  await d1(`INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ('${tag}', ${past})`);
  await d1(`INSERT INTO login_throttle (key, failures, locked_until, updated_at) VALUES ('${tag}', 3, 0, ${past - 2 * 86400})`);
  await d1(`INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ('${tag}-live', ${past + 3600})`);
  const r = await http('GET', '/cdn-cgi/handler/scheduled?cron=17+*+*+*+*');
  assert.equal(r.status, 200);
  const left =
    await d1(`SELECT (SELECT COUNT(*) FROM refresh_tokens WHERE token_hash = '${tag}') + (SELECT COUNT(*) FROM consumed_codes WHERE code_hash = '${tag}')
    + (SELECT COUNT(*) FROM revoked_access_tokens WHERE jti = '${tag}') + (SELECT COUNT(*) FROM login_throttle WHERE key = '${tag}') AS n`);
  assert.equal(left[0].n, 0);
  const live = await d1(`SELECT COUNT(*) AS n FROM revoked_access_tokens WHERE jti = '${tag}-live'`);
  assert.equal(live[0].n, 1, 'unexpired rows stay');
});

test('secrets are never stored in the clear', async () => {
  const user = await registerUser();
  const client = await createClient();
  const t = await token(client, { grant_type: 'password', username: user.username, password: user.password });
  const users = await d1(`SELECT password_hash FROM users WHERE id = '${user.id}'`);
  assert.match(users[0].password_hash, /^\$pbkdf2-sha256\$i=\d+,l=32\$/);
  assert.ok(!users[0].password_hash.includes(user.password));
  const clients = await d1(`SELECT client_secret_hash FROM clients WHERE client_id = '${client.client_id}'`);
  assert.notEqual(clients[0].client_secret_hash, client.client_secret);
  const dump = JSON.stringify(await d1('SELECT * FROM refresh_tokens')) + JSON.stringify(await d1('SELECT * FROM clients'));
  assert.ok(!dump.includes(t.json.refresh_token));
  assert.ok(!dump.includes(client.client_secret));
});

test('logs: one JSON line per request with route, status, duration, request id and client id; never secrets', async () => {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const user = await registerUser({ password: 'log-canary-password-1' });
  const client = await createClient();
  const t = await token(client, { grant_type: 'password', username: user.username, password: user.password });
  assert.equal(t.status, 200);
  const reqId = t.headers.get('x-request-id');
  assert.ok(reqId);
  await http('POST', '/login', {
    form: { username: user.username, password: user.password, redirect: client.redirect_uris[0], state: 's', client_id: client.client_id },
  });
  // wrangler writes the worker's console output asynchronously: wait for the line (up to 10 s).
  let log = '',
    mine;
  for (let i = 0; i < 50 && !mine; i++) {
    await new Promise((r) => setTimeout(r, 200));
    log = readFileSync(join(process.env.E2E_OUTPUT, 'wrangler-dev.log'), 'utf8');
    // The file also holds wrangler's own output, which may interleave with a line: skip those.
    mine = log
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return {};
        }
      })
      .find((l) => l.request_id === reqId);
  }
  assert.ok(mine, 'the token request is logged under its request id');
  assert.equal(mine.route, '/token');
  assert.equal(mine.method, 'POST');
  assert.equal(mine.status, 200);
  assert.equal(mine.client_id, client.client_id);
  assert.equal(typeof mine.duration_ms, 'number');
  for (const secret of [user.password, client.client_secret, t.json.access_token, t.json.refresh_token]) {
    assert.ok(!log.includes(secret), 'a secret reached the log');
  }
});

test('a chunked body without Content-Length is capped at 64 KiB too (read chunk by chunk, never whole)', async () => {
  const chunked = (total) => {
    const piece = new TextEncoder().encode('a'.repeat(8 * 1024));
    let sent = 0;
    return new ReadableStream({
      pull(controller) {
        if (sent >= total) {
          controller.close();
          return;
        }
        controller.enqueue(piece);
        sent += piece.length;
      },
    });
  };
  const post = async (total) => {
    const res = await fetch(new URL('/register', BASE), {
      method: 'POST',
      body: chunked(total),
      duplex: 'half',
      headers: { 'content-type': 'application/json' },
    });
    return { status: res.status, text: await res.text() };
  };
  // 512 KiB in 8 KiB chunks: refused with 413 (kept up to 64 KiB, the rest read and dropped).
  let r = await post(512 * 1024);
  assert.equal(r.status, 413, r.text);
  assert.equal(JSON.parse(r.text).error, 'payload_too_large');
  // A small chunked body is read whole (and refused for what it says, not for its size).
  r = await post(8 * 1024);
  assert.equal(r.status, 400, r.text);
  assert.equal(JSON.parse(r.text).error, 'invalid_request');
});
