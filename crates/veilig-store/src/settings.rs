//! Small key-value facts about the installation.

use crate::Result;
use crate::db::{Arg, Store};

impl Store {
    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        match self.fetch_optional("SELECT value FROM settings WHERE key = $1", &[key.into()]).await? {
            Some(row) => Ok(Some(row.text(0)?)),
            None => Ok(None),
        }
    }

    /// Stores the value unless the key already has one; returns the value that is stored.
    pub async fn setting_init(&self, key: &str, value: &str, now_ms: i64) -> Result<String> {
        self.execute(
            "INSERT INTO settings (key, value, updated_ms) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
            &[key.into(), value.into(), Arg::Int(now_ms)],
        )
        .await?;
        Ok(self.setting(key).await?.unwrap_or_else(|| value.to_owned()))
    }

    /// Sets a value, replacing any, with its audit record in the same transaction.
    pub async fn setting_set(&self, key: &str, value: &str, now_ms: i64, entry: &veilig_audit::Entry) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.execute(
            "INSERT INTO settings (key, value, updated_ms) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET value = $2, updated_ms = $3",
            &[key.into(), value.into(), Arg::Int(now_ms)],
        )
        .await?;
        tx.audit(now_ms, entry).await?;
        tx.commit().await
    }
}
