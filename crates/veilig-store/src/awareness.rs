//! Awareness messages: what was sent to whom, and who read it.

use veilig_audit::Entry;

use crate::Result;
use crate::db::{Arg, Row, Store};

/// One awareness message in both languages, with its totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwarenessRecord {
    pub id: String,
    pub title_nl: String,
    pub body_nl: String,
    pub title_en: String,
    pub body_en: String,
    /// `all`, or the names of the groups it went to, comma-separated.
    pub audience: String,
    pub created_by: String,
    pub created_ms: i64,
    pub recipients: i64,
    pub read: i64,
    pub mailed: i64,
}

const COLS: &str = "m.id, m.title_nl, m.body_nl, m.title_en, m.body_en, m.audience, m.created_by, m.created_ms, \
     (SELECT COUNT(*) FROM awareness_recipients r WHERE r.message_id = m.id), \
     (SELECT COUNT(*) FROM awareness_recipients r WHERE r.message_id = m.id AND r.read_ms IS NOT NULL), \
     (SELECT COUNT(*) FROM awareness_recipients r WHERE r.message_id = m.id AND r.mailed_ms IS NOT NULL)";

fn record(r: &Row) -> Result<AwarenessRecord> {
    Ok(AwarenessRecord {
        id: r.text(0)?,
        title_nl: r.text(1)?,
        body_nl: r.text(2)?,
        title_en: r.text(3)?,
        body_en: r.text(4)?,
        audience: r.text(5)?,
        created_by: r.text(6)?,
        created_ms: r.int(7)?,
        recipients: r.int(8)?,
        read: r.int(9)?,
        mailed: r.int(10)?,
    })
}

/// One recipient of a message (for the security officer and for mailing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientRecord {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub language: Option<String>,
    pub mailed_ms: Option<i64>,
    pub mail_error: Option<String>,
    pub read_ms: Option<i64>,
}

impl Store {
    /// The ids of the users a message to `groups` reaches (everyone when empty), leaving out
    /// disabled accounts.
    pub async fn awareness_audience(&self, groups: &[String]) -> Result<Vec<String>> {
        let rows = if groups.is_empty() {
            self.fetch_all("SELECT id FROM users WHERE status <> 'disabled' ORDER BY email", &[]).await?
        } else {
            let marks: Vec<String> = (1..=groups.len()).map(|i| format!("${i}")).collect();
            let args: Vec<Arg> = groups.iter().map(|g| g.into()).collect();
            self.fetch_all(
                &format!(
                    "SELECT DISTINCT u.id, u.email FROM users u JOIN user_groups ug ON ug.user_id = u.id JOIN groups g ON g.id = ug.group_id \
                     WHERE u.status <> 'disabled' AND g.name IN ({}) ORDER BY u.email",
                    marks.join(", ")
                ),
                &args,
            )
            .await?
        };
        rows.iter().map(|r| r.text(0)).collect()
    }

    /// Stores a message and its recipients, with the audit record, in one transaction.
    pub async fn awareness_insert(&self, m: &AwarenessRecord, recipients: &[String], entry: &Entry) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.execute(
            "INSERT INTO awareness_messages (id, title_nl, body_nl, title_en, body_en, audience, created_by, created_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                (&m.id).into(),
                (&m.title_nl).into(),
                (&m.body_nl).into(),
                (&m.title_en).into(),
                (&m.body_en).into(),
                (&m.audience).into(),
                (&m.created_by).into(),
                Arg::Int(m.created_ms),
            ],
        )
        .await?;
        for user in recipients {
            tx.execute("INSERT INTO awareness_recipients (message_id, user_id) VALUES ($1, $2)", &[(&m.id).into(), user.into()]).await?;
        }
        tx.audit(m.created_ms, entry).await?;
        tx.commit().await
    }

    /// Every message, newest first, with its totals.
    pub async fn awareness_list(&self) -> Result<Vec<AwarenessRecord>> {
        self.fetch_all(&format!("SELECT {COLS} FROM awareness_messages m ORDER BY m.created_ms DESC, m.id"), &[])
            .await?
            .iter()
            .map(record)
            .collect()
    }

    pub async fn awareness_get(&self, id: &str) -> Result<Option<AwarenessRecord>> {
        self.fetch_optional(&format!("SELECT {COLS} FROM awareness_messages m WHERE m.id = $1"), &[id.into()])
            .await?
            .as_ref()
            .map(record)
            .transpose()
    }

    /// A message's recipients, by e-mail address.
    pub async fn awareness_recipients(&self, id: &str) -> Result<Vec<RecipientRecord>> {
        let rows = self
            .fetch_all(
                "SELECT u.id, u.email, u.display_name, u.language, r.mailed_ms, r.mail_error, r.read_ms FROM awareness_recipients r \
                 JOIN users u ON u.id = r.user_id WHERE r.message_id = $1 ORDER BY u.email",
                &[id.into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(RecipientRecord {
                    user_id: r.text(0)?,
                    email: r.text(1)?,
                    display_name: r.text(2)?,
                    language: r.opt_text(3)?,
                    mailed_ms: r.opt_int(4)?,
                    mail_error: r.opt_text(5)?,
                    read_ms: r.opt_int(6)?,
                })
            })
            .collect()
    }

    /// Messages sent to `user_id`, newest first, with when they read each (`None`: unread).
    pub async fn awareness_of_user(&self, user_id: &str) -> Result<Vec<(AwarenessRecord, Option<i64>)>> {
        let rows = self
            .fetch_all(
                &format!(
                    "SELECT {COLS}, r.read_ms FROM awareness_messages m JOIN awareness_recipients r ON r.message_id = m.id \
                     WHERE r.user_id = $1 ORDER BY m.created_ms DESC, m.id"
                ),
                &[user_id.into()],
            )
            .await?;
        rows.iter().map(|r| Ok((record(r)?, r.opt_int(11)?))).collect()
    }

    /// Marks a message read by a recipient; false when they are not one. Reading again keeps
    /// the first time.
    pub async fn awareness_mark_read(&self, id: &str, user_id: &str, at_ms: i64) -> Result<bool> {
        let n = self
            .execute(
                "UPDATE awareness_recipients SET read_ms = COALESCE(read_ms, $1) WHERE message_id = $2 AND user_id = $3",
                &[Arg::Int(at_ms), id.into(), user_id.into()],
            )
            .await?;
        Ok(n > 0)
    }

    /// Records that the mail to a recipient went out, or why not.
    pub async fn awareness_mailed(&self, id: &str, user_id: &str, at_ms: i64, error: Option<&str>) -> Result<()> {
        let mailed = if error.is_none() { Arg::Int(at_ms) } else { Arg::OptInt(None) };
        self.execute(
            "UPDATE awareness_recipients SET mailed_ms = $1, mail_error = $2 WHERE message_id = $3 AND user_id = $4",
            &[mailed, error.map(str::to_owned).into(), id.into(), user_id.into()],
        )
        .await
        .map(|_| ())
    }
}
