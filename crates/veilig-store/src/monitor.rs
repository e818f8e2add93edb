//! Monitoring's tables: the alerts.

use crate::Result;
use crate::db::{Arg, Row, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRecord {
    pub id: String,
    pub rule: String,
    pub severity: String,
    pub source: String,
    pub user: Option<String>,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub count: i64,
    pub summary: String,
    /// `open`, `acknowledged` or `closed`.
    pub status: String,
    pub created_ms: i64,
}

const COLS: &str = "id, rule, severity, source, username, first_seen_ms, last_seen_ms, count, summary, status, created_ms";

fn alert(r: &Row) -> Result<AlertRecord> {
    Ok(AlertRecord {
        id: r.text(0)?,
        rule: r.text(1)?,
        severity: r.text(2)?,
        source: r.text(3)?,
        user: r.opt_text(4)?,
        first_seen_ms: r.int(5)?,
        last_seen_ms: r.int(6)?,
        count: r.int(7)?,
        summary: r.text(8)?,
        status: r.text(9)?,
        created_ms: r.int(10)?,
    })
}

impl Store {
    pub async fn alert_insert(&self, a: &AlertRecord) -> Result<()> {
        self.execute(
            &format!("INSERT INTO alerts ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"),
            &[
                (&a.id).into(),
                (&a.rule).into(),
                (&a.severity).into(),
                (&a.source).into(),
                a.user.clone().into(),
                Arg::Int(a.first_seen_ms),
                Arg::Int(a.last_seen_ms),
                Arg::Int(a.count),
                (&a.summary).into(),
                (&a.status).into(),
                Arg::Int(a.created_ms),
            ],
        )
        .await
        .map(|_| ())
    }

    /// Changes an alert's status and records who did it, in one transaction. Returns false
    /// when there is no such alert.
    pub async fn alert_set_status(&self, id: &str, status: &str, at_ms: i64, entry: &veilig_audit::Entry) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = tx.execute("UPDATE alerts SET status = $1 WHERE id = $2", &[status.into(), id.into()]).await?;
        if n == 0 {
            return Ok(false);
        }
        tx.audit(at_ms, entry).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The newest alerts, newest first.
    pub async fn alerts_recent(&self, limit: u32) -> Result<Vec<AlertRecord>> {
        self.fetch_all(&format!("SELECT {COLS} FROM alerts ORDER BY created_ms DESC, id LIMIT $1"), &[Arg::Int(i64::from(limit))])
            .await?
            .iter()
            .map(alert)
            .collect()
    }
}
