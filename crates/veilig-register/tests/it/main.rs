//! The cloud register against a real database (SQLite, or PostgreSQL with
//! VEILIG_TEST_DB=postgres) with a fake clock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests may stop on failure.

use std::sync::Arc;

use veilig_cloud::assess::{Answers, Location, Revenue};
use veilig_core::{Event, EventBus, FakeClock};
use veilig_register::{Actor, Decision, NewService, Register, RegisterError, Update, Upload};
use veilig_store::{Store, UserRecord};

struct Lab {
    register: Register,
    store: Store,
    clock: Arc<FakeClock>,
    bus: EventBus,
    officer: Actor,
    employee: Actor,
}

async fn user(store: &Store, email: &str, role: &str) -> Actor {
    let id = veilig_core::random_id();
    let u = UserRecord {
        id: id.clone(),
        email: email.into(),
        display_name: "x".into(),
        role: role.into(),
        status: "active".into(),
        password_hash: None,
        language: None,
        created_ms: 0,
        updated_ms: 0,
    };
    let mut tx = store.begin().await.unwrap();
    tx.user_insert(&u).await.unwrap();
    tx.commit().await.unwrap();
    Actor { user_id: id, email: email.into(), ip: "192.0.2.1".into(), staff: role != "employee" }
}

async fn lab() -> Lab {
    let db = veilig_testkit::fresh_database().await;
    let store = Store::connect(&db.url, 4).await.unwrap();
    store.migrate().await.unwrap();
    let clock = Arc::new(FakeClock::new(time::macros::datetime!(2026-11-27 09:00 UTC)));
    let bus = EventBus::default();
    let register = Register::new(store.clone(), clock.clone(), bus.clone()).unwrap();
    let officer = user(&store, "security@gemeente.test", "security_officer").await;
    let employee = user(&store, "anna@gemeente.test", "employee").await;
    Lab { register, store, clock, bus, officer, employee }
}

async fn actions(store: &Store) -> Vec<String> {
    store.audit_list(&Default::default(), 500).await.unwrap().into_iter().map(|r| r.action).collect()
}

#[tokio::test]
async fn the_register_starts_from_the_catalog_and_refuses_duplicates_and_bad_input() {
    let l = lab().await;
    let zoom = l.register.add_from_catalog(&l.officer, "zoom", None).await.unwrap();
    assert_eq!((zoom.name.as_str(), zoom.status.as_str()), ("Zoom", "under_review"));
    assert!(zoom.domains.contains(&"zoom.us".to_owned()) && zoom.functions.contains(&"video_calls".to_owned()));
    assert!(matches!(l.register.add_from_catalog(&l.officer, "zoom", None).await, Err(RegisterError::Conflict(_))));
    assert!(matches!(l.register.add_from_catalog(&l.officer, "nope", None).await, Err(RegisterError::Invalid(_))));
    assert!(matches!(l.register.add_from_catalog(&l.employee, "slack", None).await, Err(RegisterError::Forbidden(_))));
    // a service the catalog does not know; the same name in other case is a duplicate
    let n = NewService {
        name: "Vergaderplanner".into(),
        functions: vec!["planning".into()],
        domains: vec!["vergaderplanner.nl".into()],
        ..Default::default()
    };
    l.register.add(&l.officer, &n).await.unwrap();
    let again = NewService { name: "VERGADERPLANNER".into(), ..n.clone() };
    assert!(matches!(l.register.add(&l.officer, &again).await, Err(RegisterError::Conflict(_))));
    let bad = NewService { name: "X".into(), functions: vec!["gossip".into()], ..Default::default() };
    assert!(matches!(l.register.add(&l.officer, &bad).await, Err(RegisterError::Invalid(ref m)) if m.contains("functions")));
    let bad = NewService { name: "X".into(), functions: vec!["chat".into()], domains: vec!["not a domain".into()], ..Default::default() };
    assert!(matches!(l.register.add(&l.officer, &bad).await, Err(RegisterError::Invalid(ref m)) if m.contains("domains")));
    let u = Update { status: Some("forbidden-ish".into()), ..Default::default() };
    assert!(matches!(l.register.update(&l.officer, &zoom.id, &u).await, Err(RegisterError::Invalid(_))));
    // functions and domains can be changed, checked like new ones
    let u = Update {
        functions: Some(vec!["video_calls".into(), "whiteboard".into()]),
        domains: Some(vec!["Zoom.US.".into(), "zoom.us".into()]),
        ..Default::default()
    };
    let z = l.register.update(&l.officer, &zoom.id, &u).await.unwrap();
    assert_eq!((z.functions.len(), z.domains.clone()), (2, vec!["zoom.us".to_owned()]));
    let u = Update { functions: Some(vec![]), ..Default::default() };
    assert!(matches!(l.register.update(&l.officer, &zoom.id, &u).await, Err(RegisterError::Invalid(ref m)) if m.contains("functions")));
    let u = Update { review_due: Some("2028-06-01".into()), ..Default::default() };
    assert!(matches!(l.register.update(&l.officer, &zoom.id, &u).await, Err(RegisterError::Invalid(ref m)) if m.contains("a year")));
    assert_eq!(l.register.services().await.unwrap().len(), 2);
    assert!(actions(&l.store).await.contains(&"cloud.service_added".to_owned()));
}

