//! The register's service.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use veilig_audit::Entry;
use veilig_cloud::assess::{self, Answers, DataKinds, Risk};
use veilig_cloud::catalog::FUNCTIONS;
use veilig_cloud::{Catalog, Findings, Service, ServiceFinding};
use veilig_core::{Event, EventBus, SharedClock};
use veilig_store::{CloudReportRecord, CloudServiceRecord, EvidenceRecord, Store, StoreError};

/// The statuses a service can have, from most to least welcome.
pub const STATUSES: &[&str] = &["approved", "tolerated", "under_review", "to_be_replaced", "not_allowed"];
/// Evidence documents up to this size.
pub const MAX_EVIDENCE_BYTES: usize = 10 << 20;
/// Reviews at most this far ahead.
const YEAR_MS: i64 = 365 * 86_400_000;
/// Open reports per employee at most.
const MAX_OPEN_REPORTS: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

type Result<T, E = RegisterError> = std::result::Result<T, E>;

#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: String,
    pub email: String,
    pub ip: String,
    pub staff: bool,
}

impl Actor {
    fn entry(&self, action: &str, target: &str) -> Entry {
        Entry::new(&self.email, action, target).ip(&self.ip)
    }
    fn staff_only(&self) -> Result<()> {
        if self.staff {
            Ok(())
        } else {
            Err(RegisterError::Forbidden("only administrators and security officers change the register".into()))
        }
    }
}

/// A service as the pages and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceView {
    pub id: String,
    pub catalog_id: Option<String>,
    pub name: String,
    pub vendor: String,
    pub website: String,
    pub country: String,
    pub functions: Vec<String>,
    pub domains: Vec<String>,
    pub status: String,
    pub owner: String,
    pub alternatives: String,
    pub data_personal: bool,
    pub data_special: bool,
    pub groups: Vec<String>,
    pub guidance: String,
    pub answers: Answers,
    pub risk: Risk,
    pub review_due_ms: Option<i64>,
    /// The review date has passed.
    pub review_overdue: bool,
    pub evidence: Vec<Evidence>,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    pub id: String,
    pub question: String,
    pub url: Option<String>,
    pub file_name: Option<String>,
    pub size: i64,
    pub sha256: Option<String>,
    pub dated: String,
    pub added_by: String,
    pub added_ms: i64,
}

impl From<EvidenceRecord> for Evidence {
    fn from(e: EvidenceRecord) -> Self {
        Evidence {
            id: e.id,
            question: e.question,
            url: e.url,
            file_name: e.file_name,
            size: e.size,
            sha256: e.sha256,
            dated: e.dated,
            added_by: e.added_by,
            added_ms: e.added_ms,
        }
    }
}

/// A service not in the catalog.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewService {
    pub name: String,
    #[serde(default)]
    pub vendor: String,
    #[serde(default)]
    pub website: String,
    #[serde(default)]
    pub country: String,
    pub functions: Vec<String>,
    #[serde(default)]
    pub domains: Vec<String>,
}

/// A change to a service; `None` keeps what is there.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Update {
    pub status: Option<String>,
    pub owner: Option<String>,
    pub alternatives: Option<String>,
    pub data_personal: Option<bool>,
    pub data_special: Option<bool>,
    pub groups: Option<Vec<String>>,
    pub guidance: Option<String>,
    /// `YYYY-MM-DD`, at most a year ahead.
    pub review_due: Option<String>,
    /// From the fixed vocabulary (`veilig_cloud::catalog::FUNCTIONS`).
    pub functions: Option<Vec<String>>,
    pub domains: Option<Vec<String>>,
}

