//! Monitoring's response tables: decisions (blocks), the allow-list and the webhooks.

use veilig_audit::Entry;

use crate::Result;
use crate::db::{Arg, Row, Store};

/// One block of an address or network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRecord {
    pub id: String,
    /// `203.0.113.7/32`, `2001:db8::/64`.
    pub network: String,
    /// The rule that raised the alert, or the reason a person gave.
    pub reason: String,
    pub alert_id: Option<String>,
    /// `auto`, or the e-mail address of the person who made it.
    pub origin: String,
    /// 1 for the first block of this network, 2 for the next, ...
    pub level: i64,
    pub created_ms: i64,
    pub until_ms: i64,
    pub revoked_ms: Option<i64>,
    pub revoked_by: Option<String>,
    /// `applied`, `off` (no enforcement on this host), or `failed: why`.
    pub enforced: String,
}

const DECISION_COLS: &str = "id, network, reason, alert_id, origin, level, created_ms, until_ms, revoked_ms, revoked_by, enforced";

fn decision(r: &Row) -> Result<DecisionRecord> {
    Ok(DecisionRecord {
        id: r.text(0)?,
        network: r.text(1)?,
        reason: r.text(2)?,
        alert_id: r.opt_text(3)?,
        origin: r.text(4)?,
        level: r.int(5)?,
        created_ms: r.int(6)?,
        until_ms: r.int(7)?,
        revoked_ms: r.opt_int(8)?,
        revoked_by: r.opt_text(9)?,
        enforced: r.text(10)?,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowRecord {
    pub id: String,
    pub network: String,
    pub note: String,
    pub created_by: String,
    pub created_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRecord {
    pub id: String,
    /// `json`, `teams` or `slack`.
    pub kind: String,
    /// The URL, sealed with the data folder's secret key (it often holds a secret itself).
    pub url_sealed: String,
    /// What the pages show of it: scheme and host.
    pub url_hint: String,
    pub min_severity: String,
    pub created_by: String,
    pub created_ms: i64,
    pub last_ms: Option<i64>,
    pub last_status: Option<String>,
}

impl Store {
    /// Stores a decision with its audit record, in one transaction.
    pub async fn decision_insert(&self, d: &DecisionRecord, at_ms: i64, entry: &Entry) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.execute(
            &format!("INSERT INTO decisions ({DECISION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"),
            &[
                (&d.id).into(),
                (&d.network).into(),
                (&d.reason).into(),
                d.alert_id.clone().into(),
                (&d.origin).into(),
                Arg::Int(d.level),
                Arg::Int(d.created_ms),
                Arg::Int(d.until_ms),
                Arg::OptInt(d.revoked_ms),
                d.revoked_by.clone().into(),
                (&d.enforced).into(),
            ],
        )
        .await?;
        tx.audit(at_ms, entry).await?;
        tx.commit().await
    }

    pub async fn decision_set_enforced(&self, id: &str, enforced: &str) -> Result<()> {
        self.execute("UPDATE decisions SET enforced = $1 WHERE id = $2", &[enforced.into(), id.into()]).await.map(|_| ())
    }

    /// Ends a decision early; false when there is no such decision or it already ended.
    pub async fn decision_revoke(&self, id: &str, by: &str, at_ms: i64, entry: &Entry) -> Result<Option<DecisionRecord>> {
        let mut tx = self.begin().await?;
        let Some(row) = tx
            .fetch_optional(
                &format!("SELECT {DECISION_COLS} FROM decisions WHERE id = $1 AND revoked_ms IS NULL AND until_ms > $2"),
                &[id.into(), Arg::Int(at_ms)],
            )
            .await?
        else {
            return Ok(None);
        };
        let d = decision(&row)?;
        tx.execute("UPDATE decisions SET revoked_ms = $1, revoked_by = $2 WHERE id = $3", &[Arg::Int(at_ms), by.into(), id.into()]).await?;
        tx.audit(at_ms, entry).await?;
        tx.commit().await?;
        Ok(Some(d))
    }

    /// Decisions in force at `now_ms`, newest first.
    pub async fn decisions_active(&self, now_ms: i64) -> Result<Vec<DecisionRecord>> {
        self.fetch_all(
            &format!("SELECT {DECISION_COLS} FROM decisions WHERE revoked_ms IS NULL AND until_ms > $1 ORDER BY created_ms DESC, id"),
            &[Arg::Int(now_ms)],
        )
        .await?
        .iter()
        .map(decision)
        .collect()
    }

    /// The newest decisions, in force or not.
    pub async fn decisions_recent(&self, limit: u32) -> Result<Vec<DecisionRecord>> {
        self.fetch_all(
            &format!("SELECT {DECISION_COLS} FROM decisions ORDER BY created_ms DESC, id LIMIT $1"),
            &[Arg::Int(i64::from(limit))],
        )
        .await?
        .iter()
        .map(decision)
        .collect()
    }

    /// The decisions an alert led to.
    pub async fn decisions_for_alert(&self, alert_id: &str) -> Result<Vec<DecisionRecord>> {
        self.fetch_all(&format!("SELECT {DECISION_COLS} FROM decisions WHERE alert_id = $1 ORDER BY created_ms, id"), &[alert_id.into()])
            .await?
            .iter()
            .map(decision)
            .collect()
    }

    /// How many decisions blocked `network` since `since_ms` (repeat offenders).
    pub async fn decisions_count_since(&self, network: &str, since_ms: i64) -> Result<i64> {
        self.fetch_one("SELECT COUNT(*) FROM decisions WHERE network = $1 AND created_ms >= $2", &[network.into(), Arg::Int(since_ms)])
            .await?
            .int(0)
    }

    /// Deletes decisions that ended before `before_ms` (the retention period).
    pub async fn decisions_purge(&self, before_ms: i64) -> Result<u64> {
        self.execute("DELETE FROM decisions WHERE until_ms < $1 OR (revoked_ms IS NOT NULL AND revoked_ms < $1)", &[Arg::Int(before_ms)])
            .await
    }

    pub async fn allow_insert(&self, a: &AllowRecord, entry: &Entry) -> Result<bool> {
        let mut tx = self.begin().await?;
        if tx.fetch_optional("SELECT id FROM allowlist WHERE network = $1", &[(&a.network).into()]).await?.is_some() {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO allowlist (id, network, note, created_by, created_ms) VALUES ($1, $2, $3, $4, $5)",
            &[(&a.id).into(), (&a.network).into(), (&a.note).into(), (&a.created_by).into(), Arg::Int(a.created_ms)],
        )
        .await?;
        tx.audit(a.created_ms, entry).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn allow_delete(&self, id: &str, at_ms: i64, entry: &Entry) -> Result<bool> {
        let mut tx = self.begin().await?;
        if tx.execute("DELETE FROM allowlist WHERE id = $1", &[id.into()]).await? == 0 {
            return Ok(false);
        }
        tx.audit(at_ms, entry).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn allow_list(&self) -> Result<Vec<AllowRecord>> {
        self.fetch_all("SELECT id, network, note, created_by, created_ms FROM allowlist ORDER BY network", &[])
            .await?
            .iter()
            .map(|r| {
                Ok(AllowRecord { id: r.text(0)?, network: r.text(1)?, note: r.text(2)?, created_by: r.text(3)?, created_ms: r.int(4)? })
            })
            .collect()
    }

    pub async fn webhook_insert(&self, w: &WebhookRecord, entry: &Entry) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.execute(
            "INSERT INTO webhooks (id, kind, url_sealed, url_hint, min_severity, created_by, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                (&w.id).into(),
                (&w.kind).into(),
                (&w.url_sealed).into(),
                (&w.url_hint).into(),
                (&w.min_severity).into(),
                (&w.created_by).into(),
                Arg::Int(w.created_ms),
            ],
        )
        .await?;
        tx.audit(w.created_ms, entry).await?;
        tx.commit().await
    }

    pub async fn webhook_delete(&self, id: &str, at_ms: i64, entry: &Entry) -> Result<bool> {
        let mut tx = self.begin().await?;
        if tx.execute("DELETE FROM webhooks WHERE id = $1", &[id.into()]).await? == 0 {
            return Ok(false);
        }
        tx.audit(at_ms, entry).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn webhooks(&self) -> Result<Vec<WebhookRecord>> {
        self.fetch_all(
            "SELECT id, kind, url_sealed, url_hint, min_severity, created_by, created_ms, last_ms, last_status FROM webhooks ORDER BY created_ms, id",
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(WebhookRecord {
                id: r.text(0)?,
                kind: r.text(1)?,
                url_sealed: r.text(2)?,
                url_hint: r.text(3)?,
                min_severity: r.text(4)?,
                created_by: r.text(5)?,
                created_ms: r.int(6)?,
                last_ms: r.opt_int(7)?,
                last_status: r.opt_text(8)?,
            })
        })
        .collect()
    }

    pub async fn webhook_result(&self, id: &str, at_ms: i64, status: &str) -> Result<()> {
        self.execute("UPDATE webhooks SET last_ms = $1, last_status = $2 WHERE id = $3", &[Arg::Int(at_ms), status.into(), id.into()])
            .await
            .map(|_| ())
    }
}
