-- Authorization codes are written to KV (read at the edge, with a TTL) and copied here: KV is
-- eventually consistent across locations (up to 60 s), so a code written by /login near the
-- person may not yet be visible where a backend redeems it. /token reads this copy when KV
-- misses. Single use stays the conditional insert into consumed_codes; the copy stays until it
-- expires (the cron deletes it), so a replay where KV misses is still seen and revoked.
CREATE TABLE pending_codes (
  code_hash  TEXT PRIMARY KEY,
  record     TEXT NOT NULL, -- the AuthorizationCode as JSON
  expires_at INTEGER NOT NULL
);
CREATE INDEX pending_codes_expiry ON pending_codes (expires_at);
