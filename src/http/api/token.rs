//! `/token`, `/introspect`, `/revoke` and `/userinfo`.

use super::admin::{authorize_admin, AdminCheck};
use crate::http::request::Params;
use crate::http::{App, Incoming, Outgoing};
use crate::oauth::introspection::Introspector;
use crate::oauth::secrets::{CodeSecret, CodeVerifier, Password, RefreshTokenSecret};
use crate::oauth::{ErrorCode, GrantType, OAuthError, OAuthResult, TokenRequest};
use crate::store::{Platform, Store};
use serde::Deserialize;

/// The token request of a form (RFC 6749 §4.1.3, §6, §4.3.2, §4.4.2): `invalid_request` for a
/// missing or repeated parameter, `unsupported_grant_type` for a grant this server lacks.
pub fn token_request(form: &Params) -> OAuthResult<TokenRequest> {
    let required = |name: &str| form.opt(name)?.ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")));
    let grant_type = required("grant_type")?;
    let grant = GrantType::parse(&grant_type).ok_or_else(|| {
        OAuthError::unsupported_grant_type(format!("unsupported grant_type '{}'", grant_type.chars().take(40).collect::<String>()))
    })?;
    Ok(match grant {
        GrantType::AuthorizationCode => TokenRequest::AuthorizationCode {
            code: CodeSecret::new(required("code")?),
            redirect_uri: required("redirect_uri")?,
            code_verifier: form.opt("code_verifier")?.map(CodeVerifier::new),
        },
        GrantType::RefreshToken => {
            TokenRequest::RefreshToken { refresh_token: RefreshTokenSecret::new(required("refresh_token")?), scope: form.get("scope")? }
        }
        GrantType::Password => TokenRequest::Password {
            username: required("username")?,
            password: Password::new(required("password")?),
            scope: form.get("scope")?,
        },
        GrantType::ClientCredentials => TokenRequest::ClientCredentials { scope: form.get("scope")? },
    })
}

pub async fn token<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> OAuthResult<Outgoing> {
    let form = req.form()?;
    let creds = req.client_credentials(&form)?;
    let tr = token_request(&form)?;
    // RFC 8707 §2: repeatable; each an absolute URI (`invalid_target` otherwise).
    let resources = crate::oauth::resource::parse(&form.all("resource"))?;
    // RFC 9449 §4.3: a DPoP proof, when sent, is checked before anything else is done.
    let proof = match req.dpop()? {
        Some(proof) => Some(app.provider.check_dpop(proof, &req.method, &req.url(), None).await?),
        None => None,
    };
    let jkt = proof.as_ref().map(|p| p.jkt.as_str());
    let response = app.provider.token_for(&creds, &tr, &resources, jkt).await?;
    // RFC 6749 §5.1: no-store (set by Outgoing::json) and Pragma: no-cache.
    Ok(Outgoing::json(200, &response).header("pragma", "no-cache"))
}

#[derive(Deserialize)]
struct IntrospectJson {
    token: String,
    #[allow(dead_code)]
    token_type_hint: Option<String>,
}

/// RFC 7662 §2.1: the caller is a client (Basic, post, or a public client by its `client_id`) or
/// holds an admin bearer token; what it may learn is `Introspection::for_caller`'s rule.
pub async fn introspect<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> OAuthResult<Outgoing> {
    let (token, creds) = if req.is_json() {
        let body: IntrospectJson = req.json()?;
        (Some(body.token), crate::oauth::clients::ClientCredentials { basic: req.basic()?, ..Default::default() })
    } else {
        let form = req.form()?;
        (form.opt("token")?, req.client_credentials(&form)?)
    };
    let caller = async {
        if creds.basic.is_some() || creds.form_id.is_some() {
            return Ok(Introspector::Client(Box::new(app.provider.authenticate_client(&creds).await?)));
        }
        // docs/API.md: a client or an admin bearer, "else 401" — a valid token that is not an
        // admin credential too.
        match authorize_admin(app, req).await {
            Ok(AdminCheck::Admin(_)) => Ok(Introspector::Admin),
            Ok(AdminCheck::Missing) => Err(OAuthError::invalid_client("authenticate as a client or with an admin bearer token")),
            Err(e) if e.code == crate::oauth::ErrorCode::InsufficientScope => {
                Err(OAuthError::invalid_token("only an admin bearer token may introspect"))
            }
            Err(e) => Err(e),
        }
    };
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        caller.await?;
        return Err(OAuthError::invalid_request("token is required"));
    };
    // The caller's authentication and the token's state are read concurrently; the answer is
    // released only to an authenticated caller, and only what it may see (introspection has no
    // side effects).
    let (caller, answer) = crate::oauth::join2(caller, app.provider.introspect(&token)).await;
    let caller = caller?;
    Ok(Outgoing::json(200, &answer?.for_caller(&caller)))
}

pub async fn revoke<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> OAuthResult<Outgoing> {
    let form = req.form()?;
    let creds = req.client_credentials(&form)?;
    let client = app.provider.authenticate_client(&creds).await?;
    let token = form.opt("token")?.ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    // RFC 7009 §2.1: the hint is optional and may be ignored; read only to refuse a repeat.
    form.opt("token_type_hint")?;
    app.provider.revoke(&client, &token).await?;
    Ok(Outgoing::empty(200))
}

/// OIDC Core §5.3: the token comes in the Authorization header or, for POST, in the form body
/// (RFC 6750 §2.2), never both.
pub async fn userinfo<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> OAuthResult<Outgoing> {
    // RFC 9449 §7.1: a DPoP-bound token comes with the DPoP scheme and a proof whose `ath` is
    // its hash; failures are 401 with a DPoP challenge naming the error (§7.1).
    if let Some(token) = req.dpop_bound_token().map_err(dpop_challenge)? {
        let proof = req
            .dpop()
            .map_err(dpop_challenge)?
            .ok_or_else(|| dpop_challenge(OAuthError::invalid_dpop_proof("a DPoP proof is required with the DPoP scheme")))?;
        let proof = app.provider.check_dpop(proof, &req.method, &req.url(), Some(token.expose())).await.map_err(dpop_challenge)?;
        let info = app.provider.userinfo(token.expose(), Some(&proof.jkt)).await.map_err(dpop_challenge)?;
        return Ok(Outgoing::json(200, &info));
    }
    let header = req.bearer()?.map(|t| t.expose().to_string());
    let body = if req.method == "POST" && req.is_form() { req.form()?.opt("access_token")? } else { None };
    let token = match (header, body) {
        (Some(_), Some(_)) => return Err(OAuthError::invalid_request("send the token once (RFC 6750 §2)")),
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => {
            // RFC 6750 §3.1: no credentials → 401 with a bare challenge.
            return Ok(Outgoing::error(&OAuthError::invalid_token("a bearer access token is required"))
                .header("www-authenticate", "Bearer realm=\"edge-oidc\""));
        }
    };
    Ok(Outgoing::json(200, &app.provider.userinfo(&token, None).await?))
}

/// An error at a DPoP-protected request as RFC 9449 §7.1 answers it: 401 with
/// `WWW-Authenticate: DPoP error="..."` for a bad proof or token (403 stays for too little scope).
fn dpop_challenge(e: OAuthError) -> OAuthError {
    match e.code {
        ErrorCode::InvalidDpopProof | ErrorCode::InvalidToken => OAuthError { dpop_challenge: true, ..e },
        _ => e,
    }
}
