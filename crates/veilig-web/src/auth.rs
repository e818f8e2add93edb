//! Who is asking: the session cookie or a bearer token becomes a [`Principal`], and extractors
//! let a handler say what it needs (any session, a full sign-in, staff, an administrator).
//! Also the CSRF rules: every state-changing request from a browser carries the token from the
//! `veilig_csrf` cookie, in a form field or in the `X-CSRF-Token` header.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use veilig_identity::{IdentityError, Role, SessionInfo};
use veilig_store::UserRecord;

use crate::AppState;
use crate::error::ApiError;
use crate::middleware::{Secure, cookie};

pub const SESSION_COOKIE: &str = "veilig_session";
pub const CSRF_COOKIE: &str = "veilig_csrf";

/// The signed-in party of a request.
#[derive(Debug, Clone)]
pub enum Principal {
    Session(SessionInfo),
    Token { user: UserRecord, role: Role, scopes: Vec<String> },
}

impl Principal {
    pub fn user(&self) -> &UserRecord {
        match self {
            Principal::Session(s) => &s.user,
            Principal::Token { user, .. } => user,
        }
    }

    pub fn role(&self) -> Role {
        match self {
            Principal::Session(s) => s.role,
            Principal::Token { role, .. } => *role,
        }
    }

    /// Signed in with both factors (a token counts: it was made by someone who was).
    pub fn is_full(&self) -> bool {
        match self {
            Principal::Session(s) => s.is_full(),
            Principal::Token { .. } => true,
        }
    }

    pub fn actor(&self, ip: &str) -> veilig_identity::service::Actor {
        veilig_identity::service::Actor { email: self.user().email.clone(), user_id: Some(self.user().id.clone()), ip: ip.to_owned() }
    }

    /// A `read` token may only read.
    fn may(&self, method: &Method) -> bool {
        match self {
            Principal::Session(_) => true,
            Principal::Token { scopes, .. } => {
                scopes.iter().any(|s| s == "admin")
                    || (scopes.iter().any(|s| s == "read") && (method == Method::GET || method == Method::HEAD))
            }
        }
    }
}

/// The CSRF token of this browser, set by [`authenticate`] when missing.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// Resolves the principal and the CSRF token; checks CSRF on state-changing requests.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    // Health, metrics and static files need no identity (and must answer while the database
    // is down).
    let path = req.uri().path();
    if path == "/healthz" || path == "/metrics" || path.starts_with("/static/") {
        return next.run(req).await;
    }
    let headers = req.headers();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let session_cookie = cookie(headers, SESSION_COOKIE);
    let existing_csrf =
        cookie(headers, CSRF_COOKIE).filter(|c| c.len() == 43 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    let is_api = req.uri().path().starts_with("/api/");

    let mut principal = None;
    if let Some(token) = &bearer {
        match state.identity.bearer(token).await {
            Ok((user, role, scopes)) => principal = Some(Principal::Token { user, role, scopes }),
            Err(IdentityError::Store(e)) => return ApiError::from(e).into_response(),
            Err(_) => {
                return ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", "the API token is unknown, revoked or expired")
                    .into_response();
            }
        }
    } else if let Some(token) = &session_cookie {
        match state.identity.session(token).await {
            Ok(s) => principal = Some(Principal::Session(s)),
            Err(IdentityError::Store(e)) => return ApiError::from(e).into_response(),
            Err(_) => {}
        }
    }

    // CSRF: browsers' state-changing requests must prove they come from our own pages.
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && bearer.is_none() {
        if let Some(origin) = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
            let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or(origin);
            if origin != "null" && origin_host != host {
                return csrf_failure(is_api, "the request came from another site");
            }
        }
        if is_api {
            let header_token = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok());
            let needs = session_cookie.is_some();
            if needs && (existing_csrf.is_none() || header_token != existing_csrf.as_deref()) {
                return csrf_failure(true, "send the X-CSRF-Token header with the token from sign-in");
            }
        }
    }

    let csrf = existing_csrf.clone().unwrap_or_else(|| veilig_identity::crypto::random_token("").chars().take(43).collect());
    req.extensions_mut().insert(CsrfToken(csrf.clone()));
    // Device conditions on the portal: a person whose group requires a compliant device or a
    // device certificate, and who has none, reaches only what they need to enrol one.
    // Administrators are never held back by them, so nobody can lock the conditions in place.
    if let Some(Principal::Session(s)) = principal.as_ref().filter(|p| p.is_full())
        && s.role != Role::Admin
        && !device_gate_exempt(req.uri().path())
    {
        match state.devices.gate(&s.user.id, veilig_compliance::Target::Portal).await {
            Ok(Ok(())) => {}
            Ok(Err(refusal)) => {
                if is_api {
                    let lang = req.extensions().get::<veilig_core::Lang>().copied().unwrap_or_default();
                    return crate::views::devices::refusal_error(&refusal, lang.code()).into_response();
                }
                return Redirect::to("/devices?refused=1").into_response();
            }
            Err(e) => return ApiError::from(e).into_response(),
        }
    }
    if let Some(p) = principal {
        req.extensions_mut().insert(p);
    }
    let secure = req.extensions().get::<Secure>().is_some_and(|s| s.0);
    let mut res = next.run(req).await;
    if existing_csrf.is_none() {
        set_cookie(&mut res, CSRF_COOKIE, &csrf, secure, Some(12 * 3600), "Strict");
    }
    res
}

