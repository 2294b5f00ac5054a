#!/usr/bin/env node
// Operator commands. Run `node scripts/ops.mjs help` (or `npm run ops -- help`).
//
//   keys new [--rsa]             print a new ES256 private JWK (for JWT_SIGNING_KEY), or with
//                                --rsa a 2048-bit RSA private JWK (for JWT_RS256_KEY)
//   keys public [FILE|-]         print the public JWK (with its RFC 7638 kid) of a private key
//                                given as JWK or PKCS#8 PEM (for JWT_PREVIOUS_KEYS)
//   keys rotate-dev [--file F]   rotate .dev.vars (or F): new JWT_SIGNING_KEY, old public key
//                                kept in JWT_PREVIOUS_KEYS so tokens it signed still verify
//   bootstrap [--url U] [--token T] [--admin-username N] [--admin-email E] [--admin-password P]
//             [--client-name C] [--redirect-uri R] [--public]
//                                create the first admin user, a client, and the administration
//                                client (password grant, `admin` scope) through the API,
//                                authenticated with the bootstrap token (default: .dev.vars)
//   admin-token --url U --client-id ID --client-secret S --username N [--password P]
//                                print an admin access token (the `admin` scope) for the admin
//                                user, through the administration client; the password comes
//                                from --password, else ADMIN_PASSWORD, else standard input
//   users list [--q PREFIX] [--limit N]   list users (all pages; --q: username or email prefix)
//   users show ID|USERNAME                 one user
//   users disable|enable|delete ID|USERNAME
//   users set-role ID|USERNAME ROLE
//   users remove-totp ID|USERNAME  remove a user's authenticator app (lost phone and codes)
//                                user administration through the API; every `users` command
//                                takes --url U and an admin bearer in --token T or ADMIN_TOKEN
//                                (from `admin-token`, or the bootstrap token)
//   migrate --local|--remote     apply the D1 migrations
import { createPrivateKey, createPublicKey, createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newSigningJwk, newRs256Jwk, formatVars } from './gen-dev-vars.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const devVarsPath = join(root, '.dev.vars');

function fail(msg) {
  console.error(`ops: ${msg}`);
  process.exit(1);
}

function parseArgs(argv) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const [k, v] = a.slice(2).split(/=(.*)/s);
      out[k] = v !== undefined ? v : argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : true;
    } else out._.push(a);
  }
  return out;
}

/** .dev.vars as an object (dotenv syntax with single-quoted values, as written by this repo). */
export function readDevVars(path = devVarsPath) {
  if (!existsSync(path)) return {};
  const vars = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = line.match(/^([A-Z0-9_]+)=(?:'(.*)'|"(.*)"|(.*))$/);
    if (m) vars[m[1]] = m[2] ?? m[3] ?? m[4];
  }
  return vars;
}

/** The public JWK of a private key (JWK JSON or PKCS#8 PEM), with kid = RFC 7638 thumbprint. */
export function publicJwk(privateText) {
  const text = privateText.trim();
  const key = text.startsWith('{') ? createPrivateKey({ key: JSON.parse(text), format: 'jwk' }) : createPrivateKey(text);
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') fail('the key is not an EC P-256 key');
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  const kid = createHash('sha256').update(canonical).digest('base64url');
  return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid, use: 'sig', alg: 'ES256' };
}

function readInput(file) {
  if (!file || file === '-') return readFileSync(0, 'utf8');
  return readFileSync(file, 'utf8');
}

