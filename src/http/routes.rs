//! The routes as types: every endpoint is an `Endpoint`, every method it serves an
//! `Operation`. Dispatch (`http::handle`), allowed methods, CORS and the OpenAPI operation are
//! exhaustive matches over them, so a new endpoint or method is a compile error until each of
//! those places says what it does. Paths and methods are looked up here and nowhere else.

/// Declares a fieldless enum together with the list of all its variants, so the list cannot
/// miss one.
macro_rules! listed_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
        }
    };
}

listed_enum!(
    /// The HTTP methods the server serves (`HEAD` is answered as `GET` without a body).
    Method { Get, Post, Put, Patch, Delete }
);

impl Method {
    pub fn parse(m: &str) -> Option<Self> {
        match m {
            "GET" | "HEAD" => Some(Self::Get),
            "POST" => Some(Self::Post),
            "PUT" => Some(Self::Put),
            "PATCH" => Some(Self::Patch),
            "DELETE" => Some(Self::Delete),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

listed_enum!(
    /// One path of the server.
    Endpoint {
        OpenIdConfiguration,
        AuthorizationServerMetadata,
        Jwks,
        OpenApi,
        Health,
        Authorize,
        Login,
        Consent,
        Token,
        Introspect,
        Revoke,
        UserInfo,
        Logout,
        Register,
        Clients,
        Client,
        ClientSecret,
        Users,
        User,
        Audit,
        Account,
        AccountSignIn,
        AccountPassword,
        AccountApps,
        SecondFactor,
        AccountTotp,
        AccountSessions,
        PasskeyScript,
        PasskeyOptions,
        PasskeySignIn,
        AccountPasskeys,
    }
);

impl Endpoint {
    /// The path template; a `{name}` segment is its one path parameter.
    pub fn path(self) -> &'static str {
        match self {
            Self::OpenIdConfiguration => "/.well-known/openid-configuration",
            Self::AuthorizationServerMetadata => "/.well-known/oauth-authorization-server",
            Self::Jwks => "/.well-known/jwks.json",
            Self::OpenApi => "/openapi.json",
            Self::Health => "/health",
            Self::Authorize => "/authorize",
            Self::Login => "/login",
            Self::Consent => "/consent",
            Self::Token => "/token",
            Self::Introspect => "/introspect",
            Self::Revoke => "/revoke",
            Self::UserInfo => "/userinfo",
            Self::Logout => "/logout",
            Self::Register => "/register",
            Self::Clients => "/clients",
            Self::Client => "/clients/{client_id}",
            Self::ClientSecret => "/clients/{client_id}/secret",
            Self::Users => "/users",
            Self::User => "/users/{id}",
            Self::Audit => "/audit",
            Self::Account => "/account",
            Self::AccountSignIn => "/account/login",
            Self::AccountPassword => "/account/password",
            Self::AccountApps => "/account/apps",
            Self::SecondFactor => "/login/second-factor",
            Self::AccountTotp => "/account/totp",
            Self::AccountSessions => "/account/sessions",
            Self::PasskeyScript => "/passkeys.js",
            Self::PasskeyOptions => "/passkeys/options",
            Self::PasskeySignIn => "/login/passkey",
            Self::AccountPasskeys => "/account/passkeys",
        }
    }

    /// Whether a browser application may call it cross-origin. Only endpoints whose
    /// credentials travel in headers or bodies, never in cookies: not the sign-in, authorize,
    /// logout or admin endpoints.
    pub fn cors(self) -> bool {
        match self {
            Self::OpenIdConfiguration
            | Self::AuthorizationServerMetadata
            | Self::Jwks
            | Self::OpenApi
            | Self::Token
            | Self::UserInfo
            | Self::Revoke => true,
            Self::Health
            | Self::Authorize
            | Self::Login
            | Self::Consent
            | Self::Introspect
            | Self::Logout
            | Self::Register
            | Self::Clients
            | Self::Client
            | Self::ClientSecret
            | Self::Users
            | Self::User
            | Self::Audit
            | Self::Account
            | Self::AccountSignIn
            | Self::AccountPassword
            | Self::AccountApps
            | Self::SecondFactor
            | Self::AccountTotp
            | Self::AccountSessions
            | Self::PasskeyScript
            | Self::PasskeyOptions
            | Self::PasskeySignIn
            | Self::AccountPasskeys => false,
        }
    }

    /// The operations (methods) it serves, in `Operation::ALL` order.
    pub fn operations(self) -> impl Iterator<Item = Operation> {
        Operation::ALL.iter().copied().filter(move |op| op.endpoint() == self)
    }

    /// The methods it serves, for `Allow` and CORS headers.
    pub fn allowed_methods(self) -> String {
        self.operations().map(|op| op.method().as_str()).collect::<Vec<_>>().join(", ")
    }
}

listed_enum!(
    /// One method of one endpoint: what dispatch and the OpenAPI document are made of.
    Operation {
        GetOpenIdConfiguration,
        GetAuthorizationServerMetadata,
        GetJwks,
        GetOpenApi,
        GetHealth,
        Authorize,
        /// OpenID Connect Core §3.1.2.1: "Authorization Servers MUST support the use of the HTTP
        /// GET and POST methods" at the authorization endpoint (POST: the parameters as a form).
        PostAuthorize,
        Login,
        /// The person's decision on the consent page ("Allow" or "Deny").
        PostConsent,
        Token,
        Introspect,
        Revoke,
        GetUserInfo,
        PostUserInfo,
        GetLogout,
        PostLogout,
        Register,
        ListClients,
        CreateClient,
        GetClient,
        UpdateClient,
        DeleteClient,
        NewClientSecret,
        ListUsers,
        GetUser,
        UpdateUser,
        DeleteUser,
        ListAudit,
        GetAccount,
        AccountSignIn,
        ChangePassword,
        /// "Remove access" for one of the account page's connected apps.
        RemoveApp,
        /// The second step of a sign-in: an authenticator or recovery code (or setting an app
        /// up, when the client demands two factors).
        SecondFactor,
        /// Setting up, confirming or turning off the account's authenticator app (`action`).
        AccountTotp,
        /// Signing out one of the account's browser sessions.
        RevokeSession,
        /// The pages' passkey script.
        GetPasskeyScript,
        /// A WebAuthn ceremony's options (a challenge): registration or sign-in.
        PasskeyOptions,
        /// Signing in with a passkey (the assertion, with the authorization request).
        PasskeySignIn,
        /// Adding (`action=register`) or removing (`action=remove`) one of the account's passkeys.
        AccountPasskeys,
    }
);

impl Operation {
    pub fn endpoint(self) -> Endpoint {
        match self {
            Self::GetOpenIdConfiguration => Endpoint::OpenIdConfiguration,
            Self::GetAuthorizationServerMetadata => Endpoint::AuthorizationServerMetadata,
            Self::GetJwks => Endpoint::Jwks,
            Self::GetOpenApi => Endpoint::OpenApi,
            Self::GetHealth => Endpoint::Health,
            Self::Authorize | Self::PostAuthorize => Endpoint::Authorize,
            Self::Login => Endpoint::Login,
            Self::PostConsent => Endpoint::Consent,
            Self::Token => Endpoint::Token,
            Self::Introspect => Endpoint::Introspect,
            Self::Revoke => Endpoint::Revoke,
            Self::GetUserInfo | Self::PostUserInfo => Endpoint::UserInfo,
            Self::GetLogout | Self::PostLogout => Endpoint::Logout,
            Self::Register => Endpoint::Register,
            Self::ListClients | Self::CreateClient => Endpoint::Clients,
            Self::GetClient | Self::UpdateClient | Self::DeleteClient => Endpoint::Client,
            Self::NewClientSecret => Endpoint::ClientSecret,
            Self::ListUsers => Endpoint::Users,
            Self::GetUser | Self::UpdateUser | Self::DeleteUser => Endpoint::User,
            Self::ListAudit => Endpoint::Audit,
            Self::GetAccount => Endpoint::Account,
            Self::AccountSignIn => Endpoint::AccountSignIn,
            Self::ChangePassword => Endpoint::AccountPassword,
            Self::RemoveApp => Endpoint::AccountApps,
            Self::SecondFactor => Endpoint::SecondFactor,
            Self::AccountTotp => Endpoint::AccountTotp,
            Self::RevokeSession => Endpoint::AccountSessions,
            Self::GetPasskeyScript => Endpoint::PasskeyScript,
            Self::PasskeyOptions => Endpoint::PasskeyOptions,
            Self::PasskeySignIn => Endpoint::PasskeySignIn,
            Self::AccountPasskeys => Endpoint::AccountPasskeys,
        }
    }

    pub fn method(self) -> Method {
        match self {
            Self::GetOpenIdConfiguration
            | Self::GetAuthorizationServerMetadata
            | Self::GetJwks
            | Self::GetOpenApi
            | Self::GetHealth
            | Self::Authorize
            | Self::GetUserInfo
            | Self::GetLogout
            | Self::ListClients
            | Self::GetClient
            | Self::ListUsers
            | Self::GetUser
            | Self::ListAudit
            | Self::GetAccount
            | Self::GetPasskeyScript => Method::Get,
            Self::PostAuthorize
            | Self::Login
            | Self::PostConsent
            | Self::Token
            | Self::Introspect
            | Self::Revoke
            | Self::PostUserInfo
            | Self::PostLogout
            | Self::Register
            | Self::CreateClient
            | Self::NewClientSecret
            | Self::AccountSignIn
            | Self::ChangePassword
            | Self::RemoveApp
            | Self::SecondFactor
            | Self::AccountTotp
            | Self::RevokeSession
            | Self::PasskeyOptions
            | Self::PasskeySignIn
            | Self::AccountPasskeys => Method::Post,
            Self::UpdateClient => Method::Put,
            Self::UpdateUser => Method::Patch,
            Self::DeleteClient | Self::DeleteUser => Method::Delete,
        }
    }
}

/// Matches a concrete path against a template; returns the `{client_id}` segment if any.
fn match_template<'p>(template: &str, path: &'p str) -> Option<Option<&'p str>> {
    let mut param = None;
    let mut t = template.split('/');
    let mut p = path.split('/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return Some(param),
            (Some(ts), Some(ps)) if ts.starts_with('{') => {
                if ps.is_empty() {
                    return None;
                }
                param = Some(ps);
            }
            (Some(ts), Some(ps)) if ts == ps => {}
            _ => return None,
        }
    }
}

