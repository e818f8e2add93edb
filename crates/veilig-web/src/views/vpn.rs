//! The VPN: the employee's devices and Connect button, the administrators' overview (devices,
//! sessions, access rules, session limits), and the same through the API.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use veilig_store::{DeviceRecord, RuleRecord, VpnSessionRecord};
use veilig_vpn::{Actor, VpnError};

use super::{PageCtx, format_ms, render};
use crate::AppState;
use crate::auth::{CsrfForm, Principal, Signed, Staff};
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::middleware::ClientIp;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/vpn", get(page))
        .route("/vpn/devices", post(page_add_device))
        .route("/vpn/devices/{id}/delete", post(page_remove_device))
        .route("/vpn/devices/{id}/config", get(download_config))
        .route("/vpn/connect", post(page_connect))
        .route("/vpn/disconnect", post(page_disconnect))
        .route("/admin/vpn", get(admin_page))
        .route("/admin/vpn/sessions/{user_id}/end", post(admin_end_session))
        .route("/admin/vpn/rules", post(admin_add_rule))
        .route("/admin/vpn/rules/{id}/delete", post(admin_remove_rule))
        .route("/admin/vpn/limits", post(admin_set_limit))
        .route("/api/v1/vpn/status", get(api_status))
        .route("/api/v1/vpn/devices", get(api_devices).post(api_add_device))
        .route("/api/v1/vpn/devices/{id}", delete(api_remove_device))
        .route("/api/v1/vpn/devices/{id}/config", get(download_config))
        .route("/api/v1/vpn/sessions", get(api_sessions).post(api_open_session))
        .route("/api/v1/vpn/sessions/{id}", delete(api_close_session))
        .route("/api/v1/vpn/rules", get(api_rules).post(api_add_rule))
        .route("/api/v1/vpn/rules/{id}", delete(api_remove_rule))
        .route("/api/v1/vpn/limits/{group}", put(api_set_limit))
}

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

impl From<VpnError> for ApiError {
    fn from(e: VpnError) -> Self {
        match e {
            VpnError::NotFound => ApiError::not_found("no such device, session or rule"),
            VpnError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
            e @ VpnError::Invalid { .. } => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string()),
            VpnError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m.to_string()),
            VpnError::Unavailable(m) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "vpn_unavailable", m.to_string()),
            VpnError::Store(s) => ApiError::from(s),
        }
    }
}

/// A VPN error in the reader's language, for the pages (the API keeps its English messages).
fn explain(e: &VpnError, t: &crate::i18n::Texts) -> String {
    use veilig_vpn::engine::{KeyError, PoolError, RuleError};
    use veilig_vpn::{Conflict, Invalid, Unavailable};
    let text = |key: &str| t.t(key).to_owned();
    match e {
        VpnError::Invalid(i) => match i {
            Invalid::Name => text("vpn.err_name"),
            Invalid::Key(KeyError::Length(n)) => text("vpn.err_key_length").replace("{n}", &n.to_string()),
            Invalid::Key(KeyError::NotBase64) => text("vpn.err_key_base64"),
            Invalid::Key(KeyError::Weak) => text("vpn.err_key_weak"),
            Invalid::GatewayKey => text("vpn.err_gateway_key"),
            Invalid::Rule(r) => match r {
                RuleError::Network(x) => text("vpn.err_rule_network").replace("{x}", x),
                RuleError::HostBits(x, y) => text("vpn.err_rule_host_bits").replace("{x}", x).replace("{y}", &y.to_string()),
                RuleError::Protocol(x) => text("vpn.err_rule_protocol").replace("{x}", x),
                RuleError::Ports(x) => text("vpn.err_rule_ports").replace("{x}", x),
                RuleError::PortsWithoutProtocol => text("vpn.err_rule_ports_proto"),
                RuleError::Outside(x, y) => text("vpn.err_rule_outside").replace("{x}", &x.to_string()).replace("{y}", y),
                RuleError::Overlap(x) => text("vpn.err_rule_overlap").replace("{x}", x),
            },
            Invalid::Description => text("vpn.err_description"),
            Invalid::Group(g) => text("vpn.err_group").replace("{x}", g),
            Invalid::Minutes => text("vpn.err_minutes"),
        },
        VpnError::Conflict(c) => match c {
            Conflict::TooManyDevices(n) => text("vpn.err_too_many").replace("{n}", &n.to_string()),
            Conflict::DuplicateKey => text("vpn.err_duplicate"),
            Conflict::PoolFull(PoolError::Exhausted { pool, size }) => {
                text("vpn.err_pool_full").replace("{x}", &pool.to_string()).replace("{n}", &size.to_string())
            }
            Conflict::PoolFull(PoolError::TooSmall(p)) => text("vpn.err_pool_small").replace("{x}", &p.to_string()),
            Conflict::NoDevice => text("vpn.err_no_device"),
        },
        VpnError::Unavailable(u) => match u {
            Unavailable::Off => text("vpn.off"),
            Unavailable::NotRunning => text("vpn.not_running"),
            Unavailable::Pool(PoolError::TooSmall(p) | PoolError::Exhausted { pool: p, .. }) => {
                text("vpn.err_pool_small").replace("{x}", &p.to_string())
            }
        },
        other => other.to_string(),
    }
}

