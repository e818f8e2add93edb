//! The audit chain's table. Appends take a lock so the chain stays a line even with several
//! writers (PostgreSQL: an advisory lock; SQLite: the write lock every transaction takes).

use veilig_audit::{Break, Entry, Head, Record, Verifier, seal};

use crate::db::{Arg, Dialect, Row, Store, Tx};
use crate::{Result, StoreError};

/// An arbitrary constant that names the audit chain's lock in PostgreSQL.
const AUDIT_LOCK: i64 = 0x7665_696c_6967_0002;

const COLUMNS: &str = "seq, at_ms, actor, action, target, ip, outcome, details, prev_hash, hash";

/// Which records to list; empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Part of the actor (case-insensitive).
    pub actor: Option<String>,
    /// The action or its beginning, such as `identity.`.
    pub action: Option<String>,
    pub outcome: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Only records before this sequence number (for paging backwards).
    pub before_seq: Option<i64>,
}

/// The result of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditVerdict {
    Intact { records: u64, head: Option<Head> },
    Broken { checked: u64, at: Break },
}

fn record(row: &Row) -> Result<Record> {
    Ok(Record {
        seq: row.int(0)?,
        at_ms: row.int(1)?,
        actor: row.text(2)?,
        action: row.text(3)?,
        target: row.text(4)?,
        ip: row.text(5)?,
        outcome: row.text(6)?,
        details: row.text(7)?,
        prev_hash: row.text(8)?,
        hash: row.text(9)?,
    })
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

impl Tx {
    /// Appends `entry` to the chain inside this transaction, so the action and its record are
    /// committed together or not at all.
    pub async fn audit(&mut self, at_ms: i64, entry: &Entry) -> Result<Record> {
        if self.dialect() == Dialect::Postgres {
            self.execute("SELECT pg_advisory_xact_lock($1)", &[Arg::Int(AUDIT_LOCK)]).await?;
        }
        let head = match self.fetch_optional("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", &[]).await? {
            Some(row) => Some(Head { seq: row.int(0)?, hash: row.text(1)? }),
            None => None,
        };
        let r = seal(head.as_ref(), at_ms, entry);
        self.execute(
            &format!("INSERT INTO audit_log ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"),
            &[
                Arg::Int(r.seq),
                Arg::Int(r.at_ms),
                (&r.actor).into(),
                (&r.action).into(),
                (&r.target).into(),
                (&r.ip).into(),
                (&r.outcome).into(),
                (&r.details).into(),
                (&r.prev_hash).into(),
                (&r.hash).into(),
            ],
        )
        .await?;
        Ok(r)
    }
}

impl Store {
    /// Appends `entry` to the chain in a transaction of its own.
    pub async fn audit(&self, at_ms: i64, entry: &Entry) -> Result<Record> {
        let mut tx = self.begin().await?;
        let r = tx.audit(at_ms, entry).await?;
        tx.commit().await?;
        Ok(r)
    }

    /// The newest records matching `filter`, newest first, at most `limit`.
    pub async fn audit_list(&self, filter: &AuditFilter, limit: u32) -> Result<Vec<Record>> {
        let mut sql = format!("SELECT {COLUMNS} FROM audit_log WHERE 1=1");
        let mut args: Vec<Arg> = Vec::new();
        let mut push = |sql: &mut String, clause: &str, arg: Arg| {
            args.push(arg);
            sql.push_str(&clause.replace("$?", &format!("${}", args.len())));
        };
        if let Some(actor) = filter.actor.as_deref().filter(|s| !s.is_empty()) {
            push(&mut sql, " AND LOWER(actor) LIKE $? ESCAPE '\\'", Arg::Text(format!("%{}%", escape_like(&actor.to_lowercase()))));
        }
        if let Some(action) = filter.action.as_deref().filter(|s| !s.is_empty()) {
            push(&mut sql, " AND action LIKE $? ESCAPE '\\'", Arg::Text(format!("{}%", escape_like(action))));
        }
        if let Some(outcome) = filter.outcome.as_deref().filter(|s| !s.is_empty()) {
            push(&mut sql, " AND outcome = $?", outcome.into());
        }
        if let Some(from) = filter.from_ms {
            push(&mut sql, " AND at_ms >= $?", Arg::Int(from));
        }
        if let Some(to) = filter.to_ms {
            push(&mut sql, " AND at_ms < $?", Arg::Int(to));
        }
        if let Some(before) = filter.before_seq {
            push(&mut sql, " AND seq < $?", Arg::Int(before));
        }
        push(&mut sql, " ORDER BY seq DESC LIMIT $?", Arg::Int(i64::from(limit)));
        self.fetch_all(&sql, &args).await?.iter().map(record).collect()
    }

    /// Records from `after_seq` on, oldest first: the order of the chain.
    pub async fn audit_after(&self, after_seq: i64, limit: u32) -> Result<Vec<Record>> {
        let rows = self
            .fetch_all(
                &format!("SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"),
                &[Arg::Int(after_seq), Arg::Int(i64::from(limit))],
            )
            .await?;
        rows.iter().map(record).collect()
    }

    pub async fn audit_head(&self) -> Result<Option<Head>> {
        match self.fetch_optional("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", &[]).await? {
            Some(row) => Ok(Some(Head { seq: row.int(0)?, hash: row.text(1)? })),
            None => Ok(None),
        }
    }

    pub async fn audit_count(&self) -> Result<i64> {
        self.fetch_one("SELECT COUNT(*) FROM audit_log", &[]).await?.int(0)
    }

    /// Walks the whole chain in pages, in constant memory. `progress` is called with the number
    /// of records checked so far after each page.
    pub async fn audit_verify(&self, mut progress: impl FnMut(u64)) -> Result<AuditVerdict> {
        const PAGE: u32 = 2000;
        let mut verifier = Verifier::new();
        // Paging by row order rather than by `seq > last` so that a record moved to another
        // place still shows up where it is stored.
        let mut offset: i64 = 0;
        loop {
            let rows = self
                .fetch_all(
                    &format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq LIMIT $1 OFFSET $2"),
                    &[Arg::Int(i64::from(PAGE)), Arg::Int(offset)],
                )
                .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let r = record(row).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                if let Err(at) = verifier.push(&r) {
                    return Ok(AuditVerdict::Broken { checked: verifier.checked(), at });
                }
            }
            offset += rows.len() as i64;
            progress(verifier.checked());
        }
        Ok(AuditVerdict::Intact { records: verifier.checked(), head: verifier.head().cloned() })
    }
}
