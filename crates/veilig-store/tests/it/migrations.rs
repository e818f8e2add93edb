use veilig_store::{Store, StoreError};

#[tokio::test]
async fn migrations_apply_once_and_record_their_version() {
    let db = veilig_testkit::fresh_database().await;
    let store = Store::connect(&db.url, 4).await.unwrap();
    let first = store.migrate().await.unwrap();
    assert_eq!(first.first().map(|m| m.version), Some(1));
    assert!(store.migrate().await.unwrap().is_empty(), "a second run applies nothing");
    assert_eq!(store.schema_version().await.unwrap(), Store::latest_migration());
}

#[tokio::test]
async fn a_changed_migration_is_refused() {
    let store = super::store().await;
    store.execute("UPDATE schema_migrations SET checksum = 'x' WHERE version = 1", &[]).await.unwrap();
    match store.migrate().await {
        Err(StoreError::SchemaMismatch { version: 1, .. }) => {}
        other => panic!("expected a schema mismatch, got {other:?}"),
    }
}

#[tokio::test]
async fn a_database_from_a_newer_veilig_is_refused() {
    let store = super::store().await;
    store
        .execute("INSERT INTO schema_migrations (version, name, checksum, applied_ms) VALUES (9999, 'future', 'x', 0)", &[])
        .await
        .unwrap();
    assert!(matches!(store.migrate().await, Err(StoreError::SchemaMismatch { version: 9999, .. })));
}

#[tokio::test]
async fn an_unreachable_server_is_a_connect_error() {
    let err = Store::connect("postgres://root@127.0.0.1:1/none", 1).await.unwrap_err();
    assert!(matches!(err, StoreError::Connect(_)), "{err:?}");
    assert!(err.is_unavailable());
}

#[tokio::test]
async fn settings_keep_their_first_value() {
    let store = super::store().await;
    assert_eq!(store.setting("install_id").await.unwrap(), None);
    assert_eq!(store.setting_init("install_id", "a", 1).await.unwrap(), "a");
    assert_eq!(store.setting_init("install_id", "b", 2).await.unwrap(), "a");
}
