//! Monitoring's alerts: the list for staff, as a page and through the API.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use veilig_store::{AlertFilter, AlertRecord, CommentRecord};

use super::{PageCtx, format_ms, render};
use crate::AppState;
use crate::auth::Staff;
use crate::error::{ApiError, ApiQuery};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/alerts", get(page))
        .route("/alerts/{id}", get(detail_page))
        .route("/alerts/{id}/status", axum::routing::post(page_status))
        .route("/alerts/{id}/assign", axum::routing::post(page_assign))
        .route("/alerts/{id}/comments", axum::routing::post(page_comment))
        .route("/api/v1/alerts", get(api_list))
        .route("/api/v1/inputs", get(api_inputs))
        .route("/api/v1/alerts/{id}", get(api_get))
        .route("/api/v1/alerts/{id}/status", axum::routing::post(api_status))
        .route("/api/v1/alerts/{id}/assign", axum::routing::post(api_assign))
        .route("/api/v1/alerts/{id}/comments", axum::routing::post(api_comment))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertView {
    pub id: String,
    pub rule: String,
    /// `critical`, `high`, `medium` or `low`.
    pub severity: String,
    pub source: String,
    pub user: Option<String>,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub count: i64,
    pub summary: String,
    pub status: String,
    /// The e-mail address of the person handling it.
    pub assignee: Option<String>,
    /// The log line that completed the alert.
    pub example: Option<String>,
}

