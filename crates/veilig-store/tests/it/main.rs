//! The store against a real database: SQLite by default, PostgreSQL with VEILIG_TEST_DB=postgres.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests may stop on failure.

mod audit;
mod migrations;

use veilig_store::Store;

pub async fn store() -> Store {
    let db = veilig_testkit::fresh_database().await;
    let store = Store::connect(&db.url, 8).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
}

/// Removes the append-only guard, as an attacker with database access would.
pub async fn drop_guard(store: &Store) {
    let sql = match store.dialect() {
        veilig_store::Dialect::Sqlite => "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;",
        veilig_store::Dialect::Postgres => "DROP TRIGGER audit_log_no_change ON audit_log;",
    };
    store.execute_script(sql).await.expect("drop guard");
}
