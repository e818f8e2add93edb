//! Identity's pages: first administrator, enrolment, sign-in with a second factor, sign-out and
//! the employee's own page.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use veilig_identity::service::TotpEnrollment;
use veilig_identity::{IdentityError, SessionInfo};
use veilig_store::{FactorRecord, SessionRecord};

use super::{PageCtx, format_ms, render};
use crate::AppState;
use crate::auth::{AnySession, CsrfForm, SESSION_COOKIE, Signed, clear_cookie, set_cookie};
use crate::middleware::{ClientIp, Secure};
use crate::qr::{Qr, qr};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/setup/{token}", get(setup_page).post(setup_submit))
        .route("/enroll/{token}", get(enroll_page).post(enroll_submit))
        .route("/enroll/factor", get(factor_page).post(factor_submit))
        .route("/login", get(login_page).post(login_submit))
        .route("/login/second", get(second_page).post(second_submit))
        .route("/logout", post(logout))
        .route("/me", get(me_page))
        .route("/me/language", post(me_language))
        .route("/me/recovery", post(me_recovery))
        .route("/me/factors/{id}/remove", post(me_factor_remove))
        .route("/me/factors/{id}/rename", post(me_factor_rename))
        .route("/me/sessions/end", post(me_session_end))
}

/// A message for a form, in the page's language, from an identity error.
pub fn error_text(ctx: &PageCtx, e: &IdentityError) -> String {
    match e {
        IdentityError::BadCredentials => ctx.t.t("login.bad_credentials").to_owned(),
        IdentityError::BadCode => ctx.t.t("login.bad_code").to_owned(),
        IdentityError::Throttled { retry_after_secs } => format!("{} ({retry_after_secs} s)", ctx.t.t("login.throttled")),
        IdentityError::BadToken => ctx.t.t("link.invalid").to_owned(),
        IdentityError::Busy => ctx.t.t("login.busy").to_owned(),
        IdentityError::Invalid(m) | IdentityError::Conflict(m) => format!("{} {m}", ctx.t.t("form.check")),
        IdentityError::NoSession | IdentityError::SecondFactorRequired => ctx.t.t("login.again").to_owned(),
        IdentityError::Forbidden => ctx.t.t("error.forbidden").to_owned(),
        IdentityError::NotFound(_) => ctx.t.t("error.not_found_title").to_owned(),
        IdentityError::Store(_) | IdentityError::Internal(_) => {
            tracing::error!(error = %e, "identity failure");
            ctx.t.t("error.internal").to_owned()
        }
    }
}

fn status_of(e: &IdentityError) -> StatusCode {
    crate::error::identity_status(e).0
}

fn with_status(mut res: Response, status: StatusCode) -> Response {
    *res.status_mut() = status;
    res
}

pub(super) fn user_agent(headers: &HeaderMap) -> String {
    headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default().chars().take(300).collect()
}

/// Redirects and sets the session cookie.
fn with_session(to: &str, token: &str, secure: bool) -> Response {
    super::identity_api::with_session(Redirect::to(to), token, secure)
}

/// Only local paths are followed after sign-in, so a link cannot send people elsewhere.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && n.len() < 500 => n.to_owned(),
        _ => "/".to_owned(),
    }
}

// ---- First administrator -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "identity/setup.html")]
struct SetupPage {
    ctx: PageCtx,
    token: String,
    email: String,
    name: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct SetupForm {
    email: String,
    #[serde(default)]
    name: String,
    password: String,
    password2: String,
}

async fn setup_page(State(state): State<AppState>, ctx: PageCtx, Path(token): Path<String>) -> Response {
    match state.identity.valid_token(&token, "setup").await {
        Ok(_) => render(&SetupPage { ctx, token, email: String::new(), name: String::new(), error: None }),
        Err(_) => invalid_link(ctx),
    }
}

async fn setup_submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
    axum::Extension(ip): axum::Extension<ClientIp>,
    axum::Extension(secure): axum::Extension<Secure>,
    headers: HeaderMap,
    CsrfForm(f): CsrfForm<SetupForm>,
) -> Response {
    let again = |ctx: PageCtx, error: String, status: StatusCode| {
        with_status(
            render(&SetupPage { ctx, token: token.clone(), email: f.email.clone(), name: f.name.clone(), error: Some(error) }),
            status,
        )
    };
    if f.password != f.password2 {
        let msg = ctx.t.t("form.passwords_differ").to_owned();
        return again(ctx, msg, StatusCode::UNPROCESSABLE_ENTITY);
    }
    match state.identity.complete_setup(&token, &f.email, &f.name, &f.password, &ip.0.to_string(), &user_agent(&headers)).await {
        Ok((session, _)) => with_session("/enroll/factor", &session, secure.0),
        Err(e) => {
            let msg = error_text(&ctx, &e);
            again(ctx, msg, status_of(&e))
        }
    }
}

