//! The pseudonymiser for employees: paste or upload a text, review what was replaced (undo a
//! replacement, add a value), copy the result; paste the answer back to restore it. The API does
//! the same for scripts and the AI-chat gateway.
//!
//! Nothing is stored: the text lives only in the request. The key (the mapping) travels with the
//! page as a sealed blob that only this server can open, and only for the same user: AES-256-GCM
//! under a key derived from a random per-process secret and the user id. After a restart the
//! blob no longer opens and the page says so. The audit chain records that the pseudonymiser was
//! used and how many values it replaced, never what they were.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use utoipa::ToSchema;
use veilig_pseudo::{Format, Label, Lang, Mapping, Pseudonymiser, Span};

use super::{PageCtx, render};
use crate::AppState;
use crate::auth::{Principal, Signed};
use crate::error::ApiError;

/// The longest text the page and the API take (the command line has no such limit).
pub const MAX_TEXT: usize = 2 << 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/pseudo", get(page).post(page_run))
        .route("/pseudo/restore", post(page_restore))
        .route("/api/v1/pseudo", post(api_run))
        .route("/api/v1/pseudo/restore", post(api_restore))
}

fn user_key(state: &AppState, who: &Principal) -> [u8; 32] {
    let mut h = sha2::Sha256::new();
    h.update(b"veilig pseudo vault v1\0");
    h.update(state.pseudo_key.as_slice());
    h.update(who.user().id.as_bytes());
    h.finalize().into()
}

pub(crate) fn seal(state: &AppState, who: &Principal, m: &Mapping) -> Result<String, ApiError> {
    use rand::RngCore;
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let key = veilig_pseudo::vault::Key::File(user_key(state, who));
    let sealed = veilig_pseudo::vault::seal(m, &key, salt, nonce).map_err(ApiError::internal)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed))
}

pub(crate) fn unseal(state: &AppState, who: &Principal, blob: &str, t: &crate::i18n::Texts) -> Result<Mapping, ApiError> {
    let bytes =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(blob.trim()).map_err(|_| ApiError::invalid(t.t("pseudo.vault_invalid")))?;
    let key = veilig_pseudo::vault::Key::File(user_key(state, who));
    veilig_pseudo::vault::open(&bytes, &key).map_err(|_| ApiError::invalid(t.t("pseudo.vault_invalid")))
}

fn lang_of(choice: Option<&str>, text: &str, page: veilig_core::Lang) -> Result<Lang, ApiError> {
    match choice.map(str::trim).unwrap_or("") {
        "" => Ok(if page == veilig_core::Lang::En { Lang::En } else { Lang::Nl }),
        "auto" => Ok(Lang::detect(text)),
        other => Lang::parse(other).ok_or_else(|| ApiError::invalid(format!("lang must be nl, en or auto, not {other:?}"))),
    }
}

fn format_of(choice: Option<&str>) -> Result<Format, ApiError> {
    match choice.map(str::trim).unwrap_or("") {
        "" | "text" | "md" | "eml" => Ok(Format::Text),
        "csv" => Ok(Format::Csv),
        other => Err(ApiError::invalid(format!("format must be text, md, eml or csv, not {other:?}"))),
    }
}

struct Run {
    text: String,
    spans: Vec<Span>,
    mapping: Mapping,
}

/// Pseudonymises and writes the audit record (counts only).
struct Job<'a> {
    text: &'a str,
    lang: Lang,
    format: Format,
    mapping: Mapping,
    /// Values to hide as well.
    extra: &'a [String],
    /// Values to leave.
    keep: &'a [String],
}

