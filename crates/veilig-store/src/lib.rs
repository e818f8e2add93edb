//! Storage for all of Veilig: one [`Store`] that is either an embedded SQLite database or a
//! PostgreSQL server, chosen by the URL. Only this crate knows SQL.
//!
//! Capabilities reach their tables through a module of their own here (`audit`, `settings`,
//! ...). Queries are written once, with `$1` placeholders that both dialects accept; the
//! migrations, where the dialects differ, are kept per dialect under `migrations/`.

mod audit;
mod awareness;
mod cloud;
mod db;
mod devices;
mod identity;
mod migrate;
mod monitor;
mod phishing;
mod response;
mod settings;
mod vpn;

pub use audit::{AuditFilter, AuditVerdict};
pub use awareness::{AwarenessRecord, RecipientRecord};
pub use cloud::{CloudReportRecord, CloudServiceRecord, EvidenceRecord};
pub use db::{Arg, Dialect, PoolStats, Row, Store, Tx};
pub use devices::{AgentDeviceRecord, ConditionRecord};
pub use identity::{FactorRecord, GroupRecord, SessionRecord, TokenRecord, UserColumn, UserRecord};
pub use migrate::Applied;
pub use monitor::{AlertFilter, AlertRecord, CommentRecord};
pub use phishing::{PhishCampaignRecord, PhishNoteRecord, PhishReportRecord};
pub use response::{AllowRecord, DecisionRecord, WebhookRecord};
pub use vpn::{DeviceRecord, RuleRecord, VpnSessionRecord};

/// Errors from storage. Messages never contain the database URL.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database: {0}")]
    Connect(String),
    #[error("migration {version} ({name}) failed: {message}")]
    Migrate { version: i64, name: String, message: String },
    #[error("the database was changed by a newer or different Veilig: migration {version} {problem}")]
    SchemaMismatch { version: i64, problem: String },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("stored data is not as expected: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// Whether the database could not be reached (as opposed to a query that failed).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Connect(_) | StoreError::Db(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)))
    }
}
