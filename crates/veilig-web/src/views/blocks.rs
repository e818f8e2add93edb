//! Monitoring's response for staff: blocks (in force and ended), the allow-list, the
//! blocklist URL for edge firewalls, and the webhooks; the same through the API.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use veilig_respond::RespondError;
use veilig_store::{AllowRecord, DecisionRecord, WebhookRecord};

use super::{PageCtx, format_ms, render};
use crate::AppState;
use crate::auth::{CsrfForm, Staff};
use crate::error::{ApiError, ApiJson, ApiQuery};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/blocks", get(page).post(page_block))
        .route("/blocks/{id}/unblock", post(page_unblock))
        .route("/blocks/allow", post(page_allow))
        .route("/blocks/allow/{id}/delete", post(page_disallow))
        .route("/blocks/token", post(page_token))
        .route("/blocks/webhooks", post(page_add_webhook))
        .route("/blocks/webhooks/{id}/delete", post(page_remove_webhook))
        .route("/blocks/webhooks/{id}/test", post(page_test_webhook))
        .route("/blocklist/{token}", get(blocklist))
        .route("/api/v1/decisions", get(api_decisions).post(api_block))
        .route("/api/v1/decisions/{id}", delete(api_unblock))
        .route("/api/v1/allowlist", get(api_allowlist).post(api_allow))
        .route("/api/v1/allowlist/{id}", delete(api_disallow))
        .route("/api/v1/blocklist/token", post(api_token))
        .route("/api/v1/webhooks", get(api_webhooks).post(api_add_webhook))
        .route("/api/v1/webhooks/{id}", delete(api_remove_webhook))
        .route("/api/v1/webhooks/{id}/test", post(api_test_webhook))
}

impl From<RespondError> for ApiError {
    fn from(e: RespondError) -> Self {
        match e {
            RespondError::Invalid { message, .. } => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message),
            RespondError::NotFound => ApiError::not_found("no such block, allow-list entry or webhook"),
            RespondError::Store(s) => ApiError::from(s),
        }
    }
}

