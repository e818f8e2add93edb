//! Device compliance against a real database (SQLite, or PostgreSQL with
//! VEILIG_TEST_DB=postgres) with a fake clock: the CA, enrolment, reports, revocation, the
//! policy and the access conditions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests may stop on failure.

use std::sync::Arc;

use veilig_compliance::engine::{Check, Item, Os, Report};
use veilig_compliance::{Actor, Devices, DevicesError, DevicesSettings, EnrollRequest, Target};
use veilig_core::{Clock, Event, EventBus, FakeClock};
use veilig_identity::crypto::SecretBox;
use veilig_store::{ConditionRecord, Store, UserRecord};
use x509_parser::prelude::*;

mod ca;

const START: ::time::OffsetDateTime = ::time::macros::datetime!(2026-11-20 09:00 UTC);

struct Lab {
    devices: Devices,
    store: Store,
    clock: Arc<FakeClock>,
    bus: EventBus,
    admin: Actor,
    employee: Actor,
}

async fn user(store: &Store, email: &str, role: &str) -> Actor {
    let id = veilig_core::random_id();
    let u = UserRecord {
        id: id.clone(),
        email: email.into(),
        display_name: email.split('@').next().unwrap().into(),
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
    Actor { user_id: id, email: email.into(), ip: "192.0.2.7".into(), staff: role != "employee", admin: role == "admin" }
}

async fn lab_with(agent_url: Option<&str>) -> Lab {
    let db = veilig_testkit::fresh_database().await;
    let store = Store::connect(&db.url, 4).await.unwrap();
    store.migrate().await.unwrap();
    let clock = Arc::new(FakeClock::new(START));
    let bus = EventBus::default();
    let settings = DevicesSettings {
        organisation: "Gemeente Test".into(),
        token_hours: 24,
        cert_days: 365,
        agent_url: agent_url.map(str::to_owned),
        public_url: "https://veilig.test".into(),
    };
    let devices = Devices::open(store.clone(), clock.clone(), bus.clone(), &SecretBox::new(&[9u8; 32]), settings).await.unwrap();
    let admin = user(&store, "beheer@gemeente.test", "admin").await;
    let employee = user(&store, "sanne@gemeente.test", "employee").await;
    Lab { devices, store, clock, bus, admin, employee }
}

async fn lab() -> Lab {
    lab_with(Some("https://veilig.test:8444")).await
}

/// A certificate request as the agent makes it, and the key's PEM.
fn csr(host: &str) -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, host);
    params.serialize_request(&key).unwrap().pem().unwrap()
}

/// A healthy Linux laptop's report at `at` (Unix seconds).
fn healthy(at: i64) -> Report {
    Report {
        agent_version: "0.1.0".into(),
        hostname: "laptop-sanne".into(),
        os: Os { family: "linux".into(), name: "debian".into(), version: "12".into(), build: "bookworm".into() },
        checked_at: at,
        checks: vec![
            Check::ok(Item::OsSupported, "Debian 12, supported until 2028-06-30"),
            Check::ok(Item::Updates, "last update 2 days ago").with_value(2),
            Check::ok(Item::Scanner, "ClamAV with freshclam running"),
            Check::ok(Item::Signatures, "database of 1 day ago").with_value(1),
            Check::ok(Item::DiskEncryption, "LUKS on /"),
            Check::ok(Item::Firewall, "nftables with an input policy of drop"),
            Check::ok(Item::ScreenLock, "after 5 minutes").with_value(5),
        ],
    }
}

fn body(seq: i64, r: &Report) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "seq": seq, "report": r })).unwrap()
}

fn now_s(clock: &FakeClock) -> i64 {
    clock.now().unix_timestamp()
}

/// Enrols a device for the lab's employee; returns (device id, certificate SHA-256).
async fn enrolled(l: &Lab) -> (String, String) {
    let t = l.devices.issue_token(&l.employee, &l.employee.user_id).await.unwrap();
    let e = l
        .devices
        .enroll(&EnrollRequest { token: t.token, csr: csr("laptop-sanne"), hostname: "laptop-sanne".into() }, "198.51.100.4")
        .await
        .unwrap();
    (e.device_id, veilig_compliance::fingerprint(&pem_der(&e.certificate)))
}