async function api(base, path, { token, json, method = 'POST' }) {
  const res = await fetch(new URL(path, base), {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const body = res.status === 204 ? {} : await res.json().catch(() => ({}));
  if (!res.ok) fail(`${path}: ${res.status} ${body.error ?? ''} ${body.error_description ?? ''}`.trim());
  return body;
}

async function users(args) {
  const base = args.url ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;
  const token = args.token ?? process.env.ADMIN_TOKEN ?? readDevVars().BOOTSTRAP_ADMIN_TOKEN;
  if (!token) fail('users: pass --token (an admin access token or the bootstrap token) or set ADMIN_TOKEN');
  const [, action, who, role] = args._;
  const get = (path) => api(base, path, { token, method: 'GET' });
  // A user named by id or by username (an exact username match through the prefix search).
  const find = async (nameOrId) => {
    if (!nameOrId) fail(`users ${action} needs a user id or username`);
    const page = await get(`/users?${new URLSearchParams({ q: nameOrId, limit: '200' })}`);
    const byName = page.users.find((u) => u.username.toLowerCase() === nameOrId.toLowerCase());
    return byName ?? (await get(`/users/${encodeURIComponent(nameOrId)}`));
  };
  const print = (v) => console.log(JSON.stringify(v, null, 2));
  switch (action) {
    case 'list': {
      const all = [];
      let cursor;
      do {
        const q = new URLSearchParams({
          limit: String(args.limit ?? 200),
          ...(args.q ? { q: args.q } : {}),
          ...(cursor ? { cursor } : {}),
        });
        const page = await get(`/users?${q}`);
        all.push(...page.users);
        cursor = page.next_cursor;
      } while (cursor && !args.limit);
      print(all);
      break;
    }
    case 'show':
      print(await find(who));
      break;
    case 'disable':
    case 'enable': {
      const u = await find(who);
      print(await api(base, `/users/${u.id}`, { token, method: 'PATCH', json: { disabled: action === 'disable' } }));
      break;
    }
    case 'set-role': {
      if (!role) fail('users set-role needs a role');
      const u = await find(who);
      print(await api(base, `/users/${u.id}`, { token, method: 'PATCH', json: { role } }));
      break;
    }
    case 'remove-totp': {
      const u = await find(who);
      print(await api(base, `/users/${u.id}`, { token, method: 'PATCH', json: { totp: false } }));
      break;
    }
    case 'delete': {
      const u = await find(who);
      await api(base, `/users/${u.id}`, { token, method: 'DELETE' });
      console.error(`deleted ${u.username} (${u.id})`);
      break;
    }
    default:
      fail('users: list, show, disable, enable, delete, set-role or remove-totp');
  }
}

async function bootstrap(args) {
  const dev = readDevVars();
  const base = args.url ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;
  const token = args.token ?? process.env.BOOTSTRAP_ADMIN_TOKEN ?? dev.BOOTSTRAP_ADMIN_TOKEN;
  if (!token) fail('no bootstrap token: pass --token or set BOOTSTRAP_ADMIN_TOKEN');
  const username = args['admin-username'] ?? 'admin';
  const email = args['admin-email'] ?? `${username}@example.com`;
  const password = args['admin-password'] ?? randomBytes(18).toString('base64url');
  const user = await api(base, '/register', { token, json: { username, email, password, role: 'admin' } });
  const redirect = args['redirect-uri'];
  const client = await api(base, '/clients', {
    token,
    json: {
      client_name: args['client-name'] ?? 'First client',
      client_type: args.public ? 'public' : 'confidential',
      grant_types: redirect ? ['authorization_code', 'refresh_token'] : ['client_credentials'],
      ...(redirect ? { redirect_uris: [redirect] } : {}),
      ...(args.public ? { token_endpoint_auth_method: 'none' } : {}),
    },
  });
  // Admin credentials are tokens with the `admin` scope, granted only through a client
  // registered with it: this one, for `npm run ops -- admin-token`.
  const adminClient = await api(base, '/clients', {
    token,
    json: { client_name: 'Administration (npm run ops)', client_type: 'confidential', grant_types: ['password'], scopes: 'admin' },
  });
  const out = {
    issuer: base,
    admin: { id: user.id, username, email, ...(args['admin-password'] ? {} : { password }) },
    client: {
      client_id: client.client_id,
      ...(client.client_secret ? { client_secret: client.client_secret } : {}),
      grant_types: client.grant_types,
      redirect_uris: client.redirect_uris,
    },
    admin_client: { client_id: adminClient.client_id, client_secret: adminClient.client_secret },
  };
  console.log(JSON.stringify(out, null, 2));
  console.error('Store these now: the password and client secret are not shown again. Then delete BOOTSTRAP_ADMIN_TOKEN.');
}

async function adminToken(args) {
  const base = args.url ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;
  for (const k of ['client-id', 'client-secret', 'username']) if (!args[k]) fail(`admin-token needs --${k}`);
  const password = args.password ?? process.env.ADMIN_PASSWORD ?? readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  // RFC 6749 §2.3.1: id and secret are form-urlencoded before base64.
  const basic = Buffer.from(`${encodeURIComponent(args['client-id'])}:${encodeURIComponent(args['client-secret'])}`).toString('base64');
  const res = await fetch(new URL('/token', base), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
    body: new URLSearchParams({ grant_type: 'password', username: args.username, password, scope: 'admin' }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) fail(`/token: ${res.status} ${body.error ?? ''} ${body.error_description ?? ''}`.trim());
  if (!(body.scope ?? '').split(' ').includes('admin')) fail(`${args.username} is not an administrator (the admin scope was not granted)`);
  console.log(JSON.stringify({ access_token: body.access_token, expires_in: body.expires_in }));
}

function rotateDev(file = devVarsPath) {
  const vars = readDevVars(file);
  if (!vars.JWT_SIGNING_KEY) fail('.dev.vars has no JWT_SIGNING_KEY (run npm start once)');
  const previous = vars.JWT_PREVIOUS_KEYS ? JSON.parse(vars.JWT_PREVIOUS_KEYS) : [];
  const old = publicJwk(vars.JWT_SIGNING_KEY);
  vars.JWT_PREVIOUS_KEYS = JSON.stringify([old, ...previous.filter((k) => k.kid !== old.kid)]);
  vars.JWT_SIGNING_KEY = newSigningJwk();
  writeFileSync(file, '# Development secrets. Never commit.\n' + formatVars(vars), { mode: 0o600 });
  console.error(`rotated: new kid ${publicJwk(vars.JWT_SIGNING_KEY).kid}; ${old.kid} kept for verification`);
}

function migrate(args) {
  const where = args.remote ? '--remote' : args.local ? '--local' : fail('say --local or --remote');
  const r = spawnSync(join(root, 'node_modules', '.bin', 'wrangler'), ['d1', 'migrations', 'apply', 'DB', where], {
    stdio: 'inherit',
    cwd: root,
  });
  process.exit(r.status ?? 1);
}

const args = parseArgs(process.argv.slice(2));
const [cmd, sub] = args._;
switch (`${cmd} ${sub ?? ''}`.trim()) {
  case 'keys new':
    console.log(args.rsa ? newRs256Jwk() : newSigningJwk());
    break;
  case 'keys public':
    console.log(JSON.stringify(publicJwk(readInput(args._[2]))));
    break;
  case 'keys rotate-dev':
    rotateDev(args.file);
    break;
  case 'bootstrap':
    await bootstrap(args);
    break;
  case 'admin-token':
    await adminToken(args);
    break;
  case 'users list':
  case 'users show':
  case 'users disable':
  case 'users enable':
  case 'users delete':
  case 'users set-role':
  case 'users remove-totp':
    await users(args);
    break;
  case 'migrate':
    migrate(args);
    break;
  default:
    {
      const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8')
        .split('\n')
        .slice(1);
      const header = lines.slice(
        0,
        lines.findIndex((l) => !l.startsWith('//')),
      );
      console.log(header.map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
    }
    if (cmd && cmd !== 'help') process.exit(1);
}