#[tokio::test]
async fn an_assessment_with_evidence_scores_the_risk_and_sets_the_review() {
    let l = lab().await;
    let s = l.register.add_from_catalog(&l.officer, "wetransfer", None).await.unwrap();
    let u = Update {
        data_personal: Some(true),
        status: Some("approved".into()),
        guidance: Some("Alleen met een wachtwoord op de link".into()),
        ..Default::default()
    };
    let s = l.register.update(&l.officer, &s.id, &u).await.unwrap();
    assert_eq!(s.risk.level, "high", "nothing known, personal data: {:?}", s.risk);
    let answers = Answers {
        data_location: Some(Location::Eu),
        iso27001_expires: Some("2027-05-01".into()),
        dpa_signed: Some(true),
        dpa_date: Some("2026-02-01".into()),
        mfa_enforced: Some(true),
        public_links_off: Some(true),
        link_expiry: Some(true),
        link_password: Some(true),
        revenue: Some(Revenue::Paid),
        terms_reviewed: Some("2026-11-01".into()),
        exit_plan: Some("files stay on our own storage".into()),
        ..Answers::default()
    };
    let s = l.register.assess(&l.officer, &s.id, &answers).await.unwrap();
    assert_eq!((s.risk.score, s.risk.level), (0, "low"), "{:?}", s.risk);
    assert_eq!(s.review_due_ms, Some(veilig_core::Clock::now_ms(&*l.clock) + 365 * 86_400_000));
    let bad = Answers { iso27001_expires: Some("1 mei 2027".into()), ..Answers::default() };
    assert!(
        matches!(l.register.assess(&l.officer, &s.id, &bad).await, Err(RegisterError::Invalid(ref m)) if m.contains("iso27001_expires"))
    );
    assert!(matches!(l.register.assess(&l.employee, &s.id, &answers).await, Err(RegisterError::Forbidden(_))));

    // evidence: a link, a PDF; the wrong type, too large, an unknown question are refused
    let e = l
        .register
        .add_evidence(&l.officer, &s.id, "iso27001_expires", Some("https://vendor.example/iso.pdf"), None, "2026-05-01")
        .await
        .unwrap();
    assert_eq!(e.url.as_deref(), Some("https://vendor.example/iso.pdf"));
    let pdf = Upload { file_name: "dpa-signed.pdf".into(), bytes: b"%PDF-1.7\n1 0 obj\n".to_vec() };
    let e = l.register.add_evidence(&l.officer, &s.id, "dpa_signed", None, Some(pdf), "2026-02-01").await.unwrap();
    assert_eq!(e.sha256.as_deref().map(str::len), Some(64));
    let (_, kind, bytes) = l.register.evidence_file(&e.id).await.unwrap();
    assert_eq!((kind.as_str(), &bytes[..5]), ("application/pdf", &b"%PDF-"[..]));
    let exe = Upload { file_name: "dpa.pdf.exe".into(), bytes: b"MZ\x90\x00".to_vec() };
    assert!(
        matches!(l.register.add_evidence(&l.officer, &s.id, "dpa_signed", None, Some(exe), "2026-02-01").await, Err(RegisterError::Invalid(ref m)) if m.contains("PDF"))
    );
    let big = Upload { file_name: "big.pdf".into(), bytes: [b"%PDF-".to_vec(), vec![0; 10 << 20]].concat() };
    assert!(
        matches!(l.register.add_evidence(&l.officer, &s.id, "dpa_signed", None, Some(big), "2026-02-01").await, Err(RegisterError::Invalid(ref m)) if m.contains("10 MB"))
    );
    assert!(matches!(
        l.register.add_evidence(&l.officer, &s.id, "favourite_colour", Some("https://x.example"), None, "2026-02-01").await,
        Err(RegisterError::Invalid(_))
    ));
    assert!(matches!(
        l.register.add_evidence(&l.officer, &s.id, "dpa_signed", Some("http://plain.example"), None, "2026-02-01").await,
        Err(RegisterError::Invalid(_))
    ));
    let s = l.register.service(&s.id).await.unwrap();
    assert_eq!(s.evidence.len(), 2);

    // a year and a half later: the certificate expired, the review is overdue
    l.clock.advance(time::Duration::days(540));
    let due = l.register.reviews_due(30).await.unwrap();
    assert_eq!(due.len(), 1);
    assert!(due[0].review_overdue);
    assert_eq!(due[0].risk.expired, ["iso27001"]);
    let audit = actions(&l.store).await;
    for a in ["cloud.assessed", "cloud.evidence_added", "cloud.service_changed"] {
        assert!(audit.contains(&a.to_owned()), "{a}: {audit:?}");
    }
}

