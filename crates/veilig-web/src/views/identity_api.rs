//! Identity's JSON API, with the same rules as the pages: for scripts, the CLI and tests.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use veilig_identity::Role;
use veilig_store::UserRecord;

use crate::AppState;
use crate::auth::{Admin, AnySession, CsrfToken, Principal, SESSION_COOKIE, Signed, clear_cookie, set_cookie};
use crate::error::{ApiError, ApiJson};
use crate::middleware::{ClientIp, Secure};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/setup", post(setup))
        .route("/api/v1/enroll", post(enroll))
        .route("/api/v1/me/totp", post(totp_begin))
        .route("/api/v1/me/totp/confirm", post(totp_confirm))
        .route("/api/v1/login", post(login))
        .route("/api/v1/login/totp", post(login_totp))
        .route("/api/v1/login/recovery", post(login_recovery))
        .route("/api/v1/logout", post(logout))
        .route("/api/v1/me/passkey/begin", post(passkey_register_begin))
        .route("/api/v1/me/passkey/finish", post(passkey_register_finish))
        .route("/api/v1/login/passkey/begin", post(passkey_second_begin))
        .route("/api/v1/login/passkey/finish", post(passkey_second_finish))
        .route("/api/v1/passkey/begin", post(passwordless_begin))
        .route("/api/v1/passkey/finish", post(passwordless_finish))
        .route("/api/v1/me", get(me))
        .route("/api/v1/me/export", get(me_export))
        .route("/api/v1/me/sessions", get(my_sessions))
        .route("/api/v1/me/factors", get(my_factors))
        .route("/api/v1/me/factors/{id}", put(factor_rename).delete(factor_remove))
        .route("/api/v1/tokens", post(token_create))
        .route("/api/v1/users", get(users_list).post(user_create))
        .route("/api/v1/users/{id}", get(user_get).delete(user_delete))
        .route("/api/v1/users/{id}/disable", post(user_disable))
        .route("/api/v1/users/{id}/enable", post(user_enable))
        .route("/api/v1/users/{id}/reset-factors", post(user_reset))
        .route("/api/v1/users/{id}/resend-invitation", post(user_resend))
        .route("/api/v1/users/{id}/role", put(user_role))
        .route("/api/v1/groups", get(groups_list).post(group_create))
        .route("/api/v1/groups/{name}", delete(group_delete))
        .route("/api/v1/groups/{name}/members/{user_id}", put(member_add).delete(member_remove))
}

use super::identity::user_agent as ua;

/// Any response, with the session cookie set.
pub(super) fn with_session(body: impl IntoResponse, token: &str, secure: bool) -> Response {
    let mut res = body.into_response();
    set_cookie(&mut res, SESSION_COOKIE, token, secure, None, "Lax");
    res
}

/// A user as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: String,
    /// `admin`, `security_officer` or `employee`.
    pub role: String,
    /// `invited`, `active` or `disabled`.
    pub status: String,
    pub groups: Vec<String>,
}

async fn view(state: &AppState, u: UserRecord) -> Result<UserView, ApiError> {
    let groups = state.identity.store.group_names_of(&u.id).await?;
    Ok(UserView { id: u.id, email: u.email, name: u.display_name, role: u.role, status: u.status, groups })
}

