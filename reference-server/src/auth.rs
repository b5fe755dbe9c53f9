//! OAuth for the HTTP transports (`--auth`).
//!
//! With `--auth` the server is an OAuth 2.1 resource server for its MCP endpoints
//! (`/mcp`, and `/sse` + `/messages`), and it also hosts a deliberately small local
//! authorization server so that tests can get tokens offline:
//!
//! - `GET /.well-known/oauth-protected-resource{,/mcp,/sse}`: RFC 9728 protected resource
//!   metadata (`resource`, `authorization_servers`, `scopes_supported`,
//!   `bearer_methods_supported`).
//! - `GET /.well-known/oauth-authorization-server`: RFC 8414 metadata of the local issuer.
//! - `POST /token`: the `client_credentials` grant only (RFC 6749 section 4.4), for one
//!   confidential client, with the RFC 8707 `resource` parameter. Any absolute http(s)
//!   resource is accepted (an issuer serving several resources), which is how a test
//!   gets a token for another resource; the token's audience is that resource.
//!
//! Tokens are JWTs (RFC 9068 claims: `iss`, `aud`, `sub`, `client_id`, `scope`, `iat`,
//! `exp`, `jti`) signed with HMAC-SHA-256 under a key drawn from the OS at start-up, so
//! only this process can mint or verify them.
//!
//! The resource server answers (RFC 6750 section 3, MCP authorization "Error Handling"):
//! no credentials or another scheme: 401 with `WWW-Authenticate: Bearer
//! resource_metadata="...", scope="mcp"`; a malformed `Authorization` header: 400
//! `error="invalid_request"`; a token that does not verify, has expired, or was issued
//! for another resource (audience): 401 `error="invalid_token"`; a token without the
//! `mcp` scope: 403 `error="insufficient_scope"`.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use serde_json::{Value, json};

use crate::defects::{Defect, Defects};

/// The scope every MCP request needs.
pub const REQUIRED_SCOPE: &str = "mcp";
/// Scopes the local issuer grants.
pub const SCOPES: &[&str] = &[REQUIRED_SCOPE, "profile"];
/// The confidential client the local issuer knows.
pub const CLIENT_ID: &str = "mcp-conform";
/// Lifetime of issued tokens, in seconds.
const TOKEN_LIFETIME_S: u64 = 3600;
/// Longest `Authorization` header looked at; longer ones are malformed.
const MAX_AUTHORIZATION_BYTES: usize = 8 * 1024;

