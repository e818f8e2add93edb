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
    /// The e-mail address of the person handling it.
    pub assignee: Option<String>,
    /// The log line that completed the alert.
    pub example: Option<String>,
}

/// A comment on an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentRecord {
    pub id: String,
    pub alert_id: String,
    pub author: String,
    pub body: String,
    pub created_ms: i64,
}

/// Which alerts to list; `None` is any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertFilter {
    pub status: Option<String>,
    pub severity: Option<String>,
    pub rule: Option<String>,
    /// A source address or part of one.
    pub source: Option<String>,
    pub assignee: Option<String>,
}

const COLS: &str =
    "id, rule, severity, source, username, first_seen_ms, last_seen_ms, count, summary, status, created_ms, assignee, example";

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
        assignee: r.opt_text(11)?,
        example: r.opt_text(12)?,
    })
}

impl Store {
    pub async fn alert_insert(&self, a: &AlertRecord) -> Result<()> {
        self.execute(
            &format!("INSERT INTO alerts ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"),
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
                a.assignee.clone().into(),
                a.example.clone().into(),
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

    pub async fn alert_get(&self, id: &str) -> Result<Option<AlertRecord>> {
        self.fetch_optional(&format!("SELECT {COLS} FROM alerts WHERE id = $1"), &[id.into()]).await?.as_ref().map(alert).transpose()
    }

    /// Alerts that match the filter, newest first.
    pub async fn alerts_filtered(&self, f: &AlertFilter, limit: u32) -> Result<Vec<AlertRecord>> {
        let mut sql = format!("SELECT {COLS} FROM alerts WHERE 1=1");
        let mut args: Vec<Arg> = Vec::new();
        for (column, value) in [("status", &f.status), ("severity", &f.severity), ("rule", &f.rule), ("assignee", &f.assignee)] {
            if let Some(v) = value {
                args.push(v.into());
                sql.push_str(&format!(" AND {column} = ${}", args.len()));
            }
        }
        if let Some(src) = &f.source {
            let escaped = src.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            args.push(format!("%{escaped}%").into());
            sql.push_str(&format!(" AND source LIKE ${} ESCAPE '\\'", args.len()));
        }
        args.push(Arg::Int(i64::from(limit)));
        sql.push_str(&format!(" ORDER BY created_ms DESC, id LIMIT ${}", args.len()));
        self.fetch_all(&sql, &args).await?.iter().map(alert).collect()
    }

    /// Assigns an alert to a person (or nobody), audited. False when there is no such alert.
    pub async fn alert_assign(&self, id: &str, assignee: Option<&str>, at_ms: i64, entry: &veilig_audit::Entry) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = tx.execute("UPDATE alerts SET assignee = $1 WHERE id = $2", &[assignee.map(str::to_owned).into(), id.into()]).await?;
        if n == 0 {
            return Ok(false);
        }
        tx.audit(at_ms, entry).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Adds a comment, audited. False when there is no such alert.
    pub async fn alert_comment(&self, c: &CommentRecord, entry: &veilig_audit::Entry) -> Result<bool> {
        let mut tx = self.begin().await?;
        if tx.fetch_optional("SELECT id FROM alerts WHERE id = $1", &[(&c.alert_id).into()]).await?.is_none() {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO alert_comments (id, alert_id, author, body, created_ms) VALUES ($1, $2, $3, $4, $5)",
            &[(&c.id).into(), (&c.alert_id).into(), (&c.author).into(), (&c.body).into(), Arg::Int(c.created_ms)],
        )
        .await?;
        tx.audit(c.created_ms, entry).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn alert_comments(&self, alert_id: &str) -> Result<Vec<CommentRecord>> {
        self.fetch_all(
            "SELECT id, alert_id, author, body, created_ms FROM alert_comments WHERE alert_id = $1 ORDER BY created_ms, id",
            &[alert_id.into()],
        )
        .await?
        .iter()
        .map(|r| Ok(CommentRecord { id: r.text(0)?, alert_id: r.text(1)?, author: r.text(2)?, body: r.text(3)?, created_ms: r.int(4)? }))
        .collect()
    }

    /// Alerts created since `since_ms`, oldest first (the daily digest).
    pub async fn alerts_since(&self, since_ms: i64, limit: u32) -> Result<Vec<AlertRecord>> {
        self.fetch_all(
            &format!("SELECT {COLS} FROM alerts WHERE created_ms >= $1 ORDER BY created_ms, id LIMIT $2"),
            &[Arg::Int(since_ms), Arg::Int(i64::from(limit))],
        )
        .await?
        .iter()
        .map(alert)
        .collect()
    }

    /// Where a followed log file was left: (inode, offset).
    pub async fn ingest_checkpoint(&self, path: &str) -> Result<Option<(u64, u64)>> {
        let Some(r) = self.fetch_optional("SELECT inode, byte_offset FROM ingest_files WHERE path = $1", &[path.into()]).await? else {
            return Ok(None);
        };
        let inode = r.text(0)?.parse::<u64>().unwrap_or(0);
        Ok(Some((inode, u64::try_from(r.int(1)?).unwrap_or(0))))
    }

    pub async fn ingest_checkpoint_set(&self, path: &str, inode: u64, offset: u64, now_ms: i64) -> Result<()> {
        self.execute(
            "INSERT INTO ingest_files (path, inode, byte_offset, updated_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (path) DO UPDATE SET inode = $2, byte_offset = $3, updated_ms = $4",
            &[path.into(), inode.to_string().into(), Arg::Int(i64::try_from(offset).unwrap_or(i64::MAX)), Arg::Int(now_ms)],
        )
        .await
        .map(|_| ())
    }
}
