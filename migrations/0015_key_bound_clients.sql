-- Key-bound clients (private_key_jwt, client_secret_jwt, DPoP, PAR).
-- Single-use identifiers of client assertions and DPoP proofs, each until its token expires.
CREATE TABLE used_jtis (
  key TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
CREATE INDEX used_jtis_expiry ON used_jtis (expires_at);
-- The client's keys and key-binding settings as one JSON object (jwks, jwks_uri,
-- token_endpoint_auth_signing_alg, dpop_bound_access_tokens,
-- require_pushed_authorization_requests, fapi).
ALTER TABLE clients ADD COLUMN key_binding TEXT NOT NULL DEFAULT '{}';
-- client_secret_jwt needs the secret itself (HS256 key): sealed, never in the clear.
ALTER TABLE clients ADD COLUMN client_secret_sealed TEXT;
-- The DPoP key (RFC 7638 thumbprint) a public client's refresh tokens are bound to.
ALTER TABLE refresh_tokens ADD COLUMN jkt TEXT;