fn pem_der(pem: &str) -> Vec<u8> {
    let (_, p) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
    p.contents
}

async fn actions(store: &Store) -> Vec<String> {
    store.audit_list(&veilig_store::AuditFilter::default(), 200).await.unwrap().into_iter().map(|r| r.action).collect()
}

#[tokio::test]
async fn a_token_enrols_one_device_once_and_the_certificate_names_only_the_device() {
    let l = lab().await;
    let t = l.devices.issue_token(&l.employee, &l.employee.user_id).await.unwrap();
    assert!(t.command.starts_with("veilig agent enroll https://veilig.test --token vdt_"), "{}", t.command);
    // a broken request does not use the token up
    let bad = l
        .devices
        .enroll(
            &EnrollRequest {
                token: t.token.clone(),
                csr: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n".into(),
                hostname: "laptop".into(),
            },
            "ip",
        )
        .await;
    assert!(matches!(bad, Err(DevicesError::Ca(veilig_compliance::CaError::Request))), "{bad:?}");
    let bad = l.devices.enroll(&EnrollRequest { token: t.token.clone(), csr: csr("x"), hostname: "laptop; rm -rf /".into() }, "ip").await;
    assert!(matches!(bad, Err(DevicesError::Invalid(_))), "{bad:?}");
    let e = l
        .devices
        .enroll(&EnrollRequest { token: t.token.clone(), csr: csr("laptop-sanne"), hostname: "laptop-sanne".into() }, "ip")
        .await
        .unwrap();
    assert_eq!(e.report_url, "https://veilig.test:8444");
    assert_eq!(e.ca, l.devices.ca_pem());
    let again = l.devices.enroll(&EnrollRequest { token: t.token, csr: csr("laptop-2"), hostname: "laptop-2".into() }, "ip").await;
    assert!(matches!(again, Err(DevicesError::Token)), "{again:?}");

    let der = pem_der(&e.certificate);
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    let cn: Vec<&str> = cert.subject().iter_common_name().map(|c| c.as_str().unwrap()).collect();
    assert_eq!(cn, [e.device_id.as_str()], "the request's own name is not copied");
    let der_1 = pem_der(l.devices.ca_pem());
    let (_, ca) = X509Certificate::from_der(&der_1).unwrap();
    assert_eq!(cert.issuer(), ca.subject());
    cert.verify_signature(Some(ca.public_key())).unwrap();
    let eku = cert.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.client_auth && !eku.server_auth);
    assert!(!cert.is_ca());
    let days = (cert.validity().not_after.timestamp() - START.unix_timestamp()) / 86_400;
    assert_eq!(days, 365);

    let d = l.store.agent_device(&e.device_id).await.unwrap().unwrap();
    assert_eq!(d.cert_sha256, veilig_compliance::fingerprint(&der));
    assert_eq!(d.user_id, l.employee.user_id);
    let audit = actions(&l.store).await;
    assert!(audit.contains(&"device.token_issued".to_owned()) && audit.contains(&"device.enrolled".to_owned()), "{audit:?}");
    assert!(audit.contains(&"device.enroll_refused".to_owned()), "{audit:?}");
}

#[tokio::test]
async fn tokens_expire_and_only_staff_make_them_for_someone_else() {
    let l = lab().await;
    let t = l.devices.issue_token(&l.admin, &l.employee.user_id).await.unwrap();
    let other = l.devices.issue_token(&l.employee, &l.admin.user_id).await;
    assert!(matches!(other, Err(DevicesError::Forbidden(_))), "{other:?}");
    l.clock.advance(::time::Duration::hours(25));
    let late = l.devices.enroll(&EnrollRequest { token: t.token, csr: csr("l"), hostname: "l".into() }, "ip").await;
    assert!(matches!(late, Err(DevicesError::Token)), "{late:?}");
    // without an agent endpoint there is nothing to enrol with
    let off = lab_with(None).await;
    let r = off.devices.issue_token(&off.employee, &off.employee.user_id).await;
    assert!(matches!(r, Err(DevicesError::Invalid(ref m)) if m.contains("devices.agent_listen")), "{r:?}");
}