// ---- Enrolment -----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "identity/enroll.html")]
struct EnrollPage {
    ctx: PageCtx,
    token: String,
    email: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct EnrollForm {
    password: String,
    password2: String,
}

/// The page for a link that is invalid, used or expired.
fn invalid_link(ctx: PageCtx) -> Response {
    super::error_page(ctx, StatusCode::GONE, "link.invalid_title", "link.invalid")
}

/// The e-mail address an enrolment link belongs to, if the link is still valid.
async fn enroll_email(state: &AppState, token: &str) -> Option<String> {
    let t = state.identity.valid_token(token, "enroll").await.ok()?;
    state.identity.user(t.user_id.as_deref()?).await.ok().map(|u| u.email)
}

async fn enroll_page(State(state): State<AppState>, ctx: PageCtx, Path(token): Path<String>) -> Response {
    match enroll_email(&state, &token).await {
        Some(email) => render(&EnrollPage { ctx, token, email, error: None }),
        None => invalid_link(ctx),
    }
}

async fn enroll_submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
    axum::Extension(ip): axum::Extension<ClientIp>,
    axum::Extension(secure): axum::Extension<Secure>,
    headers: HeaderMap,
    CsrfForm(f): CsrfForm<EnrollForm>,
) -> Response {
    let Some(email) = enroll_email(&state, &token).await else { return invalid_link(ctx) };
    if f.password != f.password2 {
        let msg = ctx.t.t("form.passwords_differ").to_owned();
        return with_status(render(&EnrollPage { ctx, token, email, error: Some(msg) }), StatusCode::UNPROCESSABLE_ENTITY);
    }
    match state.identity.enroll_password(&token, &f.password, &ip.0.to_string(), &user_agent(&headers)).await {
        Ok((session, _)) => with_session("/enroll/factor", &session, secure.0),
        Err(e) => {
            let msg = error_text(&ctx, &e);
            let status = status_of(&e);
            with_status(render(&EnrollPage { ctx, token, email, error: Some(msg) }), status)
        }
    }
}

#[derive(Template)]
#[template(path = "identity/factor.html")]
struct FactorPage {
    ctx: PageCtx,
    enrolling: bool,
    totp: TotpEnrollment,
    qr: Option<Qr>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "identity/recovery.html")]
struct RecoveryPage {
    ctx: PageCtx,
    codes: Vec<String>,
    next: &'static str,
}

#[derive(Deserialize)]
struct CodeForm {
    code: String,
    #[serde(default)]
    name: String,
}

/// Adds an authenticator app: during enrolment, or later from the user's own page.
async fn factor_page(State(state): State<AppState>, ctx: PageCtx, AnySession(s): AnySession) -> Response {
    factor_form(&state, ctx, &s, None).await
}

async fn factor_form(state: &AppState, ctx: PageCtx, s: &SessionInfo, error: Option<String>) -> Response {
    if s.session.stage == veilig_identity::service::STAGE_PASSWORD {
        return Redirect::to("/login/second").into_response();
    }
    match state.identity.totp_begin(s).await {
        Ok(totp) => {
            let qr = qr(&totp.otpauth_uri);
            let enrolling = !s.is_full();
            render(&FactorPage { ctx, enrolling, totp, qr, error })
        }
        Err(e) => {
            let msg = error_text(&ctx, &e);
            with_status(msg.into_response(), status_of(&e))
        }
    }
}

async fn factor_submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    AnySession(s): AnySession,
    axum::Extension(secure): axum::Extension<Secure>,
    CsrfForm(f): CsrfForm<CodeForm>,
) -> Response {
    match state.identity.totp_confirm(&s, &f.code, Some(&f.name)).await {
        Ok((codes, session)) => {
            let next = if s.role.is_staff() { "/" } else { "/me" };
            let mut res = match codes {
                Some(codes) => render(&RecoveryPage { ctx, codes, next }),
                None => Redirect::to("/me").into_response(),
            };
            set_cookie(&mut res, SESSION_COOKIE, &session, secure.0, None, "Lax");
            res
        }
        Err(e) => {
            let msg = error_text(&ctx, &e);
            let status = status_of(&e);
            with_status(factor_form(&state, ctx, &s, Some(msg)).await, status)
        }
    }
}

