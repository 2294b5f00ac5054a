-- Schema of the authorization server. Secrets are stored only as hashes:
-- passwords as PBKDF2 strings, client secrets, refresh tokens and codes as SHA-256 (base64url).

CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
  email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
  password_hash TEXT NOT NULL,
  role          TEXT NOT NULL DEFAULT 'user',
  created_at    INTEGER NOT NULL
);

CREATE TABLE clients (
  client_id                  TEXT PRIMARY KEY,
  client_secret_hash         TEXT,
  client_name                TEXT NOT NULL,
  client_type                TEXT NOT NULL CHECK (client_type IN ('confidential', 'public')),
  token_endpoint_auth_method TEXT NOT NULL,
  grant_types                TEXT NOT NULL, -- JSON arrays
  redirect_uris              TEXT NOT NULL,
  post_logout_redirect_uris  TEXT NOT NULL DEFAULT '[]',
  response_types             TEXT NOT NULL,
  scopes                     TEXT NOT NULL,
  is_active                  INTEGER NOT NULL DEFAULT 1,
  created_at                 INTEGER NOT NULL,
  updated_at                 INTEGER NOT NULL
);

-- Rotating refresh tokens (RFC 6749 §10.4, OAuth 2.0 Security BCP §4.14): one row per token,
-- grouped in a family that is revoked whole when a rotated token is presented again.
CREATE TABLE refresh_tokens (
  token_hash TEXT PRIMARY KEY,
  family_id  TEXT NOT NULL,
  client_id  TEXT NOT NULL,
  user_id    TEXT NOT NULL,
  scope      TEXT NOT NULL,
  auth_time  INTEGER NOT NULL,
  issued_at  INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  status     TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'rotated', 'revoked'))
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_client ON refresh_tokens (client_id);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);

-- Single use of authorization codes (RFC 6749 §4.1.2): the first redemption inserts the row;
-- a second finds it and revokes what the first issued (refresh family and access token).
CREATE TABLE consumed_codes (
  code_hash  TEXT PRIMARY KEY,
  family_id  TEXT,
  access_jti TEXT NOT NULL,
  access_exp INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);

-- Access tokens revoked before expiry (RFC 7009), by jti.
CREATE TABLE revoked_access_tokens (
  jti        TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
