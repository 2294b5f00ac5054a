-- Consent per resource (RFC 8707): what a person allowed a third-party client is its scopes *and*
-- the resources its tokens may be for (space-separated; a request that names none is for the
-- deployment's default audience). A later request for another resource asks again. Consents
-- given before this migration remember no resource, so the next request asks once more.
ALTER TABLE consents ADD COLUMN resources TEXT NOT NULL DEFAULT '';
