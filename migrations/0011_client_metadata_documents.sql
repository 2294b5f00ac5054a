-- Client ID metadata documents: a client whose client_id is an https URL is described by the
-- JSON document at that URL. The validated document is kept here as a dynamic (third-party)
-- public client; metadata_expires_at says when to fetch it again (its HTTP caching headers).
ALTER TABLE clients ADD COLUMN metadata_expires_at INTEGER;