/// The resource server's and the local issuer's settings and signing key.
pub struct Auth {
    /// `http://HOST:PORT`, the server's origin; the issuer identifier too.
    base: String,
    key: hmac::Key,
    client_secret: String,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth").field("base", &self.base).finish_non_exhaustive()
    }
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Auth {
    /// `base` is the server's origin (`http://127.0.0.1:PORT`); a fresh signing key is
    /// drawn from the OS. `client_secret`: the local client's secret.
    pub fn new(base: String, client_secret: String) -> Auth {
        let secret = crate::random_token(32);
        Auth {
            base,
            key: hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()),
            client_secret,
        }
    }

    pub fn issuer(&self) -> &str {
        &self.base
    }

    /// The resource identifier (canonical URI) of an MCP endpoint path (`/mcp`).
    pub fn resource(&self, endpoint: &str) -> String {
        format!("{}{endpoint}", self.base)
    }

    /// The RFC 9728 well-known URL of an endpoint's metadata (path-suffixed form).
    pub fn metadata_url(&self, endpoint: &str) -> String {
        format!("{}/.well-known/oauth-protected-resource{endpoint}", self.base)
    }

    /// A signed access token for `audience` with `scope` (space-separated).
    pub fn mint(&self, audience: &str, scope: &str) -> String {
        let now = now_s();
        let header = json!({"alg": "HS256", "typ": "at+jwt"});
        let claims = json!({
            "iss": self.base,
            "aud": audience,
            "sub": CLIENT_ID,
            "client_id": CLIENT_ID,
            "scope": scope,
            "iat": now,
            "exp": now + TOKEN_LIFETIME_S,
            "jti": crate::random_token(8),
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let tag = hmac::sign(&self.key, signing_input.as_bytes());
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// The claims of a token this issuer signed that has not expired.
    fn verify(&self, token: &str) -> Option<Value> {
        let mut parts = token.split('.');
        let (h, c, s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let tag = URL_SAFE_NO_PAD.decode(s).ok()?;
        let signing_input = &token[..h.len() + 1 + c.len()];
        hmac::verify(&self.key, signing_input.as_bytes(), &tag).ok()?;
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(c).ok()?).ok()?;
        let fresh = claims
            .get("exp")
            .and_then(Value::as_u64)
            .is_some_and(|exp| exp > now_s());
        let ours = claims.get("iss").and_then(Value::as_str) == Some(self.base.as_str());
        (fresh && ours).then_some(claims)
    }

    /// The `WWW-Authenticate` challenge for `endpoint`, with an optional error code.
    fn challenge(&self, endpoint: &str, error: Option<(&str, &str)>, defects: &Defects) -> String {
        let mut params = Vec::new();
        if let Some((code, description)) = error {
            params.push(format!("error=\"{code}\""));
            params.push(format!("error_description=\"{description}\""));
        }
        if !defects.has(Defect::AuthNoResourceMetadata) {
            params.push(format!(
                "resource_metadata=\"{}\"",
                self.metadata_url(endpoint)
            ));
        }
        if !defects.has(Defect::AuthChallengeWithoutScope) {
            params.push(format!("scope=\"{REQUIRED_SCOPE}\""));
        }
        format!("Bearer {}", params.join(", "))
    }

    fn refuse(
        &self,
        status: StatusCode,
        endpoint: &str,
        error: Option<(&str, &str)>,
        defects: &Defects,
    ) -> Response {
        let body = match error {
            Some((code, description)) => json!({"error": code, "error_description": description}),
            None => json!({"error": "unauthorized", "error_description": "a bearer token is required"}),
        };
        let mut r = (status, body.to_string()).into_response();
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if !defects.has(Defect::AuthNoWwwAuthenticate)
            && let Ok(v) = HeaderValue::from_str(&self.challenge(endpoint, error, defects))
        {
            h.insert(header::WWW_AUTHENTICATE, v);
        }
        r
    }

    /// Whether a request to `endpoint` (`/mcp`, `/sse`) may be served; the refusal
    /// otherwise.
    pub fn check(
        &self,
        headers: &HeaderMap,
        endpoint: &str,
        defects: &Defects,
    ) -> Result<(), Box<Response>> {
        let refuse = |status, error| Err(Box::new(self.refuse(status, endpoint, error, defects)));
        let mut values = headers.get_all(header::AUTHORIZATION).iter();
        let Some(value) = values.next() else {
            return refuse(StatusCode::UNAUTHORIZED, None);
        };
        let malformed = || -> Result<(), Box<Response>> {
            if defects.has(Defect::AuthMalformedHeaderAccepted) {
                return Ok(());
            }
            refuse(
                StatusCode::BAD_REQUEST,
                Some((
                    "invalid_request",
                    "the Authorization header is not 'Bearer <token>'",
                )),
            )
        };
        if values.next().is_some() || value.len() > MAX_AUTHORIZATION_BYTES {
            return malformed();
        }
        let Ok(text) = value.to_str() else {
            return malformed();
        };
        let (scheme, rest) = text.split_once(' ').unwrap_or((text, ""));
        if !scheme.eq_ignore_ascii_case("bearer") {
            // Another scheme: no bearer credentials at all (RFC 6750 section 3.1).
            return if scheme.is_empty() || scheme.contains(|c: char| !c.is_ascii_alphanumeric() && c != '-') {
                malformed()
            } else {
                refuse(StatusCode::UNAUTHORIZED, None)
            };
        }
        let token = rest.trim_start_matches(' ');
        if !is_b64token(token) {
            return malformed();
        }
        if defects.has(Defect::AuthAnyTokenAccepted) {
            return Ok(());
        }
        let Some(claims) = self.verify(token) else {
            return refuse(
                StatusCode::UNAUTHORIZED,
                Some((
                    "invalid_token",
                    "the token is not one this server's issuer signed, or it has expired",
                )),
            );
        };
        let resource = self.resource(endpoint);
        let for_us = match claims.get("aud") {
            Some(Value::String(a)) => *a == resource,
            Some(Value::Array(a)) => a.iter().any(|a| a.as_str() == Some(resource.as_str())),
            _ => false,
        };
        if !for_us && !defects.has(Defect::AuthWrongAudienceAccepted) {
            return refuse(
                StatusCode::UNAUTHORIZED,
                Some((
                    "invalid_token",
                    "the token was issued for another resource (audience)",
                )),
            );
        }
        let scoped = claims
            .get("scope")
            .and_then(Value::as_str)
            .is_some_and(|s| s.split(' ').any(|s| s == REQUIRED_SCOPE));
        if !scoped && !defects.has(Defect::AuthScopeIgnored) {
            return refuse(
                StatusCode::FORBIDDEN,
                Some((
                    "insufficient_scope",
                    "the token lacks the scope this resource needs",
                )),
            );
        }
        Ok(())
    }

    /// The RFC 9728 metadata document of `endpoint`.
    pub fn protected_resource_metadata(&self, endpoint: &str, defects: &Defects) -> Value {
        let resource = if defects.has(Defect::AuthMetadataWrongResource) {
            format!("{}/another-resource", self.base)
        } else {
            self.resource(endpoint)
        };
        let mut doc = json!({
            "resource": resource,
            "authorization_servers": [self.base],
            "scopes_supported": SCOPES,
            "bearer_methods_supported": ["header"],
            "resource_name": "mcp-conform reference server",
        });
        if defects.has(Defect::AuthMetadataNoAuthorizationServers)
            && let Some(o) = doc.as_object_mut()
        {
            o.remove("authorization_servers");
        }
        doc
    }

    /// The RFC 8414 metadata of the local issuer.
    pub fn authorization_server_metadata(&self) -> Value {
        json!({
            "issuer": self.base,
            "token_endpoint": format!("{}/token", self.base),
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "response_types_supported": [],
            "scopes_supported": SCOPES,
        })
    }

    /// The token endpoint: `client_credentials` for the one local client.
    pub fn token(&self, headers: &HeaderMap, form: &[(String, String)]) -> Response {
        let field = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let error = |status: StatusCode, code: &str, description: &str| {
            oauth_json(
                status,
                &json!({"error": code, "error_description": description}),
            )
        };
        // Client authentication: HTTP Basic, or the form's client_id + client_secret.
        let basic = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.split_once(':').map(|(i, p)| (i.to_string(), p.to_string())));
        let (id, secret) = match (basic, field("client_id"), field("client_secret")) {
            (Some(creds), _, _) => creds,
            (None, Some(i), Some(s)) => (i.to_string(), s.to_string()),
            _ => {
                return error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "client authentication is required",
                );
            }
        };
        // Constant-time: compare the MACs of both secrets with ring's verifier.
        let expected = hmac::sign(&self.key, self.client_secret.as_bytes());
        let secret_ok = hmac::verify(&self.key, secret.as_bytes(), expected.as_ref()).is_ok();
        if id != CLIENT_ID || !secret_ok {
            return error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "unknown client or wrong secret",
            );
        }
        if field("grant_type") != Some("client_credentials") {
            return error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only client_credentials is supported",
            );
        }
        let scope = field("scope").unwrap_or(REQUIRED_SCOPE);
        if scope.split(' ').any(|s| !SCOPES.contains(&s)) {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "a requested scope is not supported",
            );
        }
        let audience = match field("resource") {
            None => self.resource("/mcp"),
            Some(r) if is_absolute_resource(r) => r.to_string(),
            Some(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_target",
                    "resource must be an absolute http(s) URI without a fragment",
                );
            }
        };
        let token = self.mint(&audience, scope);
        oauth_json(
            StatusCode::OK,
            &json!({
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME_S,
                "scope": scope,
            }),
        )
    }
}

