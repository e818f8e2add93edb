//! The phishing desk's tables: reports, the campaigns they are grouped into (by sender,
//! subject pattern, URL or attachment hash) and the security officer's notes.

use veilig_audit::Entry;

use crate::Result;
use crate::db::{Arg, Row, Store};

/// One employee's report of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhishReportRecord {
    pub id: String,
    pub campaign_id: String,
    /// `mid:<Message-ID of the report>` or `sha:<SHA-256 of its bytes>`: the same report is
    /// never handled twice.
    pub report_key: String,
    /// The reporter's address, lower case.
    pub reporter: String,
    /// `attached`, `inline` or `direct`.
    pub form: String,
    /// The reported message's From address and subject.
    pub sender: String,
    pub subject: String,
    /// `phishing`, `suspicious` or `clean`, as the engine said.
    pub verdict: String,
    pub score: i64,
    /// The reasons as JSON: `[{"code", "detail"}]`.
    pub reasons: String,
    pub received_ms: i64,
    pub answered_ms: Option<i64>,
    pub answer_error: Option<String>,
}

const REPORT_COLS: &str =
    "id, campaign_id, report_key, reporter, form, sender, subject, verdict, score, reasons, received_ms, answered_ms, answer_error";

fn report(r: &Row) -> Result<PhishReportRecord> {
    Ok(PhishReportRecord {
        id: r.text(0)?,
        campaign_id: r.text(1)?,
        report_key: r.text(2)?,
        reporter: r.text(3)?,
        form: r.text(4)?,
        sender: r.text(5)?,
        subject: r.text(6)?,
        verdict: r.text(7)?,
        score: r.int(8)?,
        reasons: r.text(9)?,
        received_ms: r.int(10)?,
        answered_ms: r.opt_int(11)?,
        answer_error: r.opt_text(12)?,
    })
}

/// A campaign: reports of what is probably one attack, with the security officer's handling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhishCampaignRecord {
    pub id: String,
    /// The first report's subject and sender.
    pub title: String,
    pub sender: String,
    /// The strongest verdict among its reports.
    pub verdict: String,
    /// The security officer's verdict, when they overrode the engine.
    pub override_verdict: Option<String>,
    /// `open` or `closed`.
    pub status: String,
    pub first_ms: i64,
    pub last_ms: i64,
    pub closed_by: Option<String>,
    pub closed_ms: Option<i64>,
    pub reports: i64,
    /// Distinct employees who reported it.
    pub reporters: i64,
}

impl PhishCampaignRecord {
    /// The verdict in force: the officer's, or else the engine's.
    pub fn effective_verdict(&self) -> &str {
        self.override_verdict.as_deref().unwrap_or(&self.verdict)
    }
}

const CAMPAIGN_COLS: &str = "c.id, c.title, c.sender, c.verdict, c.override, c.status, c.first_ms, c.last_ms, c.closed_by, c.closed_ms, \
     (SELECT COUNT(*) FROM phish_reports r WHERE r.campaign_id = c.id), \
     (SELECT COUNT(DISTINCT r.reporter) FROM phish_reports r WHERE r.campaign_id = c.id)";

