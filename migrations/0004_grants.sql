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
