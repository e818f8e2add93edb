//! Policy evaluation with a fixed clock: compliant, not compliant with what to fix, unknown.

use crate::NOW;
use veilig_device::policy::{Policy, Verdict, evaluate};
use veilig_device::{Check, Item, Os, Report};

fn report(checks: Vec<Check>) -> Report {
    Report {
        agent_version: "0.1.0".into(),
        hostname: "laptop-anna".into(),
        os: Os { family: "linux".into(), name: "debian".into(), version: "12".into(), build: "bookworm".into() },
        checked_at: NOW - 600,
        checks,
    }
}

fn healthy() -> Vec<Check> {
    vec![
        Check::ok(Item::OsSupported, "Debian 12"),
        Check::ok(Item::Updates, "3 days").with_value(3),
        Check::ok(Item::Scanner, "ClamAV"),
        Check::ok(Item::Signatures, "1 day").with_value(1),
        Check::ok(Item::DiskEncryption, "LUKS"),
        Check::ok(Item::Firewall, "nftables"),
        Check::ok(Item::ScreenLock, "5 min").with_value(5),
    ]
}

#[test]
fn a_healthy_device_is_compliant() {
    let c = evaluate(&report(healthy()), &Policy::default(), NOW, NOW);
    assert_eq!(c.verdict, Verdict::Compliant, "{c:?}");
    assert!(c.findings.is_empty());
}

#[test]
fn what_to_fix_is_said_in_both_languages() {
    let mut checks = healthy();
    checks[3] = Check::ok(Item::Signatures, "ClamAV database 12 days old").with_value(12);
    checks[5] = Check::not_ok(Item::Firewall, "ufw is installed but inactive");
    let c = evaluate(&report(checks), &Policy::default(), NOW, NOW);
    assert_eq!(c.verdict, Verdict::NotCompliant);
    let codes: Vec<&str> = c.findings.iter().map(|f| f.code).collect();
    assert_eq!(codes, ["firewall.off", "signatures.old"]);
    assert_eq!(c.findings[1].nl, "De virusdefinities zijn 12 dagen oud (maximaal 7); laat de scanner bijwerken.");
    assert_eq!(c.findings[0].en, "Turn on the firewall (ufw is installed but inactive)");
    // a looser policy accepts the same device
    let loose = Policy { firewall_required: false, max_signature_days: Some(14), ..Policy::default() };
    let mut checks = healthy();
    checks[3] = Check::ok(Item::Signatures, "12 days").with_value(12);
    checks[5] = Check::not_ok(Item::Firewall, "off");
    assert_eq!(evaluate(&report(checks), &loose, NOW, NOW).verdict, Verdict::Compliant);
}

#[test]
fn unknown_is_never_compliant_nor_a_guess() {
    let mut checks = healthy();
    checks[4] = Check::unknown(Item::DiskEncryption, "no block device holds /");
    let c = evaluate(&report(checks), &Policy::default(), NOW, NOW);
    assert_eq!(c.verdict, Verdict::Unknown);
    assert_eq!(c.findings[0].code, "check.unknown");
    // an item the device did not report at all
    let c = evaluate(&report(healthy()[..6].to_vec()), &Policy::default(), NOW, NOW);
    assert_eq!((c.verdict, c.findings[0].code), (Verdict::Unknown, "check.missing"));
}

#[test]
fn a_clock_far_off_or_a_silent_device_is_unknown() {
    // the device says it checked three days from now
    let mut r = report(healthy());
    r.checked_at = NOW + 3 * 86_400;
    let c = evaluate(&r, &Policy::default(), NOW, NOW);
    assert_eq!((c.verdict, c.findings[0].code), (Verdict::Unknown, "clock.off"));
    // the last report came four days ago
    let mut r = report(healthy());
    r.checked_at = NOW - 4 * 86_400;
    let c = evaluate(&r, &Policy::default(), NOW - 4 * 86_400, NOW);
    assert_eq!((c.verdict, c.findings[0].code), (Verdict::Unknown, "report.stale"));
}