/// What stays open to a person refused by the device conditions: signing in and out, and the
/// pages and calls that enrol a device.
fn device_gate_exempt(path: &str) -> bool {
    path == "/logout"
        || path == "/api/v1/logout"
        || path.starts_with("/login")
        || path.starts_with("/devices")
        || path == "/api/v1/devices"
        || path == "/api/v1/devices/tokens"
        || path.starts_with("/api/v1/agent/")
}

fn csrf_failure(is_api: bool, why: &str) -> Response {
    let e = ApiError::new(StatusCode::FORBIDDEN, "csrf", format!("refused: {why}"));
    if is_api {
        e.into_response()
    } else {
        (StatusCode::FORBIDDEN, format!("Geweigerd / refused: {why}. Laad de pagina opnieuw / reload the page.")).into_response()
    }
}

/// Appends a `Set-Cookie` header. `max_age` `None` means a browser-session cookie.
pub fn set_cookie(res: &mut Response, name: &str, value: &str, secure: bool, max_age: Option<i64>, same_site: &str) {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    if let Ok(v) = HeaderValue::from_str(&c) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

pub fn clear_cookie(res: &mut Response, name: &str) {
    if let Ok(v) = HeaderValue::from_str(&format!("{name}=; Path=/; HttpOnly; Max-Age=0")) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// Why a request was turned away: a redirect to the sign-in page for pages, JSON for the API.
pub struct AuthRejection {
    api: bool,
    status: StatusCode,
    code: &'static str,
    message: &'static str,
    login: Option<String>,
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        match (self.api, self.login) {
            (false, Some(next)) => Redirect::to(&next).into_response(),
            (false, None) => (self.status, "Geen toegang / Access denied").into_response(),
            _ => ApiError::new(self.status, self.code, self.message).into_response(),
        }
    }
}

fn reject(parts: &Parts, principal: Option<&Principal>, need: &'static str) -> AuthRejection {
    let api = parts.uri.path().starts_with("/api/");
    match principal {
        None => {
            let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            AuthRejection {
                api,
                status: StatusCode::UNAUTHORIZED,
                code: "unauthenticated",
                message: "sign in first",
                login: Some(format!("/login?next={}", urlencode(next))),
            }
        }
        Some(p) if !p.is_full() => {
            let target = match p {
                Principal::Session(s) if s.session.stage == veilig_identity::service::STAGE_ENROLL => "/enroll/factor",
                _ => "/login/second",
            };
            AuthRejection {
                api,
                status: StatusCode::UNAUTHORIZED,
                code: "second_factor_required",
                message: "finish signing in with your second factor",
                login: Some(target.to_owned()),
            }
        }
        Some(_) => AuthRejection { api, status: StatusCode::FORBIDDEN, code: "forbidden", message: need, login: None },
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// Any signed-in party with both factors.
pub struct Signed(pub Principal);
/// An administrator or a security officer.
pub struct Staff(pub Principal);
/// An administrator.
pub struct Admin(pub Principal);
/// A browser session at any stage (enrolment, password given, full).
pub struct AnySession(pub SessionInfo);

impl<S: Send + Sync> FromRequestParts<S> for Signed {
    type Rejection = AuthRejection;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let p = parts.extensions.get::<Principal>();
        match p {
            Some(p) if p.is_full() && p.may(&parts.method) => Ok(Signed(p.clone())),
            Some(p) if p.is_full() => Err(reject(parts, Some(p), "this token may only read")),
            _ => Err(reject(parts, p, "")),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Staff {
    type Rejection = AuthRejection;
    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, Self::Rejection> {
        let Signed(p) = Signed::from_request_parts(parts, s).await?;
        if p.role().is_staff() { Ok(Staff(p)) } else { Err(reject(parts, Some(&p), "this is for administrators and security officers")) }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = AuthRejection;
    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, Self::Rejection> {
        let Signed(p) = Signed::from_request_parts(parts, s).await?;
        if p.role() == Role::Admin { Ok(Admin(p)) } else { Err(reject(parts, Some(&p), "this is for administrators")) }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AnySession {
    type Rejection = AuthRejection;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Principal>() {
            Some(Principal::Session(s)) => Ok(AnySession(s.clone())),
            _ => Err(reject(parts, None, "")),
        }
    }
}

/// A form whose `csrf` field must match the browser's CSRF cookie.
pub struct CsrfForm<T>(pub T);

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let expected = req.extensions().get::<CsrfToken>().map(|c| c.0.clone()).unwrap_or_default();
        let had_cookie = cookie(req.headers(), CSRF_COOKIE).is_some();
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|e| crate::error::body_error(e.status()).into_response())?;
        let field: CsrfField = serde_urlencoded_like(&bytes).map_err(|_| csrf_failure(false, "the form was malformed"))?;
        if !had_cookie || field.csrf.is_empty() || !constant_time_eq(field.csrf.as_bytes(), expected.as_bytes()) {
            return Err(csrf_failure(false, "the form's security token is missing or old"));
        }
        let value: T = serde_urlencoded_like(&bytes)
            .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_form", e).into_response())?;
        Ok(CsrfForm(value))
    }
}

fn serde_urlencoded_like<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    serde_urlencoded::from_bytes(bytes).map_err(|e| e.to_string())
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
