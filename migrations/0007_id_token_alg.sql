-- OpenID Connect Dynamic Client Registration §2 `id_token_signed_response_alg`: ES256 (the
-- default here) or RS256 (OpenID Connect Core §15.1; needs the JWT_RS256_KEY secret).
ALTER TABLE clients ADD COLUMN id_token_signed_response_alg TEXT NOT NULL DEFAULT 'ES256';
