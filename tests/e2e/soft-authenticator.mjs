// A software WebAuthn authenticator (ES256, `none` attestation, user present and verified) for
// driving the passkey endpoints without a browser: the benchmark's passkey sign-in, and the
// e2e checks of what a browser would never send. CBOR is written by hand: the few fixed shapes
// an authenticator emits (RFC 8949 major types 0, 1, 2, 3, 5).
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

const sha256 = (b) => createHash('sha256').update(b).digest();
const b64url = (b) => Buffer.from(b).toString('base64url');

function head(major, n) {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 256) return Buffer.from([(major << 5) | 24, n]);
  const b = Buffer.alloc(3);
  b[0] = (major << 5) | 25;
  b.writeUInt16BE(n, 1);
  return b;
}
const int = (i) => (i >= 0 ? head(0, i) : head(1, -1 - i));
const bytes = (b) => Buffer.concat([head(2, b.length), b]);
const text = (s) => Buffer.concat([head(3, Buffer.byteLength(s)), Buffer.from(s)]);
const map = (pairs) => Buffer.concat([head(5, pairs.length), ...pairs.flat()]);

export class SoftAuthenticator {
  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    this.x = Buffer.from(jwk.x, 'base64url');
    this.y = Buffer.from(jwk.y, 'base64url');
    this.id = randomBytes(32);
    this.count = 0;
    this.userHandle = null;
  }

  /** The COSE_Key (RFC 9053 §7.1.1) in CTAP2 canonical order. */
  coseKey() {
    return map([
      [int(1), int(2)],
      [int(3), int(-7)],
      [int(-1), int(1)],
      [int(-2), bytes(this.x)],
      [int(-3), bytes(this.y)],
    ]);
  }

  authData(rpId, attested) {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(this.count);
    const parts = [sha256(rpId), Buffer.from([attested ? 0x45 : 0x05]), count];
    if (attested) {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(this.id.length);
      parts.push(Buffer.alloc(16), len, this.id, this.coseKey());
    }
    return Buffer.concat(parts);
  }

  /** navigator.credentials.create() for `options` (the server's JSON) at `origin`: the JSON to post. */
  create(options, origin) {
    this.userHandle = options.user.id;
    const clientData = Buffer.from(JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin, crossOrigin: false }));
    const attestation = map([
      [text('fmt'), text('none')],
      [text('attStmt'), map([])],
      [text('authData'), bytes(this.authData(options.rp.id, true))],
    ]);
    return JSON.stringify({
      id: b64url(this.id),
      rawId: b64url(this.id),
      type: 'public-key',
      response: { clientDataJSON: b64url(clientData), attestationObject: b64url(attestation) },
    });
  }

  /** navigator.credentials.get() for `options`; `rpId` may be overridden to forge another RP's. */
  get(options, origin, { rpId = options.rpId } = {}) {
    this.count += 1;
    const clientData = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: options.challenge, origin, crossOrigin: false }));
    const authData = this.authData(rpId, false);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.privateKey);
    return JSON.stringify({
      id: b64url(this.id),
      rawId: b64url(this.id),
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientData),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        userHandle: this.userHandle,
      },
    });
  }
}
