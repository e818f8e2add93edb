//! The cloud register: the employees' *Clouddiensten* page (which tool for which task, report a
//! service, follow one's reports), the staff's register with the triage of reports, and the API.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use veilig_cloud::assess::Answers;
use veilig_register::{Actor, Decision, NewService, RegisterError, ReportView, ServiceView, Update, Upload, WhichTool};

use super::{PageCtx, format_ms, render};
use crate::AppState;
use crate::auth::{CsrfForm, Principal, Signed, Staff};
use crate::error::{ApiError, ApiJson};
use crate::middleware::ClientIp;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cloud", get(page))
        .route("/cloud/report", post(page_report))
        .route("/admin/cloud", get(admin_page))
        .route("/admin/cloud/add", post(admin_add))
        .route("/admin/cloud/reports/{id}", post(admin_triage))
        .route("/admin/cloud/services/{id}", get(service_page).post(service_update))
        .route("/admin/cloud/services/{id}/assessment", post(service_assess))
        .route("/admin/cloud/services/{id}/evidence", post(service_evidence))
        .route("/api/v1/cloud/catalog", get(api_catalog))
        .route("/api/v1/cloud/services", get(api_services).post(api_add))
        .route("/api/v1/cloud/services/{id}", get(api_service).patch(api_update).delete(api_remove))
        .route("/api/v1/cloud/services/{id}/assessment", put(api_assess))
        .route("/api/v1/cloud/services/{id}/evidence", post(api_evidence))
        .route("/api/v1/cloud/evidence/{id}", get(api_evidence_file))
        .route("/api/v1/cloud/reviews", get(api_reviews))
        .route("/api/v1/cloud/which", get(api_which))
        .route("/api/v1/cloud/reports", get(api_reports).post(api_report))
        .route("/api/v1/cloud/reports/{id}/triage", post(api_triage))
        .route("/api/v1/cloud/export.csv", get(api_export_csv))
        .route("/api/v1/cloud/export.json", get(api_export_json))
        .route("/api/v1/cloud/discovery", get(api_discovery).post(api_discover))
}

fn actor(p: &Principal, ip: &ClientIp) -> Actor {
    Actor { user_id: p.user().id.clone(), email: p.user().email.clone(), ip: ip.0.to_string(), staff: p.role().is_staff() }
}

impl From<RegisterError> for ApiError {
    fn from(e: RegisterError) -> Self {
        match e {
            RegisterError::NotFound => ApiError::not_found("no such service, report or evidence"),
            RegisterError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
            RegisterError::Invalid(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m),
            RegisterError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            RegisterError::Store(s) => ApiError::from(s),
        }
    }
}

// ---- The API -------------------------------------------------------------------------------

#[derive(Deserialize)]
struct CatalogQuery {
    #[serde(default)]
    q: String,
}

/// The catalog (search by name, vendor or domain with `?q=`).
async fn api_catalog(State(state): State<AppState>, Signed(_p): Signed, Query(q): Query<CatalogQuery>) -> Json<serde_json::Value> {
    let q = q.q.trim().to_lowercase();
    let list: Vec<&veilig_cloud::Service> = state
        .register
        .catalog()
        .services()
        .iter()
        .filter(|s| {
            q.is_empty()
                || s.name.to_lowercase().contains(&q)
                || s.vendor.to_lowercase().contains(&q)
                || s.domains.iter().any(|d| d.contains(&q))
        })
        .collect();
    Json(serde_json::json!(list))
}

async fn api_services(State(state): State<AppState>, Staff(_p): Staff) -> Result<Json<Vec<ServiceView>>, ApiError> {
    Ok(Json(state.register.services().await?))
}

