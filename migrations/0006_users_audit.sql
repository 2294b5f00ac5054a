-- User administration (docs/API.md "User administration and audit"): a disabled user cannot sign
-- in by any path; disabling also ends the user's sessions and grants (users.grants_ended_at).
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;

-- The audit log: sign-ins, locks, password changes, refresh-token reuse, administration.
-- Never a password, code, token or secret. Kept AUDIT_RETENTION_DAYS (the cron deletes older).
CREATE TABLE audit_events (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  at        INTEGER NOT NULL,
  type      TEXT NOT NULL,
  user_id   TEXT,
  client_id TEXT,
  address   TEXT,
  detail    TEXT NOT NULL DEFAULT '{}' -- a JSON object
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_user ON audit_events (user_id, id);
CREATE INDEX audit_events_type ON audit_events (type, id);