/// A response error in the reader's language, for the pages.
fn explain(e: &RespondError, t: &crate::i18n::Texts) -> Option<String> {
    match e {
        RespondError::Invalid { code, subject, .. } => Some(t.t(&format!("blocks.err_{code}")).replace("{x}", subject)),
        RespondError::NotFound => Some(t.t("blocks.err_not_found").to_owned()),
        RespondError::Store(_) => None,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionView {
    pub id: String,
    /// `203.0.113.7/32`, `2001:db8::/64`.
    pub network: String,
    pub reason: String,
    pub alert_id: Option<String>,
    /// `auto` or the e-mail address of the person who made it.
    pub origin: String,
    /// 1 for a first block, 2 for the second within 30 days, ...
    pub level: i64,
    pub created_ms: i64,
    pub until_ms: i64,
    pub revoked_ms: Option<i64>,
    pub revoked_by: Option<String>,
    /// `applied` (nftables on this host lists it), `off` (no enforcement on this host),
    /// `removed`, or `failed: why`.
    pub enforced: String,
    pub active: bool,
}

impl DecisionView {
    pub(crate) fn new(d: DecisionRecord, now: i64) -> Self {
        DecisionView {
            active: d.revoked_ms.is_none() && d.until_ms > now,
            id: d.id,
            network: d.network,
            reason: d.reason,
            alert_id: d.alert_id,
            origin: d.origin,
            level: d.level,
            created_ms: d.created_ms,
            until_ms: d.until_ms,
            revoked_ms: d.revoked_ms,
            revoked_by: d.revoked_by,
            enforced: d.enforced,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AllowView {
    pub id: String,
    pub network: String,
    pub note: String,
    pub created_by: String,
}

impl From<AllowRecord> for AllowView {
    fn from(a: AllowRecord) -> Self {
        AllowView { id: a.id, network: a.network, note: a.note, created_by: a.created_by }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: String,
    /// `json`, `teams` or `slack`.
    pub kind: String,
    /// Scheme and host only: the path is often the secret.
    pub url: String,
    pub min_severity: String,
    pub last_ms: Option<i64>,
    pub last_status: Option<String>,
}

impl From<WebhookRecord> for WebhookView {
    fn from(w: WebhookRecord) -> Self {
        WebhookView {
            id: w.id,
            kind: w.kind,
            url: w.url_hint,
            min_severity: w.min_severity,
            last_ms: w.last_ms,
            last_status: w.last_status,
        }
    }
}

// ---- API -----------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DecisionQuery {
    /// Only blocks in force (default true); false lists the newest 500, ended ones too.
    pub active: Option<bool>,
}

/// Blocks: those in force, or the newest ones.
#[utoipa::path(get, path = "/api/v1/decisions", params(DecisionQuery), responses((status = 200, body = [DecisionView])))]
pub async fn api_decisions(
    State(state): State<AppState>,
    _s: Staff,
    ApiQuery(q): ApiQuery<DecisionQuery>,
) -> Result<Json<Vec<DecisionView>>, ApiError> {
    let now = state.clock.now_ms();
    let list = if q.active.unwrap_or(true) { state.store.decisions_active(now).await? } else { state.store.decisions_recent(500).await? };
    Ok(Json(list.into_iter().map(|d| DecisionView::new(d, now)).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BlockRequest {
    /// An address or network: `203.0.113.7`, `198.51.100.0/24`, `2001:db8::/64`.
    pub network: String,
    /// Seconds (60 to 365 days); default: the policy's length for this network's history.
    pub duration_secs: Option<u64>,
    pub reason: String,
}

/// Blocks an address or network by hand (checked against the allow-list; audited).
#[utoipa::path(post, path = "/api/v1/decisions", request_body = BlockRequest, responses((status = 201, body = DecisionView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_block(State(state): State<AppState>, Staff(p): Staff, ApiJson(r): ApiJson<BlockRequest>) -> Result<Response, ApiError> {
    let d = state.respond.block(&p.user().email, &r.network, r.duration_secs, &r.reason).await?;
    Ok((StatusCode::CREATED, Json(DecisionView::new(d, state.clock.now_ms()))).into_response())
}

/// Ends a block early (removed from nftables at once; audited).
#[utoipa::path(delete, path = "/api/v1/decisions/{id}", responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_unblock(State(state): State<AppState>, Staff(p): Staff, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.respond.unblock(&p.user().email, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The allow-list kept on the Blocks page (the configured `response.allow` comes on top).
#[utoipa::path(get, path = "/api/v1/allowlist", responses((status = 200, body = [AllowView])))]
pub async fn api_allowlist(State(state): State<AppState>, _s: Staff) -> Result<Json<Vec<AllowView>>, ApiError> {
    Ok(Json(state.store.allow_list().await?.into_iter().map(AllowView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AllowRequest {
    pub network: String,
    #[serde(default)]
    pub note: String,
}

/// Puts a network on the allow-list: it is never blocked.
#[utoipa::path(post, path = "/api/v1/allowlist", request_body = AllowRequest, responses((status = 201, body = AllowView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_allow(State(state): State<AppState>, Staff(p): Staff, ApiJson(r): ApiJson<AllowRequest>) -> Result<Response, ApiError> {
    let a = state.respond.allow(&p.user().email, &r.network, &r.note).await?;
    Ok((StatusCode::CREATED, Json(AllowView::from(a))).into_response())
}

#[utoipa::path(delete, path = "/api/v1/allowlist/{id}", responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_disallow(State(state): State<AppState>, Staff(p): Staff, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.respond.disallow(&p.user().email, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenCreated {
    /// The blocklist URL with its token: shown this once; the previous URL stops working.
    pub url: String,
}

/// Makes a new blocklist URL for edge firewalls (the old one stops working).
#[utoipa::path(post, path = "/api/v1/blocklist/token", responses((status = 201, body = TokenCreated)))]
pub async fn api_token(State(state): State<AppState>, Staff(p): Staff) -> Result<Response, ApiError> {
    let token = state.respond.new_blocklist_token(&p.user().email).await?;
    let mut res = (StatusCode::CREATED, Json(TokenCreated { url: blocklist_url(&state, &token) })).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

fn blocklist_url(state: &AppState, token: &str) -> String {
    format!("{}/blocklist/{token}", state.config.public_url.trim_end_matches('/'))
}

/// The blocklist: one address or network a line, for pfSense/OPNsense URL tables, FortiGate
/// external threat feeds and the like. The token in the path is the only credential.
pub async fn blocklist(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiError> {
    if token.len() > 100 || !state.respond.blocklist_token_ok(&token).await? {
        return Err(ApiError::not_found("no such blocklist"));
    }
    let mut res = state.respond.blocklist_text().await?.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

#[utoipa::path(get, path = "/api/v1/webhooks", responses((status = 200, body = [WebhookView])))]
pub async fn api_webhooks(State(state): State<AppState>, _s: Staff) -> Result<Json<Vec<WebhookView>>, ApiError> {
    Ok(Json(state.respond.webhooks().await?.into_iter().map(WebhookView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct WebhookRequest {
    /// `json`, `teams` or `slack` (Slack and Mattermost).
    pub kind: String,
    /// `https://…` (plain `http://` only to this machine). Stored encrypted.
    pub url: String,
    /// Alerts at or above this severity are sent (default `high`).
    pub min_severity: Option<String>,
}

/// Adds a webhook that alerts are sent to.
#[utoipa::path(post, path = "/api/v1/webhooks", request_body = WebhookRequest, responses((status = 201, body = WebhookView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_add_webhook(
    State(state): State<AppState>,
    Staff(p): Staff,
    ApiJson(r): ApiJson<WebhookRequest>,
) -> Result<Response, ApiError> {
    let w = state.respond.add_webhook(&p.user().email, &r.kind, &r.url, r.min_severity.as_deref().unwrap_or("high")).await?;
    Ok((StatusCode::CREATED, Json(WebhookView::from(w))).into_response())
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_remove_webhook(State(state): State<AppState>, Staff(p): Staff, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    state.respond.remove_webhook(&p.user().email, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookTested {
    /// `HTTP 200`, or `failed: …`.
    pub outcome: String,
}

/// Sends a test message to a webhook and says what came back.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", responses((status = 200, body = WebhookTested), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_test_webhook(State(state): State<AppState>, _s: Staff, Path(id): Path<String>) -> Result<Json<WebhookTested>, ApiError> {
    Ok(Json(WebhookTested { outcome: state.respond.test_webhook(&id).await? }))
}

// ---- Page ----------------------------------------------------------------------------------

pub struct DecisionRow {
    pub d: DecisionRecord,
    pub created: String,
    pub until: String,
    /// `ok`, `bad` or `todo`, for the enforcement badge.
    pub badge: &'static str,
}

/// One day of the chart: blocks made that day.
pub struct Day {
    pub x: u32,
    pub y: u32,
    pub height: u32,
    pub label: String,
    pub count: usize,
}

#[derive(Template)]
#[template(path = "blocks.html")]
struct BlocksPage {
    ctx: PageCtx,
    error: Option<String>,
    notice: Option<String>,
    new_url: Option<String>,
    active: Vec<DecisionRow>,
    ended: Vec<DecisionRow>,
    allow: Vec<AllowRecord>,
    configured_allow: Vec<String>,
    webhooks: Vec<WebhookRecord>,
    has_token: bool,
    on_host: bool,
    automatic: Option<String>,
    base_hours: u64,
    max_hours: u64,
    days: Vec<Day>,
    day_max: usize,
}

pub(crate) fn row(d: DecisionRecord) -> DecisionRow {
    DecisionRow {
        created: format_ms(d.created_ms),
        until: format_ms(d.revoked_ms.unwrap_or(d.until_ms)),
        badge: match d.enforced.as_str() {
            "applied" | "removed" => "ok",
            e if e.starts_with("failed") => "bad",
            _ => "todo",
        },
        d,
    }
}

/// Blocks made per day over the last 14 days.
fn per_day(all: &[DecisionRecord], now: i64) -> (Vec<Day>, usize) {
    const DAYS: i64 = 14;
    let today = now.div_euclid(86_400_000);
    let mut counts = vec![0usize; DAYS as usize];
    for d in all {
        let i = d.created_ms.div_euclid(86_400_000) - (today - DAYS + 1);
        if let Some(c) = usize::try_from(i).ok().and_then(|i| counts.get_mut(i)) {
            *c += 1;
        }
    }
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let days = counts
        .iter()
        .enumerate()
        .map(|(i, &count)| {
            let height = ((count as f64 / max as f64) * 80.0).round() as u32;
            let day = (today - DAYS + 1 + i as i64) * 86_400;
            let label = time::OffsetDateTime::from_unix_timestamp(day)
                .map(|t| format!("{:02}-{:02}", t.day(), u8::from(t.month())))
                .unwrap_or_default();
            Day { x: 10 + i as u32 * 40, y: 90 - height, height, label, count }
        })
        .collect();
    (days, max)
}

async fn view(state: &AppState, ctx: PageCtx, error: Option<String>, notice: Option<String>, new_url: Option<String>) -> Response {
    let now = state.clock.now_ms();
    let load = async {
        let recent = state.store.decisions_recent(500).await?;
        let allow = state.store.allow_list().await?;
        let webhooks = state.store.webhooks().await?;
        let has_token = state.respond.has_blocklist_token().await?;
        Ok::<_, RespondError>((recent, allow, webhooks, has_token))
    };
    let (recent, allow, webhooks, has_token) = match load.await {
        Ok(x) => x,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let (days, day_max) = per_day(&recent, now);
    let (active, ended): (Vec<_>, Vec<_>) = recent.into_iter().partition(|d| d.revoked_ms.is_none() && d.until_ms > now);
    let config = state.respond.config();
    render(&BlocksPage {
        ctx,
        error,
        notice,
        new_url,
        active: active.into_iter().map(row).collect(),
        ended: ended.into_iter().take(50).map(row).collect(),
        allow,
        configured_allow: config.allow.iter().map(ToString::to_string).collect(),
        webhooks,
        has_token,
        on_host: state.respond.enforces_on_host(),
        automatic: config.block_severity.clone(),
        base_hours: config.block_secs / 3600,
        max_hours: config.block_max_secs / 3600,
        days,
        day_max,
    })
}

async fn page(State(state): State<AppState>, _s: Staff, ctx: PageCtx) -> Response {
    view(&state, ctx, None, None, None).await
}

/// After a form: back to the page, or the page again with the error in the reader's language.
async fn outcome<T>(state: &AppState, ctx: PageCtx, result: Result<T, RespondError>) -> Response {
    match result {
        Ok(_) => Redirect::to("/blocks").into_response(),
        Err(e) => match explain(&e, &ctx.t) {
            Some(why) => view(state, ctx, Some(why), None, None).await,
            None => ApiError::from(e).into_response(),
        },
    }
}

#[derive(Deserialize)]
struct BlockForm {
    network: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    reason: String,
}

async fn page_block(State(state): State<AppState>, Staff(p): Staff, ctx: PageCtx, CsrfForm(f): CsrfForm<BlockForm>) -> Response {
    let secs = match f.hours.trim() {
        "" => None,
        h => match h.parse::<f64>() {
            Ok(h) if h.is_finite() && h > 0.0 => Some((h * 3600.0) as u64),
            _ => return view(&state, ctx.clone(), Some(ctx.t.t("blocks.err_duration").to_owned()), None, None).await,
        },
    };
    let r = state.respond.block(&p.user().email, &f.network, secs, &f.reason).await;
    outcome(&state, ctx, r).await
}

#[derive(Deserialize)]
struct Empty {}

async fn page_unblock(
    State(state): State<AppState>,
    Staff(p): Staff,
    ctx: PageCtx,
    Path(id): Path<String>,
    CsrfForm(_f): CsrfForm<Empty>,
) -> Response {
    let r = state.respond.unblock(&p.user().email, &id).await;
    outcome(&state, ctx, r).await
}

#[derive(Deserialize)]
struct AllowForm {
    network: String,
    #[serde(default)]
    note: String,
}

async fn page_allow(State(state): State<AppState>, Staff(p): Staff, ctx: PageCtx, CsrfForm(f): CsrfForm<AllowForm>) -> Response {
    let r = state.respond.allow(&p.user().email, &f.network, &f.note).await;
    outcome(&state, ctx, r).await
}

async fn page_disallow(
    State(state): State<AppState>,
    Staff(p): Staff,
    ctx: PageCtx,
    Path(id): Path<String>,
    CsrfForm(_f): CsrfForm<Empty>,
) -> Response {
    let r = state.respond.disallow(&p.user().email, &id).await;
    outcome(&state, ctx, r).await
}

async fn page_token(State(state): State<AppState>, Staff(p): Staff, ctx: PageCtx, CsrfForm(_f): CsrfForm<Empty>) -> Response {
    match state.respond.new_blocklist_token(&p.user().email).await {
        Ok(token) => {
            let url = blocklist_url(&state, &token);
            let mut res = view(&state, ctx, None, None, Some(url)).await;
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
struct WebhookForm {
    kind: String,
    url: String,
    #[serde(default)]
    min_severity: String,
}

async fn page_add_webhook(State(state): State<AppState>, Staff(p): Staff, ctx: PageCtx, CsrfForm(f): CsrfForm<WebhookForm>) -> Response {
    let min = if f.min_severity.is_empty() { "high" } else { f.min_severity.as_str() };
    let r = state.respond.add_webhook(&p.user().email, &f.kind, &f.url, min).await;
    outcome(&state, ctx, r).await
}

async fn page_remove_webhook(
    State(state): State<AppState>,
    Staff(p): Staff,
    ctx: PageCtx,
    Path(id): Path<String>,
    CsrfForm(_f): CsrfForm<Empty>,
) -> Response {
    let r = state.respond.remove_webhook(&p.user().email, &id).await;
    outcome(&state, ctx, r).await
}

async fn page_test_webhook(
    State(state): State<AppState>,
    _s: Staff,
    ctx: PageCtx,
    Path(id): Path<String>,
    CsrfForm(_f): CsrfForm<Empty>,
) -> Response {
    match state.respond.test_webhook(&id).await {
        Ok(outcome) => {
            let notice = format!("{} {outcome}", ctx.t.t("blocks.tested"));
            view(&state, ctx, None, Some(notice), None).await
        }
        Err(e) => outcome(&state, ctx, Err::<(), _>(e)).await,
    }
}