#[tokio::test]
async fn reports_are_judged_stored_and_never_replayed() {
    let l = lab().await;
    let (id, sha) = enrolled(&l).await;
    let j = l.devices.report(&sha, &body(1, &healthy(now_s(&l.clock))), "198.51.100.4").await.unwrap();
    assert_eq!(j.device_id, id);
    assert_eq!(veilig_compliance::verdict_word(j.compliance.verdict), "compliant", "{:?}", j.compliance);
    let again = l.devices.report(&sha, &body(1, &healthy(now_s(&l.clock))), "ip").await;
    assert!(matches!(again, Err(DevicesError::Replayed(1))), "{again:?}");
    // older sequence numbers too
    l.devices.report(&sha, &body(5, &healthy(now_s(&l.clock))), "ip").await.unwrap();
    assert!(matches!(l.devices.report(&sha, &body(4, &healthy(now_s(&l.clock))), "ip").await, Err(DevicesError::Replayed(4))));

    // a certificate no device has
    let unknown = l.devices.report(&"ab".repeat(32), &body(9, &healthy(0)), "ip").await;
    assert!(matches!(unknown, Err(DevicesError::Certificate(_))), "{unknown:?}");
    // oversized, malformed, too many checks, control characters: refused, nothing stored
    let big = vec![b' '; veilig_compliance::MAX_REPORT_BYTES + 1];
    assert!(matches!(l.devices.report(&sha, &big, "ip").await, Err(DevicesError::Invalid(_))));
    assert!(matches!(l.devices.report(&sha, b"{\"seq\": 6, \"report\": 12}", "ip").await, Err(DevicesError::Invalid(_))));
    let mut many = healthy(now_s(&l.clock));
    many.checks = (0..40).map(|_| Check::ok(Item::Firewall, "on")).collect();
    assert!(matches!(l.devices.report(&sha, &body(6, &many), "ip").await, Err(DevicesError::Invalid(_))));
    let mut ctl = healthy(now_s(&l.clock));
    ctl.hostname = "laptop\u{1b}[31m".into();
    assert!(matches!(l.devices.report(&sha, &body(6, &ctl), "ip").await, Err(DevicesError::Invalid(_))));
    let d = l.store.agent_device(&id).await.unwrap().unwrap();
    assert_eq!(d.last_seq, 5);
    assert_eq!(d.os, "debian 12");
    assert_eq!(d.last_ip.as_deref(), Some("ip"));
}

#[tokio::test]
async fn a_device_clock_far_off_makes_the_verdict_unknown_with_the_reason() {
    let l = lab().await;
    let (_, sha) = enrolled(&l).await;
    let j = l.devices.report(&sha, &body(1, &healthy(now_s(&l.clock) - 3 * 86_400)), "ip").await.unwrap();
    assert_eq!(veilig_compliance::verdict_word(j.compliance.verdict), "unknown");
    assert_eq!(j.compliance.findings[0].code, "clock.off");
}

#[tokio::test]
async fn revoked_and_expired_certificates_are_refused() {
    let l = lab().await;
    let (id, sha) = enrolled(&l).await;
    l.devices.report(&sha, &body(1, &healthy(now_s(&l.clock))), "ip").await.unwrap();
    // someone else cannot revoke it (and learns nothing about it)
    assert!(matches!(l.devices.revoke(&l.admin_as_employee(), &id).await, Err(DevicesError::NotFound)));
    l.devices.revoke(&l.employee, &id).await.unwrap();
    let r = l.devices.report(&sha, &body(2, &healthy(now_s(&l.clock))), "ip").await;
    assert!(matches!(r, Err(DevicesError::Certificate(ref m)) if m.contains("revoked")), "{r:?}");
    assert!(actions(&l.store).await.contains(&"device.revoked".to_owned()));

    let (_, sha2) = enrolled(&l).await;
    l.clock.advance(::time::Duration::days(366));
    let r = l.devices.report(&sha2, &body(1, &healthy(now_s(&l.clock))), "ip").await;
    assert!(matches!(r, Err(DevicesError::Certificate(ref m)) if m.contains("expired")), "{r:?}");
}