// ---- Views of records ----------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceView {
    pub id: String,
    pub user: String,
    pub name: String,
    pub public_key: String,
    /// The device's tunnel address.
    pub address: String,
    pub created_ms: i64,
    pub last_handshake_ms: Option<i64>,
    /// Where the last handshake came from (`ip:port`).
    pub endpoint: Option<String>,
    pub rx_bytes: i64,
    pub tx_bytes: i64,
}

impl From<DeviceRecord> for DeviceView {
    fn from(d: DeviceRecord) -> Self {
        DeviceView {
            id: d.id,
            user: d.user_email,
            name: d.name,
            public_key: d.public_key,
            address: d.address,
            created_ms: d.created_ms,
            last_handshake_ms: d.last_handshake_ms,
            endpoint: d.endpoint,
            rx_bytes: d.rx_bytes,
            tx_bytes: d.tx_bytes,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub id: String,
    pub user: String,
    pub opened_ms: i64,
    pub expires_ms: i64,
    pub last_activity_ms: i64,
    pub closed_ms: Option<i64>,
    /// `disconnect`, `expired`, `idle`, `user_disabled`, `factors_reset`, `ended_by_administrator`.
    pub close_reason: Option<String>,
}

impl From<VpnSessionRecord> for SessionView {
    fn from(s: VpnSessionRecord) -> Self {
        SessionView {
            id: s.id,
            user: s.user_email,
            opened_ms: s.opened_ms,
            expires_ms: s.expires_ms,
            last_activity_ms: s.last_activity_ms,
            closed_ms: s.closed_ms,
            close_reason: s.close_reason,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleView {
    pub id: String,
    pub group: String,
    pub network: String,
    /// `any`, `tcp`, `udp` or `icmp`.
    pub protocol: String,
    pub port_from: Option<i64>,
    pub port_to: Option<i64>,
    pub description: String,
}

impl From<RuleRecord> for RuleView {
    fn from(r: RuleRecord) -> Self {
        RuleView {
            id: r.id,
            group: r.group_name,
            network: r.network,
            protocol: r.protocol,
            port_from: r.port_from,
            port_to: r.port_to,
            description: r.description,
        }
    }
}

// ---- API -----------------------------------------------------------------------------------

/// Whether the gateway runs, and what devices connect to.
#[utoipa::path(get, path = "/api/v1/vpn/status", responses((status = 200, body = Object)))]
pub async fn api_status(State(state): State<AppState>, _s: Signed) -> Json<veilig_vpn::Status> {
    Json(state.vpn.status())
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DevicesQuery {
    /// Staff only: every employee's devices instead of one's own.
    pub all: Option<bool>,
}

/// The caller's devices (or, for staff with `all=true`, everyone's).
#[utoipa::path(get, path = "/api/v1/vpn/devices", params(DevicesQuery), responses((status = 200, body = [DeviceView])))]
pub async fn api_devices(
    State(state): State<AppState>,
    Signed(p): Signed,
    ApiQuery(q): ApiQuery<DevicesQuery>,
) -> Result<Json<Vec<DeviceView>>, ApiError> {
    let devices = if q.all.unwrap_or(false) {
        if !p.role().is_staff() {
            return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "only staff may list every device"));
        }
        state.vpn.devices_all().await?
    } else {
        state.vpn.devices_of(&p.user().id).await?
    };
    Ok(Json(devices.into_iter().map(DeviceView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AddDevice {
    pub name: String,
    /// The device's WireGuard public key; leave out to let Veilig make the key pair.
    pub public_key: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceCreated {
    pub device: DeviceView,
    /// The WireGuard configuration. With a key pair made by Veilig it holds the private key:
    /// it is returned this once and stored nowhere.
    pub config: String,
}

/// Adds a device for the caller.
#[utoipa::path(post, path = "/api/v1/vpn/devices", request_body = AddDevice, responses((status = 201, body = DeviceCreated), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_add_device(
    State(state): State<AppState>,
    Signed(p): Signed,
    axum::Extension(ip): axum::Extension<ClientIp>,
    ApiJson(r): ApiJson<AddDevice>,
) -> Result<Response, ApiError> {
    let added = state.vpn.add_device(&actor(&p, &ip), &r.name, r.public_key.as_deref()).await?;
    let mut res = (StatusCode::CREATED, Json(DeviceCreated { device: added.device.into(), config: added.config })).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Removes a device (one's own; staff: anyone's). Its peer leaves the data plane at once.
#[utoipa::path(delete, path = "/api/v1/vpn/devices/{id}", responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_remove_device(
    State(state): State<AppState>,
    Signed(p): Signed,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.vpn.remove_device(&actor(&p, &ip), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A device's configuration without a private key, as a `.conf` file.
pub async fn download_config(
    State(state): State<AppState>,
    Signed(p): Signed,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let device = state.vpn.device(&actor(&p, &ip), &id).await?;
    let text = state.vpn.render_conf(&device, None);
    let name = veilig_vpn::engine::conf::file_name(&device.name);
    let mut res = text.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// The caller's open session; staff see every open session.
#[utoipa::path(get, path = "/api/v1/vpn/sessions", responses((status = 200, body = [SessionView])))]
pub async fn api_sessions(State(state): State<AppState>, Signed(p): Signed) -> Result<Json<Vec<SessionView>>, ApiError> {
    let sessions = if p.role().is_staff() {
        state.vpn.sessions_open().await?
    } else {
        state.vpn.session_of(&p.user().id).await?.into_iter().collect()
    };
    Ok(Json(sessions.into_iter().map(SessionView::from).collect()))
}

/// Connect: opens a VPN session for the caller, which must be a browser or API session that
/// passed both factors (API tokens cannot open one). The caller's devices can connect within a
/// second.
#[utoipa::path(post, path = "/api/v1/vpn/sessions", responses((status = 201, body = SessionView), (status = 403, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
pub async fn api_open_session(
    State(state): State<AppState>,
    Signed(p): Signed,
    axum::Extension(ip): axum::Extension<ClientIp>,
    lang: Option<axum::Extension<veilig_core::Lang>>,
) -> Result<Response, ApiError> {
    let lang = lang.map(|l| l.0).unwrap_or_default();
    if !matches!(p, Principal::Session(_)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "second_factor_required",
            "a VPN session needs a sign-in with both factors; API tokens cannot open one",
        ));
    }
    if let Err(refusal) = state.devices.gate(&p.user().id, veilig_compliance::Target::Vpn).await? {
        return Err(super::devices::refusal_error(&refusal, lang.code()));
    }
    let s = state.vpn.open_session(&actor(&p, &ip)).await?;
    Ok((StatusCode::CREATED, Json(SessionView::from(s))).into_response())
}

/// Disconnect (one's own session) or end someone's session (staff).
#[utoipa::path(delete, path = "/api/v1/vpn/sessions/{id}", responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_close_session(
    State(state): State<AppState>,
    Signed(p): Signed,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let open = state.vpn.sessions_open().await?;
    let s = open.into_iter().find(|s| s.id == id).ok_or_else(|| ApiError::not_found("no such open session"))?;
    if s.user_id != p.user().id && !p.role().is_staff() {
        return Err(ApiError::not_found("no such open session"));
    }
    state.vpn.close_session(&actor(&p, &ip), &s.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every access rule (default deny: a group reaches only what a rule allows).
#[utoipa::path(get, path = "/api/v1/vpn/rules", responses((status = 200, body = [RuleView])))]
pub async fn api_rules(State(state): State<AppState>, _s: Staff) -> Result<Json<Vec<RuleView>>, ApiError> {
    Ok(Json(state.vpn.rules().await?.into_iter().map(RuleView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AddRule {
    pub group: String,
    /// A network inside the internal networks, such as `10.20.1.0/24`.
    pub network: String,
    /// `any` (default), `tcp`, `udp` or `icmp`.
    #[serde(default)]
    pub protocol: String,
    /// `443` or `8000-8080`; empty for every port.
    #[serde(default)]
    pub ports: String,
    #[serde(default)]
    pub description: String,
}

/// Adds an access rule (administrators). Overlapping rules and networks outside the
/// internal networks are refused.
#[utoipa::path(post, path = "/api/v1/vpn/rules", request_body = AddRule, responses((status = 201, body = RuleView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_add_rule(
    State(state): State<AppState>,
    Staff(p): Staff,
    axum::Extension(ip): axum::Extension<ClientIp>,
    ApiJson(r): ApiJson<AddRule>,
) -> Result<Response, ApiError> {
    let rule = state.vpn.add_rule(&actor(&p, &ip), &r.group, &r.network, &r.protocol, &r.ports, &r.description).await?;
    Ok((StatusCode::CREATED, Json(RuleView::from(rule))).into_response())
}

#[utoipa::path(delete, path = "/api/v1/vpn/rules/{id}", responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_remove_rule(
    State(state): State<AppState>,
    Staff(p): Staff,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.vpn.remove_rule(&actor(&p, &ip), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SetLimit {
    /// Maximum session length in minutes for members of the group; null removes the limit.
    pub minutes: Option<i64>,
}

/// Sets a group's maximum VPN session length (administrators).
#[utoipa::path(put, path = "/api/v1/vpn/limits/{group}", request_body = SetLimit, responses((status = 204), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_set_limit(
    State(state): State<AppState>,
    Staff(p): Staff,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(group): Path<String>,
    ApiJson(r): ApiJson<SetLimit>,
) -> Result<StatusCode, ApiError> {
    state.vpn.set_group_limit(&actor(&p, &ip), &group, r.minutes).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- Pages ---------------------------------------------------------------------------------

pub struct DeviceRow {
    pub d: DeviceRecord,
    pub handshake: String,
    pub traffic: String,
}

fn device_row(d: DeviceRecord, ctx: &PageCtx) -> DeviceRow {
    DeviceRow {
        handshake: d.last_handshake_ms.map(format_ms).unwrap_or_else(|| ctx.t.t("vpn.never").to_owned()),
        traffic: format!("↓ {} · ↑ {}", bytes(d.tx_bytes), bytes(d.rx_bytes)),
        d,
    }
}

fn bytes(n: i64) -> String {
    let n = n.max(0) as f64;
    match n {
        n if n >= 1e9 => format!("{:.1} GB", n / 1e9),
        n if n >= 1e6 => format!("{:.1} MB", n / 1e6),
        n if n >= 1e3 => format!("{:.0} kB", n / 1e3),
        n => format!("{n:.0} B"),
    }
}

#[derive(Template)]
#[template(path = "vpn/me.html")]
struct VpnPage {
    ctx: PageCtx,
    status: veilig_vpn::Status,
    session: Option<VpnSessionRecord>,
    session_until: String,
    devices: Vec<DeviceRow>,
    error: Option<String>,
    name: String,
    public_key: String,
}

async fn vpn_page(state: &AppState, ctx: PageCtx, p: &Principal, error: Option<String>, name: &str, public_key: &str) -> Response {
    let (devices, session) = match (state.vpn.devices_of(&p.user().id).await, state.vpn.session_of(&p.user().id).await) {
        (Ok(d), Ok(s)) => (d, s),
        (Err(e), _) | (_, Err(e)) => return ApiError::from(e).into_response(),
    };
    let session_until = session.as_ref().map(|s| format_ms(s.expires_ms)).unwrap_or_default();
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let devices = devices.into_iter().map(|d| device_row(d, &ctx)).collect();
    let mut res = render(&VpnPage {
        status: state.vpn.status(),
        ctx,
        session,
        session_until,
        devices,
        error,
        name: name.to_owned(),
        public_key: public_key.to_owned(),
    });
    *res.status_mut() = status;
    res
}

async fn page(State(state): State<AppState>, Signed(p): Signed, ctx: PageCtx) -> Response {
    vpn_page(&state, ctx, &p, None, "", "").await
}

#[derive(Deserialize)]
struct AddDeviceForm {
    name: String,
    #[serde(default)]
    public_key: String,
}

#[derive(Template)]
#[template(path = "vpn/created.html")]
struct CreatedPage {
    ctx: PageCtx,
    device: DeviceRecord,
    config: String,
    generated: bool,
    qr: Option<crate::qr::Qr>,
    download: String,
    file_name: String,
}

async fn page_add_device(
    State(state): State<AppState>,
    Signed(p): Signed,
    axum::Extension(ip): axum::Extension<ClientIp>,
    ctx: PageCtx,
    CsrfForm(f): CsrfForm<AddDeviceForm>,
) -> Response {
    let key = Some(f.public_key.as_str()).filter(|k| !k.trim().is_empty());
    match state.vpn.add_device(&actor(&p, &ip), &f.name, key).await {
        Ok(added) => {
            let download =
                format!("data:application/octet-stream;base64,{}", base64::engine::general_purpose::STANDARD.encode(&added.config));
            let mut res = render(&CreatedPage {
                ctx,
                qr: crate::qr::qr(&added.config),
                file_name: veilig_vpn::engine::conf::file_name(&added.device.name),
                device: added.device,
                config: added.config,
                generated: added.generated,
                download,
            });
            // The page holds a private key: never keep it in a cache.
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(VpnError::Store(e)) => ApiError::from(e).into_response(),
        Err(e) => {
            let why = explain(&e, &ctx.t);
            vpn_page(&state, ctx, &p, Some(why), &f.name, &f.public_key).await
        }
    }
}

#[derive(Deserialize)]
struct BackForm {
    #[serde(default)]
    back: String,
}

fn back_to(b: &str) -> Redirect {
    Redirect::to(if b == "admin" { "/admin/vpn" } else { "/vpn" })
}

async fn page_remove_device(
    State(state): State<AppState>,
    Signed(p): Signed,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<BackForm>,
) -> Response {
    match state.vpn.remove_device(&actor(&p, &ip), &id).await {
        Ok(()) => back_to(&f.back).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn page_connect(
    State(state): State<AppState>,
    Signed(p): Signed,
    axum::Extension(ip): axum::Extension<ClientIp>,
    ctx: PageCtx,
    CsrfForm(_f): CsrfForm<BackForm>,
) -> Response {
    if !matches!(p, Principal::Session(_)) {
        return ApiError::new(StatusCode::FORBIDDEN, "forbidden", "sign in to connect").into_response();
    }
    match state.devices.gate(&p.user().id, veilig_compliance::Target::Vpn).await {
        Ok(Ok(())) => {}
        Ok(Err(refusal)) => {
            let why = if ctx.lang() == "nl" { refusal.nl } else { refusal.en };
            return vpn_page(&state, ctx, &p, Some(why), "", "").await;
        }
        Err(e) => return ApiError::from(e).into_response(),
    }
    match state.vpn.open_session(&actor(&p, &ip)).await {
        Ok(_) => Redirect::to("/vpn").into_response(),
        Err(VpnError::Store(e)) => ApiError::from(e).into_response(),
        Err(e) => {
            let why = explain(&e, &ctx.t);
            vpn_page(&state, ctx, &p, Some(why), "", "").await
        }
    }
}

async fn page_disconnect(
    State(state): State<AppState>,
    Signed(p): Signed,
    axum::Extension(ip): axum::Extension<ClientIp>,
    CsrfForm(_f): CsrfForm<BackForm>,
) -> Response {
    match state.vpn.close_session(&actor(&p, &ip), &p.user().id).await {
        Ok(_) => Redirect::to("/vpn").into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// One bar of the traffic chart.
pub struct Bar {
    pub y: u32,
    pub width: u32,
    pub label: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "vpn/admin.html")]
struct AdminPage {
    ctx: PageCtx,
    status: veilig_vpn::Status,
    sessions: Vec<(VpnSessionRecord, String, String)>,
    devices: Vec<DeviceRow>,
    rules: Vec<RuleView>,
    groups: Vec<String>,
    limits: Vec<(String, i64)>,
    bars: Vec<Bar>,
    chart_height: u32,
    error: Option<String>,
}

async fn admin_view(state: &AppState, ctx: PageCtx, error: Option<String>) -> Response {
    let loaded = async {
        Ok::<_, VpnError>((
            state.vpn.sessions_open().await?,
            state.vpn.devices_all().await?,
            state.vpn.rules().await?,
            state.store.groups_list().await?,
            state.vpn.group_limits().await?,
        ))
    }
    .await;
    let (sessions, devices, rules, groups, limits) = match loaded {
        Ok(x) => x,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let mut by_traffic: Vec<&DeviceRecord> = devices.iter().filter(|d| d.rx_bytes + d.tx_bytes > 0).collect();
    by_traffic.sort_by_key(|d| std::cmp::Reverse(d.rx_bytes + d.tx_bytes));
    let max = by_traffic.first().map(|d| d.rx_bytes + d.tx_bytes).unwrap_or(1).max(1);
    let bars: Vec<Bar> = by_traffic
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, d)| Bar {
            y: i as u32 * 26,
            width: (((d.rx_bytes + d.tx_bytes) as f64 / max as f64) * 300.0).round().max(1.0) as u32,
            label: format!("{} · {}", d.user_email, d.name),
            value: bytes(d.rx_bytes + d.tx_bytes),
        })
        .collect();
    let chart_height = bars.len() as u32 * 26;
    let sessions = sessions.into_iter().map(|s| (format_ms(s.opened_ms), format_ms(s.expires_ms), s)).map(|(a, b, s)| (s, a, b)).collect();
    let devices = devices.into_iter().map(|d| device_row(d, &ctx)).collect();
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let mut res = render(&AdminPage {
        status: state.vpn.status(),
        ctx,
        sessions,
        devices,
        rules: rules.into_iter().map(RuleView::from).collect(),
        groups: groups.into_iter().map(|g| g.name).collect(),
        limits,
        bars,
        chart_height,
        error,
    });
    *res.status_mut() = status;
    res
}

async fn admin_page(State(state): State<AppState>, _s: Staff, ctx: PageCtx) -> Response {
    admin_view(&state, ctx, None).await
}

async fn admin_end_session(
    State(state): State<AppState>,
    Staff(p): Staff,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(user_id): Path<String>,
    CsrfForm(_f): CsrfForm<BackForm>,
) -> Response {
    match state.vpn.close_session(&actor(&p, &ip), &user_id).await {
        Ok(_) => Redirect::to("/admin/vpn").into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
struct RuleForm {
    group: String,
    network: String,
    #[serde(default)]
    protocol: String,
    #[serde(default)]
    ports: String,
    #[serde(default)]
    description: String,
}

async fn admin_add_rule(
    State(state): State<AppState>,
    Staff(p): Staff,
    axum::Extension(ip): axum::Extension<ClientIp>,
    ctx: PageCtx,
    CsrfForm(f): CsrfForm<RuleForm>,
) -> Response {
    match state.vpn.add_rule(&actor(&p, &ip), &f.group, &f.network, &f.protocol, &f.ports, &f.description).await {
        Ok(_) => Redirect::to("/admin/vpn").into_response(),
        Err(VpnError::Store(e)) => ApiError::from(e).into_response(),
        Err(e) => {
            let why = explain(&e, &ctx.t);
            admin_view(&state, ctx, Some(why)).await
        }
    }
}

async fn admin_remove_rule(
    State(state): State<AppState>,
    Staff(p): Staff,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
    CsrfForm(_f): CsrfForm<BackForm>,
) -> Response {
    match state.vpn.remove_rule(&actor(&p, &ip), &id).await {
        Ok(()) => Redirect::to("/admin/vpn").into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
struct LimitForm {
    group: String,
    #[serde(default)]
    minutes: String,
}

async fn admin_set_limit(
    State(state): State<AppState>,
    Staff(p): Staff,
    axum::Extension(ip): axum::Extension<ClientIp>,
    ctx: PageCtx,
    CsrfForm(f): CsrfForm<LimitForm>,
) -> Response {
    let minutes = match f.minutes.trim() {
        "" => None,
        m => match m.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                let why = explain(&VpnError::Invalid(veilig_vpn::Invalid::Minutes), &ctx.t);
                return admin_view(&state, ctx, Some(why)).await;
            }
        },
    };
    match state.vpn.set_group_limit(&actor(&p, &ip), &f.group, minutes).await {
        Ok(()) => Redirect::to("/admin/vpn").into_response(),
        Err(VpnError::Store(e)) => ApiError::from(e).into_response(),
        Err(e) => {
            let why = explain(&e, &ctx.t);
            admin_view(&state, ctx, Some(why)).await
        }
    }
}
