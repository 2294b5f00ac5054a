//! The error answers of the protocol: RFC 6749 §5.2 (token endpoint) and §4.1.2.1
//! (authorization endpoint), RFC 6750 §3.1 (bearer-protected resources), OpenID Connect Core
//! §3.1.2.6 — and, kept apart in `HttpCode`, the plain HTTP errors of the contract that no RFC
//! defines. Each carries its status; the HTTP layer turns it into `{"error", "error_description"}`.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The request is missing a required parameter, includes an unsupported parameter value,
    /// repeats a parameter, or is otherwise malformed (RFC 6749 §5.2).
    InvalidRequest,
    /// Client authentication failed (unknown client, no client authentication included, or
    /// unsupported authentication method). 401; with `WWW-Authenticate` when the client used
    /// the Authorization header (RFC 6749 §5.2).
    InvalidClient,
    /// The grant (code, refresh token, resource owner credentials) is invalid, expired,
    /// revoked, does not match the redirection URI used in the authorization request, or was
    /// issued to another client (RFC 6749 §5.2).
    InvalidGrant,
    /// The authenticated client is not authorized to use this grant type (RFC 6749 §5.2).
    UnauthorizedClient,
    /// The grant type is not supported by the authorization server (RFC 6749 §5.2).
    UnsupportedGrantType,
    /// The requested scope is invalid, unknown, malformed, or exceeds the scope granted by the
    /// resource owner (RFC 6749 §5.2).
    InvalidScope,
    /// The resource owner or authorization server denied the request (RFC 6749 §4.1.2.1).
    AccessDenied,
    /// The authorization server does not support this response type (RFC 6749 §4.1.2.1).
    UnsupportedResponseType,
    /// The End-User is not authenticated and `prompt=none` was sent (OIDC Core §3.1.2.6).
    LoginRequired,
    /// The OP does not support the `request` parameter (OIDC Core §3.1.2.6).
    RequestNotSupported,
    /// "The Authorization Server requires End-User interaction of some form to proceed" (OIDC
    /// Core §3.1.2.6): here a second factor, or setting one up.
    InteractionRequired,
    /// "The Authorization Server requires End-User consent", and `prompt=none` forbids asking
    /// (OIDC Core §3.1.2.6).
    ConsentRequired,
    /// "The value of one or more redirection URIs is invalid" (RFC 7591 §3.2.2).
    InvalidRedirectUri,
    /// "The value of one of the client metadata fields is invalid and the server has rejected
    /// this request" (RFC 7591 §3.2.2).
    InvalidClientMetadata,
    /// The OP does not support the `request_uri` parameter (OIDC Core §3.1.2.6).
    RequestUriNotSupported,
    /// "The requested resource is invalid, missing, unknown, or malformed" (RFC 8707 §2).
    InvalidTarget,
    /// The access token is expired, revoked, malformed, or invalid for other reasons: 401 with
    /// `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1).
    InvalidToken,
    /// The request requires higher privileges than provided by the access token: 403
    /// (RFC 6750 §3.1).
    InsufficientScope,
    /// "The authorization server encountered an unexpected condition that prevented it from
    /// fulfilling the request" (RFC 6749 §4.1.2.1): 500.
    ServerError,
    /// "The authorization server is currently unable to handle the request due to a temporary
    /// overloading or maintenance" (RFC 6749 §4.1.2.1), here also a missing signing key: 503.
    TemporarilyUnavailable,
    /// "The DPoP proof JWT is invalid" (RFC 9449 §5, §7.1): 400 at the token endpoint; at a
    /// resource (UserInfo) 401 with a `DPoP` challenge.
    InvalidDpopProof,
    /// "The authorization server requires nonce in DPoP proof" (RFC 9449 §8).
    UseDpopNonce,
    /// An error of the contract's own, not of an RFC.
    Http(HttpCode),
}

/// The contract's plain HTTP errors (docs/API.md "Conventions"), which no RFC names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpCode {
    NotFound,
    Conflict,
    MethodNotAllowed,
    PayloadTooLarge,
    UnsupportedMediaType,
    /// Too many attempts; the answer carries `Retry-After`.
    RateLimited,
}