/// An evidence document.
#[derive(Debug, Clone)]
pub struct Upload {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// The security officer's answer to an employee's report.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Approve: link the register entry (an existing one, or made from the catalog).
    Approve {
        #[serde(default)]
        service_id: Option<String>,
        #[serde(default)]
        catalog_id: Option<String>,
        #[serde(default)]
        reply: String,
    },
    /// Reject, naming the safer alternative.
    Reject {
        alternative: String,
        #[serde(default)]
        reply: String,
    },
    /// Ask the employee something.
    Question { reply: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportView {
    pub id: String,
    pub user: String,
    pub what: String,
    pub purpose: String,
    pub data: String,
    /// `open`, `approved`, `rejected` or `question`.
    pub status: String,
    pub reply: String,
    pub service_id: Option<String>,
    /// What the catalog knows of the reported name or address, if anything.
    pub catalog_id: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// The approved services for one function.
#[derive(Debug, Clone, Serialize)]
pub struct WhichTool {
    pub function: String,
    pub services: Vec<(String, String, String)>,
}

const DISCOVERY_KEY: &str = "cloud.discovery";

/// The last discovery run: each service found with its register status (`not_in_register`
/// when the register has no entry for it yet).
#[derive(Debug, Clone, Serialize)]
pub struct Discovered {
    pub at_ms: i64,
    pub source: String,
    pub services: Vec<(ServiceFinding, String)>,
    pub findings: Findings,
}

struct Inner {
    store: Store,
    clock: SharedClock,
    bus: EventBus,
    catalog: Catalog,
}

/// The cloud register. Cheap to clone.
#[derive(Clone)]
pub struct Register {
    inner: Arc<Inner>,
}

fn key(name: &str) -> String {
    name.trim().to_lowercase()
}

fn line(field: &str, s: &str, max: usize) -> Result<String> {
    let s = s.trim();
    if s.chars().count() > max || s.contains(|c: char| c.is_control() && c != '\n') {
        return Err(RegisterError::Invalid(format!("{field}: at most {max} characters")));
    }
    Ok(s.to_owned())
}

fn check_functions(functions: &[String]) -> Result<()> {
    if functions.is_empty() || functions.iter().any(|f| !FUNCTIONS.contains(&f.as_str())) {
        return Err(RegisterError::Invalid(format!("functions: one or more of {}", FUNCTIONS.join(", "))));
    }
    Ok(())
}

/// Domain names as the register keeps them: lower case, no final dot, each once, at most 50.
fn check_domains(domains: &[String]) -> Result<Vec<String>> {
    if domains.len() > 50 {
        return Err(RegisterError::Invalid("domains: at most 50".into()));
    }
    let mut out = Vec::new();
    for d in domains {
        let d = d.trim().trim_end_matches('.').to_lowercase();
        if d.is_empty() || d.len() > 253 || !d.contains('.') || !d.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') {
            return Err(RegisterError::Invalid(format!("domains: '{d}' is not a domain name such as example.com")));
        }
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn day_ms(s: &str) -> Option<i64> {
    assess::parse_day(s).map(|d| d * 86_400_000)
}

/// What an evidence document is, by its first bytes: PDF, PNG, JPEG, or OOXML/ODF (ZIP); plain
/// text only as valid UTF-8. Anything else is refused.
fn document_type(name: &str, b: &[u8]) -> Option<&'static str> {
    let lower = name.to_lowercase();
    if b.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if b.starts_with(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if b.starts_with(b"PK\x03\x04") && (lower.ends_with(".docx") || lower.ends_with(".odt") || lower.ends_with(".xlsx")) {
        Some("application/zip")
    } else if (lower.ends_with(".txt") || lower.ends_with(".md")) && std::str::from_utf8(b).is_ok() {
        Some("text/plain; charset=utf-8")
    } else {
        None
    }
}

impl Register {
    pub fn new(store: Store, clock: SharedClock, bus: EventBus) -> Result<Register, String> {
        let catalog = Catalog::shipped().map_err(|e| e.to_string())?;
        Ok(Register { inner: Arc::new(Inner { store, clock, bus, catalog }) })
    }

    pub fn catalog(&self) -> &Catalog {
        &self.inner.catalog
    }

    fn today(&self) -> i64 {
        self.inner.clock.now_ms().div_euclid(86_400_000)
    }

    fn view(&self, r: CloudServiceRecord, evidence: Vec<EvidenceRecord>) -> ServiceView {
        let answers: Answers = serde_json::from_str(&r.answers).unwrap_or_default();
        let risk = assess::score(&answers, DataKinds { personal: r.data_personal, special: r.data_special }, self.today());
        let list = |s: &str| serde_json::from_str::<Vec<String>>(s).unwrap_or_default();
        ServiceView {
            review_overdue: r.review_due_ms.is_some_and(|d| d < self.inner.clock.now_ms()),
            functions: list(&r.functions),
            domains: list(&r.domains),
            groups: list(&r.user_groups),
            answers,
            risk,
            evidence: evidence.into_iter().map(Evidence::from).collect(),
            id: r.id,
            catalog_id: r.catalog_id,
            name: r.name,
            vendor: r.vendor,
            website: r.website,
            country: r.country,
            status: r.status,
            owner: r.owner,
            alternatives: r.alternatives,
            data_personal: r.data_personal,
            data_special: r.data_special,
            guidance: r.guidance,
            review_due_ms: r.review_due_ms,
            updated_ms: r.updated_ms,
        }
    }

    /// Every service in the register, by name.
    pub async fn services(&self) -> Result<Vec<ServiceView>> {
        Ok(self.inner.store.cloud_services().await?.into_iter().map(|r| self.view(r, Vec::new())).collect())
    }

    pub async fn service(&self, id: &str) -> Result<ServiceView> {
        let r = self.inner.store.cloud_service(id).await?.ok_or(RegisterError::NotFound)?;
        let evidence = self.inner.store.cloud_evidence_of(id).await?;
        Ok(self.view(r, evidence))
    }

    async fn insert(&self, actor: &Actor, mut rec: CloudServiceRecord, action: &str) -> Result<ServiceView> {
        let now = self.inner.clock.now_ms();
        rec.id = veilig_core::random_id();
        rec.created_ms = now;
        rec.updated_ms = now;
        rec.answers = "{}".into();
        rec.user_groups = "[]".into();
        let k = key(&rec.name);
        let mut tx = self.inner.store.begin().await?;
        if tx.cloud_service_by_key(&k, rec.catalog_id.as_deref()).await?.is_some() {
            return Err(RegisterError::Conflict(format!("{} is in the register already", rec.name)));
        }
        tx.cloud_service_upsert(&rec, &k).await?;
        tx.audit(now, &actor.entry(action, &rec.name).details(serde_json::json!({ "id": rec.id, "status": rec.status }))).await?;
        tx.commit().await?;
        Ok(self.view(rec, Vec::new()))
    }

    /// Starts a register entry from the catalog (status *under review* unless given).
    pub async fn add_from_catalog(&self, actor: &Actor, catalog_id: &str, status: Option<&str>) -> Result<ServiceView> {
        actor.staff_only()?;
        let s: &Service = self
            .inner
            .catalog
            .by_id(catalog_id)
            .ok_or_else(|| RegisterError::Invalid(format!("catalog_id: the catalog has no service '{catalog_id}'")))?;
        let status = status.unwrap_or("under_review");
        if !STATUSES.contains(&status) {
            return Err(RegisterError::Invalid(format!("status: one of {}", STATUSES.join(", "))));
        }
        let rec = CloudServiceRecord {
            catalog_id: Some(s.id.clone()),
            name: s.name.clone(),
            vendor: s.vendor.clone(),
            website: s.website.clone(),
            country: s.country.clone(),
            functions: json(&s.functions),
            domains: json(&s.domains),
            status: status.into(),
            ..CloudServiceRecord::default()
        };
        self.insert(actor, rec, "cloud.service_added").await
    }

    /// A service the catalog does not know.
    pub async fn add(&self, actor: &Actor, n: &NewService) -> Result<ServiceView> {
        actor.staff_only()?;
        let name = line("name", &n.name, 100)?;
        if name.is_empty() {
            return Err(RegisterError::Invalid("name: give the service's name".into()));
        }
        check_functions(&n.functions)?;
        let domains = check_domains(&n.domains)?;
        let website = line("website", &n.website, 300)?;
        if !website.is_empty() && !website.starts_with("https://") && !website.starts_with("http://") {
            return Err(RegisterError::Invalid("website: an address starting with https://".into()));
        }
        let rec = CloudServiceRecord {
            name,
            vendor: line("vendor", &n.vendor, 200)?,
            website,
            country: line("country", &n.country, 2)?.to_uppercase(),
            functions: json(&n.functions),
            domains: json(&domains),
            status: "under_review".into(),
            ..CloudServiceRecord::default()
        };
        self.insert(actor, rec, "cloud.service_added").await
    }

    pub async fn update(&self, actor: &Actor, id: &str, u: &Update) -> Result<ServiceView> {
        actor.staff_only()?;
        let mut r = self.inner.store.cloud_service(id).await?.ok_or(RegisterError::NotFound)?;
        let now = self.inner.clock.now_ms();
        if let Some(s) = &u.status {
            if !STATUSES.contains(&s.as_str()) {
                return Err(RegisterError::Invalid(format!("status: one of {}", STATUSES.join(", "))));
            }
            r.status = s.clone();
        }
        if let Some(o) = &u.owner {
            r.owner = line("owner", o, 200)?;
        }
        if let Some(a) = &u.alternatives {
            r.alternatives = line("alternatives", a, 500)?;
        }
        if let Some(g) = &u.guidance {
            r.guidance = line("guidance", g, 1000)?;
        }
        if let Some(p) = u.data_personal {
            r.data_personal = p;
        }
        if let Some(s) = u.data_special {
            r.data_special = s;
            r.data_personal |= s;
        }
        if let Some(functions) = &u.functions {
            check_functions(functions)?;
            r.functions = json(functions);
        }
        if let Some(domains) = &u.domains {
            r.domains = json(&check_domains(domains)?);
        }
        if let Some(groups) = &u.groups {
            let groups: Vec<String> = groups.iter().map(|g| g.trim().to_owned()).filter(|g| !g.is_empty()).collect();
            if groups.len() > 50 || groups.iter().any(|g| g.len() > 100) {
                return Err(RegisterError::Invalid("groups: at most 50 group names".into()));
            }
            r.user_groups = json(&groups);
        }
        if let Some(d) = &u.review_due {
            let due = day_ms(d).ok_or_else(|| RegisterError::Invalid("review_due: a date such as 2027-06-30".into()))?;
            if due > now + YEAR_MS {
                return Err(RegisterError::Invalid("review_due: at most a year ahead".into()));
            }
            r.review_due_ms = Some(due);
        }
        r.updated_ms = now;
        let mut tx = self.inner.store.begin().await?;
        tx.cloud_service_upsert(&r, &key(&r.name)).await?;
        let details =
            serde_json::json!({ "status": r.status, "owner": r.owner, "data_personal": r.data_personal, "data_special": r.data_special });
        tx.audit(now, &actor.entry("cloud.service_changed", &r.name).details(details)).await?;
        tx.commit().await?;
        self.service(id).await
    }

    /// Replaces the assessment's answers; the next review is set a year ahead (or kept when it
    /// is sooner).
    pub async fn assess(&self, actor: &Actor, id: &str, answers: &Answers) -> Result<ServiceView> {
        actor.staff_only()?;
        for (field, d) in [
            ("iso27001_expires", &answers.iso27001_expires),
            ("soc2_period_end", &answers.soc2_period_end),
            ("dpa_date", &answers.dpa_date),
            ("terms_reviewed", &answers.terms_reviewed),
        ] {
            if let Some(d) = d
                && assess::parse_day(d).is_none()
            {
                return Err(RegisterError::Invalid(format!("{field}: a date such as 2026-11-27")));
            }
        }
        let texts = [
            &answers.jurisdiction,
            &answers.iso27001_scope,
            &answers.iso27001_issuer,
            &answers.subprocessors,
            &answers.exit_plan,
            &answers.terms_notes,
        ];
        if texts.iter().any(|t| t.as_deref().is_some_and(|t| t.len() > 2000)) {
            return Err(RegisterError::Invalid("answers: at most 2000 characters per text".into()));
        }
        let mut r = self.inner.store.cloud_service(id).await?.ok_or(RegisterError::NotFound)?;
        let now = self.inner.clock.now_ms();
        r.answers = json(answers);
        r.review_due_ms = Some(r.review_due_ms.filter(|d| *d > now && *d <= now + YEAR_MS).unwrap_or(now + YEAR_MS));
        r.updated_ms = now;
        let risk = assess::score(answers, DataKinds { personal: r.data_personal, special: r.data_special }, self.today());
        let mut tx = self.inner.store.begin().await?;
        tx.cloud_service_upsert(&r, &key(&r.name)).await?;
        tx.audit(now, &actor.entry("cloud.assessed", &r.name).details(serde_json::json!({ "score": risk.score, "level": risk.level })))
            .await?;
        tx.commit().await?;
        self.service(id).await
    }

    /// Evidence for one answer: a link (`https://…`) or a document (PDF, PNG, JPEG, DOCX/ODT/XLSX,
    /// text; at most 10 MB), with the date it shows.
    pub async fn add_evidence(
        &self,
        actor: &Actor,
        id: &str,
        question: &str,
        url: Option<&str>,
        upload: Option<Upload>,
        dated: &str,
    ) -> Result<Evidence> {
        actor.staff_only()?;
        let known: Vec<String> = serde_json::to_value(Answers::default())
            .ok()
            .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
            .unwrap_or_default();
        if !known.iter().any(|k| k == question) {
            return Err(RegisterError::Invalid(format!("question: one of {}", known.join(", "))));
        }
        if assess::parse_day(dated).is_none() {
            return Err(RegisterError::Invalid("dated: the date the evidence shows, such as 2026-11-27".into()));
        }
        let service = self.inner.store.cloud_service(id).await?.ok_or(RegisterError::NotFound)?;
        let now = self.inner.clock.now_ms();
        let mut rec = EvidenceRecord {
            id: veilig_core::random_id(),
            service_id: id.into(),
            question: question.into(),
            url: None,
            file_name: None,
            content_type: None,
            size: 0,
            sha256: None,
            dated: dated.trim().into(),
            added_by: actor.email.clone(),
            added_ms: now,
        };
        let content = match (url.map(str::trim).filter(|u| !u.is_empty()), upload) {
            (Some(u), None) => {
                if !u.starts_with("https://") || u.len() > 1000 || u.contains(char::is_whitespace) {
                    return Err(RegisterError::Invalid("url: a link starting with https://".into()));
                }
                rec.url = Some(u.into());
                None
            }
            (None, Some(f)) => {
                if f.bytes.len() > MAX_EVIDENCE_BYTES {
                    return Err(RegisterError::Invalid("file: at most 10 MB".into()));
                }
                let Some(kind) = document_type(&f.file_name, &f.bytes) else {
                    return Err(RegisterError::Invalid("file: a PDF, PNG, JPEG, DOCX, ODT, XLSX or text file".into()));
                };
                let name: String = f.file_name.chars().filter(|c| !c.is_control() && !matches!(c, '/' | '\\' | '"')).take(120).collect();
                rec.file_name = Some(if name.is_empty() { "evidence".into() } else { name });
                rec.content_type = Some(kind.into());
                rec.size = f.bytes.len() as i64;
                rec.sha256 = Some(hex::encode(Sha256::digest(&f.bytes)));
                Some(f.bytes)
            }
            _ => return Err(RegisterError::Invalid("evidence: give either a link or a document".into())),
        };
        let mut tx = self.inner.store.begin().await?;
        tx.cloud_evidence_insert(&rec, content.as_deref()).await?;
        let details =
            serde_json::json!({ "question": question, "url": rec.url, "file": rec.file_name, "sha256": rec.sha256, "dated": rec.dated });
        tx.audit(now, &actor.entry("cloud.evidence_added", &service.name).details(details)).await?;
        tx.commit().await?;
        Ok(rec.into())
    }

    pub async fn evidence_file(&self, id: &str) -> Result<(Evidence, String, Vec<u8>)> {
        let (rec, bytes) = self.inner.store.cloud_evidence_file(id).await?.ok_or(RegisterError::NotFound)?;
        let kind = rec.content_type.clone().unwrap_or_else(|| "application/octet-stream".into());
        if rec.file_name.is_none() {
            return Err(RegisterError::NotFound);
        }
        Ok((rec.into(), kind, bytes))
    }

    pub async fn remove(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.staff_only()?;
        let r = self.inner.store.cloud_service(id).await?.ok_or(RegisterError::NotFound)?;
        let now = self.inner.clock.now_ms();
        let mut tx = self.inner.store.begin().await?;
        tx.cloud_service_delete(id).await?;
        tx.audit(now, &actor.entry("cloud.service_removed", &r.name)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Services whose review is due within `days` days or overdue, and those with a certificate
    /// or report that expired or ends within 30 days.
    pub async fn reviews_due(&self, days: i64) -> Result<Vec<ServiceView>> {
        let services = self.services().await?;
        Ok(services.into_iter().filter(|s| self.due(s, days)).collect())
    }

    /// Whether `s` is among [`Register::reviews_due`]`(days)`, for callers that hold the services.
    pub fn due(&self, s: &ServiceView, days: i64) -> bool {
        let limit = self.inner.clock.now_ms() + days * 86_400_000;
        s.review_due_ms.is_some_and(|d| d <= limit) || !s.risk.expired.is_empty() || !s.risk.expiring.is_empty()
    }

    /// Per function, the approved services with their guidance: "which tool do I use for …?".
    pub async fn which_tool(&self) -> Result<Vec<WhichTool>> {
        let services = self.services().await?;
        Ok(FUNCTIONS
            .iter()
            .filter_map(|f| {
                let list: Vec<(String, String, String)> = services
                    .iter()
                    .filter(|s| s.status == "approved" && s.functions.iter().any(|x| x == f))
                    .map(|s| (s.name.clone(), s.website.clone(), s.guidance.clone()))
                    .collect();
                (!list.is_empty()).then(|| WhichTool { function: (*f).to_owned(), services: list })
            })
            .collect())
    }

    /// The register as CSV (one row per service, the answers as columns).
    pub async fn export_csv(&self) -> Result<String> {
        let services = self.services().await?;
        let answer_keys: Vec<String> = serde_json::to_value(Answers::default())
            .ok()
            .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
            .unwrap_or_default();
        let cell = |s: &str| {
            // a leading =, +, - or @ would be a formula in a spreadsheet
            let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_owned() };
            format!("\"{}\"", s.replace('"', "\"\""))
        };
        let mut out = String::from(
            "name,vendor,website,country,functions,domains,status,owner,alternatives,personal_data,special_data,groups,risk_score,risk_level,review_due",
        );
        for k in &answer_keys {
            out.push(',');
            out.push_str(k);
        }
        out.push('\n');
        for s in &services {
            let due = s
                .review_due_ms
                .map(|ms| time::OffsetDateTime::from_unix_timestamp(ms / 1000).map(|t| t.date().to_string()).unwrap_or_default());
            let cols = [
                s.name.clone(),
                s.vendor.clone(),
                s.website.clone(),
                s.country.clone(),
                s.functions.join(" "),
                s.domains.join(" "),
                s.status.clone(),
                s.owner.clone(),
                s.alternatives.clone(),
                s.data_personal.to_string(),
                s.data_special.to_string(),
                s.groups.join(" "),
                s.risk.score.to_string(),
                s.risk.level.to_owned(),
                due.unwrap_or_default(),
            ];
            out.push_str(&cols.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
            let answers = serde_json::to_value(&s.answers).unwrap_or_default();
            for k in &answer_keys {
                let v = match &answers[k] {
                    serde_json::Value::Null => String::new(),
                    serde_json::Value::String(t) => t.clone(),
                    other => other.to_string(),
                };
                out.push(',');
                out.push_str(&cell(&v));
            }
            out.push('\n');
        }
        Ok(out)
    }

    // ---- Discovery --------------------------------------------------------------------------

    /// Keeps what a discovery run found (counts only; the 200 unknown domains with the most
    /// queries), replacing the last run, and audits the import.
    pub async fn save_discovery(&self, actor: &Actor, mut f: Findings, source: &str) -> Result<Discovered> {
        actor.staff_only()?;
        f.unknown.truncate(200);
        let now = self.inner.clock.now_ms();
        let stored = serde_json::json!({ "at_ms": now, "source": source, "findings": f });
        let entry = actor.entry("cloud.discovery_imported", source).details(serde_json::json!({
            "lines": f.lines, "queries": f.queries, "services": f.services.len(), "malformed": f.malformed
        }));
        self.inner.store.setting_set(DISCOVERY_KEY, &stored.to_string(), now, &entry).await?;
        self.discovery().await?.ok_or(RegisterError::NotFound)
    }

    /// The last discovery run with each service's place in the register.
    pub async fn discovery(&self) -> Result<Option<Discovered>> {
        let services = self.services().await?;
        self.discovery_with(&services).await
    }

    /// [`Register::discovery`] with the register's services already at hand.
    pub async fn discovery_with(&self, services: &[ServiceView]) -> Result<Option<Discovered>> {
        let Some(text) = self.inner.store.setting(DISCOVERY_KEY).await? else { return Ok(None) };
        #[derive(Deserialize)]
        struct Stored {
            at_ms: i64,
            source: String,
            findings: Findings,
        }
        let Ok(s) = serde_json::from_str::<Stored>(&text) else { return Ok(None) };
        let status_of = |catalog_id: &str| {
            services
                .iter()
                .find(|r| r.catalog_id.as_deref() == Some(catalog_id))
                .map(|r| r.status.clone())
                .unwrap_or_else(|| "not_in_register".into())
        };
        let rows = s.findings.services.iter().map(|f| (f.clone(), status_of(&f.service))).collect();
        Ok(Some(Discovered { at_ms: s.at_ms, source: s.source, services: rows, findings: s.findings }))
    }

    // ---- Employees' reports --------------------------------------------------------------

    fn report_view(&self, r: CloudReportRecord) -> ReportView {
        let host = r
            .what
            .trim()
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .split(['/', ':', ' '])
            .next()
            .unwrap_or("")
            .to_lowercase();
        let catalog_id = self
            .inner
            .catalog
            .lookup(&host)
            .and_then(|i| self.inner.catalog.get(i))
            .or_else(|| self.inner.catalog.services().iter().find(|s| s.name.eq_ignore_ascii_case(r.what.trim())))
            .map(|s| s.id.clone());
        ReportView {
            id: r.id,
            user: r.user_email,
            what: r.what,
            purpose: r.purpose,
            data: r.data,
            status: r.status,
            reply: r.reply,
            service_id: r.service_id,
            catalog_id,
            created_ms: r.created_ms,
            updated_ms: r.updated_ms,
        }
    }

    /// An employee reports a cloud service they use.
    pub async fn report(&self, actor: &Actor, what: &str, purpose: &str, data: &str) -> Result<ReportView> {
        let what = line("what", what, 300)?;
        if what.is_empty() {
            return Err(RegisterError::Invalid("what: the service's name or web address".into()));
        }
        let rec = CloudReportRecord {
            id: veilig_core::random_id(),
            user_id: actor.user_id.clone(),
            user_email: actor.email.clone(),
            what,
            purpose: line("purpose", purpose, 1000)?,
            data: line("data", data, 1000)?,
            status: "open".into(),
            reply: String::new(),
            service_id: None,
            created_ms: self.inner.clock.now_ms(),
            updated_ms: self.inner.clock.now_ms(),
        };
        let open = self.inner.store.cloud_reports_of(&actor.user_id).await?.iter().filter(|r| r.status == "open").count();
        if open >= MAX_OPEN_REPORTS {
            return Err(RegisterError::Conflict(format!("you have {open} open reports; wait for an answer first")));
        }
        let mut tx = self.inner.store.begin().await?;
        tx.cloud_report_insert(&rec).await?;
        tx.audit(rec.created_ms, &actor.entry("cloud.reported", &rec.what)).await?;
        tx.commit().await?;
        Ok(self.report_view(rec))
    }

    pub async fn reports_of(&self, user_id: &str) -> Result<Vec<ReportView>> {
        Ok(self.inner.store.cloud_reports_of(user_id).await?.into_iter().map(|r| self.report_view(r)).collect())
    }

    pub async fn reports(&self, status: Option<&str>) -> Result<Vec<ReportView>> {
        Ok(self.inner.store.cloud_reports(status).await?.into_iter().map(|r| self.report_view(r)).collect())
    }

    /// The security officer answers a report; the employee is told by mail and on the page.
    pub async fn triage(&self, actor: &Actor, report_id: &str, d: &Decision) -> Result<ReportView> {
        actor.staff_only()?;
        let r = self.inner.store.cloud_report(report_id).await?.ok_or(RegisterError::NotFound)?;
        let (status, reply, service_id) = match d {
            Decision::Approve { service_id, catalog_id, reply } => {
                let id = match (service_id, catalog_id) {
                    (Some(id), _) => self.inner.store.cloud_service(id).await?.ok_or(RegisterError::NotFound)?.id,
                    (None, Some(c)) => match self.add_from_catalog(actor, c, Some("approved")).await {
                        Ok(s) => s.id,
                        Err(RegisterError::Conflict(_)) => self
                            .services()
                            .await?
                            .into_iter()
                            .find(|s| s.catalog_id.as_deref() == Some(c.as_str()))
                            .map(|s| s.id)
                            .ok_or(RegisterError::NotFound)?,
                        Err(e) => return Err(e),
                    },
                    (None, None) => {
                        return Err(RegisterError::Invalid(
                            "approve: name the register entry (service_id) or the catalog's (catalog_id)".into(),
                        ));
                    }
                };
                ("approved", line("reply", reply, 1000)?, Some(id))
            }
            Decision::Reject { alternative, reply } => {
                let alternative = line("alternative", alternative, 300)?;
                if alternative.is_empty() {
                    return Err(RegisterError::Invalid("alternative: name the safer service to use instead".into()));
                }
                let reply = line("reply", reply, 1000)?;
                ("rejected", if reply.is_empty() { alternative } else { format!("{alternative} — {reply}") }, None)
            }
            Decision::Question { reply } => {
                let reply = line("reply", reply, 1000)?;
                if reply.is_empty() {
                    return Err(RegisterError::Invalid("reply: the question to the employee".into()));
                }
                ("question", reply, None)
            }
        };
        let now = self.inner.clock.now_ms();
        let mut tx = self.inner.store.begin().await?;
        tx.cloud_report_answer(report_id, status, &reply, service_id.as_deref(), now).await?;
        tx.audit(
            now,
            &actor.entry("cloud.report_answered", &r.what).details(serde_json::json!({ "status": status, "reporter": r.user_email })),
        )
        .await?;
        tx.commit().await?;
        self.inner.bus.publish(Event::CloudReportAnswered {
            user_id: r.user_id.clone(),
            what: r.what.clone(),
            status: status.to_owned(),
            reply: reply.clone(),
        });
        let updated = self.inner.store.cloud_report(report_id).await?.ok_or(RegisterError::NotFound)?;
        Ok(self.report_view(updated))
    }
}
