-- Consent decisions (third-party clients: registered dynamically): the scope a user has allowed
-- a client. A request within it skips the consent page; `prompt=consent` asks again. Deleted
-- with the user or the client.
CREATE TABLE consents (
  user_id    TEXT NOT NULL,
  client_id  TEXT NOT NULL,
  scope      TEXT NOT NULL,
  granted_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, client_id)
);
CREATE INDEX consents_client ON consents (client_id);
