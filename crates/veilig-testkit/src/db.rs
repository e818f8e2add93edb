//! A fresh, empty database for one test.

use rand::Rng;
use sqlx::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// Which database this test run uses, from `VEILIG_TEST_DB`.
pub fn kind() -> Kind {
    match std::env::var("VEILIG_TEST_DB").as_deref() {
        Ok("postgres") | Ok("postgresql") | Ok("pg") => Kind::Postgres,
        _ => Kind::Sqlite,
    }
}

pub fn pg_admin_url() -> String {
    std::env::var("VEILIG_TEST_PG_URL").unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".to_owned())
}

/// A database for one test: a SQLite file in a new folder, or a new PostgreSQL database whose
/// name starts with `veilig_t_` (`scripts/test` drops leftovers).
#[derive(Debug, Clone)]
pub struct TestDatabase {
    pub url: String,
    pub kind: Kind,
    /// The folder for `--data` (also holds the SQLite file).
    pub data_dir: std::path::PathBuf,
}

pub async fn fresh_database() -> TestDatabase {
    let data_dir = crate::temp_dir("data");
    match kind() {
        Kind::Sqlite => TestDatabase { url: format!("sqlite:{}", data_dir.join("veilig.db").display()), kind: Kind::Sqlite, data_dir },
        Kind::Postgres => {
            let admin = pg_admin_url();
            let name = format!("veilig_t_{}_{:x}", std::process::id(), rand::thread_rng().r#gen::<u32>());
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL at {admin} does not answer ({e}); scripts/test starts it"));
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
            let _ = conn.close().await;
            let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap_or(admin);
            TestDatabase { url: format!("{base}/{name}"), kind: Kind::Postgres, data_dir }
        }
    }
}
