//! The cloud register's tables: services, evidence and employees' reports.

use crate::Result;
use crate::db::{Arg, Row, Store, Tx};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CloudServiceRecord {
    pub id: String,
    pub catalog_id: Option<String>,
    pub name: String,
    pub vendor: String,
    pub website: String,
    pub country: String,
    /// JSON arrays.
    pub functions: String,
    pub domains: String,
    /// `approved`, `tolerated`, `under_review`, `to_be_replaced` or `not_allowed`.
    pub status: String,
    pub owner: String,
    pub alternatives: String,
    pub data_personal: bool,
    pub data_special: bool,
    /// JSON array of group names.
    pub user_groups: String,
    /// Short guidance for employees.
    pub guidance: String,
    /// The assessment's answers (JSON).
    pub answers: String,
    pub review_due_ms: Option<i64>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRecord {
    pub id: String,
    pub service_id: String,
    pub question: String,
    pub url: Option<String>,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub size: i64,
    pub sha256: Option<String>,
    /// `YYYY-MM-DD`: when what it shows was true.
    pub dated: String,
    pub added_by: String,
    pub added_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudReportRecord {
    pub id: String,
    pub user_id: String,
    pub user_email: String,
    pub what: String,
    pub purpose: String,
    pub data: String,
    /// `open`, `approved`, `rejected` or `question`.
    pub status: String,
    pub reply: String,
    pub service_id: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

const SERVICE: &str = "SELECT id, catalog_id, name, vendor, website, country, functions, domains, status, owner, alternatives, \
                       data_personal, data_special, user_groups, guidance, answers, review_due_ms, created_ms, updated_ms FROM cloud_services";
const EVIDENCE: &str =
    "SELECT id, service_id, question, url, file_name, content_type, size, sha256, dated, added_by, added_ms FROM cloud_evidence";
const REPORT: &str = "SELECT r.id, r.user_id, u.email, r.what, r.purpose, r.data, r.status, r.reply, r.service_id, r.created_ms, r.updated_ms \
                      FROM cloud_reports r JOIN users u ON u.id = r.user_id";

fn service(r: &Row) -> Result<CloudServiceRecord> {
    Ok(CloudServiceRecord {
        id: r.text(0)?,
        catalog_id: r.opt_text(1)?,
        name: r.text(2)?,
        vendor: r.text(3)?,
        website: r.text(4)?,
        country: r.text(5)?,
        functions: r.text(6)?,
        domains: r.text(7)?,
        status: r.text(8)?,
        owner: r.text(9)?,
        alternatives: r.text(10)?,
        data_personal: r.int(11)? != 0,
        data_special: r.int(12)? != 0,
        user_groups: r.text(13)?,
        guidance: r.text(14)?,
        answers: r.text(15)?,
        review_due_ms: r.opt_int(16)?,
        created_ms: r.int(17)?,
        updated_ms: r.int(18)?,
    })
}

fn evidence(r: &Row) -> Result<EvidenceRecord> {
    Ok(EvidenceRecord {
        id: r.text(0)?,
        service_id: r.text(1)?,
        question: r.text(2)?,
        url: r.opt_text(3)?,
        file_name: r.opt_text(4)?,
        content_type: r.opt_text(5)?,
        size: r.int(6)?,
        sha256: r.opt_text(7)?,
        dated: r.text(8)?,
        added_by: r.text(9)?,
        added_ms: r.int(10)?,
    })
}

fn report(r: &Row) -> Result<CloudReportRecord> {
    Ok(CloudReportRecord {
        id: r.text(0)?,
        user_id: r.text(1)?,
        user_email: r.text(2)?,
        what: r.text(3)?,
        purpose: r.text(4)?,
        data: r.text(5)?,
        status: r.text(6)?,
        reply: r.text(7)?,
        service_id: r.opt_text(8)?,
        created_ms: r.int(9)?,
        updated_ms: r.int(10)?,
    })
}

impl Store {
    pub async fn cloud_services(&self) -> Result<Vec<CloudServiceRecord>> {
        self.fetch_all(&format!("{SERVICE} ORDER BY name_key"), &[]).await?.iter().map(service).collect()
    }

    pub async fn cloud_service(&self, id: &str) -> Result<Option<CloudServiceRecord>> {
        self.fetch_optional(&format!("{SERVICE} WHERE id = $1"), &[id.into()]).await?.as_ref().map(service).transpose()
    }

    pub async fn cloud_evidence_of(&self, service_id: &str) -> Result<Vec<EvidenceRecord>> {
        self.fetch_all(&format!("{EVIDENCE} WHERE service_id = $1 ORDER BY question, added_ms"), &[service_id.into()])
            .await?
            .iter()
            .map(evidence)
            .collect()
    }

    /// An evidence document's bytes: (record, content).
    pub async fn cloud_evidence_file(&self, id: &str) -> Result<Option<(EvidenceRecord, Vec<u8>)>> {
        let Some(row) = self.fetch_optional(&format!("{EVIDENCE} WHERE id = $1"), &[id.into()]).await? else { return Ok(None) };
        let rec = evidence(&row)?;
        let content = self.fetch_one("SELECT content FROM cloud_evidence WHERE id = $1", &[id.into()]).await?;
        let bytes = if rec.file_name.is_some() { content.bytes(0)? } else { Vec::new() };
        Ok(Some((rec, bytes)))
    }

    pub async fn cloud_reports(&self, status: Option<&str>) -> Result<Vec<CloudReportRecord>> {
        match status {
            Some(s) => self.fetch_all(&format!("{REPORT} WHERE r.status = $1 ORDER BY r.created_ms DESC"), &[s.into()]).await,
            None => self.fetch_all(&format!("{REPORT} ORDER BY r.created_ms DESC"), &[]).await,
        }?
        .iter()
        .map(report)
        .collect()
    }

    pub async fn cloud_reports_of(&self, user_id: &str) -> Result<Vec<CloudReportRecord>> {
        self.fetch_all(&format!("{REPORT} WHERE r.user_id = $1 ORDER BY r.created_ms DESC"), &[user_id.into()])
            .await?
            .iter()
            .map(report)
            .collect()
    }

    pub async fn cloud_report(&self, id: &str) -> Result<Option<CloudReportRecord>> {
        self.fetch_optional(&format!("{REPORT} WHERE r.id = $1"), &[id.into()]).await?.as_ref().map(report).transpose()
    }
}

impl Tx {
    pub async fn cloud_service_by_key(&mut self, name_key: &str, catalog_id: Option<&str>) -> Result<Option<String>> {
        self.fetch_optional(
            "SELECT id FROM cloud_services WHERE name_key = $1 OR (catalog_id IS NOT NULL AND catalog_id = $2)",
            &[name_key.into(), Arg::OptText(catalog_id.map(str::to_owned))],
        )
        .await?
        .map(|r| r.text(0))
        .transpose()
    }

    pub async fn cloud_service_upsert(&mut self, s: &CloudServiceRecord, name_key: &str) -> Result<()> {
        let b = |v: bool| Arg::Int(i64::from(v));
        self.execute(
            "INSERT INTO cloud_services (id, catalog_id, name, name_key, vendor, website, country, functions, domains, status, owner, \
             alternatives, data_personal, data_special, user_groups, guidance, answers, review_due_ms, created_ms, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) \
             ON CONFLICT (id) DO UPDATE SET name = $3, name_key = $4, vendor = $5, website = $6, country = $7, functions = $8, \
             domains = $9, status = $10, owner = $11, alternatives = $12, data_personal = $13, data_special = $14, user_groups = $15, \
             guidance = $16, answers = $17, review_due_ms = $18, updated_ms = $20",
            &[
                s.id.as_str().into(),
                Arg::OptText(s.catalog_id.clone()),
                s.name.as_str().into(),
                name_key.into(),
                s.vendor.as_str().into(),
                s.website.as_str().into(),
                s.country.as_str().into(),
                s.functions.as_str().into(),
                s.domains.as_str().into(),
                s.status.as_str().into(),
                s.owner.as_str().into(),
                s.alternatives.as_str().into(),
                b(s.data_personal),
                b(s.data_special),
                s.user_groups.as_str().into(),
                s.guidance.as_str().into(),
                s.answers.as_str().into(),
                Arg::OptInt(s.review_due_ms),
                Arg::Int(s.created_ms),
                Arg::Int(s.updated_ms),
            ],
        )
        .await
        .map(|_| ())
    }

    pub async fn cloud_service_delete(&mut self, id: &str) -> Result<u64> {
        self.execute("DELETE FROM cloud_services WHERE id = $1", &[id.into()]).await
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn cloud_evidence_insert(&mut self, e: &EvidenceRecord, content: Option<&[u8]>) -> Result<()> {
        self.execute(
            "INSERT INTO cloud_evidence (id, service_id, question, url, file_name, content_type, content, size, sha256, dated, added_by, added_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            &[
                e.id.as_str().into(),
                e.service_id.as_str().into(),
                e.question.as_str().into(),
                Arg::OptText(e.url.clone()),
                Arg::OptText(e.file_name.clone()),
                Arg::OptText(e.content_type.clone()),
                Arg::Bytes(content.unwrap_or_default().to_vec()),
                Arg::Int(e.size),
                Arg::OptText(e.sha256.clone()),
                e.dated.as_str().into(),
                e.added_by.as_str().into(),
                Arg::Int(e.added_ms),
            ],
        )
        .await
        .map(|_| ())
    }

    pub async fn cloud_report_insert(&mut self, r: &CloudReportRecord) -> Result<()> {
        self.execute(
            "INSERT INTO cloud_reports (id, user_id, what, purpose, data, status, reply, service_id, created_ms, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                r.id.as_str().into(),
                r.user_id.as_str().into(),
                r.what.as_str().into(),
                r.purpose.as_str().into(),
                r.data.as_str().into(),
                r.status.as_str().into(),
                r.reply.as_str().into(),
                Arg::OptText(r.service_id.clone()),
                Arg::Int(r.created_ms),
                Arg::Int(r.updated_ms),
            ],
        )
        .await
        .map(|_| ())
    }

    pub async fn cloud_report_answer(&mut self, id: &str, status: &str, reply: &str, service_id: Option<&str>, now_ms: i64) -> Result<u64> {
        self.execute(
            "UPDATE cloud_reports SET status = $1, reply = $2, service_id = COALESCE($3, service_id), updated_ms = $4 WHERE id = $5",
            &[status.into(), reply.into(), Arg::OptText(service_id.map(str::to_owned)), Arg::Int(now_ms), id.into()],
        )
        .await
    }
}
