-- Browser sessions (single sign-on at /authorize): the cookie carries a random token; only its
-- SHA-256 is stored. Ended by /logout or by expiry (the cron deletes expired rows).
CREATE TABLE sessions (
  id_hash    TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL,
  auth_time  INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX sessions_user ON sessions (user_id);
