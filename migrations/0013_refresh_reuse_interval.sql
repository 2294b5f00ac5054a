-- The refresh reuse interval (REFRESH_REUSE_INTERVAL; docs/API.md "Reuse interval", RFC 9700
-- §4.14.2): when a refresh token was first rotated. Presented again by its own client within the
-- interval after that, it is answered from its family instead of ending the grant. Tokens
-- rotated before this migration have none, so their reuse is theft as before.
ALTER TABLE refresh_tokens ADD COLUMN rotated_at INTEGER;
