use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Row as _, Sqlite, SqlitePool, Transaction};

use crate::{Result, StoreError};

/// The database, embedded or server. Dispatch is a `match`, not a trait object: both arms are
/// visible wherever the dialects differ.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }
}

/// A value bound to a `$n` placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Int(i64),
    Text(String),
    OptText(Option<String>),
    OptInt(Option<i64>),
    Bytes(Vec<u8>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(v.clone())
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::OptText(v)
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::OptInt(v)
    }
}
impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Self {
        Arg::Bytes(v)
    }
}

/// Pool figures for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

/// A row from either dialect, read by column index.
pub enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

impl Row {
    pub fn int(&self, i: usize) -> Result<i64> {
        Ok(match self {
            Row::Sqlite(r) => r.try_get(i)?,
            Row::Postgres(r) => r.try_get(i)?,
        })
    }

    pub fn text(&self, i: usize) -> Result<String> {
        Ok(match self {
            Row::Sqlite(r) => r.try_get(i)?,
            Row::Postgres(r) => r.try_get(i)?,
        })
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<String>> {
        Ok(match self {
            Row::Sqlite(r) => r.try_get(i)?,
            Row::Postgres(r) => r.try_get(i)?,
        })
    }

    pub fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        Ok(match self {
            Row::Sqlite(r) => r.try_get(i)?,
            Row::Postgres(r) => r.try_get(i)?,
        })
    }

    pub fn bytes(&self, i: usize) -> Result<Vec<u8>> {
        Ok(match self {
            Row::Sqlite(r) => r.try_get(i)?,
            Row::Postgres(r) => r.try_get(i)?,
        })
    }
}

macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for a in $args {
            q = match a {
                Arg::Int(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.clone()),
                Arg::OptText(v) => q.bind(v.clone()),
                Arg::OptInt(v) => q.bind(*v),
                Arg::Bytes(v) => q.bind(v.clone()),
            };
        }
        q
    }};
}

impl Store {
    /// Opens the database named by `url` (`sqlite:PATH` or `postgres://...`). A SQLite file
    /// and its folder are created when missing.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store> {
        if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.trim_start_matches("//");
            if path != ":memory:"
                && let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent).map_err(|e| StoreError::Connect(format!("cannot create {}: {e}", parent.display())))?;
            }
            let options = SqliteConnectOptions::from_str(&format!("sqlite:{path}"))
                .map_err(|e| StoreError::Connect(e.to_string()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a commit that returned is on disk, also after a power cut.
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(|e| StoreError::Connect(e.to_string()))?;
            Ok(Store::Sqlite(pool))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(|_| StoreError::Connect("the PostgreSQL URL is malformed".to_owned()))?;
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options)
                .await
                .map_err(|e| StoreError::Connect(e.to_string()))?;
            Ok(Store::Postgres(pool))
        } else {
            Err(StoreError::Connect("the database URL must start with sqlite: or postgres://".to_owned()))
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Store::Sqlite(_) => Dialect::Sqlite,
            Store::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Answers whether the database can run a query now.
    pub async fn ping(&self) -> Result<()> {
        self.fetch_one("SELECT 1", &[]).await.map(|_| ())
    }

    pub fn pool_stats(&self) -> PoolStats {
        match self {
            Store::Sqlite(p) => PoolStats { size: p.size(), idle: p.num_idle() as u32, max: p.options().get_max_connections() },
            Store::Postgres(p) => PoolStats { size: p.size(), idle: p.num_idle() as u32, max: p.options().get_max_connections() },
        }
    }

    /// Waits for running queries and closes every connection.
    pub async fn close(&self) {
        match self {
            Store::Sqlite(p) => p.close().await,
            Store::Postgres(p) => p.close().await,
        }
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so a transaction that reads before it writes cannot fail half-way.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Store::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Store::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    pub async fn execute(&self, sql: &str, args: &[Arg]) -> Result<u64> {
        Ok(match self {
            Store::Sqlite(p) => bind_all!(sqlx::query(sql), args).execute(p).await?.rows_affected(),
            Store::Postgres(p) => bind_all!(sqlx::query(sql), args).execute(p).await?.rows_affected(),
        })
    }

    pub async fn fetch_all(&self, sql: &str, args: &[Arg]) -> Result<Vec<Row>> {
        Ok(match self {
            Store::Sqlite(p) => bind_all!(sqlx::query(sql), args).fetch_all(p).await?.into_iter().map(Row::Sqlite).collect(),
            Store::Postgres(p) => bind_all!(sqlx::query(sql), args).fetch_all(p).await?.into_iter().map(Row::Postgres).collect(),
        })
    }

    pub async fn fetch_optional(&self, sql: &str, args: &[Arg]) -> Result<Option<Row>> {
        Ok(match self {
            Store::Sqlite(p) => bind_all!(sqlx::query(sql), args).fetch_optional(p).await?.map(Row::Sqlite),
            Store::Postgres(p) => bind_all!(sqlx::query(sql), args).fetch_optional(p).await?.map(Row::Postgres),
        })
    }

    pub async fn fetch_one(&self, sql: &str, args: &[Arg]) -> Result<Row> {
        self.fetch_optional(sql, args).await?.ok_or(StoreError::Db(sqlx::Error::RowNotFound))
    }

    /// Runs a script of several statements (used by migrations and tests).
    pub async fn execute_script(&self, sql: &str) -> Result<()> {
        match self {
            Store::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ())?,
            Store::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ())?,
        }
        Ok(())
    }
}

/// A transaction in either dialect. Dropped without [`Tx::commit`], it rolls back.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub fn dialect(&self) -> Dialect {
        match self {
            Tx::Sqlite(_) => Dialect::Sqlite,
            Tx::Postgres(_) => Dialect::Postgres,
        }
    }

    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    pub async fn execute(&mut self, sql: &str, args: &[Arg]) -> Result<u64> {
        Ok(match self {
            Tx::Sqlite(t) => bind_all!(sqlx::query(sql), args).execute(&mut **t).await?.rows_affected(),
            Tx::Postgres(t) => bind_all!(sqlx::query(sql), args).execute(&mut **t).await?.rows_affected(),
        })
    }

    pub async fn fetch_all(&mut self, sql: &str, args: &[Arg]) -> Result<Vec<Row>> {
        Ok(match self {
            Tx::Sqlite(t) => bind_all!(sqlx::query(sql), args).fetch_all(&mut **t).await?.into_iter().map(Row::Sqlite).collect(),
            Tx::Postgres(t) => bind_all!(sqlx::query(sql), args).fetch_all(&mut **t).await?.into_iter().map(Row::Postgres).collect(),
        })
    }

    pub async fn fetch_optional(&mut self, sql: &str, args: &[Arg]) -> Result<Option<Row>> {
        Ok(match self {
            Tx::Sqlite(t) => bind_all!(sqlx::query(sql), args).fetch_optional(&mut **t).await?.map(Row::Sqlite),
            Tx::Postgres(t) => bind_all!(sqlx::query(sql), args).fetch_optional(&mut **t).await?.map(Row::Postgres),
        })
    }

    pub async fn execute_script(&mut self, sql: &str) -> Result<()> {
        match self {
            Tx::Sqlite(t) => sqlx::raw_sql(sql).execute(&mut **t).await.map(|_| ())?,
            Tx::Postgres(t) => sqlx::raw_sql(sql).execute(&mut **t).await.map(|_| ())?,
        }
        Ok(())
    }
}