async fn api_service(State(state): State<AppState>, Staff(_p): Staff, Path(id): Path<String>) -> Result<Json<ServiceView>, ApiError> {
    Ok(Json(state.register.service(&id).await?))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum AddRequest {
    FromCatalog {
        catalog_id: String,
        #[serde(default)]
        status: Option<String>,
    },
    New(NewService),
}

async fn api_add(
    State(state): State<AppState>,
    Staff(p): Staff,
    axum::Extension(ip): axum::Extension<ClientIp>,
    ApiJson(r): ApiJson<AddRequest>,
) -> Result<Response, ApiError> {
    let s = match r {
        AddRequest::FromCatalog { catalog_id, status } => {
            state.register.add_from_catalog(&actor(&p, &ip), &catalog_id, status.as_deref()).await?
        }
        AddRequest::New(n) => state.register.add(&actor(&p, &ip), &n).await?,
    };
    Ok((StatusCode::CREATED, Json(s)).into_response())
}

async fn api_update(
    State(state): State<AppState>,
    Staff(p): Staff,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
    ApiJson(u): ApiJson<Update>,
) -> Result<Json<ServiceView>, ApiError> {
    Ok(Json(state.register.update(&actor(&p, &ip), &id, &u).await?))
}

async fn api_remove(
    State(state): State<AppState>,
    Staff(p): Staff,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.register.remove(&actor(&p, &ip), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn api_assess(
    State(state): State<AppState>,
    Staff(p): Staff,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
    ApiJson(a): ApiJson<Answers>,
) -> Result<Json<ServiceView>, ApiError> {
    Ok(Json(state.register.assess(&actor(&p, &ip), &id, &a).await?))
}

#[derive(Deserialize)]
struct EvidenceQuery {
    question: String,
    dated: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    file_name: Option<String>,
}

/// Evidence for one answer: `?question=&dated=&url=https://…` for a link, or the document as the
/// body with `?question=&dated=&file_name=`.
async fn api_evidence(
    State(state): State<AppState>,
    Staff(p): Staff,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
    Query(q): Query<EvidenceQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let upload = q.file_name.as_ref().map(|n| Upload { file_name: n.clone(), bytes: body.to_vec() });
    let e = state.register.add_evidence(&actor(&p, &ip), &id, &q.question, q.url.as_deref(), upload, &q.dated).await?;
    Ok((StatusCode::CREATED, Json(e)).into_response())
}

async fn api_evidence_file(State(state): State<AppState>, Staff(_p): Staff, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (e, kind, bytes) = state.register.evidence_file(&id).await?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_str(&kind).unwrap_or(HeaderValue::from_static("application/octet-stream")));
    let name = e.file_name.unwrap_or_default().replace(|c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '-', "_");
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

async fn api_reviews(State(state): State<AppState>, Staff(_p): Staff) -> Result<Json<Vec<ServiceView>>, ApiError> {
    Ok(Json(state.register.reviews_due(30).await?))
}

async fn api_which(State(state): State<AppState>, Signed(_p): Signed) -> Result<Json<Vec<WhichTool>>, ApiError> {
    Ok(Json(state.register.which_tool().await?))
}

#[derive(Deserialize)]
struct ReportRequest {
    what: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    data: String,
}

async fn api_report(
    State(state): State<AppState>,
    Signed(p): Signed,
    axum::Extension(ip): axum::Extension<ClientIp>,
    ApiJson(r): ApiJson<ReportRequest>,
) -> Result<Response, ApiError> {
    let r = state.register.report(&actor(&p, &ip), &r.what, &r.purpose, &r.data).await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

/// Staff see every report, others their own.
async fn api_reports(State(state): State<AppState>, Signed(p): Signed) -> Result<Json<Vec<ReportView>>, ApiError> {
    Ok(Json(if p.role().is_staff() { state.register.reports(None).await? } else { state.register.reports_of(&p.user().id).await? }))
}

async fn api_triage(
    State(state): State<AppState>,
    Staff(p): Staff,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
    ApiJson(d): ApiJson<Decision>,
) -> Result<Json<ReportView>, ApiError> {
    Ok(Json(state.register.triage(&actor(&p, &ip), &id, &d).await?))
}

/// Logs up to this size are read in one discovery upload.
const MAX_DISCOVERY_BYTES: u64 = 4 << 30;

#[derive(Deserialize)]
struct DiscoverQuery {
    #[serde(default = "auto")]
    format: String,
    #[serde(default)]
    name: String,
}

fn auto() -> String {
    "auto".into()
}

/// A DNS, proxy or Zeek log as the request body, read as it streams in (a large file never sits
/// in memory); only counts are kept, replacing the last run.
async fn api_discover(
    State(state): State<AppState>,
    Staff(p): Staff,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Query(q): Query<DiscoverQuery>,
    body: axum::body::Body,
) -> Result<Json<veilig_register::Discovered>, ApiError> {
    use futures_core::Stream;
    let Some(format) = veilig_cloud::Format::parse(&q.format) else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("format: one of {}", veilig_cloud::Format::NAMES.join(", ")),
        ));
    };
    let year =
        time::OffsetDateTime::from_unix_timestamp(veilig_core::Clock::now_ms(&*state.clock) / 1000).map(|t| t.year()).unwrap_or(2026);
    let mut d = veilig_cloud::Discovery::new(state.register.catalog(), format, year);
    let mut stream = body.into_data_stream();
    let mut carry: Vec<u8> = Vec::new();
    let mut total = 0u64;
    loop {
        let next = std::future::poll_fn(|cx| std::pin::Pin::new(&mut stream).poll_next(cx)).await;
        let chunk = match next {
            None => break,
            Some(Ok(c)) => c,
            Some(Err(_)) => return Err(ApiError::new(StatusCode::BAD_REQUEST, "upload", "the upload broke off; nothing was kept")),
        };
        total += chunk.len() as u64;
        if total > MAX_DISCOVERY_BYTES {
            return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "at most 4 GiB per upload; split the log"));
        }
        carry.extend_from_slice(&chunk);
        if let Some(last) = carry.iter().rposition(|&b| b == b'\n') {
            d.feed_all(&carry[..last]);
            carry.drain(..=last);
        } else if carry.len() > 1 << 20 {
            // no line ending in a megabyte: not a log line
            d.feed(&carry[..200]);
            carry.clear();
        }
    }
    if !carry.is_empty() {
        d.feed_all(&carry);
    }
    let findings = d.finish();
    if findings.lines == 0 {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "empty", "the upload holds no lines"));
    }
    let name: String = q.name.chars().filter(|c| !c.is_control()).take(120).collect();
    let source = if name.is_empty() { "upload".to_owned() } else { name };
    Ok(Json(state.register.save_discovery(&actor(&p, &ip), findings, &source).await?))
}