/// RFC 6750 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(t: &str) -> bool {
    let body = t.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

fn is_absolute_resource(r: &str) -> bool {
    (r.starts_with("http://") || r.starts_with("https://"))
        && !r.contains('#')
        && r.split_once("://").is_some_and(|(_, rest)| !rest.is_empty())
}

/// A JSON answer of the authorization server (never cached: RFC 6749 section 5.1).
pub fn oauth_json(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Auth {
        Auth::new("http://127.0.0.1:9".into(), "s3cret".into())
    }

    fn bearer(t: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(t).unwrap());
        h
    }

    fn status(r: Result<(), Box<Response>>) -> u16 {
        match r {
            Ok(()) => 200,
            Err(r) => r.status().as_u16(),
        }
    }

    #[test]
    fn tokens_verify_only_when_ours_fresh_and_for_us() {
        let a = auth();
        let d = Defects::none();
        let good = a.mint(&a.resource("/mcp"), "mcp");
        assert_eq!(status(a.check(&bearer(&format!("Bearer {good}")), "/mcp", &d)), 200);
        assert_eq!(status(a.check(&bearer(&format!("bearer {good}")), "/mcp", &d)), 200);
        assert_eq!(status(a.check(&bearer(&format!("Bearer {good}")), "/sse", &d)), 401);
        let other = a.mint("http://elsewhere.invalid/mcp", "mcp");
        assert_eq!(status(a.check(&bearer(&format!("Bearer {other}")), "/mcp", &d)), 401);
        let unscoped = a.mint(&a.resource("/mcp"), "profile");
        assert_eq!(status(a.check(&bearer(&format!("Bearer {unscoped}")), "/mcp", &d)), 403);
        let foreign = auth().mint(&a.resource("/mcp"), "mcp");
        assert_eq!(status(a.check(&bearer(&format!("Bearer {foreign}")), "/mcp", &d)), 401);
        let mut tampered = good.clone();
        tampered.pop();
        tampered.push(if good.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(status(a.check(&bearer(&format!("Bearer {tampered}")), "/mcp", &d)), 401);
    }

    #[test]
    fn malformed_headers_are_400_and_missing_ones_401() {
        let a = auth();
        let d = Defects::none();
        assert_eq!(status(a.check(&HeaderMap::new(), "/mcp", &d)), 401);
        assert_eq!(status(a.check(&bearer("Basic Zm9vOmJhcg=="), "/mcp", &d)), 401);
        for bad in ["Bearer", "Bearer ", "Bearer a b", ", x", "Bearer =="] {
            assert_eq!(status(a.check(&bearer(bad), "/mcp", &d)), 400, "{bad:?}");
        }
        let r = a.check(&HeaderMap::new(), "/mcp", &d).unwrap_err();
        let c = r.headers()[header::WWW_AUTHENTICATE].to_str().unwrap();
        assert!(c.starts_with("Bearer ") && c.contains("resource_metadata=\"http://127.0.0.1:9/.well-known/oauth-protected-resource/mcp\""), "{c}");
    }

    #[test]
    fn arbitrary_authorization_values_never_panic() {
        let a = auth();
        let d = Defects::none();
        let good = a.mint(&a.resource("/mcp"), "mcp");
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet: Vec<u8> = b"Bearer .=-_~+/ab,\"\t\xff\x80".to_vec();
        for i in 0..5000 {
            let len = (next() % 40) as usize;
            let mut v: Vec<u8> = (0..len).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect();
            if i % 3 == 0 {
                // Mutations of a real token: truncated, with a byte changed.
                v = format!("Bearer {good}").into_bytes();
                let at = (next() as usize) % v.len();
                v.truncate(v.len() - (next() % 3) as usize);
                if at < v.len() {
                    v[at] = alphabet[(next() % alphabet.len() as u64) as usize];
                }
            }
            let Ok(value) = HeaderValue::from_bytes(&v) else { continue };
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, value);
            let s = status(a.check(&h, "/mcp", &d));
            assert!(matches!(s, 200 | 400 | 401 | 403), "{v:?} -> {s}");
        }
    }

    #[test]
    fn token_endpoint_grants_client_credentials_only() {
        let a = auth();
        let form = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let ok = form(&[("grant_type", "client_credentials"), ("client_id", CLIENT_ID), ("client_secret", "s3cret"), ("resource", "http://x.invalid/mcp")]);
        assert_eq!(a.token(&HeaderMap::new(), &ok).status(), 200);
        let wrong = form(&[("grant_type", "client_credentials"), ("client_id", CLIENT_ID), ("client_secret", "nope")]);
        assert_eq!(a.token(&HeaderMap::new(), &wrong).status(), 401);
        let grant = form(&[("grant_type", "password"), ("client_id", CLIENT_ID), ("client_secret", "s3cret")]);
        assert_eq!(a.token(&HeaderMap::new(), &grant).status(), 400);
        let target = form(&[("grant_type", "client_credentials"), ("client_id", CLIENT_ID), ("client_secret", "s3cret"), ("resource", "mcp")]);
        assert_eq!(a.token(&HeaderMap::new(), &target).status(), 400);
    }
}
