//! Migrations, embedded in the binary and applied at start. Each has a text per dialect; a
//! checksum of the text is stored so a changed migration is noticed instead of skipped.

use sha2::{Digest, Sha256};

use crate::db::{Arg, Dialect, Store};
use crate::{Result, StoreError};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "platform",
        sqlite: include_str!("../migrations/sqlite/0001_platform.sql"),
        postgres: include_str!("../migrations/postgres/0001_platform.sql"),
    },
    Migration {
        version: 2,
        name: "identity",
        sqlite: include_str!("../migrations/sqlite/0002_identity.sql"),
        postgres: include_str!("../migrations/postgres/0002_identity.sql"),
    },
    Migration {
        version: 3,
        name: "webauthn",
        sqlite: include_str!("../migrations/sqlite/0003_webauthn.sql"),
        postgres: include_str!("../migrations/postgres/0003_webauthn.sql"),
    },
    Migration {
        version: 4,
        name: "monitor",
        sqlite: include_str!("../migrations/sqlite/0004_monitor.sql"),
        postgres: include_str!("../migrations/postgres/0004_monitor.sql"),
    },
    Migration {
        version: 5,
        name: "vpn",
        sqlite: include_str!("../migrations/sqlite/0005_vpn.sql"),
        postgres: include_str!("../migrations/postgres/0005_vpn.sql"),
    },
    Migration {
        version: 6,
        name: "response",
        sqlite: include_str!("../migrations/sqlite/0006_response.sql"),
        postgres: include_str!("../migrations/postgres/0006_response.sql"),
    },
    Migration {
        version: 7,
        name: "ingest",
        sqlite: include_str!("../migrations/sqlite/0007_ingest.sql"),
        postgres: include_str!("../migrations/postgres/0007_ingest.sql"),
    },
    Migration {
        version: 8,
        name: "alert_example",
        sqlite: include_str!("../migrations/sqlite/0008_alert_example.sql"),
        postgres: include_str!("../migrations/postgres/0008_alert_example.sql"),
    },
    Migration {
        version: 9,
        name: "phishing",
        sqlite: include_str!("../migrations/sqlite/0009_phishing.sql"),
        postgres: include_str!("../migrations/postgres/0009_phishing.sql"),
    },
    Migration {
        version: 10,
        name: "awareness",
        sqlite: include_str!("../migrations/sqlite/0010_awareness.sql"),
        postgres: include_str!("../migrations/postgres/0010_awareness.sql"),
    },
    Migration {
        version: 11,
        name: "devices",
        sqlite: include_str!("../migrations/sqlite/0011_devices.sql"),
        postgres: include_str!("../migrations/postgres/0011_devices.sql"),
    },
    Migration {
        version: 12,
        name: "cloud",
        sqlite: include_str!("../migrations/sqlite/0012_cloud.sql"),
        postgres: include_str!("../migrations/postgres/0012_cloud.sql"),
    },
];

/// A migration that this call applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub version: i64,
    pub name: &'static str,
}

impl Migration {
    fn sql(&self, dialect: Dialect) -> &'static str {
        match dialect {
            Dialect::Sqlite => self.sqlite,
            Dialect::Postgres => self.postgres,
        }
    }
}

fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

/// An arbitrary constant that names Veilig's migration lock in PostgreSQL.
const MIGRATION_LOCK: i64 = 0x7665_696c_6967_0001;

impl Store {
    /// Brings the schema up to date. Safe to call from several instances at once: on
    /// PostgreSQL they take turns through an advisory lock, on SQLite through the write lock.
    pub async fn migrate(&self) -> Result<Vec<Applied>> {
        let dialect = self.dialect();
        let mut tx = self.begin().await?;
        if dialect == Dialect::Postgres {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[Arg::Int(MIGRATION_LOCK)]).await?;
        }
        tx.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_ms BIGINT NOT NULL)",
            &[],
        )
        .await?;
        let rows = tx.fetch_all("SELECT version, checksum FROM schema_migrations ORDER BY version", &[]).await?;
        let mut done = Vec::new();
        for row in &rows {
            done.push((row.int(0)?, row.text(1)?));
        }
        for (version, sum) in &done {
            match MIGRATIONS.iter().find(|m| m.version == *version) {
                None => return Err(StoreError::SchemaMismatch { version: *version, problem: "is unknown to this version".to_owned() }),
                Some(m) if checksum(m.sql(dialect)) != *sum => {
                    return Err(StoreError::SchemaMismatch {
                        version: *version,
                        problem: "has a different text than when it was applied".to_owned(),
                    });
                }
                Some(_) => {}
            }
        }
        let mut applied = Vec::new();
        for m in MIGRATIONS.iter().filter(|m| !done.iter().any(|(v, _)| *v == m.version)) {
            let sql = m.sql(dialect);
            tx.execute_script(sql).await.map_err(|e| StoreError::Migrate {
                version: m.version,
                name: m.name.to_owned(),
                message: e.to_string(),
            })?;
            let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
            tx.execute(
                "INSERT INTO schema_migrations (version, name, checksum, applied_ms) VALUES ($1, $2, $3, $4)",
                &[Arg::Int(m.version), m.name.into(), checksum(sql).into(), Arg::Int(now_ms)],
            )
            .await?;
            applied.push(Applied { version: m.version, name: m.name });
        }
        tx.commit().await?;
        Ok(applied)
    }

    /// The newest migration this binary knows.
    pub fn latest_migration() -> i64 {
        MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// The newest migration applied to the database.
    pub async fn schema_version(&self) -> Result<i64> {
        let row = self.fetch_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[]).await?;
        row.int(0)
    }
}
