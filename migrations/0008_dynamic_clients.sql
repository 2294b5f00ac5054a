-- Dynamic client registration (RFC 7591) and its management (RFC 7592): clients registered
-- without an admin bearer are third-party; they hold a registration access token (stored as its
-- SHA-256) that manages that one client; a client never used expires (the cron deletes it).
ALTER TABLE clients ADD COLUMN dynamic INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN registration_token_hash TEXT;
ALTER TABLE clients ADD COLUMN client_uri TEXT;
ALTER TABLE clients ADD COLUMN first_used_at INTEGER;
CREATE INDEX clients_unused_dynamic ON clients (dynamic, first_used_at, created_at);
