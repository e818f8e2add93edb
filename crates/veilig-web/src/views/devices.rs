//! Device compliance: the employee's *Apparaten* page (their devices, what to fix, a token to
//! enrol the next one), the administrators' inventory (shares per check, stale devices, the
//! policy, the conditions per group), the API, the agent's enrolment call, and the agent
//! endpoint's routes that `veilig serve` puts behind mutual TLS.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use veilig_compliance::engine::policy::{Policy, Verdict};
use veilig_compliance::engine::{Item, Status};
use veilig_compliance::{Actor, DeviceView, DevicesError, EnrollRequest, Refusal, Target};
use veilig_store::ConditionRecord;

use super::{PageCtx, format_ms, render};
use crate::AppState;
use crate::auth::{Admin, CsrfForm, Principal, Signed, Staff};
use crate::error::{ApiError, ApiJson};
use crate::middleware::ClientIp;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/devices", get(page))
        .route("/devices/token", post(page_token))
        .route("/devices/{id}/revoke", post(page_revoke))
        .route("/admin/devices", get(admin_page))
        .route("/admin/devices/token", post(admin_token))
        .route("/admin/devices/policy", post(admin_policy))
        .route("/admin/devices/conditions", post(admin_conditions))
        .route("/admin/devices/{id}/revoke", post(admin_revoke))
        .route("/admin/devices/{id}/delete", post(admin_remove))
        .route("/api/v1/devices", get(api_list))
        .route("/api/v1/devices/summary", get(api_summary))
        .route("/api/v1/devices/tokens", post(api_token))
        .route("/api/v1/devices/policy", get(api_policy).put(api_set_policy))
        .route("/api/v1/devices/conditions", get(api_conditions))
        .route("/api/v1/devices/conditions/{group}", put(api_set_conditions))
        .route("/api/v1/devices/{id}", get(api_get).delete(api_remove))
        .route("/api/v1/devices/{id}/revoke", post(api_revoke))
        .route("/api/v1/agent/enroll", post(api_enroll))
}

/// The agent endpoint: served only on `devices.agent_listen`, behind mutual TLS. The listener
/// puts the verified client certificate's SHA-256 in the request as [`AgentPeer`].
pub fn agent_routes() -> Router<AppState> {
    Router::new().route("/agent/v1/report", post(agent_report)).route("/agent/v1/ca", get(agent_ca))
}

/// The SHA-256 (hex) of the client certificate that the agent listener verified.
#[derive(Debug, Clone)]
pub struct AgentPeer(pub String);

fn actor(p: &Principal, ip: &ClientIp) -> Actor {
    let role = p.role();
    Actor {
        user_id: p.user().id.clone(),
        email: p.user().email.clone(),
        ip: ip.0.to_string(),
        staff: role.is_staff(),
        admin: role == veilig_identity::Role::Admin,
    }
}

impl From<DevicesError> for ApiError {
    fn from(e: DevicesError) -> Self {
        match e {
            DevicesError::NotFound => ApiError::not_found("no such device"),
            DevicesError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
            DevicesError::Invalid(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m),
            e @ DevicesError::Token => ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", e.to_string()),
            DevicesError::Certificate(m) => ApiError::new(StatusCode::FORBIDDEN, "certificate_refused", m),
            e @ DevicesError::Replayed(_) => ApiError::new(StatusCode::CONFLICT, "replayed", e.to_string()),
            e @ DevicesError::TooMany(_) => ApiError::new(StatusCode::CONFLICT, "too_many_devices", e.to_string()),
            DevicesError::Ca(c) => {
                tracing::error!(error = %c, "device CA");
                match c {
                    veilig_compliance::CaError::Request => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", c.to_string()),
                    _ => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the device CA could not sign"),
                }
            }
            DevicesError::Store(s) => ApiError::from(s),
        }
    }
}

/// A refusal by the device conditions, as the API answers it.
pub fn refusal_error(r: &Refusal, lang: &str) -> ApiError {
    let message = if lang == "nl" { r.nl.clone() } else { r.en.clone() };
    ApiError::new(StatusCode::FORBIDDEN, "device_required", message)
}

