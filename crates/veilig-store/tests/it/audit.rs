use veilig_audit::{Break, Entry, Outcome};
use veilig_store::{AuditFilter, AuditVerdict};

fn entry(i: usize) -> Entry {
    Entry::new(format!("user{}@example.nl", i % 3), if i.is_multiple_of(2) { "identity.login" } else { "platform.started" }, "t")
        .ip("192.0.2.1")
        .outcome(if i.is_multiple_of(4) { Outcome::Failure } else { Outcome::Success })
}

#[tokio::test]
async fn appended_records_form_an_intact_chain() {
    let store = super::store().await;
    for i in 0..25 {
        let r = store.audit(1_000 + i as i64, &entry(i)).await.unwrap();
        assert_eq!(r.seq, i as i64 + 1);
    }
    match store.audit_verify(|_| {}).await.unwrap() {
        AuditVerdict::Intact { records, head } => {
            assert_eq!(records, 25);
            assert_eq!(head.unwrap().seq, 25);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn concurrent_writers_keep_one_line() {
    let store = super::store().await;
    let mut tasks = Vec::new();
    for w in 0..6 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..20 {
                store.audit(i, &entry(w * 100 + i as usize)).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(store.audit_count().await.unwrap(), 120);
    assert!(matches!(store.audit_verify(|_| {}).await.unwrap(), AuditVerdict::Intact { records: 120, .. }));
}

#[tokio::test]
async fn the_table_refuses_changes_and_removals() {
    let store = super::store().await;
    store.audit(1, &entry(0)).await.unwrap();
    assert!(store.execute("UPDATE audit_log SET actor = 'x'", &[]).await.is_err());
    assert!(store.execute("DELETE FROM audit_log", &[]).await.is_err());
    assert_eq!(store.audit_count().await.unwrap(), 1);
}

#[tokio::test]
async fn tampering_around_the_guard_is_found() {
    let store = super::store().await;
    for i in 0..10 {
        store.audit(i, &entry(i as usize)).await.unwrap();
    }
    super::drop_guard(&store).await;

    store.execute("UPDATE audit_log SET target = 'changed' WHERE seq = 4", &[]).await.unwrap();
    assert_eq!(store.audit_verify(|_| {}).await.unwrap(), AuditVerdict::Broken { checked: 3, at: Break::Changed { seq: 4 } });
}

#[tokio::test]
async fn a_removed_record_is_found() {
    let store = super::store().await;
    for i in 0..10 {
        store.audit(i, &entry(i as usize)).await.unwrap();
    }
    super::drop_guard(&store).await;
    store.execute("DELETE FROM audit_log WHERE seq = 7", &[]).await.unwrap();
    assert_eq!(store.audit_verify(|_| {}).await.unwrap(), AuditVerdict::Broken { checked: 6, at: Break::Gap { seq: 8, expected: 7 } });
}

#[tokio::test]
async fn swapped_records_are_found() {
    let store = super::store().await;
    for i in 0..6 {
        store.audit(i, &entry(i as usize)).await.unwrap();
    }
    super::drop_guard(&store).await;
    // Swap the numbers of records 2 and 5.
    store.execute("UPDATE audit_log SET seq = -2 WHERE seq = 2", &[]).await.unwrap();
    store.execute("UPDATE audit_log SET seq = 2 WHERE seq = 5", &[]).await.unwrap();
    store.execute("UPDATE audit_log SET seq = 5 WHERE seq = -2", &[]).await.unwrap();
    match store.audit_verify(|_| {}).await.unwrap() {
        AuditVerdict::Broken { at, .. } => assert_eq!(at.seq(), 2),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn filters_select_and_page() {
    let store = super::store().await;
    for i in 0..30 {
        store.audit(86_400_000 * (i as i64 % 3), &entry(i)).await.unwrap();
    }
    let logins = store.audit_list(&AuditFilter { action: Some("identity.".into()), ..Default::default() }, 100).await.unwrap();
    assert_eq!(logins.len(), 15);
    assert!(logins.iter().all(|r| r.action == "identity.login"));
    assert!(logins.windows(2).all(|w| w[0].seq > w[1].seq), "newest first");

    let actor = store.audit_list(&AuditFilter { actor: Some("USER1@".into()), ..Default::default() }, 100).await.unwrap();
    assert_eq!(actor.len(), 10);

    let failures = store.audit_list(&AuditFilter { outcome: Some("failure".into()), ..Default::default() }, 100).await.unwrap();
    assert_eq!(failures.len(), 8);

    let day1 =
        store.audit_list(&AuditFilter { from_ms: Some(86_400_000), to_ms: Some(2 * 86_400_000), ..Default::default() }, 100).await.unwrap();
    assert_eq!(day1.len(), 10);

    let page1 = store.audit_list(&AuditFilter::default(), 12).await.unwrap();
    let page2 = store.audit_list(&AuditFilter { before_seq: page1.last().map(|r| r.seq), ..Default::default() }, 12).await.unwrap();
    assert_eq!(page1.len(), 12);
    assert_eq!(page2.first().unwrap().seq, page1.last().unwrap().seq - 1);

    // LIKE wildcards in a filter are literal.
    let none = store.audit_list(&AuditFilter { actor: Some("%".into()), ..Default::default() }, 100).await.unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn an_action_and_its_record_commit_together() {
    let store = super::store().await;
    {
        let mut tx = store.begin().await.unwrap();
        tx.audit(1, &entry(0)).await.unwrap();
        tx.execute("INSERT INTO settings (key, value, updated_ms) VALUES ('k', 'v', 1)", &[]).await.unwrap();
        // Dropped without commit: both are rolled back.
    }
    assert_eq!(store.audit_count().await.unwrap(), 0);
    assert_eq!(store.setting("k").await.unwrap(), None);
}
