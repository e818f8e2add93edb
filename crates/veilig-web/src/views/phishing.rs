//! The phishing desk for the security officer: reported messages grouped by campaign, with the
//! engine's reasons, who reported them, the officer's verdict, notes and closing; and the API
//! that analyses one message on request.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use veilig_store::{PhishCampaignRecord, PhishNoteRecord, PhishReportRecord};

use super::{PageCtx, format_ms, render};
use crate::AppState;
use crate::auth::{Signed, Staff};
use crate::error::{ApiError, ApiQuery};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/phishing", get(page))
        .route("/phishing/{id}", get(detail_page))
        .route("/phishing/{id}/verdict", post(page_verdict))
        .route("/phishing/{id}/status", post(page_status))
        .route("/phishing/{id}/notes", post(page_note))
        .route("/api/v1/phishing/check", post(api_check))
        .route("/api/v1/phishing/campaigns", get(api_list))
        .route("/api/v1/phishing/campaigns/{id}", get(api_get))
        .route("/api/v1/phishing/campaigns/{id}/verdict", post(api_verdict))
        .route("/api/v1/phishing/campaigns/{id}/status", post(api_status))
        .route("/api/v1/phishing/campaigns/{id}/notes", post(api_note))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignView {
    pub id: String,
    /// The first report's subject.
    pub title: String,
    pub sender: String,
    /// The strongest verdict of the engine among the reports.
    pub verdict: String,
    /// The security officer's verdict, if they gave one.
    pub override_verdict: Option<String>,
    /// `open` or `closed`.
    pub status: String,
    pub first_ms: i64,
    pub last_ms: i64,
    pub reports: i64,
    pub reporters: i64,
}

