// Records real WebAuthn ceremonies from headless Chromium's virtual authenticator (Chrome DevTools
// Protocol, WebAuthn domain) as test fixtures for src/webauthn/: for each case a registration
// (navigator.credentials.create) and two assertions (navigator.credentials.get) with fixed
// challenges, saved as base64url under src/webauthn/testdata/.
//
// Rerun (from the repository root, after `npm ci`):
//     node scripts/record-webauthn.mjs
// CHROMIUM_PATH overrides the browser (default /usr/bin/chromium, Debian's package, as the e2e
// tests use). Each run makes new keys, so every fixture file changes; the Rust tests read
// whatever is recorded. The origin's port is chosen by the OS and recorded with the rest.
import { createServer } from 'node:http';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'webauthn', 'testdata');

// Fixed challenges (32 bytes each), so a fixture says which challenge it answers.
const challenge = (label) => Buffer.from(label.padEnd(32, '.')).toString('base64url');
const CASES = [
  {
    file: 'chromium-es256-none.json',
    note: 'ES256 (-7), attestation conveyance "none"',
    algs: [-7],
    attestation: 'none',
  },
  {
    file: 'chromium-rs256-none.json',
    note: 'RS256 (-257), attestation conveyance "none"',
    algs: [-257],
    attestation: 'none',
  },
  {
    file: 'chromium-es256-direct.json',
    note: 'ES256 (-7), attestation conveyance "direct" (a real attestation statement, which the verifier accepts unverified)',
    algs: [-7],
    attestation: 'direct',
  },
];

// Runs in the page: one registration and two assertions, everything as base64url.
async function ceremony({ rpId, algs, attestation, regChallenge, getChallenges }) {
  const b64 = (buf) =>
    btoa(String.fromCharCode(...new Uint8Array(buf)))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
  const bytes = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const created = await navigator.credentials.create({
    publicKey: {
      rp: { id: rpId, name: 'edge-oidc fixtures' },
      user: { id: new TextEncoder().encode('user-0001'), name: 'alice@example.com', displayName: 'Alice' },
      challenge: bytes(regChallenge),
      pubKeyCredParams: algs.map((alg) => ({ type: 'public-key', alg })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      attestation,
      timeout: 10000,
    },
  });
  const registration = {
    challenge: regChallenge,
    credential_id: b64(created.rawId),
    client_data_json: b64(created.response.clientDataJSON),
    attestation_object: b64(created.response.attestationObject),
    public_key_algorithm: created.response.getPublicKeyAlgorithm(),
  };
  const assertions = [];
  for (const c of getChallenges) {
    const got = await navigator.credentials.get({
      publicKey: {
        rpId,
        challenge: bytes(c),
        allowCredentials: [{ type: 'public-key', id: created.rawId }],
        userVerification: 'required',
        timeout: 10000,
      },
    });
    assertions.push({
      challenge: c,
      credential_id: b64(got.rawId),
      client_data_json: b64(got.response.clientDataJSON),
      authenticator_data: b64(got.response.authenticatorData),
      signature: b64(got.response.signature),
      user_handle: got.response.userHandle ? b64(got.response.userHandle) : null,
    });
  }
  return { registration, assertions };
}

const server = createServer((_req, res) => {
  res.setHeader('content-type', 'text/html');
  res.end('<!doctype html><title>WebAuthn fixtures</title><h1>WebAuthn fixtures</h1>');
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://localhost:${server.address().port}`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  mkdirSync(OUT, { recursive: true });
  for (const c of CASES) {
    // A fresh context and virtual authenticator per case: each credential on its own device.
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${origin}/`);
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    const result = await page.evaluate(ceremony, {
      rpId: 'localhost',
      algs: c.algs,
      attestation: c.attestation,
      regChallenge: challenge('edge-oidc registration'),
      getChallenges: [challenge('edge-oidc assertion 1'), challenge('edge-oidc assertion 2')],
    });
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    const fixture = {
      comment: `Recorded by scripts/record-webauthn.mjs from Chromium ${await browser.version()}'s virtual authenticator (CTAP2, internal transport, user verification): ${c.note}.`,
      rp_id: 'localhost',
      origin,
      ...result,
      authenticator_sign_count_after: credentials[0]?.signCount ?? null,
    };
    writeFileSync(join(OUT, c.file), `${JSON.stringify(fixture, null, 2)}\n`);
    console.log(`${c.file}: alg ${result.registration.public_key_algorithm}, ${result.assertions.length} assertions`);
    await context.close();
  }
} finally {
  await browser.close();
  server.close();
}
