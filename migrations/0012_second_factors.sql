-- Stronger sign-in: authenticator apps (RFC 6238), their recovery codes, passkeys (WebAuthn),
-- the short-lived single-use challenges of those ceremonies, and what a browser session was
-- authenticated with (RFC 8176 `amr`). Deleted with the user (store/cloudflare/users.rs).

-- One authenticator app per user. `secret` is sealed (src/crypto/seal.rs), never in the clear;
-- `confirmed_at` is NULL while it is being set up; `last_step` is the last RFC 6238 time step
-- accepted, so that a code is accepted once.
CREATE TABLE totp_factors (
  user_id      TEXT PRIMARY KEY,
  secret       TEXT NOT NULL,
  confirmed_at INTEGER,
  last_step    INTEGER NOT NULL DEFAULT 0,
  created_at   INTEGER NOT NULL
);

-- One-time recovery codes: SHA-256 only; `used_at` set on their one use.
CREATE TABLE recovery_codes (
  user_id   TEXT NOT NULL,
  code_hash TEXT NOT NULL,
  used_at   INTEGER,
  PRIMARY KEY (user_id, code_hash)
);

-- Passkeys: the credential id and COSE public key (base64url), its algorithm (COSE: -7 ES256,
-- -257 RS256) and the authenticator's signature counter.
CREATE TABLE passkeys (
  credential_id TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL,
  name          TEXT NOT NULL,
  public_key    TEXT NOT NULL,
  algorithm     INTEGER NOT NULL,
  sign_count    INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL,
  last_used_at  INTEGER
);
CREATE INDEX passkeys_user ON passkeys (user_id);

-- Ceremony state: a passkey challenge or a sign-in waiting for its second factor. The key is the
-- SHA-256 of the random value the browser holds; `binding` is the SHA-256 of the browser's
-- anti-CSRF cookie it was issued to; taken (deleted) on use.
CREATE TABLE challenges (
  id_hash    TEXT PRIMARY KEY,
  kind       TEXT NOT NULL,
  user_id    TEXT,
  binding    TEXT NOT NULL,
  data       TEXT NOT NULL DEFAULT '',
  expires_at INTEGER NOT NULL
);
CREATE INDEX challenges_expiry ON challenges (expires_at);

-- RFC 8176 methods of the sign-in behind a session (space-separated), and which browser it is.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';

-- A client that needs two factors or a passkey for every sign-in.
ALTER TABLE clients ADD COLUMN require_mfa INTEGER NOT NULL DEFAULT 0;
