//! Awareness messages: staff write one (or start from a shipped template) and send it to
//! everyone or to groups, by mail and as a notice in the portal; employees read it there; the
//! security officer sees who read it, everyone else on the staff the totals.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use veilig_store::{AwarenessRecord, RecipientRecord};

use super::{PageCtx, format_ms, render};
use crate::AppState;
use crate::auth::{Principal, Signed, Staff};
use crate::error::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/awareness", get(page).post(page_send))
        .route("/awareness/{id}", get(message_page))
        .route("/awareness/{id}/read", post(page_read))
        .route("/api/v1/awareness", get(api_list).post(api_send))
        .route("/api/v1/awareness/{id}/readers", get(api_readers))
        .route("/api/v1/awareness/{id}/read", post(api_read))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AwarenessView {
    pub id: String,
    pub title_nl: String,
    pub title_en: String,
    /// `all`, or the groups it went to.
    pub audience: String,
    pub created_by: String,
    pub created_ms: i64,
    pub recipients: i64,
    pub mailed: i64,
    pub read: i64,
}

impl From<AwarenessRecord> for AwarenessView {
    fn from(m: AwarenessRecord) -> Self {
        AwarenessView {
            id: m.id,
            title_nl: m.title_nl,
            title_en: m.title_en,
            audience: m.audience,
            created_by: m.created_by,
            created_ms: m.created_ms,
            recipients: m.recipients,
            mailed: m.mailed,
            read: m.read,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SendRequest {
    pub title_nl: String,
    pub body_nl: String,
    pub title_en: String,
    pub body_en: String,
    /// Group names; empty or missing for everyone.
    #[serde(default)]
    pub groups: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SendResult {
    pub id: String,
    pub recipients: usize,
}

async fn send(state: &AppState, who: &Principal, ip: &str, r: SendRequest) -> Result<SendResult, ApiError> {
    let fields = [(&r.title_nl, 200), (&r.title_en, 200), (&r.body_nl, 20_000), (&r.body_en, 20_000)];
    if fields.iter().any(|(f, max)| f.trim().is_empty() || f.chars().count() > *max) {
        return Err(ApiError::invalid("titles (at most 200 characters) and texts (at most 20,000) are needed in Dutch and English"));
    }
    let groups: Vec<String> = r.groups.iter().map(|g| g.trim().to_owned()).filter(|g| !g.is_empty()).collect();
    for g in &groups {
        if state.store.group_by_name(g).await?.is_none() {
            return Err(ApiError::invalid(format!("no group named {g}")));
        }
    }
    let recipients = state.store.awareness_audience(&groups).await?;
    if recipients.is_empty() {
        return Err(ApiError::invalid("nobody would receive it: the groups have no members"));
    }
    let m = AwarenessRecord {
        id: veilig_core::random_id(),
        title_nl: r.title_nl.trim().to_owned(),
        body_nl: r.body_nl.trim().to_owned(),
        title_en: r.title_en.trim().to_owned(),
        body_en: r.body_en.trim().to_owned(),
        audience: if groups.is_empty() { "all".to_owned() } else { groups.join(", ") },
        created_by: who.user().email.clone(),
        created_ms: state.clock.now_ms(),
        recipients: 0,
        read: 0,
        mailed: 0,
    };
    let entry = veilig_audit::Entry::new(&who.user().email, "awareness.sent", &m.id)
        .ip(ip)
        .details(serde_json::json!({"title": m.title_nl, "audience": m.audience, "recipients": recipients.len()}));
    state.store.awareness_insert(&m, &recipients, &entry).await?;
    if let Some(smtp) = &state.config.smtp {
        match veilig_mail::Mailer::new(smtp) {
            Ok(mailer) => {
                let (store, clock, id) = (state.store.clone(), state.clock.clone(), m.id.clone());
                let (lang, url) = (state.config.language, state.config.public_url.clone());
                tokio::spawn(async move {
                    let (sent, failed) = veilig_mail::awareness::deliver(&store, &mailer, &clock, &id, lang, &url).await;
                    tracing::info!(message = %id, sent, failed, "awareness message mailed");
                });
            }
            Err(e) => tracing::warn!(error = %e, "awareness message not mailed"),
        }
    }
    Ok(SendResult { id: m.id, recipients: recipients.len() })
}

/// Sends an awareness message to everyone or to groups: by mail (when a mail server is set) and
/// as a notice in the portal (audited).
#[utoipa::path(post, path = "/api/v1/awareness", request_body = SendRequest, responses((status = 201, body = SendResult), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_send(
    State(state): State<AppState>,
    Staff(who): Staff,
    axum::Extension(ip): axum::Extension<crate::middleware::ClientIp>,
    crate::error::ApiJson(r): crate::error::ApiJson<SendRequest>,
) -> Result<(axum::http::StatusCode, Json<SendResult>), ApiError> {
    let result = send(&state, &who, &ip.0.to_string(), r).await?;
    Ok((axum::http::StatusCode::CREATED, Json(result)))
}

/// Every awareness message with its totals: recipients, mailed, read.
#[utoipa::path(get, path = "/api/v1/awareness", responses((status = 200, body = [AwarenessView])))]
pub async fn api_list(State(state): State<AppState>, _s: Staff) -> Result<Json<Vec<AwarenessView>>, ApiError> {
    Ok(Json(state.store.awareness_list().await?.into_iter().map(AwarenessView::from).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReaderView {
    pub email: String,
    pub name: String,
    pub mailed_ms: Option<i64>,
    pub mail_error: Option<String>,
    pub read_ms: Option<i64>,
}

/// Who received a message and who read it: for security officers only (administrators and
/// management see the totals).
#[utoipa::path(get, path = "/api/v1/awareness/{id}/readers", responses((status = 200, body = [ReaderView]), (status = 403, body = crate::error::ErrorBody)))]
pub async fn api_readers(
    State(state): State<AppState>,
    Staff(who): Staff,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<Vec<ReaderView>>, ApiError> {
    if who.role() != veilig_identity::Role::SecurityOfficer {
        return Err(ApiError::new(axum::http::StatusCode::FORBIDDEN, "forbidden", "who read a message is for security officers"));
    }
    state.store.awareness_get(&id).await?.ok_or_else(|| ApiError::not_found("no such message"))?;
    let readers = state.store.awareness_recipients(&id).await?;
    Ok(Json(
        readers
            .into_iter()
            .map(|r| ReaderView {
                email: r.email,
                name: r.display_name,
                mailed_ms: r.mailed_ms,
                mail_error: r.mail_error,
                read_ms: r.read_ms,
            })
            .collect(),
    ))
}

/// Marks a message read by the signed-in recipient.
#[utoipa::path(post, path = "/api/v1/awareness/{id}/read", responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn api_read(
    State(state): State<AppState>,
    Signed(who): Signed,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<axum::http::StatusCode, ApiError> {
    if state.store.awareness_mark_read(&id, &who.user().id, state.clock.now_ms()).await? {
        Ok(axum::http::StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("no such message for you"))
    }
}

// Pages.

pub struct MessageRow {
    pub m: AwarenessRecord,
    pub sent: String,
    /// Share read, 0–100, for the bar.
    pub percent: i64,
}

#[derive(Template)]
#[template(path = "awareness.html")]
struct AwarenessPage {
    ctx: PageCtx,
    rows: Vec<MessageRow>,
    templates: Vec<veilig_mail::awareness::Template>,
    draft: veilig_mail::awareness::Template,
    groups: Vec<String>,
    mail_on: bool,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    template: Option<String>,
}

fn report_address(state: &AppState) -> String {
    state.config.phishing.imap.as_ref().map(|i| i.username.clone()).filter(|u| u.contains('@')).unwrap_or_else(|| "ICT".to_owned())
}

async fn awareness_page(state: &AppState, ctx: PageCtx, template: Option<&str>, error: Option<String>) -> Response {
    let list = match state.store.awareness_list().await {
        Ok(l) => l,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let rows = list
        .into_iter()
        .map(|m| MessageRow { sent: format_ms(m.created_ms), percent: if m.recipients > 0 { m.read * 100 / m.recipients } else { 0 }, m })
        .collect();
    let templates = veilig_mail::awareness::templates(&report_address(state), &state.config.identity.organisation);
    let draft = template.and_then(|k| templates.iter().find(|t| t.key == k)).cloned().unwrap_or(veilig_mail::awareness::Template {
        key: String::new(),
        title_nl: String::new(),
        body_nl: String::new(),
        title_en: String::new(),
        body_en: String::new(),
    });
    let groups = state.store.groups_list().await.unwrap_or_default().into_iter().map(|g| g.name).collect();
    render(&AwarenessPage { ctx, rows, templates, draft, groups, mail_on: state.config.smtp.is_some(), error })
}

async fn page(
    State(state): State<AppState>,
    _s: Staff,
    ctx: PageCtx,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> Response {
    awareness_page(&state, ctx, q.template.as_deref(), None).await
}

#[derive(Deserialize)]
struct SendForm {
    title_nl: String,
    body_nl: String,
    title_en: String,
    body_en: String,
    #[serde(default)]
    group: String,
}

async fn page_send(
    State(state): State<AppState>,
    Staff(who): Staff,
    ctx: PageCtx,
    axum::Extension(ip): axum::Extension<crate::middleware::ClientIp>,
    crate::auth::CsrfForm(f): crate::auth::CsrfForm<SendForm>,
) -> Response {
    let groups = if f.group.trim().is_empty() { Vec::new() } else { vec![f.group.trim().to_owned()] };
    let r = SendRequest { title_nl: f.title_nl, body_nl: f.body_nl, title_en: f.title_en, body_en: f.body_en, groups };
    match send(&state, &who, &ip.0.to_string(), r).await {
        Ok(sent) => axum::response::Redirect::to(&format!("/awareness/{}", sent.id)).into_response(),
        Err(e) if e.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY => awareness_page(&state, ctx, None, Some(e.message)).await,
        Err(e) => e.into_response(),
    }
}

pub struct ReaderRow {
    pub r: RecipientRecord,
    pub read: Option<String>,
}

#[derive(Template)]
#[template(path = "awareness_message.html")]
struct MessagePage {
    ctx: PageCtx,
    title: String,
    paragraphs: Vec<String>,
    sent: String,
    /// Totals for staff; `None` for an employee.
    totals: Option<AwarenessRecord>,
    percent: i64,
    /// Who read it: for security officers only.
    readers: Vec<ReaderRow>,
}

async fn message_page(
    State(state): State<AppState>,
    Signed(who): Signed,
    ctx: PageCtx,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let m = match state.store.awareness_get(&id).await {
        Ok(Some(m)) => m,
        Ok(None) => return ApiError::not_found("no such message").into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    // Opening the message is reading it; there are no tracking pixels in the mail.
    let recipient = match state.store.awareness_mark_read(&id, &who.user().id, state.clock.now_ms()).await {
        Ok(r) => r,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let staff = who.role().is_staff();
    if !recipient && !staff {
        return ApiError::not_found("no such message").into_response();
    }
    let readers = if who.role() == veilig_identity::Role::SecurityOfficer {
        state
            .store
            .awareness_recipients(&id)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|r| ReaderRow { read: r.read_ms.map(format_ms), r })
            .collect()
    } else {
        Vec::new()
    };
    let (title, body) =
        if ctx.t.code() == "en" { (m.title_en.clone(), m.body_en.clone()) } else { (m.title_nl.clone(), m.body_nl.clone()) };
    let paragraphs = body.split("\n\n").map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect();
    let percent = if m.recipients > 0 { m.read * 100 / m.recipients } else { 0 };
    render(&MessagePage { ctx, title, paragraphs, sent: format_ms(m.created_ms), totals: staff.then_some(m), percent, readers })
}

async fn page_read(
    State(state): State<AppState>,
    Signed(who): Signed,
    axum::extract::Path(id): axum::extract::Path<String>,
    crate::auth::CsrfForm(_): crate::auth::CsrfForm<NoFields>,
) -> Response {
    match state.store.awareness_mark_read(&id, &who.user().id, state.clock.now_ms()).await {
        Ok(_) => axum::response::Redirect::to("/me").into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
struct NoFields {}