impl Lab {
    /// Another employee, with no right to the lab employee's devices.
    fn admin_as_employee(&self) -> Actor {
        Actor { user_id: self.admin.user_id.clone(), email: self.admin.email.clone(), ip: "ip".into(), staff: false, admin: false }
    }
}

#[tokio::test]
async fn the_policy_is_edited_by_administrators_and_judges_with_the_clock() {
    let l = lab().await;
    let (id, sha) = enrolled(&l).await;
    let mut old_sigs = healthy(now_s(&l.clock));
    old_sigs.checks[3] = Check::ok(Item::Signatures, "database of 10 days ago").with_value(10);
    let j = l.devices.report(&sha, &body(1, &old_sigs), "ip").await.unwrap();
    assert_eq!(veilig_compliance::verdict_word(j.compliance.verdict), "not_compliant");
    assert_eq!(j.compliance.findings[0].code, "signatures.old");
    assert!(j.compliance.findings[0].nl.contains("10 dagen"), "{}", j.compliance.findings[0].nl);

    let mut policy = l.devices.policy().await.unwrap();
    policy.max_signature_days = Some(14);
    assert!(matches!(l.devices.set_policy(&l.employee, &policy).await, Err(DevicesError::Forbidden(_))));
    let mut wrong = policy.clone();
    wrong.max_report_hours = 0;
    assert!(matches!(l.devices.set_policy(&l.admin, &wrong).await, Err(DevicesError::Invalid(_))));
    l.devices.set_policy(&l.admin, &policy).await.unwrap();
    // the stored report is judged again with the new policy
    let v = l.devices.devices_of(&l.employee.user_id).await.unwrap();
    assert_eq!(v[0].record.id, id);
    assert_eq!(veilig_compliance::verdict_word(v[0].compliance.verdict), "compliant");

    // three days without a report: stopped reporting, unknown
    l.clock.advance(::time::Duration::hours(73));
    let inv = l.devices.inventory().await.unwrap();
    assert_eq!((inv.total, inv.compliant, inv.unknown, inv.stale), (1, 0, 1, 1));
    assert!(inv.devices[0].compliance.findings.iter().any(|f| f.code == "report.stale"));
    assert!(actions(&l.store).await.contains(&"device.policy_changed".to_owned()));
}

#[tokio::test]
async fn the_inventory_counts_each_check_among_active_devices() {
    let l = lab().await;
    let (_, a) = enrolled(&l).await;
    let (_, b) = enrolled(&l).await;
    let (c_id, c) = enrolled(&l).await;
    l.devices.report(&a, &body(1, &healthy(now_s(&l.clock))), "ip").await.unwrap();
    let mut bad = healthy(now_s(&l.clock));
    bad.checks[4] = Check::not_ok(Item::DiskEncryption, "no LUKS on /");
    bad.checks[5] = Check::unknown(Item::Firewall, "nft could not be run");
    l.devices.report(&b, &body(1, &bad), "ip").await.unwrap();
    l.devices.report(&c, &body(1, &bad), "ip").await.unwrap();
    l.devices.revoke(&l.admin, &c_id).await.unwrap();
    let inv = l.devices.inventory().await.unwrap();
    assert_eq!((inv.total, inv.compliant, inv.not_compliant), (2, 1, 1));
    let share = |i: Item| inv.items.iter().find(|s| s.item == i).map(|s| (s.ok, s.not_ok, s.unknown)).unwrap();
    assert_eq!(share(Item::DiskEncryption), (1, 1, 0));
    assert_eq!(share(Item::Firewall), (1, 0, 1));
    assert_eq!(share(Item::Scanner), (2, 0, 0));
    assert_eq!(inv.devices.len(), 3, "revoked devices stay listed");
}