impl From<PhishCampaignRecord> for CampaignView {
    fn from(c: PhishCampaignRecord) -> Self {
        CampaignView {
            id: c.id,
            title: c.title,
            sender: c.sender,
            verdict: c.verdict,
            override_verdict: c.override_verdict,
            status: c.status,
            first_ms: c.first_ms,
            last_ms: c.last_ms,
            reports: c.reports,
            reporters: c.reporters,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    pub id: String,
    pub reporter: String,
    /// `attached`, `inline` or `direct`.
    pub form: String,
    pub sender: String,
    pub subject: String,
    pub verdict: String,
    pub score: i64,
    #[schema(value_type = Vec<Object>)]
    pub reasons: serde_json::Value,
    pub received_ms: i64,
    pub answered_ms: Option<i64>,
    pub answer_error: Option<String>,
}

impl From<PhishReportRecord> for ReportView {
    fn from(r: PhishReportRecord) -> Self {
        ReportView {
            reasons: serde_json::from_str(&r.reasons).unwrap_or(serde_json::Value::Array(Vec::new())),
            id: r.id,
            reporter: r.reporter,
            form: r.form,
            sender: r.sender,
            subject: r.subject,
            verdict: r.verdict,
            score: r.score,
            received_ms: r.received_ms,
            answered_ms: r.answered_ms,
            answer_error: r.answer_error,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoteView {
    pub author: String,
    pub body: String,
    pub created_ms: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignDetail {
    pub campaign: CampaignView,
    pub reports: Vec<ReportView>,
    pub notes: Vec<NoteView>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CampaignQuery {
    /// `open`, `closed` or `all` (default `open`).
    pub status: Option<String>,
    /// `true` to include campaigns that are clean in effect (default: only phishing and suspicious).
    pub all_verdicts: Option<bool>,
    /// At most this many (1–500, default 100).
    pub limit: Option<u32>,
}

fn status_filter(s: Option<&str>) -> Result<Option<&'static str>, ApiError> {
    match s.unwrap_or("open") {
        "open" => Ok(Some("open")),
        "closed" => Ok(Some("closed")),
        "all" => Ok(None),
        _ => Err(ApiError::invalid("status must be open, closed or all")),
    }
}

/// Reported messages grouped by campaign, newest activity first.
#[utoipa::path(get, path = "/api/v1/phishing/campaigns", params(CampaignQuery), responses((status = 200, body = [CampaignView]), (status = 401, body = crate::error::ErrorBody)))]
pub async fn api_list(
    State(state): State<AppState>,
    _s: Staff,
    ApiQuery(q): ApiQuery<CampaignQuery>,
) -> Result<Json<Vec<CampaignView>>, ApiError> {
    let status = status_filter(q.status.as_deref())?;
    let list = state.store.phish_campaigns(status, !q.all_verdicts.unwrap_or(false), q.limit.unwrap_or(100).clamp(1, 500)).await?;
    Ok(Json(list.into_iter().map(CampaignView::from).collect()))
}

async fn detail(state: &AppState, id: &str) -> Result<(PhishCampaignRecord, Vec<PhishReportRecord>, Vec<PhishNoteRecord>), ApiError> {
    let campaign = state.store.phish_campaign(id).await?.ok_or_else(|| ApiError::not_found("no such campaign"))?;
    let reports = state.store.phish_reports_of(id).await?;
    let notes = state.store.phish_notes(id).await?;
    Ok((campaign, reports, notes))
}

/// One campaign with its reports and notes.
#[utoipa::path(get, path = "/api/v1/phishing/campaigns/{id}", responses((status = 200, body = CampaignDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_get(
    State(state): State<AppState>,
    _s: Staff,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<CampaignDetail>, ApiError> {
    let (c, reports, notes) = detail(&state, &id).await?;
    Ok(Json(CampaignDetail {
        campaign: c.into(),
        reports: reports.into_iter().map(ReportView::from).collect(),
        notes: notes.into_iter().map(|n| NoteView { author: n.author, body: n.body, created_ms: n.created_ms }).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VerdictRequest {
    /// `phishing`, `suspicious` or `clean`; `null` or empty gives the engine's verdict back.
    pub verdict: Option<String>,
}

async fn set_verdict(state: &AppState, who: &crate::auth::Principal, ip: &str, id: &str, verdict: Option<&str>) -> Result<(), ApiError> {
    let verdict = verdict.map(str::trim).filter(|v| !v.is_empty());
    if let Some(v) = verdict
        && veilig_phish::Verdict::parse(v).is_none()
    {
        return Err(ApiError::invalid("verdict must be phishing, suspicious or clean"));
    }
    let entry =
        veilig_audit::Entry::new(&who.user().email, "phishing.verdict_set", id).ip(ip).details(serde_json::json!({"verdict": verdict}));
    if state.store.phish_campaign_override(id, verdict, state.clock.now_ms(), &entry).await? {
        Ok(())
    } else {
        Err(ApiError::not_found("no such campaign"))
    }
}

/// Overrides the engine's verdict for a campaign (audited).
#[utoipa::path(post, path = "/api/v1/phishing/campaigns/{id}/verdict", request_body = VerdictRequest, responses((status = 204), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_verdict(
    State(state): State<AppState>,
    Staff(who): Staff,
    axum::Extension(ip): axum::Extension<crate::middleware::ClientIp>,
    axum::extract::Path(id): axum::extract::Path<String>,
    crate::error::ApiJson(r): crate::error::ApiJson<VerdictRequest>,
) -> Result<axum::http::StatusCode, ApiError> {
    set_verdict(&state, &who, &ip.0.to_string(), &id, r.verdict.as_deref()).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CampaignStatusRequest {
    /// `open` or `closed`.
    pub status: String,
}

async fn set_status(state: &AppState, who: &crate::auth::Principal, ip: &str, id: &str, status: &str) -> Result<(), ApiError> {
    let by = match status {
        "closed" => Some(who.user().email.as_str()),
        "open" => None,
        _ => return Err(ApiError::invalid("status must be open or closed")),
    };
    let action = if by.is_some() { "phishing.campaign_closed" } else { "phishing.campaign_reopened" };
    let entry = veilig_audit::Entry::new(&who.user().email, action, id).ip(ip);
    if state.store.phish_campaign_close(id, by, state.clock.now_ms(), &entry).await? {
        Ok(())
    } else {
        Err(ApiError::not_found("no such campaign"))
    }
}

/// Closes or reopens a campaign (audited).
#[utoipa::path(post, path = "/api/v1/phishing/campaigns/{id}/status", request_body = CampaignStatusRequest, responses((status = 204), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_status(
    State(state): State<AppState>,
    Staff(who): Staff,
    axum::Extension(ip): axum::Extension<crate::middleware::ClientIp>,
    axum::extract::Path(id): axum::extract::Path<String>,
    crate::error::ApiJson(r): crate::error::ApiJson<CampaignStatusRequest>,
) -> Result<axum::http::StatusCode, ApiError> {
    set_status(&state, &who, &ip.0.to_string(), &id, &r.status).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NoteRequest {
    /// 1 to 4,000 characters.
    pub body: String,
}

async fn add_note(state: &AppState, who: &crate::auth::Principal, ip: &str, id: &str, body: &str) -> Result<(), ApiError> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 4000 {
        return Err(ApiError::invalid("a note is 1 to 4,000 characters"));
    }
    if state.store.phish_campaign(id).await?.is_none() {
        return Err(ApiError::not_found("no such campaign"));
    }
    let note = PhishNoteRecord {
        id: veilig_core::random_id(),
        campaign_id: id.to_owned(),
        author: who.user().email.clone(),
        body: body.to_owned(),
        created_ms: state.clock.now_ms(),
    };
    let entry = veilig_audit::Entry::new(&who.user().email, "phishing.note_added", id).ip(ip);
    state.store.phish_note_insert(&note, &entry).await?;
    Ok(())
}

/// Adds a note to a campaign (audited).
#[utoipa::path(post, path = "/api/v1/phishing/campaigns/{id}/notes", request_body = NoteRequest, responses((status = 204), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_note(
    State(state): State<AppState>,
    Staff(who): Staff,
    axum::Extension(ip): axum::Extension<crate::middleware::ClientIp>,
    axum::extract::Path(id): axum::extract::Path<String>,
    crate::error::ApiJson(r): crate::error::ApiJson<NoteRequest>,
) -> Result<axum::http::StatusCode, ApiError> {
    add_note(&state, &who, &ip.0.to_string(), &id, &r.body).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckReason {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResult {
    /// `phishing`, `suspicious` or `clean`.
    pub verdict: String,
    /// 0–100.
    pub score: u32,
    pub reasons: Vec<CheckReason>,
}

/// Analyses one message (the raw RFC 5322 bytes as the request body) and answers in the
/// caller's language; nothing is stored. For mail add-ins and scripts.
#[utoipa::path(post, path = "/api/v1/phishing/check", request_body(content = String, content_type = "message/rfc822"), responses((status = 200, body = CheckResult), (status = 401, body = crate::error::ErrorBody)))]
pub async fn api_check(
    State(state): State<AppState>,
    _s: Signed,
    ctx: PageCtx,
    body: axum::body::Bytes,
) -> Result<Json<CheckResult>, ApiError> {
    let engine = veilig_mail::desk::context(&state.store, &state.config.phishing.org_domains).await.map_err(ApiError::internal)?;
    let a = veilig_phish::analyse(&body, &engine);
    let lang = veilig_mail::desk::phish_lang(ctx.t.lang);
    Ok(Json(CheckResult {
        verdict: a.verdict.as_str().to_owned(),
        score: a.score,
        reasons: a.reasons.iter().map(|r| CheckReason { code: r.code.as_str().to_owned(), message: r.message(lang) }).collect(),
    }))
}

// Pages.

pub struct CampaignRow {
    pub c: PhishCampaignRecord,
    pub seen: String,
    pub badge: &'static str,
}

#[derive(Template)]
#[template(path = "phishing.html")]
struct PhishingPage {
    ctx: PageCtx,
    status: String,
    all_verdicts: bool,
    rows: Vec<CampaignRow>,
    days: Vec<super::Bar>,
    max: usize,
    mailbox: Option<String>,
}

fn badge(verdict: &str) -> &'static str {
    match verdict {
        "phishing" => "bad",
        "suspicious" => "warn",
        _ => "ok",
    }
}

/// Reports per day over the 14 days up to `now`, stacked by verdict.
fn chart(reports: &[(i64, String)], now_ms: i64) -> (Vec<super::Bar>, usize) {
    const DAYS: i64 = 14;
    let today = now_ms.div_euclid(86_400_000);
    let first = today - DAYS + 1;
    let mut counts = vec![[0usize; 3]; DAYS as usize];
    for (ms, verdict) in reports {
        if let Some(slot) = usize::try_from(ms.div_euclid(86_400_000) - first).ok().and_then(|i| counts.get_mut(i)) {
            slot[match verdict.as_str() {
                "phishing" => 0,
                "suspicious" => 1,
                _ => 2,
            }] += 1;
        }
    }
    super::stacked_bars(&counts, 39, |i| {
        time::OffsetDateTime::from_unix_timestamp((first + i as i64) * 86_400)
            .map(|t| format!("{:02}-{:02}", t.day(), u8::from(t.month())))
            .unwrap_or_default()
    })
}

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    status: Option<String>,
    all: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    _s: Staff,
    ctx: PageCtx,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> Response {
    let status_text = q.status.clone().unwrap_or_else(|| "open".to_owned());
    let status = match status_filter(Some(&status_text)) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let all_verdicts = q.all.as_deref() == Some("1");
    let campaigns = match state.store.phish_campaigns(status, !all_verdicts, 200).await {
        Ok(c) => c,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let now = state.clock.now_ms();
    let reports = match state.store.phish_report_days(now - 14 * 86_400_000).await {
        Ok(r) => r,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let (days, max) = chart(&reports, now);
    let rows = campaigns.into_iter().map(|c| CampaignRow { seen: format_ms(c.last_ms), badge: badge(c.effective_verdict()), c }).collect();
    let mailbox = state.config.phishing.imap.as_ref().map(|i| format!("{}@{}:{}/{}", i.username, i.host, i.port, i.mailbox));
    render(&PhishingPage { ctx, status: status_text, all_verdicts, rows, days, max, mailbox })
}

pub struct ReportRow {
    pub r: PhishReportRecord,
    pub when: String,
    pub badge: &'static str,
    pub answered: bool,
}

#[derive(Template)]
#[template(path = "phishing_campaign.html")]
struct CampaignPage {
    ctx: PageCtx,
    c: PhishCampaignRecord,
    badge: &'static str,
    first: String,
    last: String,
    reasons: Vec<String>,
    reports: Vec<ReportRow>,
    notes: Vec<(PhishNoteRecord, String)>,
}

async fn detail_page(
    State(state): State<AppState>,
    _s: Staff,
    ctx: PageCtx,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let (c, reports, notes) = match detail(&state, &id).await {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    // The reasons of the strongest report, explained in the reader's language.
    let reasons = reports.iter().max_by_key(|r| r.score).map(|r| veilig_mail::desk::explain(&r.reasons, ctx.t.lang)).unwrap_or_default();
    let reports = reports
        .into_iter()
        .map(|r| ReportRow { when: format_ms(r.received_ms), badge: badge(&r.verdict), answered: r.answered_ms.is_some(), r })
        .collect();
    let notes = notes
        .into_iter()
        .map(|n| {
            let when = format_ms(n.created_ms);
            (n, when)
        })
        .collect();
    render(&CampaignPage {
        ctx,
        badge: badge(c.effective_verdict()),
        first: format_ms(c.first_ms),
        last: format_ms(c.last_ms),
        c,
        reasons,
        reports,
        notes,
    })
}

#[derive(Deserialize)]
struct VerdictForm {
    #[serde(default)]
    verdict: String,
}

async fn page_verdict(
    State(state): State<AppState>,
    Staff(who): Staff,
    axum::Extension(ip): axum::Extension<crate::middleware::ClientIp>,
    axum::extract::Path(id): axum::extract::Path<String>,
    crate::auth::CsrfForm(f): crate::auth::CsrfForm<VerdictForm>,
) -> Response {
    match set_verdict(&state, &who, &ip.0.to_string(), &id, Some(&f.verdict)).await {
        Ok(()) => axum::response::Redirect::to(&format!("/phishing/{id}")).into_response(),
        Err(e) => e.into_response(),
    }
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
        Ok(()) => axum::response::Redirect::to(&format!("/phishing/{id}")).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct NoteForm {
    body: String,
}

async fn page_note(
    State(state): State<AppState>,
    Staff(who): Staff,
    axum::Extension(ip): axum::Extension<crate::middleware::ClientIp>,
    axum::extract::Path(id): axum::extract::Path<String>,
    crate::auth::CsrfForm(f): crate::auth::CsrfForm<NoteForm>,
) -> Response {
    match add_note(&state, &who, &ip.0.to_string(), &id, &f.body).await {
        Ok(()) => axum::response::Redirect::to(&format!("/phishing/{id}")).into_response(),
        Err(e) => e.into_response(),
    }
}