#[derive(Deserialize, ToSchema)]
pub struct SetupRequest {
    pub token: String,
    pub email: String,
    #[serde(default)]
    pub name: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct SessionStarted {
    /// Send as `X-CSRF-Token` with state-changing requests that use the session cookie.
    pub csrf_token: String,
    /// What to do next: `enroll_factor`, `second_factor` or nothing.
    pub next: Option<String>,
    /// The second factors this account can use, when one is required.
    pub methods: Vec<String>,
    pub second_factor_required: bool,
}

/// Creates the first administrator from the setup link's token.
#[utoipa::path(post, path = "/api/v1/setup", request_body = SetupRequest, responses((status = 200, body = SessionStarted), (status = 410, body = crate::error::ErrorBody)))]
async fn setup(
    State(state): State<AppState>,
    axum::Extension(ip): axum::Extension<ClientIp>,
    axum::Extension(secure): axum::Extension<Secure>,
    axum::Extension(csrf): axum::Extension<CsrfToken>,
    headers: HeaderMap,
    ApiJson(r): ApiJson<SetupRequest>,
) -> Result<Response, ApiError> {
    let (token, _) = state.identity.complete_setup(&r.token, &r.email, &r.name, &r.password, &ip.0.to_string(), &ua(&headers)).await?;
    Ok(with_session(
        Json(SessionStarted { csrf_token: csrf.0, next: Some("enroll_factor".into()), methods: vec![], second_factor_required: false }),
        &token,
        secure.0,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct EnrollRequest {
    pub token: String,
    pub password: String,
}

/// Sets the password from an enrolment link's token and starts an enrolment session.
#[utoipa::path(post, path = "/api/v1/enroll", request_body = EnrollRequest, responses((status = 200, body = SessionStarted), (status = 410, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn enroll(
    State(state): State<AppState>,
    axum::Extension(ip): axum::Extension<ClientIp>,
    axum::Extension(secure): axum::Extension<Secure>,
    axum::Extension(csrf): axum::Extension<CsrfToken>,
    headers: HeaderMap,
    ApiJson(r): ApiJson<EnrollRequest>,
) -> Result<Response, ApiError> {
    let (token, _) = state.identity.enroll_password(&r.token, &r.password, &ip.0.to_string(), &ua(&headers)).await?;
    Ok(with_session(
        Json(SessionStarted { csrf_token: csrf.0, next: Some("enroll_factor".into()), methods: vec![], second_factor_required: false }),
        &token,
        secure.0,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct TotpStarted {
    pub factor_id: String,
    /// Base32, for typing into an app.
    pub secret: String,
    pub otpauth_uri: String,
}

/// Starts adding an authenticator app (TOTP).
#[utoipa::path(post, path = "/api/v1/me/totp", responses((status = 200, body = TotpStarted), (status = 401, body = crate::error::ErrorBody)))]
async fn totp_begin(State(state): State<AppState>, AnySession(s): AnySession) -> Result<Json<TotpStarted>, ApiError> {
    let t = state.identity.totp_begin(&s).await?;
    Ok(Json(TotpStarted { factor_id: t.factor_id, secret: t.secret_base32, otpauth_uri: t.otpauth_uri }))
}

#[derive(Deserialize, ToSchema)]
pub struct CodeRequest {
    pub code: String,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TotpConfirmed {
    /// Shown once, when this was the first factor.
    pub recovery_codes: Vec<String>,
}

/// Confirms the authenticator app with its first code; the session is then fully signed in.
#[utoipa::path(post, path = "/api/v1/me/totp/confirm", request_body = CodeRequest, responses((status = 200, body = TotpConfirmed), (status = 401, body = crate::error::ErrorBody)))]
async fn totp_confirm(
    State(state): State<AppState>,
    AnySession(s): AnySession,
    axum::Extension(secure): axum::Extension<Secure>,
    ApiJson(r): ApiJson<CodeRequest>,
) -> Result<Response, ApiError> {
    let (codes, token) = state.identity.totp_confirm(&s, &r.code, r.name.as_deref()).await?;
    Ok(with_session(Json(TotpConfirmed { recovery_codes: codes.unwrap_or_default() }), &token, secure.0))
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// Step one of signing in. A second factor always follows.
#[utoipa::path(post, path = "/api/v1/login", request_body = LoginRequest, responses((status = 200, body = SessionStarted), (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    axum::Extension(ip): axum::Extension<ClientIp>,
    axum::Extension(secure): axum::Extension<Secure>,
    axum::Extension(csrf): axum::Extension<CsrfToken>,
    headers: HeaderMap,
    ApiJson(r): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let outcome = state.identity.login_password(&r.email, &r.password, &ip.0.to_string(), &ua(&headers)).await?;
    let body = SessionStarted {
        csrf_token: csrf.0,
        next: Some("second_factor".into()),
        methods: outcome.methods.iter().map(|m| m.to_string()).collect(),
        second_factor_required: true,
    };
    Ok(with_session(Json(body), &outcome.session_token, secure.0))
}

#[derive(Serialize, ToSchema)]
pub struct SignedIn {
    pub signed_in: bool,
}

/// Step two with a code from the authenticator app.
#[utoipa::path(post, path = "/api/v1/login/totp", request_body = CodeRequest, responses((status = 200, body = SignedIn), (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
async fn login_totp(
    State(state): State<AppState>,
    AnySession(s): AnySession,
    axum::Extension(secure): axum::Extension<Secure>,
    ApiJson(r): ApiJson<CodeRequest>,
) -> Result<Response, ApiError> {
    let token = state.identity.login_totp(&s, &r.code).await?;
    Ok(with_session(Json(SignedIn { signed_in: true }), &token, secure.0))
}

/// Step two with a recovery code (each works once).
#[utoipa::path(post, path = "/api/v1/login/recovery", request_body = CodeRequest, responses((status = 200, body = SignedIn), (status = 401, body = crate::error::ErrorBody)))]
async fn login_recovery(
    State(state): State<AppState>,
    AnySession(s): AnySession,
    axum::Extension(secure): axum::Extension<Secure>,
    ApiJson(r): ApiJson<CodeRequest>,
) -> Result<Response, ApiError> {
    let token = state.identity.login_recovery(&s, &r.code).await?;
    Ok(with_session(Json(SignedIn { signed_in: true }), &token, secure.0))
}

/// Ends this session.
#[utoipa::path(post, path = "/api/v1/logout", responses((status = 204), (status = 401, body = crate::error::ErrorBody)))]
async fn logout(State(state): State<AppState>, AnySession(s): AnySession) -> Result<Response, ApiError> {
    state.identity.logout(&s).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    clear_cookie(&mut res, SESSION_COOKIE);
    Ok(res)
}

/// The signed-in user; 401 unless both factors were given.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = UserView), (status = 401, body = crate::error::ErrorBody)))]
async fn me(State(state): State<AppState>, Signed(p): Signed) -> Result<Json<UserView>, ApiError> {
    Ok(Json(view(&state, p.user().clone()).await?))
}

#[derive(Serialize, ToSchema)]
pub struct MyData {
    pub account: UserView,
    pub sessions: Vec<SessionView>,
    /// The suspicious mail this person reported, with Veilig's verdict.
    pub phishing_reports: Vec<super::phishing::ReportView>,
    /// Awareness messages sent to this person and when they read each.
    #[schema(value_type = Vec<Object>)]
    pub awareness: Vec<serde_json::Value>,
    /// The devices this person enrolled, with their newest report.
    pub devices: Vec<super::devices::DeviceJson>,
}

/// Everything Veilig holds about the signed-in person, as one JSON document (their right of
/// access and to data portability). The audit chain is left out: it is the organisation's
/// security log.
#[utoipa::path(get, path = "/api/v1/me/export", responses((status = 200, body = MyData), (status = 401, body = crate::error::ErrorBody)))]
async fn me_export(State(state): State<AppState>, Signed(p): Signed) -> Result<Json<MyData>, ApiError> {
    let user = p.user().clone();
    let account = view(&state, user.clone()).await?;
    let Json(sessions) = my_sessions(State(state.clone()), Signed(p)).await?;
    let phishing_reports = state.store.phish_reports_by(&user.email).await?.into_iter().map(super::phishing::ReportView::from).collect();
    let awareness = state
        .store
        .awareness_of_user(&user.id)
        .await?
        .into_iter()
        .map(|(m, read)| serde_json::json!({"title_nl": m.title_nl, "title_en": m.title_en, "sent_ms": m.created_ms, "read_ms": read}))
        .collect();
    let devices = state.devices.devices_of(&user.id).await?.into_iter().map(super::devices::DeviceJson::from).collect();
    Ok(Json(MyData { account, sessions, phishing_reports, awareness, devices }))
}

#[derive(Serialize, ToSchema)]
pub struct SessionView {
    pub id: String,
    pub current: bool,
    pub created_ms: i64,
    pub last_seen_ms: i64,
    pub ip: String,
    pub user_agent: String,
}

/// The signed-in user's sessions.
#[utoipa::path(get, path = "/api/v1/me/sessions", responses((status = 200, body = [SessionView])))]
async fn my_sessions(State(state): State<AppState>, Signed(p): Signed) -> Result<Json<Vec<SessionView>>, ApiError> {
    let current = match &p {
        Principal::Session(s) => s.session.id_hash.clone(),
        Principal::Token { .. } => String::new(),
    };
    let sessions = state.identity.store.sessions_of(&p.user().id).await?;
    Ok(Json(
        sessions
            .into_iter()
            .map(|s| SessionView {
                current: s.id_hash == current,
                id: s.id_hash,
                created_ms: s.created_ms,
                last_seen_ms: s.last_seen_ms,
                ip: s.ip,
                user_agent: s.user_agent,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    pub name: String,
    /// `admin` and/or `read`.
    pub scopes: Vec<String>,
    /// Days until it expires (1–730, default 90).
    pub days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenCreated {
    pub id: String,
    /// Shown once; send as `Authorization: Bearer ...`.
    pub token: String,
    pub expires_ms: Option<i64>,
}

/// Creates an API token (administrators, from a signed-in session).
#[utoipa::path(post, path = "/api/v1/tokens", request_body = TokenRequest, responses((status = 201, body = TokenCreated), (status = 403, body = crate::error::ErrorBody)))]
async fn token_create(State(state): State<AppState>, Admin(p): Admin, ApiJson(r): ApiJson<TokenRequest>) -> Result<Response, ApiError> {
    let Principal::Session(s) = p else {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "tokens are made from a signed-in session, not with another token"));
    };
    let (token, record) = state.identity.create_api_token(&s, &r.name, &r.scopes, r.days).await?;
    Ok((StatusCode::CREATED, Json(TokenCreated { id: record.id, token, expires_ms: record.expires_ms })).into_response())
}

/// Every user (staff may read).
#[utoipa::path(get, path = "/api/v1/users", responses((status = 200, body = [UserView])))]
async fn users_list(State(state): State<AppState>, _s: crate::auth::Staff) -> Result<Json<Vec<UserView>>, ApiError> {
    let mut out = Vec::new();
    for u in state.identity.store.users_list().await? {
        out.push(view(&state, u).await?);
    }
    Ok(Json(out))
}

#[derive(Deserialize, ToSchema)]
pub struct UserRequest {
    pub email: String,
    #[serde(default)]
    pub name: String,
    /// `admin`, `security_officer` or `employee` (default).
    pub role: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Invited {
    pub user: UserView,
    /// The link the user opens to enrol (e-mailed when SMTP is set up).
    pub enrollment_url: String,
}

fn parse_role(role: Option<&str>) -> Result<Role, ApiError> {
    match role {
        None => Ok(Role::Employee),
        Some(r) => Role::parse(r)
            .ok_or_else(|| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "role must be admin, security_officer or employee")),
    }
}

/// Invites a user.
#[utoipa::path(post, path = "/api/v1/users", request_body = UserRequest, responses((status = 201, body = Invited), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn user_create(
    State(state): State<AppState>,
    Admin(p): Admin,
    axum::Extension(ip): axum::Extension<ClientIp>,
    ApiJson(r): ApiJson<UserRequest>,
) -> Result<Response, ApiError> {
    let role = parse_role(r.role.as_deref())?;
    let (user, token) = state.identity.invite(&p.actor(&ip.0.to_string()), &r.email, &r.name, role, &r.groups).await?;
    let enrollment_url = state.identity.enrollment_url(&token);
    Ok((StatusCode::CREATED, Json(Invited { user: view(&state, user).await?, enrollment_url })).into_response())
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", responses((status = 200, body = UserView), (status = 404, body = crate::error::ErrorBody)))]
async fn user_get(State(state): State<AppState>, _s: crate::auth::Staff, Path(id): Path<String>) -> Result<Json<UserView>, ApiError> {
    let u = state.identity.user(&id).await?;
    Ok(Json(view(&state, u).await?))
}

/// Erases a user and everything identity keeps about them (the audit chain keeps its records).
#[utoipa::path(delete, path = "/api/v1/users/{id}", responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
async fn user_delete(
    State(state): State<AppState>,
    Admin(p): Admin,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.identity.erase_user(&p.actor(&ip.0.to_string()), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disables a user: their sessions end at once.
#[utoipa::path(post, path = "/api/v1/users/{id}/disable", responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
async fn user_disable(
    State(state): State<AppState>,
    Admin(p): Admin,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.identity.disable_user(&p.actor(&ip.0.to_string()), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enables a disabled user.
#[utoipa::path(post, path = "/api/v1/users/{id}/enable", responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
async fn user_enable(
    State(state): State<AppState>,
    Admin(p): Admin,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.identity.enable_user(&p.actor(&ip.0.to_string()), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct EnrollmentLink {
    pub enrollment_url: String,
}

/// Removes a user's second factors; they must enrol again with the returned link.
#[utoipa::path(post, path = "/api/v1/users/{id}/reset-factors", responses((status = 200, body = EnrollmentLink), (status = 404, body = crate::error::ErrorBody)))]
async fn user_reset(
    State(state): State<AppState>,
    Admin(p): Admin,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
) -> Result<Json<EnrollmentLink>, ApiError> {
    let (_, token) = state.identity.reset_factors(&p.actor(&ip.0.to_string()), &id).await?;
    Ok(Json(EnrollmentLink { enrollment_url: state.identity.enrollment_url(&token) }))
}

/// A new enrolment link for an invited user.
#[utoipa::path(post, path = "/api/v1/users/{id}/resend-invitation", responses((status = 200, body = EnrollmentLink), (status = 409, body = crate::error::ErrorBody)))]
async fn user_resend(
    State(state): State<AppState>,
    Admin(p): Admin,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
) -> Result<Json<EnrollmentLink>, ApiError> {
    let (_, token) = state.identity.resend_invitation(&p.actor(&ip.0.to_string()), &id).await?;
    Ok(Json(EnrollmentLink { enrollment_url: state.identity.enrollment_url(&token) }))
}

#[derive(Deserialize, ToSchema)]
pub struct RoleRequest {
    pub role: String,
}

/// Changes a user's role.
#[utoipa::path(put, path = "/api/v1/users/{id}/role", request_body = RoleRequest, responses((status = 204), (status = 422, body = crate::error::ErrorBody)))]
async fn user_role(
    State(state): State<AppState>,
    Admin(p): Admin,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<RoleRequest>,
) -> Result<StatusCode, ApiError> {
    let role = parse_role(Some(&r.role))?;
    state.identity.set_role(&p.actor(&ip.0.to_string()), &id, role).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct GroupView {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub members: i64,
}

/// Every group.
#[utoipa::path(get, path = "/api/v1/groups", responses((status = 200, body = [GroupView])))]
async fn groups_list(State(state): State<AppState>, _s: crate::auth::Staff) -> Result<Json<Vec<GroupView>>, ApiError> {
    let groups = state.identity.store.groups_list().await?;
    Ok(Json(groups.into_iter().map(|g| GroupView { name: g.name, description: g.description, members: g.members }).collect()))
}

/// Creates a group.
#[utoipa::path(post, path = "/api/v1/groups", request_body = GroupView, responses((status = 201), (status = 409, body = crate::error::ErrorBody)))]
async fn group_create(
    State(state): State<AppState>,
    Admin(p): Admin,
    axum::Extension(ip): axum::Extension<ClientIp>,
    ApiJson(g): ApiJson<GroupView>,
) -> Result<StatusCode, ApiError> {
    state.identity.create_group(&p.actor(&ip.0.to_string()), &g.name, &g.description).await?;
    Ok(StatusCode::CREATED)
}

/// Deletes a group.
#[utoipa::path(delete, path = "/api/v1/groups/{name}", responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
async fn group_delete(
    State(state): State<AppState>,
    Admin(p): Admin,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.identity.delete_group(&p.actor(&ip.0.to_string()), &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a user to a group.
#[utoipa::path(put, path = "/api/v1/groups/{name}/members/{user_id}", responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
async fn member_add(
    State(state): State<AppState>,
    Admin(p): Admin,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path((name, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.identity.set_membership(&p.actor(&ip.0.to_string()), &user_id, &name, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a user from a group.
#[utoipa::path(delete, path = "/api/v1/groups/{name}/members/{user_id}", responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
async fn member_remove(
    State(state): State<AppState>,
    Admin(p): Admin,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path((name, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.identity.set_membership(&p.actor(&ip.0.to_string()), &user_id, &name, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts adding a passkey or security key; returns WebAuthn creation options.
#[utoipa::path(post, path = "/api/v1/me/passkey/begin", responses((status = 200, description = "WebAuthn PublicKeyCredentialCreationOptions"), (status = 401, body = crate::error::ErrorBody)))]
async fn passkey_register_begin(State(state): State<AppState>, AnySession(s): AnySession) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(state.identity.passkey_register_begin(&s).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct PasskeyFinish {
    /// The browser's PublicKeyCredential, with binary fields in base64url.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
    #[serde(default)]
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct PasskeyAdded {
    /// Shown once, when this was the first factor.
    pub recovery_codes: Vec<String>,
    /// Where to go next.
    pub next: String,
}

/// Finishes adding a passkey; the session is then fully signed in.
#[utoipa::path(post, path = "/api/v1/me/passkey/finish", request_body = PasskeyFinish, responses((status = 200, body = PasskeyAdded), (status = 401, body = crate::error::ErrorBody)))]
async fn passkey_register_finish(
    State(state): State<AppState>,
    AnySession(s): AnySession,
    axum::Extension(secure): axum::Extension<Secure>,
    ApiJson(r): ApiJson<PasskeyFinish>,
) -> Result<Response, ApiError> {
    let (codes, token) = state.identity.passkey_register_finish(&s, &r.credential, &r.name).await?;
    let next = if s.role.is_staff() { "/" } else { "/me" };
    Ok(with_session(Json(PasskeyAdded { recovery_codes: codes.unwrap_or_default(), next: next.to_owned() }), &token, secure.0))
}

/// Second step with a passkey: WebAuthn request options.
#[utoipa::path(post, path = "/api/v1/login/passkey/begin", responses((status = 200, description = "WebAuthn PublicKeyCredentialRequestOptions"), (status = 401, body = crate::error::ErrorBody)))]
async fn passkey_second_begin(State(state): State<AppState>, AnySession(s): AnySession) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(state.identity.passkey_login_begin(&s).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct AssertionRequest {
    /// From `/api/v1/passkey/begin`, for passwordless sign-in.
    #[serde(default)]
    pub challenge_id: String,
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

/// Second step with a passkey: checks the browser's assertion.
#[utoipa::path(post, path = "/api/v1/login/passkey/finish", request_body = AssertionRequest, responses((status = 200, body = SignedIn), (status = 401, body = crate::error::ErrorBody)))]
async fn passkey_second_finish(
    State(state): State<AppState>,
    AnySession(s): AnySession,
    axum::Extension(secure): axum::Extension<Secure>,
    ApiJson(r): ApiJson<AssertionRequest>,
) -> Result<Response, ApiError> {
    let token = state.identity.passkey_login_finish(&s, &r.credential).await?;
    Ok(with_session(Json(SignedIn { signed_in: true }), &token, secure.0))
}

#[derive(Serialize, ToSchema)]
pub struct PasswordlessBegun {
    pub challenge_id: String,
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

/// Passwordless sign-in with a passkey (user verification required): the challenge.
#[utoipa::path(post, path = "/api/v1/passkey/begin", responses((status = 200, body = PasswordlessBegun)))]
async fn passwordless_begin(State(state): State<AppState>) -> Result<Json<PasswordlessBegun>, ApiError> {
    let (challenge_id, options) = state.identity.passwordless_begin().await?;
    Ok(Json(PasswordlessBegun { challenge_id, options }))
}

/// Passwordless sign-in: checks the assertion and signs in fully.
#[utoipa::path(post, path = "/api/v1/passkey/finish", request_body = AssertionRequest, responses((status = 200, body = SignedIn), (status = 401, body = crate::error::ErrorBody)))]
async fn passwordless_finish(
    State(state): State<AppState>,
    axum::Extension(ip): axum::Extension<ClientIp>,
    axum::Extension(secure): axum::Extension<Secure>,
    headers: HeaderMap,
    ApiJson(r): ApiJson<AssertionRequest>,
) -> Result<Response, ApiError> {
    let token = state.identity.passwordless_finish(&r.challenge_id, &r.credential, &ip.0.to_string(), &ua(&headers)).await?;
    Ok(with_session(Json(SignedIn { signed_in: true }), &token, secure.0))
}

#[derive(Serialize, ToSchema)]
pub struct FactorView {
    pub id: String,
    /// `totp` or `passkey`.
    pub kind: String,
    pub name: String,
    pub created_ms: i64,
    pub last_used_ms: Option<i64>,
}

/// The signed-in user's second factors.
#[utoipa::path(get, path = "/api/v1/me/factors", responses((status = 200, body = [FactorView])))]
async fn my_factors(State(state): State<AppState>, Signed(p): Signed) -> Result<Json<Vec<FactorView>>, ApiError> {
    let factors = state.identity.store.factors_of(&p.user().id).await?;
    Ok(Json(
        factors
            .into_iter()
            .filter(|f| f.confirmed)
            .map(|f| FactorView { id: f.id, kind: f.kind, name: f.name, created_ms: f.created_ms, last_used_ms: f.last_used_ms })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct RenameRequest {
    pub name: String,
}

/// Renames one of the signed-in user's factors.
#[utoipa::path(put, path = "/api/v1/me/factors/{id}", request_body = RenameRequest, responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
async fn factor_rename(
    State(state): State<AppState>,
    AnySession(s): AnySession,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<RenameRequest>,
) -> Result<StatusCode, ApiError> {
    state.identity.rename_factor(&s, &id, &r.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes one of the signed-in user's factors (never the last).
#[utoipa::path(delete, path = "/api/v1/me/factors/{id}", responses((status = 204), (status = 409, body = crate::error::ErrorBody)))]
async fn factor_remove(State(state): State<AppState>, AnySession(s): AnySession, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.identity.remove_factor(&s, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