async fn api_discovery(State(state): State<AppState>, Staff(_p): Staff) -> Result<Response, ApiError> {
    Ok(match state.register.discovery().await? {
        Some(d) => Json(d).into_response(),
        None => ApiError::not_found("no discovery run yet").into_response(),
    })
}

fn attachment(body: String, kind: &'static str, name: &str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

async fn api_export_csv(State(state): State<AppState>, Staff(_p): Staff) -> Result<Response, ApiError> {
    Ok(attachment(state.register.export_csv().await?, "text/csv; charset=utf-8", "cloud-register.csv"))
}

async fn api_export_json(State(state): State<AppState>, Staff(_p): Staff) -> Result<Response, ApiError> {
    let all = state.register.services().await?;
    let text = serde_json::to_string_pretty(&all).unwrap_or_else(|_| "[]".into());
    Ok(attachment(text, "application/json", "cloud-register.json"))
}

// ---- Pages ---------------------------------------------------------------------------------

fn function_name(ctx: &PageCtx, f: &str) -> String {
    let key = format!("cloud.fn_{f}");
    let t = ctx.t.t(&key);
    if t == key { f.replace('_', " ") } else { t.to_owned() }
}

fn status_text(ctx: &PageCtx, s: &str) -> String {
    ctx.t.t(&format!("cloud.status_{s}")).to_owned()
}

/// One report on a page.
pub struct ReportRow {
    pub id: String,
    pub who: String,
    pub what: String,
    pub purpose: String,
    pub data: String,
    pub status: String,
    pub badge: &'static str,
    pub status_text: String,
    pub reply: String,
    pub when: String,
    pub catalog: String,
}

fn report_row(ctx: &PageCtx, r: &ReportView) -> ReportRow {
    let badge = match r.status.as_str() {
        "approved" => "ok",
        "rejected" => "bad",
        "question" => "warn",
        _ => "todo",
    };
    ReportRow {
        id: r.id.clone(),
        who: r.user.clone(),
        what: r.what.clone(),
        purpose: r.purpose.clone(),
        data: r.data.clone(),
        status: r.status.clone(),
        badge,
        status_text: ctx.t.t(&format!("cloud.report_{}", r.status)).to_owned(),
        reply: r.reply.clone(),
        when: format_ms(r.created_ms),
        catalog: r.catalog_id.clone().unwrap_or_default(),
    }
}

/// A service as "which tool" shows it: name, website, guidance.
type Tool = (String, String, String);

#[derive(Template)]
#[template(path = "cloud/me.html")]
struct MyPage {
    ctx: PageCtx,
    tools: Vec<(String, Vec<Tool>)>,
    reports: Vec<ReportRow>,
    error: Option<String>,
    sent: bool,
}

#[derive(Deserialize)]
struct SentQuery {
    #[serde(default)]
    sent: Option<String>,
}

async fn my_page(state: &AppState, ctx: PageCtx, p: &Principal, error: Option<String>, sent: bool) -> Response {
    let loaded =
        async { Ok::<_, RegisterError>((state.register.which_tool().await?, state.register.reports_of(&p.user().id).await?)) }.await;
    let (which, reports) = match loaded {
        Ok(x) => x,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let tools = which.into_iter().map(|w| (function_name(&ctx, &w.function), w.services)).collect();
    let reports = reports.iter().map(|r| report_row(&ctx, r)).collect();
    render(&MyPage { ctx, tools, reports, error, sent })
}

async fn page(State(state): State<AppState>, ctx: PageCtx, Signed(p): Signed, Query(q): Query<SentQuery>) -> Response {
    my_page(&state, ctx, &p, None, q.sent.is_some()).await
}

#[derive(Deserialize)]
struct ReportForm {
    what: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    data: String,
}

async fn page_report(
    State(state): State<AppState>,
    ctx: PageCtx,
    Signed(p): Signed,
    axum::Extension(ip): axum::Extension<ClientIp>,
    CsrfForm(f): CsrfForm<ReportForm>,
) -> Response {
    match state.register.report(&actor(&p, &ip), &f.what, &f.purpose, &f.data).await {
        Ok(_) => Redirect::to("/cloud?sent=1").into_response(),
        Err(RegisterError::Store(e)) => ApiError::from(e).into_response(),
        Err(e) => my_page(&state, ctx, &p, Some(e.to_string()), false).await,
    }
}

/// One register row.
pub struct ServiceRow {
    pub id: String,
    pub name: String,
    pub functions: String,
    pub status_text: String,
    pub badge: &'static str,
    pub score: u32,
    pub review: String,
    pub overdue: bool,
    pub expired: bool,
}

#[derive(Template)]
#[template(path = "cloud/admin.html")]
struct AdminPage {
    ctx: PageCtx,
    services: Vec<ServiceRow>,
    open: Vec<ReportRow>,
    answered: Vec<ReportRow>,
    catalog: Vec<(String, String)>,
    statuses: Vec<(&'static str, String)>,
    due: usize,
    error: Option<String>,
    discovered: Vec<DiscoveredRow>,
    discovery_note: String,
    unknown: Vec<(String, u64, usize)>,
    /// From the monitoring input since start (syslog, followed files).
    live: Vec<DiscoveredRow>,
}

fn discovered_row(ctx: &PageCtx, f: &veilig_cloud::ServiceFinding, status: &str) -> DiscoveredRow {
    DiscoveredRow {
        catalog_id: f.service.clone(),
        name: f.name.clone(),
        queries: f.queries,
        clients: f.clients,
        first: f.first_seen.map(|s| format_ms(s * 1000)).unwrap_or_default(),
        last: f.last_seen.map(|s| format_ms(s * 1000)).unwrap_or_default(),
        in_register: status != "not_in_register",
        status_text: if status == "not_in_register" { ctx.t.t("cloud.not_in_register").to_owned() } else { status_text(ctx, status) },
    }
}

/// One service that discovery found.
pub struct DiscoveredRow {
    pub catalog_id: String,
    pub name: String,
    pub queries: u64,
    pub clients: usize,
    pub first: String,
    pub last: String,
    pub in_register: bool,
    pub status_text: String,
}

async fn admin_render(state: &AppState, ctx: PageCtx, error: Option<String>) -> Response {
    let loaded = async { Ok::<_, RegisterError>((state.register.services().await?, state.register.reports(None).await?)) }.await;
    let (services, reports) = match loaded {
        Ok(x) => x,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let rows: Vec<ServiceRow> = services
        .iter()
        .map(|s| ServiceRow {
            id: s.id.clone(),
            name: s.name.clone(),
            functions: s.functions.iter().map(|f| function_name(&ctx, f)).collect::<Vec<_>>().join(", "),
            status_text: status_text(&ctx, &s.status),
            badge: match s.status.as_str() {
                "approved" => "ok",
                "tolerated" | "under_review" => "warn",
                _ => "bad",
            },
            score: s.risk.score,
            review: s.review_due_ms.map(|ms| format_ms(ms).chars().take(10).collect()).unwrap_or_default(),
            overdue: s.review_overdue,
            expired: !s.risk.expired.is_empty() || !s.risk.expiring.is_empty(),
        })
        .collect();
    let due = rows.iter().filter(|r| r.overdue || r.expired).count();
    let catalog = state.register.catalog();
    let open = reports.iter().filter(|r| r.status == "open" || r.status == "question").map(|r| report_row(&ctx, r)).collect();
    let answered = reports.iter().filter(|r| r.status == "approved" || r.status == "rejected").map(|r| report_row(&ctx, r)).collect();
    let in_register: Vec<&str> = services.iter().filter_map(|s| s.catalog_id.as_deref()).collect();
    let catalog =
        catalog.services().iter().filter(|s| !in_register.contains(&s.id.as_str())).map(|s| (s.id.clone(), s.name.clone())).collect();
    let statuses = veilig_register::STATUSES.iter().map(|s| (*s, status_text(&ctx, s))).collect();
    let (discovered, discovery_note, unknown) = match state.register.discovery_with(&services).await {
        Ok(Some(d)) => (
            d.services.iter().map(|(f, status)| discovered_row(&ctx, f, status)).collect(),
            format!("{} · {} · {} {}", d.source, format_ms(d.at_ms), d.findings.lines, ctx.t.t("cloud.lines")),
            d.findings.unknown.iter().take(15).map(|u| (u.domain.clone(), u.queries, u.clients)).collect(),
        ),
        _ => (Vec::new(), String::new(), Vec::new()),
    };
    let live = state
        .ingest
        .cloud_live()
        .map(|f| {
            f.services
                .iter()
                .map(|s| {
                    let status = services.iter().find(|r| r.catalog_id.as_deref() == Some(s.service.as_str())).map(|r| r.status.as_str());
                    discovered_row(&ctx, s, status.unwrap_or("not_in_register"))
                })
                .collect()
        })
        .unwrap_or_default();
    render(&AdminPage { services: rows, open, answered, catalog, statuses, due, error, discovered, discovery_note, unknown, live, ctx })
}

async fn admin_page(State(state): State<AppState>, ctx: PageCtx, Staff(_p): Staff) -> Response {
    admin_render(&state, ctx, None).await
}

#[derive(Deserialize)]
struct AddForm {
    catalog_id: String,
    status: String,
}

async fn admin_add(
    State(state): State<AppState>,
    ctx: PageCtx,
    Staff(p): Staff,
    axum::Extension(ip): axum::Extension<ClientIp>,
    CsrfForm(f): CsrfForm<AddForm>,
) -> Response {
    match state.register.add_from_catalog(&actor(&p, &ip), &f.catalog_id, Some(&f.status)).await {
        Ok(_) => Redirect::to("/admin/cloud").into_response(),
        Err(RegisterError::Store(e)) => ApiError::from(e).into_response(),
        Err(e) => admin_render(&state, ctx, Some(e.to_string())).await,
    }
}

#[derive(Deserialize)]
struct TriageForm {
    decision: String,
    #[serde(default)]
    catalog_id: String,
    #[serde(default)]
    alternative: String,
    #[serde(default)]
    reply: String,
}

async fn admin_triage(
    State(state): State<AppState>,
    ctx: PageCtx,
    Staff(p): Staff,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<TriageForm>,
) -> Response {
    let d = match f.decision.as_str() {
        "approve" => {
            Decision::Approve { service_id: None, catalog_id: Some(f.catalog_id.clone()).filter(|c| !c.is_empty()), reply: f.reply.clone() }
        }
        "reject" => Decision::Reject { alternative: f.alternative.clone(), reply: f.reply.clone() },
        _ => Decision::Question { reply: f.reply.clone() },
    };
    match state.register.triage(&actor(&p, &ip), &id, &d).await {
        Ok(_) => Redirect::to("/admin/cloud").into_response(),
        Err(RegisterError::Store(e)) => ApiError::from(e).into_response(),
        Err(e) => admin_render(&state, ctx, Some(e.to_string())).await,
    }
}

// ---- One service: details, assessment, evidence ----------------------------------------------

/// One piece of evidence on a page: id, question, date, who, link, file name.
type EvidenceRow = (String, String, String, String, Option<String>, Option<String>);

#[derive(Template)]
#[template(path = "cloud/service.html")]
struct ServicePage {
    ctx: PageCtx,
    s: ServiceView,
    statuses: Vec<(&'static str, String)>,
    reasons: Vec<(u32, String)>,
    a: AnswerFields,
    yes_no_fields: Vec<(&'static str, String)>,
    questions: Vec<&'static str>,
    evidence: Vec<EvidenceRow>,
    review: String,
    error: Option<String>,
}

impl ServicePage {
    /// The text for `prefix` + `value` (a question, an option).
    fn label(&self, prefix: &str, value: &str) -> String {
        self.ctx.t.t(&format!("{prefix}{value}")).to_owned()
    }
}

/// The answers as form values ("" for not answered).
#[derive(Default)]
struct AnswerFields {
    data_location: String,
    jurisdiction: String,
    iso27001_expires: String,
    iso27001_scope: String,
    iso27001_issuer: String,
    soc2_period_end: String,
    isae3402: String,
    dpa_signed: String,
    dpa_date: String,
    subprocessors: String,
    mfa_enforced: String,
    public_links_off: String,
    link_expiry: String,
    link_password: String,
    e2e_encryption: String,
    revenue: String,
    exit_plan: String,
    terms_reviewed: String,
    ai_training: String,
    terms_notes: String,
}

fn yes_no(v: Option<bool>) -> String {
    match v {
        Some(true) => "yes".into(),
        Some(false) => "no".into(),
        None => String::new(),
    }
}

fn enum_text<T: serde::Serialize>(v: &Option<T>) -> String {
    v.as_ref().and_then(|x| serde_json::to_value(x).ok()).and_then(|x| x.as_str().map(str::to_owned)).unwrap_or_default()
}

impl AnswerFields {
    fn from(a: &Answers) -> AnswerFields {
        let t = |v: &Option<String>| v.clone().unwrap_or_default();
        AnswerFields {
            data_location: enum_text(&a.data_location),
            jurisdiction: t(&a.jurisdiction),
            iso27001_expires: t(&a.iso27001_expires),
            iso27001_scope: t(&a.iso27001_scope),
            iso27001_issuer: t(&a.iso27001_issuer),
            soc2_period_end: t(&a.soc2_period_end),
            isae3402: yes_no(a.isae3402),
            dpa_signed: yes_no(a.dpa_signed),
            dpa_date: t(&a.dpa_date),
            subprocessors: t(&a.subprocessors),
            mfa_enforced: yes_no(a.mfa_enforced),
            public_links_off: yes_no(a.public_links_off),
            link_expiry: yes_no(a.link_expiry),
            link_password: yes_no(a.link_password),
            e2e_encryption: yes_no(a.e2e_encryption),
            revenue: enum_text(&a.revenue),
            exit_plan: t(&a.exit_plan),
            terms_reviewed: t(&a.terms_reviewed),
            ai_training: yes_no(a.ai_training),
            terms_notes: t(&a.terms_notes),
        }
    }
}

const QUESTIONS: &[&str] = &[
    "data_location",
    "jurisdiction",
    "iso27001_expires",
    "soc2_period_end",
    "isae3402",
    "dpa_signed",
    "subprocessors",
    "mfa_enforced",
    "public_links_off",
    "e2e_encryption",
    "revenue",
    "exit_plan",
    "terms_reviewed",
    "ai_training",
];

async fn service_render(state: &AppState, ctx: PageCtx, id: &str, error: Option<String>) -> Response {
    let s = match state.register.service(id).await {
        Ok(s) => s,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let nl = ctx.lang() == "nl";
    let reasons = s.risk.reasons.iter().map(|r| (r.points, if nl { r.nl.clone() } else { r.en.clone() })).collect();
    let evidence = s
        .evidence
        .iter()
        .map(|e| {
            let label = ctx.t.t(&format!("cloud.q_{}", e.question)).to_owned();
            (e.id.clone(), label, e.dated.clone(), e.added_by.clone(), e.url.clone(), e.file_name.clone())
        })
        .collect();
    let statuses = veilig_register::STATUSES.iter().map(|x| (*x, status_text(&ctx, x))).collect();
    let review = s.review_due_ms.map(|ms| format_ms(ms).chars().take(10).collect()).unwrap_or_default();
    let a = AnswerFields::from(&s.answers);
    let yes_no_fields = vec![
        ("isae3402", a.isae3402.clone()),
        ("dpa_signed", a.dpa_signed.clone()),
        ("mfa_enforced", a.mfa_enforced.clone()),
        ("public_links_off", a.public_links_off.clone()),
        ("link_expiry", a.link_expiry.clone()),
        ("link_password", a.link_password.clone()),
        ("e2e_encryption", a.e2e_encryption.clone()),
        ("ai_training", a.ai_training.clone()),
    ];
    render(&ServicePage { ctx, statuses, reasons, a, yes_no_fields, questions: QUESTIONS.to_vec(), evidence, review, error, s })
}

async fn service_page(State(state): State<AppState>, ctx: PageCtx, Staff(_p): Staff, Path(id): Path<String>) -> Response {
    service_render(&state, ctx, &id, None).await
}

#[derive(Deserialize)]
struct ServiceForm {
    status: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    alternatives: String,
    #[serde(default)]
    guidance: String,
    #[serde(default)]
    groups: String,
    #[serde(default)]
    data_personal: Option<String>,
    #[serde(default)]
    data_special: Option<String>,
    #[serde(default)]
    review_due: String,
    #[serde(default)]
    functions: String,
    #[serde(default)]
    domains: String,
}

async fn service_update(
    State(state): State<AppState>,
    ctx: PageCtx,
    Staff(p): Staff,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<ServiceForm>,
) -> Response {
    let u = Update {
        status: Some(f.status),
        owner: Some(f.owner),
        alternatives: Some(f.alternatives),
        guidance: Some(f.guidance),
        groups: Some(f.groups.split(',').map(|g| g.trim().to_owned()).filter(|g| !g.is_empty()).collect()),
        data_personal: Some(f.data_personal.is_some()),
        data_special: Some(f.data_special.is_some()),
        review_due: Some(f.review_due).filter(|d| !d.trim().is_empty()),
        functions: Some(f.functions.split(',').map(|x| x.trim().to_owned()).filter(|x| !x.is_empty()).collect()),
        domains: Some(f.domains.split(',').map(|x| x.trim().to_owned()).filter(|x| !x.is_empty()).collect()),
    };
    match state.register.update(&actor(&p, &ip), &id, &u).await {
        Ok(_) => Redirect::to(&format!("/admin/cloud/services/{id}")).into_response(),
        Err(RegisterError::Store(e)) => ApiError::from(e).into_response(),
        Err(e) => service_render(&state, ctx, &id, Some(e.to_string())).await,
    }
}

async fn service_assess(
    State(state): State<AppState>,
    ctx: PageCtx,
    Staff(p): Staff,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<std::collections::HashMap<String, String>>,
) -> Response {
    // the form's strings into the typed answers: "" is "not answered", yes/no are booleans
    let mut v = serde_json::Map::new();
    for (k, val) in f {
        let val = val.trim().to_owned();
        if k == "csrf" || val.is_empty() {
            continue;
        }
        let json = match val.as_str() {
            "yes" => serde_json::Value::Bool(true),
            "no" => serde_json::Value::Bool(false),
            _ => serde_json::Value::String(val),
        };
        v.insert(k, json);
    }
    let answers: Answers = match serde_json::from_value(serde_json::Value::Object(v)) {
        Ok(a) => a,
        Err(e) => return service_render(&state, ctx, &id, Some(format!("answers: {e}"))).await,
    };
    match state.register.assess(&actor(&p, &ip), &id, &answers).await {
        Ok(_) => Redirect::to(&format!("/admin/cloud/services/{id}")).into_response(),
        Err(RegisterError::Store(e)) => ApiError::from(e).into_response(),
        Err(e) => service_render(&state, ctx, &id, Some(e.to_string())).await,
    }
}

#[derive(Deserialize)]
struct EvidenceForm {
    question: String,
    url: String,
    dated: String,
}

async fn service_evidence(
    State(state): State<AppState>,
    ctx: PageCtx,
    Staff(p): Staff,
    axum::Extension(ip): axum::Extension<ClientIp>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<EvidenceForm>,
) -> Response {
    match state.register.add_evidence(&actor(&p, &ip), &id, &f.question, Some(&f.url), None, &f.dated).await {
        Ok(_) => Redirect::to(&format!("/admin/cloud/services/{id}")).into_response(),
        Err(RegisterError::Store(e)) => ApiError::from(e).into_response(),
        Err(e) => service_render(&state, ctx, &id, Some(e.to_string())).await,
    }
}