#[tokio::test]
async fn group_conditions_gate_the_portal_and_the_vpn_and_a_lapse_ends_the_vpn() {
    let l = lab().await;
    let mut events = l.bus.subscribe();
    let group = veilig_core::random_id();
    let mut tx = l.store.begin().await.unwrap();
    tx.group_insert(&group, "thuiswerkers", "", 0).await.unwrap();
    tx.membership_add(&l.employee.user_id, &group).await.unwrap();
    tx.commit().await.unwrap();
    // no conditions: open
    assert_eq!(l.devices.gate(&l.employee.user_id, Target::Vpn).await.unwrap(), Ok(()));
    let c = ConditionRecord { vpn_compliant: true, portal_cert: true, ..ConditionRecord::default() };
    assert!(matches!(l.devices.set_conditions(&l.employee, "thuiswerkers", c.clone()).await, Err(DevicesError::Forbidden(_))));
    assert!(matches!(l.devices.set_conditions(&l.admin, "nobody", c.clone()).await, Err(DevicesError::Invalid(_))));
    l.devices.set_conditions(&l.admin, "thuiswerkers", c).await.unwrap();
    let refusal = l.devices.gate(&l.employee.user_id, Target::Vpn).await.unwrap().unwrap_err();
    assert_eq!(refusal.code, "device.none");
    assert!(refusal.nl.contains("Veilig-agent"), "{}", refusal.nl);
    // the administrator is in no such group
    assert_eq!(l.devices.gate(&l.admin.user_id, Target::Portal).await.unwrap(), Ok(()));

    let (_, sha) = enrolled(&l).await;
    let r = l.devices.gate(&l.employee.user_id, Target::Portal).await.unwrap().unwrap_err();
    assert_eq!(r.code, "device.certificate", "enrolled but never reported: no proof of the key yet");
    let mut off = healthy(now_s(&l.clock));
    off.checks[5] = Check::not_ok(Item::Firewall, "ufw inactive");
    l.devices.report(&sha, &body(1, &off), "ip").await.unwrap();
    assert_eq!(l.devices.gate(&l.employee.user_id, Target::Portal).await.unwrap(), Ok(()), "the certificate condition is met");
    let r = l.devices.gate(&l.employee.user_id, Target::Vpn).await.unwrap().unwrap_err();
    assert_eq!(r.code, "device.not_compliant");
    assert!(r.en.contains("Turn on the firewall"), "{}", r.en);
    // the report that broke the condition asked the VPN to end the session
    let lost = loop {
        match events.try_recv() {
            Ok(Event::DeviceAccessLost { user_id, reason }) => break (user_id, reason),
            Ok(_) => continue,
            Err(e) => panic!("no DeviceAccessLost event: {e:?}"),
        }
    };
    assert_eq!(lost, (l.employee.user_id.clone(), "device.not_compliant".to_owned()));
    l.devices.report(&sha, &body(2, &healthy(now_s(&l.clock))), "ip").await.unwrap();
    assert_eq!(l.devices.gate(&l.employee.user_id, Target::Vpn).await.unwrap(), Ok(()));
    // the cached portal answer does not outlive the device's silence
    l.clock.advance(::time::Duration::hours(73));
    assert_eq!(l.devices.gate(&l.employee.user_id, Target::Portal).await.unwrap().unwrap_err().code, "device.certificate");
}

#[tokio::test]
async fn the_ca_is_made_once_and_shared_through_the_database() {
    let l = lab().await;
    let again = Devices::open(l.store.clone(), l.clock.clone(), l.bus.clone(), &SecretBox::new(&[9u8; 32]), l.devices.settings().clone())
        .await
        .unwrap();
    assert_eq!(again.ca_pem(), l.devices.ca_pem());
    // another installation key cannot open it, and says so
    let wrong =
        Devices::open(l.store.clone(), l.clock.clone(), l.bus.clone(), &SecretBox::new(&[1u8; 32]), l.devices.settings().clone()).await;
    assert!(matches!(wrong, Err(DevicesError::Ca(_))), "{:?}", wrong.err());
    let stored = l.store.setting("devices.ca").await.unwrap().unwrap();
    assert!(!stored.contains("PRIVATE KEY"), "the CA key is stored sealed");
}
