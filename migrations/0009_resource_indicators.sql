-- Resource indicators (RFC 8707): the resources a grant holds, space-separated absolute URIs
-- (none: ''), copied into every rotation of its refresh family. An access token of the grant may
-- target them all or fewer, never others.
ALTER TABLE refresh_tokens ADD COLUMN resources TEXT NOT NULL DEFAULT '';