#[tokio::test]
async fn employees_report_services_and_the_officer_triages_them() {
    let l = lab().await;
    let mut events = l.bus.subscribe();
    let r = l.register.report(&l.employee, "https://www.deepl.com/translator", "brieven vertalen", "namen van cliënten").await.unwrap();
    assert_eq!((r.status.as_str(), r.catalog_id.as_deref()), ("open", Some("deepl")));
    assert!(matches!(l.register.report(&l.employee, "  ", "", "").await, Err(RegisterError::Invalid(_))));
    assert!(matches!(
        l.register.triage(&l.employee, &r.id, &Decision::Question { reply: "?".into() }).await,
        Err(RegisterError::Forbidden(_))
    ));
    // rejected needs the alternative
    let none = Decision::Reject { alternative: " ".into(), reply: String::new() };
    assert!(matches!(l.register.triage(&l.officer, &r.id, &none).await, Err(RegisterError::Invalid(_))));
    let q = l.register.triage(&l.officer, &r.id, &Decision::Question { reply: "Welke documenten precies?".into() }).await.unwrap();
    assert_eq!(q.status, "question");
    // approved: the register entry is made from the catalog
    let ok = Decision::Approve { service_id: None, catalog_id: Some("deepl".into()), reply: "Gebruik het zakelijke account.".into() };
    let a = l.register.triage(&l.officer, &r.id, &ok).await.unwrap();
    assert_eq!(a.status, "approved");
    let deepl = l.register.service(a.service_id.as_deref().unwrap()).await.unwrap();
    assert_eq!((deepl.name.as_str(), deepl.status.as_str()), ("DeepL", "approved"));
    // another report of the same service links the same entry
    l.clock.advance(time::Duration::minutes(1));
    let r2 = l.register.report(&l.employee, "DeepL", "", "").await.unwrap();
    let a2 = l.register.triage(&l.officer, &r2.id, &ok).await.unwrap();
    assert_eq!(a2.service_id, a.service_id);
    l.clock.advance(time::Duration::minutes(1));
    let r3 = l.register.report(&l.employee, "translate.example", "", "").await.unwrap();
    let rej = Decision::Reject { alternative: "DeepL (zakelijk)".into(), reply: "Deze dienst bewaart teksten.".into() };
    assert_eq!(l.register.triage(&l.officer, &r3.id, &rej).await.unwrap().reply, "DeepL (zakelijk) — Deze dienst bewaart teksten.");
    let mine = l.register.reports_of(&l.employee.user_id).await.unwrap();
    assert_eq!(mine.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(), ["rejected", "approved", "approved"]);
    let mut answered = Vec::new();
    while let Ok(ev) = events.try_recv() {
        if let Event::CloudReportAnswered { user_id, status, .. } = ev {
            assert_eq!(user_id, l.employee.user_id);
            answered.push(status);
        }
    }
    assert_eq!(answered, ["question", "approved", "approved", "rejected"]);
    // the employee's "which tool for …?"
    let which = l.register.which_tool().await.unwrap();
    let translation = which.iter().find(|w| w.function == "translation").unwrap();
    assert_eq!(translation.services[0].0, "DeepL");
}

#[tokio::test]
async fn the_export_holds_every_service_and_defuses_formulas() {
    let l = lab().await;
    let s = l.register.add_from_catalog(&l.officer, "zoom", Some("approved")).await.unwrap();
    let u = Update { owner: Some("=HYPERLINK(\"http://evil\")".into()), ..Default::default() };
    l.register.update(&l.officer, &s.id, &u).await.unwrap();
    let csv = l.register.export_csv().await.unwrap();
    let mut lines = csv.lines();
    let head = lines.next().unwrap();
    assert!(head.starts_with("name,vendor,website") && head.contains("risk_score") && head.contains("dpa_signed"), "{head}");
    let row = lines.next().unwrap();
    assert!(row.starts_with("\"Zoom\""), "{row}");
    assert!(row.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""), "a formula is made text: {row}");
    assert_eq!(lines.next(), None);
}
