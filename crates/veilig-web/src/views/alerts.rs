//! Monitoring's alerts: the list for staff, as a page and through the API.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use veilig_store::AlertRecord;

use super::{PageCtx, format_ms, render};
use crate::AppState;
use crate::auth::Staff;
use crate::error::{ApiError, ApiQuery};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/alerts", get(page))
        .route("/alerts/{id}/status", axum::routing::post(page_status))
        .route("/api/v1/alerts", get(api_list))
        .route("/api/v1/alerts/{id}/status", axum::routing::post(api_status))
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
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// At most this many (1–1000, default 100).
    pub limit: Option<u32>,
}

/// The newest alerts of the monitoring engine.
#[utoipa::path(get, path = "/api/v1/alerts", params(AlertQuery), responses((status = 200, body = [AlertView]), (status = 401, body = crate::error::ErrorBody)))]
pub async fn api_list(
    State(state): State<AppState>,
    _s: Staff,
    ApiQuery(q): ApiQuery<AlertQuery>,
) -> Result<Json<Vec<AlertView>>, ApiError> {
    let alerts = state.store.alerts_recent(q.limit.unwrap_or(100).clamp(1, 1000)).await?;
    Ok(Json(alerts.into_iter().map(AlertView::from).collect()))
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
}

async fn page_status(
    State(state): State<AppState>,
    Staff(who): Staff,
    axum::Extension(ip): axum::Extension<crate::middleware::ClientIp>,
    axum::extract::Path(id): axum::extract::Path<String>,
    crate::auth::CsrfForm(f): crate::auth::CsrfForm<StatusForm>,
) -> Response {
    match set_status(&state, &who, &ip.0.to_string(), &id, &f.status).await {
        Ok(()) => axum::response::Redirect::to("/alerts").into_response(),
        Err(e) => e.into_response(),
    }
}

pub struct AlertRow {
    pub a: AlertRecord,
    pub seen: String,
    pub badge: &'static str,
}

/// One hour of the timeline: how many alerts of each weight.
pub struct Hour {
    pub x: u32,
    pub label: String,
    /// (y, height, css class) of the stacked parts, high first.
    pub parts: Vec<(u32, u32, &'static str)>,
    pub total: usize,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    ctx: PageCtx,
    rows: Vec<AlertRow>,
    syslog: Vec<String>,
    hours: Vec<Hour>,
    max: usize,
}

/// Alerts per hour over the 24 hours up to the newest alert, stacked by severity.
fn timeline(alerts: &[AlertRecord]) -> (Vec<Hour>, usize) {
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
    let max = counts.iter().map(|c| c.iter().sum::<usize>()).max().unwrap_or(0).max(1);
    let hours = counts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut y = 110u32;
            let mut parts = Vec::new();
            for (n, class) in c.iter().zip(["bar-high", "bar-medium", "bar-low"]) {
                let height = ((*n as f64 / max as f64) * 100.0).round() as u32;
                if height > 0 {
                    y -= height;
                    parts.push((y, height, class));
                }
            }
            let hour = (first + i as i64).rem_euclid(24);
            Hour { x: 10 + i as u32 * 23, label: format!("{hour:02}"), parts, total: c.iter().sum() }
        })
        .collect();
    (hours, max)
}

async fn page(State(state): State<AppState>, _s: Staff, ctx: PageCtx) -> Response {
    let alerts = match state.store.alerts_recent(200).await {
        Ok(a) => a,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let rows: Vec<AlertRow> = alerts
        .into_iter()
        .map(|a| AlertRow {
            seen: format_ms(a.last_seen_ms),
            badge: match a.severity.as_str() {
                "critical" | "high" => "bad",
                "medium" => "warn",
                _ => "todo",
            },
            a,
        })
        .collect();
    let mut syslog = Vec::new();
    if let Some(a) = state.config.syslog_udp {
        syslog.push(format!("UDP {a}"));
    }
    if let Some(a) = state.config.syslog_tcp {
        syslog.push(format!("TCP {a}"));
    }
    let records: Vec<AlertRecord> = rows.iter().map(|r| r.a.clone()).collect();
    let (hours, max) = timeline(&records);
    render(&AlertsPage { ctx, rows, syslog, hours, max })
}