async fn run(state: &AppState, who: &Principal, ip: &str, job: Job<'_>) -> Result<Run, ApiError> {
    let Job { text, lang, format, mut mapping, extra, keep } = job;
    if text.len() > MAX_TEXT {
        return Err(ApiError::invalid(format!("the text is longer than {} MB; use veilig pseudo on the command line", MAX_TEXT >> 20)));
    }
    // the organisation's own list ([pseudo] terms_file), then the employee's additions as they are
    let terms = (*state.pseudo_terms).clone().with_values(extra);
    let engine = Pseudonymiser::new().with_terms(terms).keeping(keep);
    mapping.lang = lang;
    let input = text.to_owned();
    let (out, mapping) = tokio::task::spawn_blocking(move || {
        let out = engine.pseudonymise_as(format, &input, &mut mapping);
        (out, mapping)
    })
    .await
    .map_err(|_| ApiError::internal("the pseudonymiser stopped"))?;
    let mut per_label = std::collections::BTreeMap::<&str, usize>::new();
    for s in out.spans.iter().filter(|s| s.replacement.is_some()) {
        *per_label.entry(s.label.as_str()).or_default() += 1;
    }
    let entry = veilig_audit::Entry::new(&who.user().email, "pseudo.used", "")
        .ip(ip)
        .details(serde_json::json!({"chars": text.chars().count(), "replaced": per_label}));
    state.store.audit(state.clock.now_ms(), &entry).await?;
    Ok(Run { text: out.text, spans: out.spans, mapping })
}

// API.