/// The endpoint a path belongs to (a trailing slash is ignored) and its `{client_id}`, if any.
pub fn find(path: &str) -> Option<(Endpoint, Option<&str>)> {
    let path = if path.len() > 1 { path.trim_end_matches('/') } else { path };
    Endpoint::ALL.iter().find_map(|e| match_template(e.path(), path).map(|p| (*e, p)))
}

/// The operation of an endpoint for a method, if it serves that method.
pub fn operation(endpoint: Endpoint, method: Method) -> Option<Operation> {
    endpoint.operations().find(|op| op.method() == method)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_matching() {
        assert_eq!(match_template("/clients/{client_id}", "/clients/abc"), Some(Some("abc")));
        assert_eq!(match_template("/clients/{client_id}", "/clients/"), None);
        assert_eq!(match_template("/clients/{client_id}/secret", "/clients/abc/secret"), Some(Some("abc")));
        assert_eq!(match_template("/clients", "/clients/abc"), None);
        assert_eq!(match_template("/token", "/token"), Some(None));
    }

    #[test]
    fn every_endpoint_serves_something_and_paths_are_distinct() {
        for e in Endpoint::ALL {
            assert!(e.operations().next().is_some(), "{e:?} has no operation");
            assert_eq!(find(e.path()).map(|(found, _)| found), Some(*e), "{e:?}");
        }
        let mut paths: Vec<_> = Endpoint::ALL.iter().map(|e| e.path()).collect();
        paths.sort();
        paths.dedup();
        assert_eq!(paths.len(), Endpoint::ALL.len());
        // No endpoint serves one method twice.
        for op in Operation::ALL {
            assert_eq!(operation(op.endpoint(), op.method()), Some(*op));
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(find("/clients/abc/secret"), Some((Endpoint::ClientSecret, Some("abc"))));
        assert_eq!(find("/token/"), Some((Endpoint::Token, None)));
        assert_eq!(find("/nowhere"), None);
        assert_eq!(operation(Endpoint::Clients, Method::Post), Some(Operation::CreateClient));
        assert_eq!(operation(Endpoint::Token, Method::Get), None);
        assert_eq!(Method::parse("HEAD"), Some(Method::Get));
        assert_eq!(Method::parse("PATCH"), Some(Method::Patch));
        assert_eq!(Method::parse("TRACE"), None);
        assert_eq!(Endpoint::Client.allowed_methods(), "GET, PUT, DELETE");
    }
}
