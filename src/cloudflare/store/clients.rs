//! `ClientStore` on D1, with the per-isolate client cache (`store/cache.rs`).

use super::*;
use crate::store::cache::ClientCache;

thread_local! {
    /// Per isolate: its requests share one thread, interleaved at their awaits.
    static CLIENTS: ClientCache = ClientCache::default();
}

fn forget_client(client_id: &str) {
    CLIENTS.with(|cache| cache.forget(client_id));
}

fn json_list<T: serde::Serialize>(v: &[T]) -> JsValue {
    s(&serde_json::to_string(v).unwrap_or_else(|_| "[]".into()))
}

#[derive(Deserialize)]
struct ClientRow {
    client_id: String,
    client_secret_hash: Option<String>,
    client_name: String,
    client_type: ClientType,
    token_endpoint_auth_method: AuthMethod,
    grant_types: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    response_types: String,
    scopes: String,
    #[serde(default = "es256")]
    id_token_signed_response_alg: String,
    #[serde(default)]
    dynamic: i64,
    #[serde(default)]
    registration_token_hash: Option<String>,
    #[serde(default)]
    client_uri: Option<String>,
    #[serde(default)]
    metadata_expires_at: Option<f64>,
    #[serde(default)]
    require_mfa: i64,
    #[serde(default)]
    key_binding: Option<String>,
    #[serde(default)]
    client_secret_sealed: Option<String>,
    is_active: i64,
    created_at: f64,
    updated_at: f64,
}

fn es256() -> String {
    "ES256".into()
}