#[derive(Debug, Deserialize, ToSchema)]
pub struct PseudoRequest {
    pub text: String,
    /// `nl`, `en` or `auto` (default: the interface language).
    pub lang: Option<String>,
    /// `text` (default), `md`, `eml` or `csv`.
    pub format: Option<String>,
    /// Values to hide as well (client names, code names).
    #[serde(default)]
    pub terms: Vec<String>,
    /// Values to leave as they are.
    #[serde(default)]
    pub keep: Vec<String>,
    /// The `vault` of an earlier answer: the same people keep the same pseudonyms.
    pub vault: Option<String>,
    /// Realistic fake values (names; numbers that fail their checks) instead of tokens.
    #[serde(default)]
    pub fake: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SpanView {
    /// Unicode scalar values from the start of the input.
    pub start: usize,
    pub end: usize,
    pub byte_start: usize,
    pub byte_end: usize,
    pub label: String,
    /// `null` for a value only flagged for review.
    pub replacement: Option<String>,
    pub confidence: f32,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PseudoResult {
    pub text: String,
    pub spans: Vec<SpanView>,
    /// The key, sealed for this user on this server: send it back to restore.
    pub vault: String,
}

fn span_view(s: &Span) -> SpanView {
    SpanView {
        start: s.start,
        end: s.end,
        byte_start: s.byte_start,
        byte_end: s.byte_end,
        label: s.label.as_str().to_owned(),
        replacement: s.replacement.clone(),
        confidence: s.confidence,
        reason: s.reason.clone(),
    }
}

/// Pseudonymises a text: personal data replaced by pseudonyms, the spans, and the sealed key.
#[utoipa::path(post, path = "/api/v1/pseudo", request_body = PseudoRequest, responses((status = 200, body = PseudoResult), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_run(
    State(state): State<AppState>,
    Signed(who): Signed,
    ctx: PageCtx,
    axum::Extension(ip): axum::Extension<crate::middleware::ClientIp>,
    crate::error::ApiJson(r): crate::error::ApiJson<PseudoRequest>,
) -> Result<Json<PseudoResult>, ApiError> {
    let lang = lang_of(r.lang.as_deref(), &r.text, ctx.t.lang)?;
    let format = format_of(r.format.as_deref())?;
    let mapping = match r.vault.as_deref().filter(|v| !v.trim().is_empty()) {
        Some(v) => unseal(&state, &who, v, &ctx.t)?,
        None => Mapping::new(lang),
    };
    let mut mapping = mapping;
    mapping.fake |= r.fake;
    let job = Job { text: &r.text, lang, format, mapping, extra: &r.terms, keep: &r.keep };
    let out = run(&state, &who, &ip.0.to_string(), job).await?;
    let vault = seal(&state, &who, &out.mapping)?;
    Ok(Json(PseudoResult { text: out.text, spans: out.spans.iter().map(span_view).collect(), vault }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RestoreRequest {
    pub text: String,
    pub vault: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RestoreResult {
    pub text: String,
    pub restored: usize,
    /// Tokens that look like pseudonyms but are not in the key; left as they are.
    pub unmatched: Vec<String>,
}

/// Puts the real values back into an answer (translated or rewritten text with pseudonyms).
#[utoipa::path(post, path = "/api/v1/pseudo/restore", request_body = RestoreRequest, responses((status = 200, body = RestoreResult), (status = 422, body = crate::error::ErrorBody)))]
pub async fn api_restore(
    State(state): State<AppState>,
    Signed(who): Signed,
    ctx: PageCtx,
    crate::error::ApiJson(r): crate::error::ApiJson<RestoreRequest>,
) -> Result<Json<RestoreResult>, ApiError> {
    if r.text.len() > MAX_TEXT {
        return Err(ApiError::invalid(format!("the text is longer than {} MB", MAX_TEXT >> 20)));
    }
    let mapping = unseal(&state, &who, &r.vault, &ctx.t)?;
    let out = veilig_pseudo::restore::restore(&r.text, &mapping);
    Ok(Json(RestoreResult { text: out.text, restored: out.restored, unmatched: out.unmatched }))
}

// Pages.

/// A piece of the original text, marked when it was replaced.
pub struct Segment {
    pub text: String,
    /// CSS class and tooltip when this piece is a found value.
    pub mark: Option<(String, String)>,
}

/// One distinct value found, for the review list.
pub struct Found {
    pub value: String,
    pub label: &'static str,
    pub replacement: String,
    pub count: usize,
    pub flagged: bool,
}

#[derive(Template)]
#[template(path = "pseudo.html")]
struct PseudoPage {
    ctx: PageCtx,
    input: String,
    lang: String,
    format: String,
    extra: String,
    keep: Vec<String>,
    error: Option<String>,
    result: Option<String>,
    segments: Vec<Segment>,
    found: Vec<Found>,
    /// Replacements per label, for the bar chart.
    bars: Vec<(&'static str, usize, usize)>,
    vault: String,
    answer: String,
    restored: Option<String>,
    unmatched: Vec<String>,
    /// A pseudonymised document to download: (file name, base64).
    document: Option<(String, String)>,
    file_name: String,
    file_b64: String,
    fake: bool,
}

impl PseudoPage {
    fn empty(ctx: PageCtx) -> PseudoPage {
        PseudoPage {
            ctx,
            input: String::new(),
            lang: "auto".into(),
            format: "text".into(),
            extra: String::new(),
            keep: Vec::new(),
            error: None,
            result: None,
            segments: Vec::new(),
            found: Vec::new(),
            bars: Vec::new(),
            vault: String::new(),
            answer: String::new(),
            restored: None,
            unmatched: Vec::new(),
            document: None,
            file_name: String::new(),
            file_b64: String::new(),
            fake: false,
        }
    }
}

/// What an upload is.
enum Upload {
    None,
    Text(String),
    Office(Vec<u8>),
}

fn upload(f: &RunForm, t: &crate::i18n::Texts) -> Result<Upload, String> {
    if f.file_b64.trim().is_empty() {
        return Ok(Upload::None);
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(f.file_b64.trim()).map_err(|_| t.t("pseudo.upload_bad").to_owned())?;
    let name = f.file_name.to_ascii_lowercase();
    if name.ends_with(".docx") || name.ends_with(".odt") {
        return Ok(Upload::Office(bytes));
    }
    if name.ends_with(".eml") {
        return veilig_pseudo::email::to_text(&bytes).map(Upload::Text).ok_or_else(|| t.t("pseudo.upload_bad").to_owned());
    }
    String::from_utf8(bytes).map(Upload::Text).map_err(|_| t.t("pseudo.upload_bad").to_owned())
}

fn label_name(t: &crate::i18n::Texts, l: Label) -> &'static str {
    match l {
        Label::Person => t.t("pseudo.label.person"),
        Label::Address => t.t("pseudo.label.address"),
        Label::Postcode => t.t("pseudo.label.postcode"),
        Label::City => t.t("pseudo.label.city"),
        Label::Phone => t.t("pseudo.label.phone"),
        Label::Email => t.t("pseudo.label.email"),
        Label::Bsn => t.t("pseudo.label.bsn"),
        Label::Iban => t.t("pseudo.label.iban"),
        Label::DateOfBirth => t.t("pseudo.label.dob"),
        Label::Plate => t.t("pseudo.label.plate"),
        Label::Kvk => t.t("pseudo.label.kvk"),
        Label::IdNumber => t.t("pseudo.label.id"),
        Label::Ip => t.t("pseudo.label.ip"),
        Label::Url => t.t("pseudo.label.url"),
        Label::CaseId => t.t("pseudo.label.case"),
        Label::Term => t.t("pseudo.label.term"),
    }
}

fn review(page: &mut PseudoPage, input: &str, spans: &[Span]) {
    let t = page.ctx.t;
    let mut last = 0;
    for s in spans {
        if s.byte_start > last {
            page.segments.push(Segment { text: input[last..s.byte_start].to_owned(), mark: None });
        }
        let value = &input[s.byte_start..s.byte_end];
        let (class, tip) = match &s.replacement {
            Some(r) => (format!("pii pii-{}", s.label.as_str().to_lowercase()), format!("{} → {r}", label_name(&t, s.label))),
            None => ("pii pii-check".to_owned(), format!("{}: {}", label_name(&t, s.label), t.t("pseudo.check"))),
        };
        page.segments.push(Segment { text: value.to_owned(), mark: Some((class, tip)) });
        last = s.byte_end;
        match page.found.iter_mut().find(|f| f.value == value) {
            Some(f) => f.count += 1,
            None => page.found.push(Found {
                value: value.to_owned(),
                label: label_name(&t, s.label),
                replacement: s.replacement.clone().unwrap_or_else(|| t.t("pseudo.check").to_owned()),
                count: 1,
                flagged: s.replacement.is_none(),
            }),
        }
    }
    if last < input.len() {
        page.segments.push(Segment { text: input[last..].to_owned(), mark: None });
    }
    let mut counts: Vec<(Label, usize)> = Vec::new();
    for s in spans.iter().filter(|s| s.replacement.is_some()) {
        match counts.iter_mut().find(|c| c.0 == s.label) {
            Some(c) => c.1 += 1,
            None => counts.push((s.label, 1)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    let max = counts.first().map(|c| c.1).unwrap_or(1).max(1);
    page.bars = counts.into_iter().map(|(l, n)| (label_name(&t, l), n, n * 100 / max)).collect();
}

async fn page(_s: Signed, ctx: PageCtx) -> Response {
    render(&PseudoPage::empty(ctx))
}

#[derive(Deserialize)]
struct RunForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    format: String,
    /// One value to hide as well per line.
    #[serde(default)]
    extra: String,
    /// Values to leave, one per line (set by the review's "undo" buttons).
    #[serde(default)]
    keep: String,
    #[serde(default)]
    undo: Option<String>,
    #[serde(default)]
    vault: String,
    #[serde(default)]
    fake: Option<String>,
    /// An uploaded document (DOCX, ODT, e-mail), base64, with its name.
    #[serde(default)]
    file_b64: String,
    #[serde(default)]
    file_name: String,
}

async fn page_run(
    State(state): State<AppState>,
    Signed(who): Signed,
    ctx: PageCtx,
    axum::Extension(ip): axum::Extension<crate::middleware::ClientIp>,
    crate::auth::CsrfForm(f): crate::auth::CsrfForm<RunForm>,
) -> Response {
    let mut page = PseudoPage::empty(ctx);
    let uploaded = match upload(&f, &page.ctx.t) {
        Ok(u) => u,
        Err(e) => {
            page.error = Some(e);
            return render(&page);
        }
    };
    let (input, office) = match uploaded {
        Upload::None => (f.text.replace("\r\n", "\n"), None),
        Upload::Text(t) => (t, None),
        Upload::Office(bytes) => match veilig_pseudo::office::text(&bytes) {
            Ok(t) => (t, Some(bytes)),
            Err(e) => {
                page.error = Some(format!("{}: {e}", page.ctx.t.t("pseudo.upload_bad")));
                return render(&page);
            }
        },
    };
    if office.is_some() {
        page.file_name = f.file_name.clone();
        page.file_b64 = f.file_b64.clone();
    }
    page.lang = if f.lang.is_empty() { "auto".into() } else { f.lang.clone() };
    page.format = if f.format.is_empty() { "text".into() } else { f.format.clone() };
    page.extra = f.extra.clone();
    let mut keep: Vec<String> = f.keep.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
    if let Some(u) = f.undo.as_deref().map(str::trim).filter(|u| !u.is_empty())
        && !keep.iter().any(|k| k == u)
    {
        keep.push(u.to_owned());
    }
    page.keep = keep.clone();
    page.input = if office.is_some() { String::new() } else { input.clone() };
    if input.trim().is_empty() {
        page.error = Some(page.ctx.t.t("pseudo.empty").to_owned());
        return render(&page);
    }
    let lang = match lang_of(Some(&page.lang), &input, page.ctx.t.lang) {
        Ok(l) => l,
        Err(e) => {
            page.error = Some(e.message);
            return render(&page);
        }
    };
    let format = match format_of(Some(&page.format)) {
        Ok(f) => f,
        Err(e) => {
            page.error = Some(e.message);
            return render(&page);
        }
    };
    // the same people keep their pseudonyms while the employee adjusts
    let mut mapping = match f.vault.trim() {
        "" => Mapping::new(lang),
        v => unseal(&state, &who, v, &page.ctx.t).unwrap_or_else(|_| Mapping::new(lang)),
    };
    mapping.fake |= f.fake.is_some();
    page.fake = mapping.fake;
    let extra: Vec<String> = f.extra.lines().map(str::to_owned).collect();
    let job = Job { text: &input, lang, format, mapping, extra: &extra, keep: &keep };
    match run(&state, &who, &ip.0.to_string(), job).await {
        Ok(mut out) => {
            // a document: the same key replaces the values inside its runs
            if let Some(bytes) = &office {
                let engine = Pseudonymiser::new().with_terms((*state.pseudo_terms).clone().with_values(&extra)).keeping(&keep);
                let (bytes, mut mapping) = (bytes.clone(), std::mem::replace(&mut out.mapping, Mapping::new(lang)));
                let done = tokio::task::spawn_blocking(move || {
                    let r = veilig_pseudo::office::pseudonymise(&bytes, &engine, &mut mapping);
                    (r, mapping)
                })
                .await;
                let Ok((result, mapping)) = done else { return ApiError::internal("the pseudonymiser stopped").into_response() };
                out.mapping = mapping;
                match result {
                    Ok((doc, _, _)) => {
                        let stem = f.file_name.rsplit_once('.').map(|(s, _)| s).unwrap_or("document");
                        let ext = f.file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_else(|| "docx".into());
                        let name: String =
                            format!("{stem}-pseudo.{ext}").chars().filter(|c| c.is_alphanumeric() || "-_. ".contains(*c)).collect();
                        out.text = veilig_pseudo::office::text(&doc).unwrap_or_default();
                        page.document = Some((name, base64::engine::general_purpose::STANDARD.encode(doc)));
                    }
                    Err(e) => {
                        page.error = Some(format!("{}: {e}", page.ctx.t.t("pseudo.upload_bad")));
                        return render(&page);
                    }
                }
            }
            page.vault = match seal(&state, &who, &out.mapping) {
                Ok(v) => v,
                Err(e) => return e.into_response(),
            };
            review(&mut page, &input, &out.spans);
            page.result = Some(out.text);
            render(&page)
        }
        Err(e) if e.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY => {
            page.error = Some(e.message);
            render(&page)
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct RestoreForm {
    #[serde(default)]
    answer: String,
    #[serde(default)]
    vault: String,
}

async fn page_restore(
    State(state): State<AppState>,
    Signed(who): Signed,
    ctx: PageCtx,
    crate::auth::CsrfForm(f): crate::auth::CsrfForm<RestoreForm>,
) -> Response {
    let mut page = PseudoPage::empty(ctx);
    page.answer = f.answer.replace("\r\n", "\n");
    page.vault = f.vault.clone();
    if page.answer.len() > MAX_TEXT {
        page.error = Some(format!("> {} MB", MAX_TEXT >> 20));
        return render(&page);
    }
    match unseal(&state, &who, &f.vault, &page.ctx.t) {
        Ok(mapping) => {
            let out = veilig_pseudo::restore::restore(&page.answer, &mapping);
            page.restored = Some(out.text);
            page.unmatched = out.unmatched;
        }
        Err(e) => page.error = Some(e.message),
    }
    render(&page)
}