impl From<AlertRecord> for AlertView {
    fn from(a: AlertRecord) -> Self {
        AlertView {
            id: a.id,
            rule: a.rule,
            severity: a.severity,
            source: a.source,
            user: a.user,
            first_seen_ms: a.first_seen_ms,
            last_seen_ms: a.last_seen_ms,
            count: a.count,
            summary: a.summary,
            status: a.status,
            assignee: a.assignee,
            example: a.example,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InputsView {
    /// Per sender (a syslog peer's address, or `file PATH`), most lines first.
    #[schema(value_type = Vec<Object>)]
    pub senders: Vec<veilig_ingest::SenderStats>,
    /// The newest lines that were not understood (kept in memory only), with the reason.
    #[schema(value_type = Vec<Object>)]
    pub samples: Vec<veilig_ingest::Sample>,
}

/// What the live inputs brought in since the start: lines, events and lines not understood
/// per sender, and samples of the latter.
#[utoipa::path(get, path = "/api/v1/inputs", responses((status = 200, body = InputsView)))]
pub async fn api_inputs(State(state): State<AppState>, _s: Staff) -> Json<InputsView> {
    let (senders, samples) = state.ingest.inputs();
    Json(InputsView { senders, samples })
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// At most this many (1–1000, default 100).
    pub limit: Option<u32>,
    /// `open`, `acknowledged` or `closed`.
    pub status: Option<String>,
    /// `critical`, `high`, `medium` or `low`.
    pub severity: Option<String>,
    /// A rule name, such as `ssh_brute_force`.
    pub rule: Option<String>,
    /// An address or part of one.
    pub source: Option<String>,
    /// The e-mail address of the person handling it.
    pub assignee: Option<String>,
}

impl AlertQuery {
    fn filter(&self) -> AlertFilter {
        let some = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty() && s.len() <= 200).map(str::to_owned);
        AlertFilter {
            status: some(&self.status),
            severity: some(&self.severity),
            rule: some(&self.rule),
            source: some(&self.source),
            assignee: some(&self.assignee),
        }
    }
}

/// The newest alerts of the monitoring engine.
#[utoipa::path(get, path = "/api/v1/alerts", params(AlertQuery), responses((status = 200, body = [AlertView]), (status = 401, body = crate::error::ErrorBody)))]
pub async fn api_list(
    State(state): State<AppState>,
    _s: Staff,
    ApiQuery(q): ApiQuery<AlertQuery>,
) -> Result<Json<Vec<AlertView>>, ApiError> {
    let alerts = state.store.alerts_filtered(&q.filter(), q.limit.unwrap_or(100).clamp(1, 1000)).await?;
    Ok(Json(alerts.into_iter().map(AlertView::from).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentView {
    pub author: String,
    pub body: String,
    pub created_ms: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertDetail {
    pub alert: AlertView,
    pub comments: Vec<CommentView>,
    /// The blocks this alert led to.
    pub decisions: Vec<super::blocks::DecisionView>,
}

async fn detail(state: &AppState, id: &str) -> Result<(AlertRecord, Vec<CommentRecord>, Vec<veilig_store::DecisionRecord>), ApiError> {
    let alert = state.store.alert_get(id).await?.ok_or_else(|| ApiError::not_found("no such alert"))?;
    let comments = state.store.alert_comments(id).await?;
    let decisions = state.store.decisions_for_alert(id).await?;
    Ok((alert, comments, decisions))
}

/// One alert with its comments and the blocks it led to.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", responses((status = 200, body = AlertDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_get(
    State(state): State<AppState>,
    _s: Staff,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<AlertDetail>, ApiError> {
    let (alert, comments, decisions) = detail(&state, &id).await?;
    let now = state.clock.now_ms();
    Ok(Json(AlertDetail {
        alert: alert.into(),
        comments: comments.into_iter().map(|c| CommentView { author: c.author, body: c.body, created_ms: c.created_ms }).collect(),
        decisions: decisions.into_iter().map(|d| super::blocks::DecisionView::new(d, now)).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignRequest {
    /// The e-mail address of an administrator or security officer; `null` or empty for nobody.
    pub assignee: Option<String>,
}

async fn assign(state: &AppState, who: &crate::auth::Principal, ip: &str, id: &str, assignee: Option<&str>) -> Result<(), ApiError> {
    let assignee = assignee.map(str::trim).filter(|a| !a.is_empty());
    let assignee = match assignee {
        None => None,
        Some(email) => {
            let user = state.store.user_by_email(&email.to_lowercase()).await?;
            match user {
                Some(u) if u.status == "active" && (u.role == "admin" || u.role == "security_officer") => Some(u.email),
                _ => {
                    return Err(ApiError::new(
                        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid",
                        "alerts can be assigned to active administrators and security officers only",
                    ));
                }
            }
        }
    };
    let entry =
        veilig_audit::Entry::new(&who.user().email, "monitor.alert_assigned", id).ip(ip).details(serde_json::json!({"assignee": assignee}));
    if state.store.alert_assign(id, assignee.as_deref(), state.clock.now_ms(), &entry).await? {
        Ok(())
    } else {
        Err(ApiError::not_found("no such alert"))
    }
}

/// Assigns an alert to someone on duty (audited).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/assign", request_body = AssignRequest, responses((status = 204), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_assign(
    State(state): State<AppState>,
    Staff(who): Staff,
    axum::Extension(ip): axum::Extension<crate::middleware::ClientIp>,
    axum::extract::Path(id): axum::extract::Path<String>,
    crate::error::ApiJson(r): crate::error::ApiJson<AssignRequest>,
) -> Result<axum::http::StatusCode, ApiError> {
    assign(&state, &who, &ip.0.to_string(), &id, r.assignee.as_deref()).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CommentRequest {
    /// 1 to 4,000 characters.
    pub body: String,
}

async fn comment(state: &AppState, who: &crate::auth::Principal, ip: &str, id: &str, body: &str) -> Result<(), ApiError> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 4000 {
        return Err(ApiError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, "invalid", "a comment is 1 to 4,000 characters"));
    }
    let c = CommentRecord {
        id: veilig_core::random_id(),
        alert_id: id.to_owned(),
        author: who.user().email.clone(),
        body: body.to_owned(),
        created_ms: state.clock.now_ms(),
    };
    let entry = veilig_audit::Entry::new(&who.user().email, "monitor.alert_commented", id).ip(ip);
    if state.store.alert_comment(&c, &entry).await? { Ok(()) } else { Err(ApiError::not_found("no such alert")) }
}

/// Adds a comment to an alert (audited).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/comments", request_body = CommentRequest, responses((status = 204), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_comment(
    State(state): State<AppState>,
    Staff(who): Staff,
    axum::Extension(ip): axum::Extension<crate::middleware::ClientIp>,
    axum::extract::Path(id): axum::extract::Path<String>,
    crate::error::ApiJson(r): crate::error::ApiJson<CommentRequest>,
) -> Result<axum::http::StatusCode, ApiError> {
    comment(&state, &who, &ip.0.to_string(), &id, &r.body).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StatusRequest {
    /// `open`, `acknowledged` or `closed`.
    pub status: String,
}

async fn set_status(state: &AppState, who: &crate::auth::Principal, ip: &str, id: &str, status: &str) -> Result<(), ApiError> {
    if !matches!(status, "open" | "acknowledged" | "closed") {
        return Err(ApiError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, "invalid", "status must be open, acknowledged or closed"));
    }
    let entry =
        veilig_audit::Entry::new(&who.user().email, "monitor.alert_status", id).ip(ip).details(serde_json::json!({"status": status}));
    if state.store.alert_set_status(id, status, state.clock.now_ms(), &entry).await? {
        Ok(())
    } else {
        Err(ApiError::not_found("no such alert"))
    }
}

/// Acknowledges, closes or reopens an alert (audited).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/status", request_body = StatusRequest, responses((status = 204), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_status(
    State(state): State<AppState>,
    Staff(who): Staff,
    axum::Extension(ip): axum::Extension<crate::middleware::ClientIp>,
    axum::extract::Path(id): axum::extract::Path<String>,
    crate::error::ApiJson(r): crate::error::ApiJson<StatusRequest>,
) -> Result<axum::http::StatusCode, ApiError> {
    set_status(&state, &who, &ip.0.to_string(), &id, &r.status).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct StatusForm {
    status: String,
    #[serde(default)]
    back: String,
}

fn back_to(back: &str, id: &str) -> axum::response::Redirect {
    if back == "detail" { axum::response::Redirect::to(&format!("/alerts/{id}")) } else { axum::response::Redirect::to("/alerts") }
}

async fn page_status(
    State(state): State<AppState>,
    Staff(who): Staff,
    axum::Extension(ip): axum::Extension<crate::middleware::ClientIp>,
    axum::extract::Path(id): axum::extract::Path<String>,
    crate::auth::CsrfForm(f): crate::auth::CsrfForm<StatusForm>,
) -> Response {
    match set_status(&state, &who, &ip.0.to_string(), &id, &f.status).await {
        Ok(()) => back_to(&f.back, &id).into_response(),
        Err(e) => e.into_response(),
    }
}

pub struct AlertRow {
    pub a: AlertRecord,
    pub seen: String,
    pub badge: &'static str,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    ctx: PageCtx,
    filter: AlertFilter,
    rules: Vec<String>,
    rows: Vec<AlertRow>,
    syslog: Vec<String>,
    senders: Vec<(veilig_ingest::SenderStats, String)>,
    samples: Vec<veilig_ingest::Sample>,
    hours: Vec<super::Bar>,
    max: usize,
}

/// Alerts per hour over the 24 hours up to the newest alert, stacked by severity.
fn timeline(alerts: &[AlertRecord]) -> (Vec<super::Bar>, usize) {
    const HOURS: i64 = 24;
    let Some(newest) = alerts.iter().map(|a| a.last_seen_ms).max() else { return (Vec::new(), 0) };
    let end_hour = newest.div_euclid(3_600_000);
    let first = end_hour - HOURS + 1;
    let mut counts = vec![[0usize; 3]; HOURS as usize];
    for a in alerts {
        let h = a.last_seen_ms.div_euclid(3_600_000) - first;
        if let Some(slot) = usize::try_from(h).ok().and_then(|i| counts.get_mut(i)) {
            let weight = match a.severity.as_str() {
                "critical" | "high" => 0,
                "medium" => 1,
                _ => 2,
            };
            slot[weight] += 1;
        }
    }
    super::stacked_bars(&counts, 23, |i| format!("{:02}", (first + i as i64).rem_euclid(24)))
}

async fn page(
    State(state): State<AppState>,
    _s: Staff,
    ctx: PageCtx,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> Response {
    let filter =
        AlertQuery { limit: None, status: q.status, severity: q.severity, rule: q.rule, source: q.source, assignee: q.assignee }.filter();
    let alerts = match state.store.alerts_filtered(&filter, 200).await {
        Ok(a) => a,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let rows: Vec<AlertRow> =
        alerts.into_iter().map(|a| AlertRow { seen: format_ms(a.last_seen_ms), badge: badge(&a.severity), a }).collect();
    let mut syslog = Vec::new();
    if let Some(a) = state.config.syslog_udp {
        syslog.push(format!("UDP {a}"));
    }
    if let Some(a) = state.config.syslog_tcp {
        syslog.push(format!("TCP {a}"));
    }
    let records: Vec<AlertRecord> = rows.iter().map(|r| r.a.clone()).collect();
    let (hours, max) = timeline(&records);
    let mut rules: Vec<String> = veilig_monitor::rules::pack().into_iter().map(|r| r.name).collect();
    rules.push("vpn_device_probing".to_owned());
    let (senders, samples) = state.ingest.inputs();
    let senders = senders
        .into_iter()
        .take(20)
        .map(|s| {
            let when = format_ms(s.last_ms);
            (s, when)
        })
        .collect();
    render(&AlertsPage { ctx, filter, rules, rows, syslog, senders, samples: samples.into_iter().take(5).collect(), hours, max })
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    status: Option<String>,
    severity: Option<String>,
    rule: Option<String>,
    source: Option<String>,
    assignee: Option<String>,
}

#[derive(Template)]
#[template(path = "alert.html")]
struct AlertPage {
    ctx: PageCtx,
    a: AlertRecord,
    first: String,
    last: String,
    badge: &'static str,
    comments: Vec<(CommentRecord, String)>,
    decisions: Vec<super::blocks::DecisionRow>,
    staff: Vec<String>,
}

async fn detail_page(
    State(state): State<AppState>,
    _s: Staff,
    ctx: PageCtx,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let (a, comments, decisions) = match detail(&state, &id).await {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let staff = match state.store.users_list().await {
        Ok(u) => {
            u.into_iter().filter(|u| u.status == "active" && (u.role == "admin" || u.role == "security_officer")).map(|u| u.email).collect()
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    render(&AlertPage {
        first: format_ms(a.first_seen_ms),
        last: format_ms(a.last_seen_ms),
        badge: badge(&a.severity),
        comments: comments
            .into_iter()
            .map(|c| {
                let when = format_ms(c.created_ms);
                (c, when)
            })
            .collect(),
        decisions: decisions.into_iter().map(super::blocks::row).collect(),
        staff,
        ctx,
        a,
    })
}

fn badge(severity: &str) -> &'static str {
    match severity {
        "critical" | "high" => "bad",
        "medium" => "warn",
        _ => "todo",
    }
}

#[derive(Deserialize)]
struct AssignForm {
    #[serde(default)]
    assignee: String,
}

async fn page_assign(
    State(state): State<AppState>,
    Staff(who): Staff,
    axum::Extension(ip): axum::Extension<crate::middleware::ClientIp>,
    axum::extract::Path(id): axum::extract::Path<String>,
    crate::auth::CsrfForm(f): crate::auth::CsrfForm<AssignForm>,
) -> Response {
    match assign(&state, &who, &ip.0.to_string(), &id, Some(&f.assignee)).await {
        Ok(()) => back_to("detail", &id).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct CommentForm {
    body: String,
}

async fn page_comment(
    State(state): State<AppState>,
    Staff(who): Staff,
    axum::Extension(ip): axum::Extension<crate::middleware::ClientIp>,
    axum::extract::Path(id): axum::extract::Path<String>,
    crate::auth::CsrfForm(f): crate::auth::CsrfForm<CommentForm>,
) -> Response {
    match comment(&state, &who, &ip.0.to_string(), &id, &f.body).await {
        Ok(()) => back_to("detail", &id).into_response(),
        Err(e) => e.into_response(),
    }
}
