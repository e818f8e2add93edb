//! The audit log: a page to browse and filter it, a daily activity chart, export as CSV or
//! JSON, and the JSON API.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use veilig_audit::{Entry, Record};
use veilig_store::{AuditFilter, AuditVerdict};

use super::{PageCtx, format_ms, render};
use crate::AppState;
use crate::error::{ApiError, ApiQuery};
use crate::middleware::ClientIp;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/audit", get(page))
        .route("/audit/rows", get(rows))
        .route("/audit/verify", get(verify_partial))
        .route("/audit/export", get(export))
        .route("/api/v1/audit", get(api_list))
        .route("/api/v1/audit/verify", get(api_verify))
}

/// Filters, from the page's form or the API's query string. Dates are `YYYY-MM-DD` (UTC).
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Query {
    /// Part of the actor.
    pub actor: Option<String>,
    /// An action or its beginning, such as `identity.`.
    pub action: Option<String>,
    /// `success`, `failure` or `denied`.
    pub outcome: Option<String>,
    /// First day, inclusive.
    pub from: Option<String>,
    /// Last day, inclusive.
    pub to: Option<String>,
    /// Only records older than this sequence number.
    pub before: Option<i64>,
    /// At most this many records (1–1000, default 100).
    pub limit: Option<u32>,
    /// `csv` or `json`, for exports.
    pub format: Option<String>,
}