// ---- Views of records ----------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct FindingView {
    /// `os_supported`, `updates`, `scanner`, `signatures`, `disk_encryption`, `firewall`,
    /// `screen_lock`, or none for the device as a whole.
    pub item: Option<String>,
    /// `not_ok` or `unknown`.
    pub status: String,
    pub code: String,
    pub nl: String,
    pub en: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceJson {
    pub id: String,
    pub user: String,
    pub hostname: String,
    pub os: String,
    /// `active`, `revoked` or `expired`.
    pub state: String,
    /// `compliant`, `not_compliant` or `unknown`, judged now with the current policy.
    pub verdict: String,
    pub findings: Vec<FindingView>,
    pub enrolled_ms: i64,
    pub last_report_ms: Option<i64>,
    /// Reported within the policy's `max_report_hours`.
    pub reporting: bool,
    pub cert_serial: String,
    pub cert_not_after_ms: i64,
    /// The newest report as the agent sent it.
    #[schema(value_type = Option<Object>)]
    pub report: Option<serde_json::Value>,
}

fn item_code(i: Item) -> String {
    serde_json::to_value(i).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn status_code(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::NotOk => "not_ok",
        Status::Unknown => "unknown",
    }
}

impl From<DeviceView> for DeviceJson {
    fn from(d: DeviceView) -> Self {
        DeviceJson {
            id: d.record.id,
            user: d.record.user_email,
            hostname: d.record.hostname,
            os: d.record.os,
            state: d.state.to_owned(),
            verdict: veilig_compliance::verdict_word(d.compliance.verdict).to_owned(),
            findings: d
                .compliance
                .findings
                .into_iter()
                .map(|f| FindingView {
                    item: f.item.map(item_code),
                    status: status_code(f.status).to_owned(),
                    code: f.code.to_owned(),
                    nl: f.nl,
                    en: f.en,
                })
                .collect(),
            enrolled_ms: d.record.enrolled_ms,
            last_report_ms: d.record.last_report_ms,
            reporting: d.fresh,
            cert_serial: d.record.cert_serial,
            cert_not_after_ms: d.record.cert_not_after_ms,
            report: d.report.and_then(|r| serde_json::to_value(r).ok()),
        }
    }
}

// ---- The employee's page -------------------------------------------------------------------