// ---- Sign-in -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "identity/login.html")]
struct LoginPage {
    ctx: PageCtx,
    email: String,
    next: String,
    error: Option<String>,
    passkeys: bool,
}

#[derive(Deserialize, Default)]
struct NextQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

async fn login_page(State(state): State<AppState>, ctx: PageCtx, Query(q): Query<NextQuery>) -> Response {
    render(&LoginPage {
        ctx,
        email: String::new(),
        next: safe_next(q.next.as_deref()),
        error: None,
        passkeys: state.identity.passkeys.is_some(),
    })
}

async fn login_submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    axum::Extension(ip): axum::Extension<ClientIp>,
    axum::Extension(secure): axum::Extension<Secure>,
    headers: HeaderMap,
    CsrfForm(f): CsrfForm<LoginForm>,
) -> Response {
    let next = safe_next(Some(&f.next));
    match state.identity.login_password(&f.email, &f.password, &ip.0.to_string(), &user_agent(&headers)).await {
        Ok(outcome) => with_session(&format!("/login/second?next={}", crate::auth::urlencode(&next)), &outcome.session_token, secure.0),
        Err(e) => {
            let msg = error_text(&ctx, &e);
            let status = status_of(&e);
            let passkeys = state.identity.passkeys.is_some();
            with_status(render(&LoginPage { ctx, email: f.email.chars().take(254).collect(), next, error: Some(msg), passkeys }), status)
        }
    }
}

#[derive(Template)]
#[template(path = "identity/second.html")]
struct SecondPage {
    ctx: PageCtx,
    next: String,
    has_totp: bool,
    has_passkey: bool,
    error: Option<String>,
}

#[derive(Deserialize)]
struct SecondForm {
    method: String,
    code: String,
    #[serde(default)]
    next: String,
}

async fn second_page(State(state): State<AppState>, ctx: PageCtx, AnySession(s): AnySession, Query(q): Query<NextQuery>) -> Response {
    if s.is_full() {
        return Redirect::to(&safe_next(q.next.as_deref())).into_response();
    }
    let factors = state.identity.store.factors_of(&s.user.id).await.unwrap_or_default();
    let has_totp = factors.iter().any(|f| f.kind == "totp" && f.confirmed);
    let has_passkey = factors.iter().any(|f| f.kind == "passkey" && f.confirmed) && state.identity.passkeys.is_some();
    render(&SecondPage { ctx, next: safe_next(q.next.as_deref()), has_totp, has_passkey, error: None })
}

async fn second_submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    AnySession(s): AnySession,
    axum::Extension(secure): axum::Extension<Secure>,
    CsrfForm(f): CsrfForm<SecondForm>,
) -> Response {
    let next = safe_next(Some(&f.next));
    let result = match f.method.as_str() {
        "recovery" => state.identity.login_recovery(&s, &f.code).await,
        _ => state.identity.login_totp(&s, &f.code).await,
    };
    match result {
        Ok(token) => {
            let to = if next == "/" && !s.role.is_staff() { "/me".to_owned() } else { next };
            with_session(&to, &token, secure.0)
        }
        Err(e) => {
            let msg = error_text(&ctx, &e);
            let status = status_of(&e);
            with_status(render(&SecondPage { ctx, next, has_totp: true, has_passkey: false, error: Some(msg) }), status)
        }
    }
}

#[derive(Deserialize)]
struct EmptyForm {}

async fn logout(State(state): State<AppState>, AnySession(s): AnySession, CsrfForm(_): CsrfForm<EmptyForm>) -> Response {
    let _ = state.identity.logout(&s).await;
    let mut res = Redirect::to("/login").into_response();
    clear_cookie(&mut res, SESSION_COOKIE);
    res
}

// ---- The employee's own page ---------------------------------------------------------------

pub struct SessionRow {
    pub id: String,
    pub current: bool,
    pub started: String,
    pub last_seen: String,
    pub ip: String,
    pub agent: String,
}