impl Query {
    fn filter(&self) -> Result<AuditFilter, ApiError> {
        let day = |s: &Option<String>, field: &str| -> Result<Option<i64>, ApiError> {
            match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(s) => time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
                    .map(|d| Some(d.midnight().assume_utc().unix_timestamp() * 1000))
                    .map_err(|_| ApiError::bad_request("invalid_query", format!("{field} must be a date such as 2026-01-31"))),
            }
        };
        if let Some(o) = self.outcome.as_deref().filter(|o| !o.is_empty())
            && veilig_audit::Outcome::parse(o).is_none()
        {
            return Err(ApiError::bad_request("invalid_query", "outcome must be success, failure or denied"));
        }
        let clip = |s: &Option<String>| s.as_ref().map(|s| s.chars().take(200).collect::<String>());
        Ok(AuditFilter {
            actor: clip(&self.actor),
            action: clip(&self.action),
            outcome: self.outcome.clone(),
            from_ms: day(&self.from, "from")?,
            to_ms: day(&self.to, "to")?.map(|ms| ms + 86_400_000),
            before_seq: self.before,
        })
    }

    fn limit(&self) -> u32 {
        self.limit.unwrap_or(100).clamp(1, 1000)
    }

    /// The filters as a query string, for links (export, older records).
    fn query_string(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in [("actor", &self.actor), ("action", &self.action), ("outcome", &self.outcome), ("from", &self.from), ("to", &self.to)]
        {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                parts.push(format!("{k}={}", urlencode(v)));
            }
        }
        parts.join("&")
    }
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One record as the API and the page show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditRecordView {
    pub seq: i64,
    /// RFC 3339 time in UTC.
    pub at: String,
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub ip: String,
    pub outcome: String,
    /// Extra facts as JSON text (empty when none).
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl From<Record> for AuditRecordView {
    fn from(r: Record) -> Self {
        let at = time::OffsetDateTime::from_unix_timestamp(r.at_ms.div_euclid(1000))
            .ok()
            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
            .unwrap_or_default();
        AuditRecordView {
            seq: r.seq,
            at,
            at_ms: r.at_ms,
            actor: r.actor,
            action: r.action,
            target: r.target,
            ip: r.ip,
            outcome: r.outcome,
            details: r.details,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub records: Vec<AuditRecordView>,
    /// Pass as `before` to get the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

/// Lists audit records, newest first, with filters.
#[utoipa::path(get, path = "/api/v1/audit", params(Query), responses((status = 200, body = AuditPage), (status = 400, body = crate::error::ErrorBody)))]
pub async fn api_list(
    State(state): State<AppState>,
    _staff: crate::auth::Staff,
    ApiQuery(q): ApiQuery<Query>,
) -> Result<Json<AuditPage>, ApiError> {
    let filter = q.filter()?;
    let limit = q.limit();
    let records = state.store.audit_list(&filter, limit).await?;
    let next_before = (records.len() as u32 == limit).then(|| records.last().map(|r| r.seq)).flatten();
    Ok(Json(AuditPage { records: records.into_iter().map(AuditRecordView::from).collect(), next_before }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResult {
    pub intact: bool,
    /// Records checked.
    pub records: u64,
    pub head_seq: Option<i64>,
    pub head_hash: Option<String>,
    /// The first bad record, when broken.
    pub broken_at: Option<i64>,
    pub reason: Option<String>,
}

async fn run_verify(state: &AppState) -> Result<VerifyResult, ApiError> {
    Ok(match state.store.audit_verify(|_| {}).await? {
        AuditVerdict::Intact { records, head } => VerifyResult {
            intact: true,
            records,
            head_seq: head.as_ref().map(|h| h.seq),
            head_hash: head.map(|h| h.hash),
            broken_at: None,
            reason: None,
        },
        AuditVerdict::Broken { checked, at } => VerifyResult {
            intact: false,
            records: checked,
            head_seq: None,
            head_hash: None,
            broken_at: Some(at.seq()),
            reason: Some(at.to_string()),
        },
    })
}

/// Checks the whole chain.
#[utoipa::path(get, path = "/api/v1/audit/verify", responses((status = 200, body = VerifyResult)))]
pub async fn api_verify(State(state): State<AppState>, _staff: crate::auth::Staff) -> Result<Json<VerifyResult>, ApiError> {
    Ok(Json(run_verify(&state).await?))
}

/// Bars of the activity chart: records per day over the last two weeks.
pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub height: u32,
    pub count: i64,
    pub label: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditHtml {
    ctx: PageCtx,
    q: Query,
    rows: Vec<AuditRecordView>,
    older: Option<String>,
    export_qs: String,
    bars: Vec<Bar>,
    max_count: i64,
    outcomes: [&'static str; 3],
}

#[derive(Template)]
#[template(path = "audit_rows.html")]
struct AuditRows {
    ctx: PageCtx,
    rows: Vec<AuditRecordView>,
    older: Option<String>,
}

#[derive(Template)]
#[template(path = "audit_verify.html")]
struct VerifyHtml {
    ctx: PageCtx,
    v: VerifyResult,
}

async fn load_rows(state: &AppState, q: &Query) -> Result<(Vec<AuditRecordView>, Option<String>), ApiError> {
    let filter = q.filter()?;
    let limit = q.limit();
    let records = state.store.audit_list(&filter, limit).await?;
    let older =
        (records.len() as u32 == limit).then(|| records.last().map(|r| format!("/audit?{}&before={}", q.query_string(), r.seq))).flatten();
    Ok((records.into_iter().map(AuditRecordView::from).collect(), older))
}

async fn chart(state: &AppState) -> Result<(Vec<Bar>, i64), ApiError> {
    const DAYS: i64 = 14;
    let today = state.clock.now_ms().div_euclid(86_400_000);
    let first = today - DAYS + 1;
    let rows = state
        .store
        .fetch_all(
            "SELECT at_ms / 86400000 AS day, COUNT(*) FROM audit_log WHERE at_ms >= $1 GROUP BY at_ms / 86400000",
            &[veilig_store::Arg::Int(first * 86_400_000)],
        )
        .await?;
    let mut counts = vec![0i64; DAYS as usize];
    for row in rows {
        let (day, n) = (row.int(0)?, row.int(1)?);
        if let Some(slot) = usize::try_from(day - first).ok().and_then(|i| counts.get_mut(i)) {
            *slot = n;
        }
    }
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let bars = counts
        .iter()
        .enumerate()
        .map(|(i, &count)| {
            let height = ((count as f64 / max as f64) * 100.0).round() as u32;
            let date = time::OffsetDateTime::from_unix_timestamp((first + i as i64) * 86_400)
                .map(|d| format!("{:02}-{:02}", d.day(), u8::from(d.month())))
                .unwrap_or_default();
            Bar { x: 10 + i as u32 * 40, y: 110 - height, height, count, label: date }
        })
        .collect();
    Ok((bars, max))
}

async fn page(State(state): State<AppState>, _staff: crate::auth::Staff, ctx: PageCtx, ApiQuery(q): ApiQuery<Query>) -> Response {
    let (rows, older) = match load_rows(&state, &q).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let (bars, max_count) = chart(&state).await.unwrap_or_default();
    let export_qs = q.query_string();
    render(&AuditHtml { ctx, q, rows, older, export_qs, bars, max_count, outcomes: ["success", "failure", "denied"] })
}

async fn rows(State(state): State<AppState>, _staff: crate::auth::Staff, ctx: PageCtx, ApiQuery(q): ApiQuery<Query>) -> Response {
    match load_rows(&state, &q).await {
        Ok((rows, older)) => render(&AuditRows { ctx, rows, older }),
        Err(e) => e.into_response(),
    }
}

async fn verify_partial(State(state): State<AppState>, _staff: crate::auth::Staff, ctx: PageCtx) -> Response {
    match run_verify(&state).await {
        Ok(v) => render(&VerifyHtml { ctx, v }),
        Err(e) => e.into_response(),
    }
}

/// Every matching record, oldest first, as CSV or JSON. Exporting is itself audited.
async fn export(
    State(state): State<AppState>,
    crate::auth::Staff(who): crate::auth::Staff,
    axum::Extension(ip): axum::Extension<ClientIp>,
    ApiQuery(q): ApiQuery<Query>,
) -> Result<Response, ApiError> {
    let format = q.format.as_deref().unwrap_or("csv");
    if format != "csv" && format != "json" {
        return Err(ApiError::bad_request("invalid_query", "format must be csv or json"));
    }
    let mut filter = q.filter()?;
    let mut all = Vec::new();
    loop {
        let page = state.store.audit_list(&filter, 1000).await?;
        let done = page.len() < 1000;
        filter.before_seq = page.last().map(|r| r.seq);
        all.extend(page);
        if done || all.len() >= 1_000_000 {
            break;
        }
    }
    all.reverse();
    let count = all.len();
    let entry = Entry::new(&who.user().email, "audit.exported", "audit_log")
        .ip(ip.0.to_string())
        .details(serde_json::json!({"format": format, "records": count, "filter": q.query_string()}));
    state.store.audit(state.clock.now_ms(), &entry).await?;

    let (body, mime) = if format == "json" {
        let views: Vec<AuditRecordView> = all.into_iter().map(AuditRecordView::from).collect();
        (serde_json::to_vec(&views).map_err(ApiError::internal)?, "application/json")
    } else {
        (to_csv(&all).into_bytes(), "text/csv; charset=utf-8")
    };
    let mut res = body.into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    let disposition = format!("attachment; filename=\"veilig-audit.{format}\"");
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// CSV with every field quoted when needed. A field that a spreadsheet would run as a formula
/// gets a leading apostrophe.
pub fn to_csv(records: &[Record]) -> String {
    let mut out = String::from("seq,time,actor,action,target,ip,outcome,details,prev_hash,hash\r\n");
    for r in records {
        let fields = [
            r.seq.to_string(),
            format_ms(r.at_ms),
            r.actor.clone(),
            r.action.clone(),
            r.target.clone(),
            r.ip.clone(),
            r.outcome.clone(),
            r.details.clone(),
            r.prev_hash.clone(),
            r.hash.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

fn csv_field(f: &str) -> String {
    let f = if f.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{f}") } else { f.to_owned() };
    if f.contains([',', '"', '\n', '\r']) { format!("\"{}\"", f.replace('"', "\"\"")) } else { f }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let entry = Entry::new("=HYPERLINK(\"x\")", "identity.login", "a,b").details(serde_json::json!({"k": "v"}));
        let r = veilig_audit::seal(None, 0, &entry);
        let csv = to_csv(&[r]);
        let line = csv.lines().nth(1).unwrap();
        assert!(
            line.starts_with(
                "1,1970-01-01 00:00:00 UTC,\"'=HYPERLINK(\"\"x\"\")\",identity.login,\"a,b\",,success,\"{\"\"k\"\":\"\"v\"\"}\""
            ),
            "{line}"
        );
    }
}
