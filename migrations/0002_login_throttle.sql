-- Brute-force protection: consecutive failed password checks per username (known or not),
-- keyed by SHA-256 of the lower-cased username so that typed-in garbage is not stored.
CREATE TABLE login_throttle (
  key          TEXT PRIMARY KEY,
  failures     INTEGER NOT NULL,
  locked_until INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
);

CREATE INDEX consumed_codes_expiry ON consumed_codes (expires_at);
CREATE INDEX revoked_access_tokens_expiry ON revoked_access_tokens (expires_at);