impl SessionRow {
    pub fn from(s: &SessionRecord, current: &str) -> SessionRow {
        SessionRow {
            id: s.id_hash.clone(),
            current: s.id_hash == current,
            started: format_ms(s.created_ms),
            last_seen: format_ms(s.last_seen_ms),
            ip: s.ip.clone(),
            agent: s.user_agent.chars().take(80).collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "identity/me.html")]
struct MePage {
    ctx: PageCtx,
    email: String,
    name: String,
    role: String,
    groups: Vec<String>,
    factors: Vec<FactorRecord>,
    recovery_left: i64,
    sessions: Vec<SessionRow>,
    notice: Option<String>,
    /// Awareness messages to this person, newest first, and whether they read each.
    messages: Vec<(veilig_store::AwarenessRecord, bool)>,
}

async fn me_page(State(state): State<AppState>, ctx: PageCtx, Signed(p): Signed) -> Response {
    me_render(&state, ctx, &p, None).await
}

async fn me_render(state: &AppState, ctx: PageCtx, p: &crate::auth::Principal, notice: Option<String>) -> Response {
    let user = p.user().clone();
    let current = match p {
        crate::auth::Principal::Session(s) => s.session.id_hash.clone(),
        crate::auth::Principal::Token { .. } => String::new(),
    };
    let store = &state.identity.store;
    let (groups, factors, recovery_left, sessions) = match tokio::try_join!(
        store.group_names_of(&user.id),
        store.factors_of(&user.id),
        store.unused_recovery_codes(&user.id),
        store.sessions_of(&user.id)
    ) {
        Ok(v) => v,
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    };
    let factors = factors.into_iter().filter(|f| f.confirmed).collect();
    let sessions = sessions.iter().map(|s| SessionRow::from(s, &current)).collect();
    let messages = state
        .store
        .awareness_of_user(&user.id)
        .await
        .unwrap_or_default()
        .into_iter()
        .take(10)
        .map(|(m, read)| (m, read.is_some()))
        .collect();
    render(&MePage {
        ctx,
        email: user.email,
        name: user.display_name,
        role: user.role,
        groups,
        factors,
        recovery_left,
        sessions,
        notice,
        messages,
    })
}

#[derive(Deserialize)]
struct LanguageForm {
    language: String,
}

async fn me_language(State(state): State<AppState>, AnySession(s): AnySession, CsrfForm(f): CsrfForm<LanguageForm>) -> Response {
    let Some(lang) = veilig_core::Lang::parse(&f.language) else {
        return (StatusCode::UNPROCESSABLE_ENTITY, "unknown language").into_response();
    };
    if let Err(e) = state.identity.set_language(&s, lang).await {
        return crate::error::ApiError::from(e).into_response();
    }
    Redirect::to(&format!("/me?lang={}", lang.code())).into_response()
}

async fn me_recovery(State(state): State<AppState>, ctx: PageCtx, AnySession(s): AnySession, CsrfForm(_): CsrfForm<EmptyForm>) -> Response {
    match state.identity.regenerate_recovery_codes(&s).await {
        Ok(codes) => render(&RecoveryPage { ctx, codes, next: "/me" }),
        Err(e) => crate::error::ApiError::from(e).into_response(),
    }
}

async fn me_factor_remove(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(p): Signed,
    AnySession(s): AnySession,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    let notice = match state.identity.remove_factor(&s, &id).await {
        Ok(()) => ctx.t.t("me.factor_removed").to_owned(),
        Err(e) => error_text(&ctx, &e),
    };
    me_render(&state, ctx, &p, Some(notice)).await
}

#[derive(Deserialize)]
struct RenameForm {
    name: String,
}

async fn me_factor_rename(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(p): Signed,
    AnySession(s): AnySession,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<RenameForm>,
) -> Response {
    let notice = match state.identity.rename_factor(&s, &id, &f.name).await {
        Ok(()) => ctx.t.t("admin.done").to_owned(),
        Err(e) => error_text(&ctx, &e),
    };
    me_render(&state, ctx, &p, Some(notice)).await
}

#[derive(Deserialize)]
struct SessionForm {
    id: String,
}

async fn me_session_end(State(state): State<AppState>, AnySession(s): AnySession, CsrfForm(f): CsrfForm<SessionForm>) -> Response {
    match state.identity.end_session(&s, &f.id).await {
        Ok(()) if f.id == s.session.id_hash => Redirect::to("/login").into_response(),
        Ok(()) => Redirect::to("/me").into_response(),
        Err(e) => crate::error::ApiError::from(e).into_response(),
    }
}