impl HttpCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::RateLimited => "rate_limited",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            Self::NotFound => 404,
            Self::Conflict => 409,
            Self::MethodNotAllowed => 405,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::RateLimited => 429,
        }
    }
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::LoginRequired => "login_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::InteractionRequired => "interaction_required",
            Self::ConsentRequired => "consent_required",
            Self::InvalidRedirectUri => "invalid_redirect_uri",
            Self::InvalidClientMetadata => "invalid_client_metadata",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::InvalidTarget => "invalid_target",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::UseDpopNonce => "use_dpop_nonce",
            Self::Http(h) => h.as_str(),
        }
    }

    pub fn status(self) -> u16 {
        match self {
            Self::InvalidRequest
            | Self::InvalidGrant
            | Self::UnauthorizedClient
            | Self::UnsupportedGrantType
            | Self::InvalidScope
            | Self::UnsupportedResponseType
            | Self::LoginRequired
            | Self::RequestNotSupported
            | Self::InteractionRequired
            | Self::ConsentRequired
            | Self::RequestUriNotSupported
            | Self::InvalidTarget
            | Self::InvalidRedirectUri
            | Self::InvalidClientMetadata
            | Self::InvalidDpopProof
            | Self::UseDpopNonce => 400,
            Self::InvalidClient | Self::InvalidToken => 401,
            Self::InsufficientScope | Self::AccessDenied => 403,
            Self::ServerError => 500,
            Self::TemporarilyUnavailable => 503,
            Self::Http(h) => h.status(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: String,
    /// Seconds after which a retry may succeed (`Retry-After`, with `rate_limited`).
    pub retry_after: Option<u64>,
    /// What went wrong inside (a storage backend's own message): written to the log where the
    /// error becomes a response, never sent to the caller.
    pub internal: Option<String>,
    /// Answered at a resource to a DPoP request (RFC 9449 §7.1): 401 with a `DPoP` challenge.
    pub dpop_challenge: bool,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self { code, description: description.into(), retry_after: None, internal: None, dpop_challenge: false }
    }
    pub fn rate_limited(retry_after: u64) -> Self {
        Self::too_many("too many failed sign-in attempts; try again later", retry_after)
    }
    /// 429 `rate_limited` with `Retry-After: retry_after`.
    pub fn too_many(description: &str, retry_after: u64) -> Self {
        Self { retry_after: Some(retry_after.max(1)), ..Self::new(ErrorCode::Http(HttpCode::RateLimited), description) }
    }
    pub fn status(&self) -> u16 {
        self.code.status()
    }
}

macro_rules! constructors {
    ($($name:ident => $code:expr),* $(,)?) => {
        impl OAuthError {
            $(pub fn $name(description: impl Into<String>) -> Self { Self::new($code, description) })*
        }
    };
}

constructors! {
    invalid_request => ErrorCode::InvalidRequest,
    invalid_client => ErrorCode::InvalidClient,
    invalid_grant => ErrorCode::InvalidGrant,
    unauthorized_client => ErrorCode::UnauthorizedClient,
    unsupported_grant_type => ErrorCode::UnsupportedGrantType,
    invalid_scope => ErrorCode::InvalidScope,
    invalid_target => ErrorCode::InvalidTarget,
    access_denied => ErrorCode::AccessDenied,
    invalid_token => ErrorCode::InvalidToken,
    insufficient_scope => ErrorCode::InsufficientScope,
    server_error => ErrorCode::ServerError,
    unavailable => ErrorCode::TemporarilyUnavailable,
    invalid_dpop_proof => ErrorCode::InvalidDpopProof,
    not_found => ErrorCode::Http(HttpCode::NotFound),
    conflict => ErrorCode::Http(HttpCode::Conflict),
    method_not_allowed => ErrorCode::Http(HttpCode::MethodNotAllowed),
    payload_too_large => ErrorCode::Http(HttpCode::PayloadTooLarge),
}

pub type OAuthResult<T> = Result<T, OAuthError>;

/// A storage failure as the protocol answers it: a unique-constraint failure is a 409 naming
/// the field; a backend failure is a plain 500 whose detail goes only to the log.
impl From<crate::store::StoreError> for OAuthError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Conflict(field) => OAuthError::conflict(format!("{field} already exists")),
            crate::store::StoreError::Backend(detail) => {
                OAuthError { internal: Some(detail), ..OAuthError::server_error("storage is unavailable") }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_maps_to_its_rfc_name_and_status() {
        let table = [
            (ErrorCode::InvalidRequest, "invalid_request", 400),
            (ErrorCode::InvalidClient, "invalid_client", 401),
            (ErrorCode::InvalidGrant, "invalid_grant", 400),
            (ErrorCode::UnauthorizedClient, "unauthorized_client", 400),
            (ErrorCode::UnsupportedGrantType, "unsupported_grant_type", 400),
            (ErrorCode::InvalidScope, "invalid_scope", 400),
            (ErrorCode::AccessDenied, "access_denied", 403),
            (ErrorCode::UnsupportedResponseType, "unsupported_response_type", 400),
            (ErrorCode::LoginRequired, "login_required", 400),
            (ErrorCode::RequestNotSupported, "request_not_supported", 400),
            (ErrorCode::ConsentRequired, "consent_required", 400),
            (ErrorCode::InvalidRedirectUri, "invalid_redirect_uri", 400),
            (ErrorCode::InvalidClientMetadata, "invalid_client_metadata", 400),
            (ErrorCode::RequestUriNotSupported, "request_uri_not_supported", 400),
            (ErrorCode::InvalidTarget, "invalid_target", 400),
            (ErrorCode::InvalidToken, "invalid_token", 401),
            (ErrorCode::InsufficientScope, "insufficient_scope", 403),
            (ErrorCode::Http(HttpCode::NotFound), "not_found", 404),
            (ErrorCode::Http(HttpCode::Conflict), "conflict", 409),
            (ErrorCode::Http(HttpCode::MethodNotAllowed), "method_not_allowed", 405),
            (ErrorCode::Http(HttpCode::PayloadTooLarge), "payload_too_large", 413),
            (ErrorCode::Http(HttpCode::UnsupportedMediaType), "unsupported_media_type", 415),
            (ErrorCode::Http(HttpCode::RateLimited), "rate_limited", 429),
            (ErrorCode::ServerError, "server_error", 500),
            (ErrorCode::TemporarilyUnavailable, "temporarily_unavailable", 503),
        ];
        for (code, name, status) in table {
            assert_eq!(code.as_str(), name);
            assert_eq!(code.status(), status, "{name}");
        }
        assert_eq!(OAuthError::invalid_grant("x").status(), 400);
    }

    #[test]
    fn storage_failures_keep_their_detail_for_the_log_only() {
        let e = OAuthError::from(crate::store::StoreError::Backend("D1_ERROR: no such table: users".into()));
        assert_eq!((e.code, e.description.as_str()), (ErrorCode::ServerError, "storage is unavailable"));
        assert_eq!(e.internal.as_deref(), Some("D1_ERROR: no such table: users"));
        let c = OAuthError::from(crate::store::StoreError::Conflict("email".into()));
        assert_eq!((c.status(), c.description.as_str(), c.internal), (409, "email already exists", None));
    }
}