fn list(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

impl From<ClientRow> for Client {
    fn from(r: ClientRow) -> Self {
        Client {
            client_id: r.client_id,
            client_secret_hash: r.client_secret_hash,
            client_name: r.client_name,
            client_type: r.client_type,
            token_endpoint_auth_method: r.token_endpoint_auth_method,
            // A grant this version does not know (a newer one's) is left out, not an error.
            grant_types: list(&r.grant_types).iter().filter_map(|g| crate::oauth::GrantType::parse(g)).collect(),
            redirect_uris: list(&r.redirect_uris),
            post_logout_redirect_uris: list(&r.post_logout_redirect_uris),
            response_types: list(&r.response_types),
            scopes: list(&r.scopes),
            id_token_signed_response_alg: r.id_token_signed_response_alg,
            dynamic: r.dynamic != 0,
            registration_token_hash: r.registration_token_hash,
            client_uri: r.client_uri,
            metadata_expires_at: r.metadata_expires_at.map(|t| t as u64),
            require_mfa: r.require_mfa != 0,
            // A member this version does not know (a newer one's) is ignored; a row that does not
            // parse loses its key settings, which refuses the key-bound ways in (never widens).
            key_binding: r.key_binding.and_then(|k| serde_json::from_str(&k).ok()).unwrap_or_default(),
            client_secret_sealed: r.client_secret_sealed,
            is_active: r.is_active != 0,
            created_at: r.created_at as u64,
            updated_at: r.updated_at as u64,
        }
    }
}

const CLIENT_COLUMNS: &str = "client_id, client_secret_hash, client_name, client_type, token_endpoint_auth_method, \
     grant_types, redirect_uris, post_logout_redirect_uris, response_types, scopes, id_token_signed_response_alg, is_active, \
     created_at, updated_at, dynamic, registration_token_hash, client_uri, metadata_expires_at, require_mfa, key_binding, client_secret_sealed";

/// The columns an update may change (client type, secret and creation time are not among them).
const MUTABLE_CLIENT_COLUMNS: &str = "client_name, token_endpoint_auth_method, grant_types, redirect_uris, \
     post_logout_redirect_uris, response_types, scopes, id_token_signed_response_alg, is_active, updated_at, client_uri, metadata_expires_at, require_mfa, key_binding";

/// `?, ?, …`: one placeholder per column of `columns` (a comma-separated list) plus `extra`, so
/// a column added to the list cannot leave a statement a value short.
fn placeholders(columns: &str, extra: usize) -> String {
    vec!["?"; columns.split(',').count() + extra].join(", ")
}

fn mutable_client_values(c: &Client) -> Vec<JsValue> {
    vec![
        s(&c.client_name),
        s(c.token_endpoint_auth_method.as_str()),
        json_list(&c.grant_types),
        json_list(&c.redirect_uris),
        json_list(&c.post_logout_redirect_uris),
        json_list(&c.response_types),
        json_list(&c.scopes),
        s(&c.id_token_signed_response_alg),
        n(c.is_active as u64),
        n(c.updated_at),
        opt(c.client_uri.as_deref()),
        c.metadata_expires_at.map_or(JsValue::NULL, n),
        n(c.require_mfa.into()),
        s(&serde_json::to_string(&c.key_binding).unwrap_or_else(|_| "{}".into())),
    ]
}

impl ClientStore for CloudflareStore {
    async fn insert_client(&self, c: &Client) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO clients (client_id, client_secret_hash, client_type, created_at, dynamic, registration_token_hash, \
             client_secret_sealed, {MUTABLE_CLIENT_COLUMNS}) VALUES ({})",
            placeholders(MUTABLE_CLIENT_COLUMNS, 7)
        );
        let ty = if c.client_type == ClientType::Public { "public" } else { "confidential" };
        let mut args = vec![
            s(&c.client_id),
            opt(c.client_secret_hash.as_deref()),
            s(ty),
            n(c.created_at),
            n(c.dynamic.into()),
            opt(c.registration_token_hash.as_deref()),
            opt(c.client_secret_sealed.as_deref()),
        ];
        args.extend(mutable_client_values(c));
        self.run(&sql, &args).await.map(|_| ())
    }
    /// Always a fresh read, which also refreshes this isolate's cached copy.
    async fn client(&self, client_id: &str) -> StoreResult<Option<Client>> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE client_id = ?");
        let generation = CLIENTS.with(ClientCache::generation);
        let client = self.first::<ClientRow>(&sql, &[s(client_id)]).await?.map(Client::from);
        match &client {
            Some(c) if self.client_cache_ttl > 0 => CLIENTS.with(|cache| cache.put(c, Self::now(), generation)),
            // Nothing to store; an entry for an id that no longer exists is simply dropped.
            _ => forget_client(client_id),
        }
        Ok(client)
    }
    async fn client_for_auth(&self, client_id: &str, now: u64) -> StoreResult<(Option<Client>, bool)> {
        if let Some(c) = CLIENTS.with(|cache| cache.get(client_id, now, self.client_cache_ttl)) {
            return Ok((Some(c), true));
        }
        // A replica near this location answers first: it may lag the primary, so its copy
        // counts as possibly stale, as a cached one does (the caller reads the primary before
        // refusing). A miss, or a replica that cannot answer, asks the primary.
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE client_id = ?");
        let generation = CLIENTS.with(ClientCache::generation);
        if let Ok(Some(row)) = self.replica_first::<ClientRow>(&sql, &[s(client_id)]).await {
            let c = Client::from(row);
            if self.client_cache_ttl > 0 {
                CLIENTS.with(|cache| cache.put(&c, Self::now(), generation));
            }
            return Ok((Some(c), true));
        }
        Ok((self.client(client_id).await?, false))
    }
    async fn clients(&self) -> StoreResult<Vec<Client>> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients ORDER BY created_at, client_id");
        Ok(self.all::<ClientRow>(&sql, &[]).await?.into_iter().map(Client::from).collect())
    }
    async fn clients_with_redirect(&self, redirect_uri: &str) -> StoreResult<Vec<Client>> {
        let sql = format!(
            "SELECT {CLIENT_COLUMNS} FROM clients WHERE EXISTS \
             (SELECT 1 FROM json_each(clients.redirect_uris) WHERE json_each.value = ?)"
        );
        Ok(self.all::<ClientRow>(&sql, &[s(redirect_uri)]).await?.into_iter().map(Client::from).collect())
    }
    // Each client write forgets the isolate's cached copy once the write is done (and whether
    // it failed), which also voids any read of that client still in flight (`cache.rs`).
    async fn update_client(&self, c: &Client) -> StoreResult<bool> {
        // SQLite row-value assignment: the same columns, in the same order, as the insert.
        let sql =
            format!("UPDATE clients SET ({MUTABLE_CLIENT_COLUMNS}) = ({}) WHERE client_id = ?", placeholders(MUTABLE_CLIENT_COLUMNS, 0));
        let mut args = mutable_client_values(c);
        args.push(s(&c.client_id));
        let result = self.run(&sql, &args).await;
        forget_client(&c.client_id);
        Ok(result? == 1)
    }
    async fn delete_client(&self, client_id: &str) -> StoreResult<bool> {
        // One transaction: the client goes and its refresh tokens stop working together.
        let result = match (
            self.stmt("UPDATE refresh_tokens SET status = 'revoked' WHERE client_id = ?", &[s(client_id)]),
            self.stmt("DELETE FROM clients WHERE client_id = ?", &[s(client_id)]),
            self.stmt("DELETE FROM consents WHERE client_id = ?", &[s(client_id)]),
        ) {
            (Ok(revoke), Ok(delete), Ok(consents)) => self.db()?.batch(vec![revoke, delete, consents]).await.map_err(backend),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Err(e),
        };
        forget_client(client_id);
        Ok(result?.get(1).map(changes).unwrap_or(0) == 1)
    }
    async fn purge_unused_dynamic_clients(&self, before: u64) -> StoreResult<u64> {
        let results = self
            .db()?
            .batch(vec![
                self.stmt("DELETE FROM clients WHERE dynamic = 1 AND first_used_at IS NULL AND created_at <= ?", &[n(before)])?,
                // Consent given to a client that never redeemed its code.
                self.stmt("DELETE FROM consents WHERE client_id NOT IN (SELECT client_id FROM clients)", &[])?,
            ])
            .await
            .map_err(backend)?;
        Ok(results.first().map(changes).unwrap_or(0) as u64)
    }
    async fn end_client_grants(&self, client_id: &str, at: u64) -> StoreResult<()> {
        self.db()?
            .batch(vec![
                self.stmt("UPDATE clients SET grants_ended_at = max(grants_ended_at, ?) WHERE client_id = ?", &[n(at), s(client_id)])?,
                self.stmt("UPDATE refresh_tokens SET status = 'revoked' WHERE client_id = ? AND status <> 'revoked'", &[s(client_id)])?,
            ])
            .await
            .map_err(backend)?;
        forget_client(client_id);
        Ok(())
    }
    async fn set_client_secret_hash(&self, client_id: &str, hash: &str, sealed: Option<&str>, now: u64) -> StoreResult<bool> {
        let result = self
            .run(
                "UPDATE clients SET client_secret_hash = ?, client_secret_sealed = ?, updated_at = ? \
                 WHERE client_id = ? AND client_type = 'confidential'",
                &[s(hash), opt(sealed), n(now), s(client_id)],
            )
            .await;
        forget_client(client_id);
        Ok(result? == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_placeholder_per_column() {
        assert_eq!(placeholders("a, b,c", 0), "?, ?, ?");
        assert_eq!(placeholders(MUTABLE_CLIENT_COLUMNS, 7).matches('?').count(), 7 + MUTABLE_CLIENT_COLUMNS.split(',').count());
    }
}
