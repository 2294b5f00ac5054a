-- Grants end whole (docs/API.md "Grants"): every access token names its grant (`grant_id`, the
-- refresh family's id), and a grant that ends (refresh-token reuse, revocation, code replay)
-- is recorded here until the last access token it could have minted has expired.
CREATE TABLE ended_grants (
  grant_id   TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
CREATE INDEX ended_grants_expiry ON ended_grants (expires_at);

-- Tokens issued to a client or for a user at or before this second are no longer accepted:
-- set when a client is deactivated (its grants end), and for users by the user administration.
ALTER TABLE clients ADD COLUMN grants_ended_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN grants_ended_at INTEGER NOT NULL DEFAULT 0;

-- A refresh family's absolute end (REFRESH_TOKEN_MAX_LIFETIME), copied into every rotation:
-- however often a grant rotates, no refresh token of it outlives this. Tokens issued before
-- this migration get 90 days from their own issue.
ALTER TABLE refresh_tokens ADD COLUMN family_expires_at INTEGER NOT NULL DEFAULT 0;
UPDATE refresh_tokens SET family_expires_at = issued_at + 7776000 WHERE family_expires_at = 0;