/// One device on a page.
pub struct Row {
    pub id: String,
    pub owner: String,
    pub hostname: String,
    pub os: String,
    pub state: &'static str,
    /// `ok`, `bad` or `todo` (the badge's class).
    pub badge: &'static str,
    pub verdict: String,
    pub last_report: String,
    pub reporting: bool,
    /// What to fix, in the page's language.
    pub fixes: Vec<String>,
    /// What the device saw per item: (name, badge class, detail).
    pub checks: Vec<(String, &'static str, String)>,
}

fn item_name(ctx: &PageCtx, i: Item) -> String {
    ctx.t.t(&format!("devices.item_{}", item_code(i))).to_owned()
}

fn row(ctx: &PageCtx, d: &DeviceView) -> Row {
    let nl = ctx.lang() == "nl";
    let (badge, verdict) = match (d.state, d.compliance.verdict) {
        ("revoked", _) => ("todo", ctx.t.t("devices.revoked")),
        ("expired", _) => ("todo", ctx.t.t("devices.expired")),
        (_, Verdict::Compliant) => ("ok", ctx.t.t("devices.compliant")),
        (_, Verdict::NotCompliant) => ("bad", ctx.t.t("devices.not_compliant")),
        (_, Verdict::Unknown) => ("warn", ctx.t.t("devices.unknown")),
    };
    let checks = d
        .report
        .as_ref()
        .map(|r| {
            r.checks
                .iter()
                .map(|c| {
                    let class = match c.status {
                        Status::Ok => "ok",
                        Status::NotOk => "bad",
                        Status::Unknown => "todo",
                    };
                    (item_name(ctx, c.item), class, c.detail.clone())
                })
                .collect()
        })
        .unwrap_or_default();
    Row {
        id: d.record.id.clone(),
        owner: d.record.user_email.clone(),
        hostname: d.record.hostname.clone(),
        os: d.record.os.clone(),
        state: d.state,
        badge,
        verdict: verdict.to_owned(),
        last_report: d.record.last_report_ms.map(format_ms).unwrap_or_else(|| ctx.t.t("devices.never").to_owned()),
        reporting: d.fresh,
        fixes: d.compliance.findings.iter().map(|f| if nl { f.nl.clone() } else { f.en.clone() }).collect(),
        checks,
    }
}

#[derive(Template)]
#[template(path = "devices/me.html")]
struct MyPage {
    ctx: PageCtx,
    rows: Vec<Row>,
    /// The refusal that brought the employee here, in their language.
    refused: Option<String>,
    token: Option<veilig_compliance::TokenIssued>,
    token_expires: String,
    endpoint_on: bool,
    error: Option<String>,
}

#[derive(Deserialize)]
struct PageQuery {
    #[serde(default)]
    refused: Option<String>,
}

async fn my_page(
    state: &AppState,
    ctx: PageCtx,
    p: &Principal,
    token: Option<veilig_compliance::TokenIssued>,
    error: Option<String>,
    show_refusal: bool,
) -> Response {
    let devices = match state.devices.devices_of(&p.user().id).await {
        Ok(d) => d,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let refused = if show_refusal {
        match state.devices.gate(&p.user().id, Target::Portal).await {
            Ok(Err(r)) => Some(if ctx.lang() == "nl" { r.nl } else { r.en }),
            _ => None,
        }
    } else {
        None
    };
    let rows = devices.iter().map(|d| row(&ctx, d)).collect();
    let endpoint_on = state.devices.settings().agent_url.is_some();
    let token_expires = token.as_ref().map(|t| format_ms(t.expires_ms)).unwrap_or_default();
    render(&MyPage { ctx, rows, refused, token, token_expires, endpoint_on, error })
}

async fn page(State(state): State<AppState>, ctx: PageCtx, Signed(p): Signed, Query(q): Query<PageQuery>) -> Response {
    my_page(&state, ctx, &p, None, None, q.refused.is_some()).await
}

#[derive(Deserialize)]
struct EmptyForm {}

async fn page_token(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(p): Signed,
    axum::Extension(ip): axum::Extension<ClientIp>,
    CsrfForm(_f): CsrfForm<EmptyForm>,
) -> Response {
    match state.devices.issue_token(&actor(&p, &ip), &p.user().id).await {
        Ok(t) => my_page(&state, ctx, &p, Some(t), None, false).await,
        Err(DevicesError::Store(e)) => ApiError::from(e).into_response(),
        Err(e) => {
            let why = e.to_string();
            my_page(&state, ctx, &p, None, Some(why), false).await
        }
    }
}

async fn page_revoke(
    State(state): State<AppState>,
    Signed(p): Signed,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
    CsrfForm(_f): CsrfForm<EmptyForm>,
) -> Response {
    match state.devices.revoke(&actor(&p, &ip), &id).await {
        Ok(()) => Redirect::to("/devices").into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

// ---- The administrators' inventory ---------------------------------------------------------

/// One row of the chart: an item with its shares of the active devices.
pub struct ShareBar {
    pub y: u32,
    pub label: String,
    pub ok_w: u32,
    pub bad_x: u32,
    pub bad_w: u32,
    pub unk_x: u32,
    pub unk_w: u32,
    pub text: String,
}

pub struct ConditionRow {
    pub group: String,
    pub portal_compliant: bool,
    pub portal_cert: bool,
    pub vpn_compliant: bool,
    pub vpn_cert: bool,
}

#[derive(Template)]
#[template(path = "devices/admin.html")]
struct AdminPage {
    ctx: PageCtx,
    rows: Vec<Row>,
    bars: Vec<ShareBar>,
    chart_height: u32,
    total: usize,
    compliant: usize,
    not_compliant: usize,
    unknown: usize,
    stale: usize,
    compliant_pct: usize,
    policy: Policy,
    conditions: Vec<ConditionRow>,
    users: Vec<String>,
    token: Option<(String, veilig_compliance::TokenIssued)>,
    token_expires: String,
    endpoint: Option<String>,
    error: Option<String>,
}

impl AdminPage {
    fn opt(v: &Option<i64>) -> String {
        v.map(|n| n.to_string()).unwrap_or_default()
    }
}

async fn admin_render(
    state: &AppState,
    ctx: PageCtx,
    token: Option<(String, veilig_compliance::TokenIssued)>,
    error: Option<String>,
) -> Response {
    let loaded = async {
        let inv = state.devices.inventory().await?;
        let policy = state.devices.policy().await?;
        let conditions = state.devices.conditions().await?;
        let groups = state.store.groups_list().await?;
        let users = state.store.users_list().await?;
        Ok::<_, DevicesError>((inv, policy, conditions, groups, users))
    }
    .await;
    let (inv, policy, conditions, groups, users) = match loaded {
        Ok(x) => x,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let width = 360.0;
    let bars: Vec<ShareBar> = inv
        .items
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let n = (s.ok + s.not_ok + s.unknown).max(1) as f64;
            let w = |c: usize| ((c as f64 / n) * width).round() as u32;
            let (ok_w, bad_w, unk_w) = (w(s.ok), w(s.not_ok), w(s.unknown));
            ShareBar {
                y: i as u32 * 26,
                label: item_name(&ctx, s.item),
                ok_w,
                bad_x: 170 + ok_w,
                bad_w,
                unk_x: 170 + ok_w + bad_w,
                unk_w,
                text: format!("{}/{}", s.ok, s.ok + s.not_ok + s.unknown),
            }
        })
        .collect();
    let chart_height = bars.len() as u32 * 26 + 4;
    let conditions = groups
        .iter()
        .map(|g| {
            let c = conditions.iter().find(|c| c.group_id == g.id).cloned().unwrap_or_default();
            ConditionRow {
                group: g.name.clone(),
                portal_compliant: c.portal_compliant,
                portal_cert: c.portal_cert,
                vpn_compliant: c.vpn_compliant,
                vpn_cert: c.vpn_cert,
            }
        })
        .collect();
    let rows = inv.devices.iter().map(|d| row(&ctx, d)).collect();
    render(&AdminPage {
        rows,
        bars,
        chart_height,
        total: inv.total,
        compliant: inv.compliant,
        not_compliant: inv.not_compliant,
        unknown: inv.unknown,
        stale: inv.stale,
        compliant_pct: (inv.compliant * 100).checked_div(inv.total).unwrap_or(0),
        policy,
        conditions,
        users: users.into_iter().filter(|u| u.status == "active").map(|u| u.email).collect(),
        token_expires: token.as_ref().map(|(_, t)| format_ms(t.expires_ms)).unwrap_or_default(),
        token,
        endpoint: state.devices.settings().agent_url.clone(),
        error,
        ctx,
    })
}

async fn admin_page(State(state): State<AppState>, ctx: PageCtx, Staff(_p): Staff) -> Response {
    admin_render(&state, ctx, None, None).await
}

#[derive(Deserialize)]
struct TokenForm {
    user: String,
}

async fn admin_token(
    State(state): State<AppState>,
    ctx: PageCtx,
    Staff(p): Staff,
    axum::Extension(ip): axum::Extension<ClientIp>,
    CsrfForm(f): CsrfForm<TokenForm>,
) -> Response {
    let result = async {
        let user = state.store.user_by_email(f.user.trim()).await?.ok_or(DevicesError::NotFound)?;
        let t = state.devices.issue_token(&actor(&p, &ip), &user.id).await?;
        Ok::<_, DevicesError>((user.email, t))
    }
    .await;
    match result {
        Ok(t) => admin_render(&state, ctx, Some(t), None).await,
        Err(DevicesError::Store(e)) => ApiError::from(e).into_response(),
        Err(e) => admin_render(&state, ctx, None, Some(e.to_string())).await,
    }
}

#[derive(Deserialize)]
struct PolicyForm {
    #[serde(default)]
    scanner_required: Option<String>,
    #[serde(default)]
    max_signature_days: String,
    #[serde(default)]
    encryption_required: Option<String>,
    #[serde(default)]
    firewall_required: Option<String>,
    #[serde(default)]
    supported_os_required: Option<String>,
    #[serde(default)]
    max_update_days: String,
    #[serde(default)]
    max_lock_minutes: String,
    #[serde(default)]
    max_report_hours: String,
}

fn number(field: &str, v: &str) -> Result<Option<i64>, DevicesError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    v.parse::<i64>().map(Some).map_err(|_| DevicesError::Invalid(format!("{field}: '{v}' is not a whole number")))
}

impl PolicyForm {
    fn policy(&self) -> Result<Policy, DevicesError> {
        Ok(Policy {
            scanner_required: self.scanner_required.is_some(),
            max_signature_days: number("max_signature_days", &self.max_signature_days)?,
            encryption_required: self.encryption_required.is_some(),
            firewall_required: self.firewall_required.is_some(),
            supported_os_required: self.supported_os_required.is_some(),
            max_update_days: number("max_update_days", &self.max_update_days)?,
            max_lock_minutes: number("max_lock_minutes", &self.max_lock_minutes)?,
            max_report_hours: number("max_report_hours", &self.max_report_hours)?.unwrap_or(72),
        })
    }
}

async fn admin_policy(
    State(state): State<AppState>,
    ctx: PageCtx,
    Admin(p): Admin,
    axum::Extension(ip): axum::Extension<ClientIp>,
    CsrfForm(f): CsrfForm<PolicyForm>,
) -> Response {
    let result = match f.policy() {
        Ok(policy) => state.devices.set_policy(&actor(&p, &ip), &policy).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Redirect::to("/admin/devices").into_response(),
        Err(DevicesError::Store(e)) => ApiError::from(e).into_response(),
        Err(e) => admin_render(&state, ctx, None, Some(e.to_string())).await,
    }
}

#[derive(Deserialize)]
struct ConditionsForm {
    group: String,
    #[serde(default)]
    portal_compliant: Option<String>,
    #[serde(default)]
    portal_cert: Option<String>,
    #[serde(default)]
    vpn_compliant: Option<String>,
    #[serde(default)]
    vpn_cert: Option<String>,
}

async fn admin_conditions(
    State(state): State<AppState>,
    ctx: PageCtx,
    Admin(p): Admin,
    axum::Extension(ip): axum::Extension<ClientIp>,
    CsrfForm(f): CsrfForm<ConditionsForm>,
) -> Response {
    let c = ConditionRecord {
        portal_compliant: f.portal_compliant.is_some(),
        portal_cert: f.portal_cert.is_some(),
        vpn_compliant: f.vpn_compliant.is_some(),
        vpn_cert: f.vpn_cert.is_some(),
        ..ConditionRecord::default()
    };
    match state.devices.set_conditions(&actor(&p, &ip), &f.group, c).await {
        Ok(_) => Redirect::to("/admin/devices").into_response(),
        Err(DevicesError::Store(e)) => ApiError::from(e).into_response(),
        Err(e) => admin_render(&state, ctx, None, Some(e.to_string())).await,
    }
}

async fn admin_revoke(
    State(state): State<AppState>,
    Staff(p): Staff,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
    CsrfForm(_f): CsrfForm<EmptyForm>,
) -> Response {
    match state.devices.revoke(&actor(&p, &ip), &id).await {
        Ok(()) => Redirect::to("/admin/devices").into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn admin_remove(
    State(state): State<AppState>,
    Staff(p): Staff,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
    CsrfForm(_f): CsrfForm<EmptyForm>,
) -> Response {
    match state.devices.remove(&actor(&p, &ip), &id).await {
        Ok(()) => Redirect::to("/admin/devices").into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

// ---- The API -------------------------------------------------------------------------------

/// Devices: staff see every device, others their own.
#[utoipa::path(get, path = "/api/v1/devices", responses((status = 200, body = [DeviceJson])))]
pub async fn api_list(State(state): State<AppState>, Signed(p): Signed) -> Result<Json<Vec<DeviceJson>>, ApiError> {
    let devices =
        if p.role().is_staff() { state.devices.inventory().await?.devices } else { state.devices.devices_of(&p.user().id).await? };
    Ok(Json(devices.into_iter().map(DeviceJson::from).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemSummary {
    pub item: String,
    pub ok: usize,
    pub not_ok: usize,
    pub unknown: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Summary {
    /// Active devices (not revoked, certificate valid).
    pub total: usize,
    pub compliant: usize,
    pub not_compliant: usize,
    pub unknown: usize,
    /// Active devices that stopped reporting.
    pub stale: usize,
    pub items: Vec<ItemSummary>,
}

/// The share of compliant devices, per check and in all.
#[utoipa::path(get, path = "/api/v1/devices/summary", responses((status = 200, body = Summary)))]
pub async fn api_summary(State(state): State<AppState>, Staff(_p): Staff) -> Result<Json<Summary>, ApiError> {
    let inv = state.devices.inventory().await?;
    Ok(Json(Summary {
        total: inv.total,
        compliant: inv.compliant,
        not_compliant: inv.not_compliant,
        unknown: inv.unknown,
        stale: inv.stale,
        items: inv.items.iter().map(|s| ItemSummary { item: item_code(s.item), ok: s.ok, not_ok: s.not_ok, unknown: s.unknown }).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/devices/{id}", responses((status = 200, body = DeviceJson), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_get(
    State(state): State<AppState>,
    Signed(p): Signed,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
) -> Result<Json<DeviceJson>, ApiError> {
    Ok(Json(state.devices.device(&actor(&p, &ip), &id).await?.into()))
}

/// Revokes a device's certificate: its reports are refused from now on.
#[utoipa::path(post, path = "/api/v1/devices/{id}/revoke", responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_revoke(
    State(state): State<AppState>,
    Signed(p): Signed,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.devices.revoke(&actor(&p, &ip), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/devices/{id}", responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_remove(
    State(state): State<AppState>,
    Signed(p): Signed,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.devices.remove(&actor(&p, &ip), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// Whose device (staff only); default: the caller.
    #[serde(default)]
    pub user: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenJson {
    /// Shown once; valid for `devices.token_hours`, for one enrolment.
    pub token: String,
    pub expires_ms: i64,
    /// The command to run on the device.
    pub command: String,
}

/// A one-time enrolment token for the caller's next device (or, for staff, someone else's).
#[utoipa::path(post, path = "/api/v1/devices/tokens", request_body = TokenRequest, responses((status = 201, body = TokenJson), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_token(
    State(state): State<AppState>,
    Signed(p): Signed,
    axum::Extension(ip): axum::Extension<ClientIp>,
    ApiJson(r): ApiJson<TokenRequest>,
) -> Result<Response, ApiError> {
    let user_id = match r.user.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(email) => state.store.user_by_email(&email.to_lowercase()).await?.ok_or_else(|| ApiError::not_found("no such user"))?.id,
        None => p.user().id.clone(),
    };
    let t = state.devices.issue_token(&actor(&p, &ip), &user_id).await?;
    Ok((StatusCode::CREATED, Json(TokenJson { token: t.token, expires_ms: t.expires_ms, command: t.command })).into_response())
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PolicyJson {
    pub scanner_required: bool,
    /// Days; null: no limit.
    pub max_signature_days: Option<i64>,
    pub encryption_required: bool,
    pub firewall_required: bool,
    pub supported_os_required: bool,
    pub max_update_days: Option<i64>,
    pub max_lock_minutes: Option<i64>,
    /// A device that has not reported for this long "stopped reporting".
    pub max_report_hours: i64,
}

impl From<Policy> for PolicyJson {
    fn from(p: Policy) -> Self {
        PolicyJson {
            scanner_required: p.scanner_required,
            max_signature_days: p.max_signature_days,
            encryption_required: p.encryption_required,
            firewall_required: p.firewall_required,
            supported_os_required: p.supported_os_required,
            max_update_days: p.max_update_days,
            max_lock_minutes: p.max_lock_minutes,
            max_report_hours: p.max_report_hours,
        }
    }
}

impl From<PolicyJson> for Policy {
    fn from(j: PolicyJson) -> Self {
        Policy {
            scanner_required: j.scanner_required,
            max_signature_days: j.max_signature_days,
            encryption_required: j.encryption_required,
            firewall_required: j.firewall_required,
            supported_os_required: j.supported_os_required,
            max_update_days: j.max_update_days,
            max_lock_minutes: j.max_lock_minutes,
            max_report_hours: j.max_report_hours,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/devices/policy", responses((status = 200, body = PolicyJson)))]
pub async fn api_policy(State(state): State<AppState>, Signed(_p): Signed) -> Result<Json<PolicyJson>, ApiError> {
    Ok(Json(state.devices.policy().await?.into()))
}

#[utoipa::path(put, path = "/api/v1/devices/policy", request_body = PolicyJson, responses((status = 200, body = PolicyJson), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_set_policy(
    State(state): State<AppState>,
    Admin(p): Admin,
    axum::Extension(ip): axum::Extension<ClientIp>,
    ApiJson(j): ApiJson<PolicyJson>,
) -> Result<Json<PolicyJson>, ApiError> {
    let policy = Policy::from(j);
    state.devices.set_policy(&actor(&p, &ip), &policy).await?;
    Ok(Json(policy.into()))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConditionsJson {
    #[serde(default)]
    pub group: String,
    /// Signing in to the portal needs a compliant device.
    #[serde(default)]
    pub portal_compliant: bool,
    /// Signing in to the portal needs a device with a valid certificate that reported recently.
    #[serde(default)]
    pub portal_cert: bool,
    #[serde(default)]
    pub vpn_compliant: bool,
    #[serde(default)]
    pub vpn_cert: bool,
}

impl From<ConditionRecord> for ConditionsJson {
    fn from(c: ConditionRecord) -> Self {
        ConditionsJson {
            group: c.group_name,
            portal_compliant: c.portal_compliant,
            portal_cert: c.portal_cert,
            vpn_compliant: c.vpn_compliant,
            vpn_cert: c.vpn_cert,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/devices/conditions", responses((status = 200, body = [ConditionsJson])))]
pub async fn api_conditions(State(state): State<AppState>, Staff(_p): Staff) -> Result<Json<Vec<ConditionsJson>>, ApiError> {
    Ok(Json(state.devices.conditions().await?.into_iter().map(ConditionsJson::from).collect()))
}

#[utoipa::path(put, path = "/api/v1/devices/conditions/{group}", request_body = ConditionsJson, responses((status = 200, body = ConditionsJson), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_set_conditions(
    State(state): State<AppState>,
    Admin(p): Admin,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(group): Path<String>,
    ApiJson(j): ApiJson<ConditionsJson>,
) -> Result<Json<ConditionsJson>, ApiError> {
    let c = ConditionRecord {
        portal_compliant: j.portal_compliant,
        portal_cert: j.portal_cert,
        vpn_compliant: j.vpn_compliant,
        vpn_cert: j.vpn_cert,
        ..ConditionRecord::default()
    };
    Ok(Json(state.devices.set_conditions(&actor(&p, &ip), &group, c).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EnrollJson {
    /// The one-time token from the portal.
    pub token: String,
    /// A PKCS#10 certificate request (PEM) made with the device's new key.
    pub csr: String,
    pub hostname: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolledJson {
    pub device_id: String,
    /// The device certificate (PEM), for mutual TLS with the agent endpoint.
    pub certificate: String,
    /// The device CA (PEM): the only CA the agent trusts for the agent endpoint.
    pub ca: String,
    /// Where to send reports.
    pub report_url: String,
}

/// The agent enrols: the token is the credential (no session). Used once.
#[utoipa::path(post, path = "/api/v1/agent/enroll", request_body = EnrollJson, responses((status = 201, body = EnrolledJson), (status = 401, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_enroll(
    State(state): State<AppState>,
    axum::Extension(ip): axum::Extension<ClientIp>,
    ApiJson(j): ApiJson<EnrollJson>,
) -> Result<Response, ApiError> {
    let e = state.devices.enroll(&EnrollRequest { token: j.token, csr: j.csr, hostname: j.hostname }, &ip.0.to_string()).await?;
    Ok((StatusCode::CREATED, Json(EnrolledJson { device_id: e.device_id, certificate: e.certificate, ca: e.ca, report_url: e.report_url }))
        .into_response())
}

// ---- The agent endpoint (mutual TLS) -------------------------------------------------------

async fn agent_report(
    State(state): State<AppState>,
    peer: Option<axum::Extension<AgentPeer>>,
    axum::Extension(ip): axum::Extension<ClientIp>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Some(axum::Extension(AgentPeer(sha))) = peer else {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "certificate_required", "present the device certificate (mutual TLS)"));
    };
    let judged = state.devices.report(&sha, &body, &ip.0.to_string()).await?;
    Ok(Json(serde_json::json!({
        "device_id": judged.device_id,
        "verdict": veilig_compliance::verdict_word(judged.compliance.verdict),
        "findings": judged.compliance.findings,
    })))
}

async fn agent_ca(State(state): State<AppState>) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/x-pem-file")], state.devices.ca_pem().to_owned()).into_response()
}