fn campaign(r: &Row) -> Result<PhishCampaignRecord> {
    Ok(PhishCampaignRecord {
        id: r.text(0)?,
        title: r.text(1)?,
        sender: r.text(2)?,
        verdict: r.text(3)?,
        override_verdict: r.opt_text(4)?,
        status: r.text(5)?,
        first_ms: r.int(6)?,
        last_ms: r.int(7)?,
        closed_by: r.opt_text(8)?,
        closed_ms: r.opt_int(9)?,
        reports: r.int(10)?,
        reporters: r.int(11)?,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhishNoteRecord {
    pub id: String,
    pub campaign_id: String,
    pub author: String,
    pub body: String,
    pub created_ms: i64,
}

/// How strong a verdict is, for keeping a campaign's strongest.
fn rank(verdict: &str) -> u8 {
    match verdict {
        "phishing" => 2,
        "suspicious" => 1,
        _ => 0,
    }
}

impl Store {
    /// The report with this key, if it was stored before.
    pub async fn phish_report_by_key(&self, key: &str) -> Result<Option<PhishReportRecord>> {
        self.fetch_optional(&format!("SELECT {REPORT_COLS} FROM phish_reports WHERE report_key = $1"), &[key.into()])
            .await?
            .as_ref()
            .map(report)
            .transpose()
    }

    /// Stores a report in the campaign that shares one of `keys` (kind, value) with it, or in
    /// a new campaign (id `new_campaign_id`), with its audit record; returns the campaign's id.
    /// `r.campaign_id` is ignored.
    pub async fn phish_report_insert(
        &self,
        r: &PhishReportRecord,
        keys: &[(String, String)],
        new_campaign_id: &str,
        entry: &Entry,
    ) -> Result<String> {
        let mut tx = self.begin().await?;
        let mut found: Option<(String, String)> = None;
        for (kind, value) in keys {
            if let Some(row) = tx
                .fetch_optional(
                    "SELECT k.campaign_id, c.verdict FROM phish_campaign_keys k JOIN phish_campaigns c ON c.id = k.campaign_id \
                     WHERE k.kind = $1 AND k.value = $2",
                    &[kind.into(), value.into()],
                )
                .await?
            {
                found = Some((row.text(0)?, row.text(1)?));
                break;
            }
        }
        let campaign_id = match found {
            Some((id, verdict)) => {
                let strongest = if rank(&r.verdict) > rank(&verdict) { r.verdict.clone() } else { verdict };
                // A new report of a closed campaign opens it again: the attack is still going on.
                tx.execute(
                    "UPDATE phish_campaigns SET verdict = $1, last_ms = $2, status = 'open', closed_by = NULL, closed_ms = NULL WHERE id = $3",
                    &[strongest.into(), Arg::Int(r.received_ms), (&id).into()],
                )
                .await?;
                id
            }
            None => {
                tx.execute(
                    "INSERT INTO phish_campaigns (id, title, sender, verdict, override, status, first_ms, last_ms, closed_by, closed_ms) \
                     VALUES ($1, $2, $3, $4, NULL, 'open', $5, $5, NULL, NULL)",
                    &[new_campaign_id.into(), (&r.subject).into(), (&r.sender).into(), (&r.verdict).into(), Arg::Int(r.received_ms)],
                )
                .await?;
                new_campaign_id.to_owned()
            }
        };
        for (kind, value) in keys {
            let sql = match self.dialect() {
                crate::Dialect::Sqlite => "INSERT OR IGNORE INTO phish_campaign_keys (kind, value, campaign_id) VALUES ($1, $2, $3)",
                crate::Dialect::Postgres => {
                    "INSERT INTO phish_campaign_keys (kind, value, campaign_id) VALUES ($1, $2, $3) ON CONFLICT (kind, value) DO NOTHING"
                }
            };
            tx.execute(sql, &[kind.into(), value.into(), (&campaign_id).into()]).await?;
        }
        tx.execute(
            &format!("INSERT INTO phish_reports ({REPORT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"),
            &[
                (&r.id).into(),
                (&campaign_id).into(),
                (&r.report_key).into(),
                (&r.reporter).into(),
                (&r.form).into(),
                (&r.sender).into(),
                (&r.subject).into(),
                (&r.verdict).into(),
                Arg::Int(r.score),
                (&r.reasons).into(),
                Arg::Int(r.received_ms),
                Arg::OptInt(r.answered_ms),
                r.answer_error.clone().into(),
            ],
        )
        .await?;
        tx.audit(r.received_ms, entry).await?;
        tx.commit().await?;
        Ok(campaign_id)
    }

    /// Records that the employee was answered (or why that failed).
    pub async fn phish_report_answered(&self, id: &str, at_ms: i64, error: Option<&str>) -> Result<()> {
        let answered = if error.is_none() { Arg::Int(at_ms) } else { Arg::OptInt(None) };
        self.execute(
            "UPDATE phish_reports SET answered_ms = $1, answer_error = $2 WHERE id = $3",
            &[answered, error.map(str::to_owned).into(), id.into()],
        )
        .await
        .map(|_| ())
    }

    /// Campaigns, newest activity first: `status` `open`, `closed` or all; `min_verdict`
    /// `suspicious` leaves out those that are clean in effect.
    pub async fn phish_campaigns(&self, status: Option<&str>, only_threats: bool, limit: u32) -> Result<Vec<PhishCampaignRecord>> {
        let mut sql = format!("SELECT {CAMPAIGN_COLS} FROM phish_campaigns c WHERE 1=1");
        let mut args: Vec<Arg> = Vec::new();
        if let Some(s) = status {
            args.push(s.into());
            sql.push_str(&format!(" AND c.status = ${}", args.len()));
        }
        if only_threats {
            sql.push_str(" AND COALESCE(c.override, c.verdict) <> 'clean'");
        }
        args.push(Arg::Int(i64::from(limit)));
        sql.push_str(&format!(" ORDER BY c.last_ms DESC, c.id LIMIT ${}", args.len()));
        self.fetch_all(&sql, &args).await?.iter().map(campaign).collect()
    }

    pub async fn phish_campaign(&self, id: &str) -> Result<Option<PhishCampaignRecord>> {
        self.fetch_optional(&format!("SELECT {CAMPAIGN_COLS} FROM phish_campaigns c WHERE c.id = $1"), &[id.into()])
            .await?
            .as_ref()
            .map(campaign)
            .transpose()
    }

    /// A campaign's reports, newest first.
    pub async fn phish_reports_of(&self, campaign_id: &str) -> Result<Vec<PhishReportRecord>> {
        self.fetch_all(
            &format!("SELECT {REPORT_COLS} FROM phish_reports WHERE campaign_id = $1 ORDER BY received_ms DESC, id"),
            &[campaign_id.into()],
        )
        .await?
        .iter()
        .map(report)
        .collect()
    }

    /// (received, verdict) of every report since `since_ms`, for the chart of reports per day.
    pub async fn phish_report_days(&self, since_ms: i64) -> Result<Vec<(i64, String)>> {
        let rows = self.fetch_all("SELECT received_ms, verdict FROM phish_reports WHERE received_ms >= $1", &[Arg::Int(since_ms)]).await?;
        rows.iter().map(|r| Ok((r.int(0)?, r.text(1)?))).collect()
    }

    /// One employee's reports, newest first (their own page, and the export of their data).
    pub async fn phish_reports_by(&self, reporter: &str) -> Result<Vec<PhishReportRecord>> {
        self.fetch_all(
            &format!("SELECT {REPORT_COLS} FROM phish_reports WHERE reporter = $1 ORDER BY received_ms DESC, id"),
            &[reporter.into()],
        )
        .await?
        .iter()
        .map(report)
        .collect()
    }

    /// Sets the officer's verdict (`None` gives the engine's back), audited; false when there is
    /// no such campaign.
    pub async fn phish_campaign_override(&self, id: &str, verdict: Option<&str>, at_ms: i64, entry: &Entry) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n =
            tx.execute("UPDATE phish_campaigns SET override = $1 WHERE id = $2", &[verdict.map(str::to_owned).into(), id.into()]).await?;
        if n == 0 {
            return Ok(false);
        }
        tx.audit(at_ms, entry).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Closes (`by` = who) or reopens (`by` = `None`) a campaign, audited.
    pub async fn phish_campaign_close(&self, id: &str, by: Option<&str>, at_ms: i64, entry: &Entry) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = match by {
            Some(by) => {
                tx.execute(
                    "UPDATE phish_campaigns SET status = 'closed', closed_by = $1, closed_ms = $2 WHERE id = $3",
                    &[by.into(), Arg::Int(at_ms), id.into()],
                )
                .await?
            }
            None => {
                tx.execute("UPDATE phish_campaigns SET status = 'open', closed_by = NULL, closed_ms = NULL WHERE id = $1", &[id.into()])
                    .await?
            }
        };
        if n == 0 {
            return Ok(false);
        }
        tx.audit(at_ms, entry).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn phish_note_insert(&self, n: &PhishNoteRecord, entry: &Entry) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.execute(
            "INSERT INTO phish_notes (id, campaign_id, author, body, created_ms) VALUES ($1, $2, $3, $4, $5)",
            &[(&n.id).into(), (&n.campaign_id).into(), (&n.author).into(), (&n.body).into(), Arg::Int(n.created_ms)],
        )
        .await?;
        tx.audit(n.created_ms, entry).await?;
        tx.commit().await
    }

    pub async fn phish_notes(&self, campaign_id: &str) -> Result<Vec<PhishNoteRecord>> {
        let rows = self
            .fetch_all(
                "SELECT id, campaign_id, author, body, created_ms FROM phish_notes WHERE campaign_id = $1 ORDER BY created_ms, id",
                &[campaign_id.into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(PhishNoteRecord { id: r.text(0)?, campaign_id: r.text(1)?, author: r.text(2)?, body: r.text(3)?, created_ms: r.int(4)? })
            })
            .collect()
    }

    /// Deletes reports received before `before_ms` and the campaigns left without reports.
    pub async fn phish_purge(&self, before_ms: i64) -> Result<u64> {
        let mut tx = self.begin().await?;
        let n = tx.execute("DELETE FROM phish_reports WHERE received_ms < $1", &[Arg::Int(before_ms)]).await?;
        tx.execute(
            "DELETE FROM phish_campaigns WHERE NOT EXISTS (SELECT 1 FROM phish_reports r WHERE r.campaign_id = phish_campaigns.id)",
            &[],
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Erases one employee's reports (their right to erasure), audited; campaigns left without
    /// reports go too.
    pub async fn phish_erase_reporter(&self, reporter: &str, at_ms: i64, entry: &Entry) -> Result<u64> {
        let mut tx = self.begin().await?;
        let n = tx.execute("DELETE FROM phish_reports WHERE reporter = $1", &[reporter.into()]).await?;
        tx.execute(
            "DELETE FROM phish_campaigns WHERE NOT EXISTS (SELECT 1 FROM phish_reports r WHERE r.campaign_id = phish_campaigns.id)",
            &[],
        )
        .await?;
        tx.audit(at_ms, entry).await?;
        tx.commit().await?;
        Ok(n)
    }
}
