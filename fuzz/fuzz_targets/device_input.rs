//! What reaches the device engine and the device CA from outside: every tool output the agent
//! reads (any text, as a broken or hostile machine might print it), a report as the agent
//! endpoint receives it, and a certificate request as the enrolment call receives it. Never a
//! panic; an item that says *ok* or *not ok* with a number never carries a negative age; a
//! request that signs yields a certificate naming only the device.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use veilig_device::{Os, Report, Status, eol, linux, macos, policy, windows};

fn ca() -> &'static veilig_compliance::DeviceCa {
    static CA: OnceLock<veilig_compliance::DeviceCa> = OnceLock::new();
    CA.get_or_init(|| {
        veilig_compliance::DeviceCa::generate("fuzz", time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000))
            .unwrap_or_else(|e| panic!("{e}"))
    })
}

fuzz_target!(|input: (&str, &[u8], i64)| {
    let (text, bytes, now) = input;
    let now = now.rem_euclid(4_000_000_000);
    let os = linux::os_release(text);
    let _ = eol::check(&os, Some(text), now);
    let _ = eol::from_distro_info(text, text);
    let _ = linux::apt_last_update(text);
    let _ = linux::dnf_last_update(text);
    let (scanner, sigs) = linux::clamav(linux::clamav_version(text).as_deref(), Some(bytes), Some(true), now);
    let mut checks = vec![scanner, sigs, linux::root_encryption(text), linux::firewall(Some(text), Some(text), Some(text))];
    let _ = linux::session_ids(text);
    let _ = linux::graphical_session(text);
    checks.push(linux::gnome_screen_lock(Some(text), Some(text)));
    checks.push(linux::updates(Some(text), Some(text), now));
    let _ = windows::product_state(u32::from_le_bytes([bytes.first().copied().unwrap_or(0), 1, 2, 3]));
    let (s, g) = windows::scanner(Some(text), Some(text));
    checks.extend([s, g, windows::bitlocker(Some(text)), windows::firewall(Some(text)), windows::updates(Some(text), now)]);
    let _ = windows::os(text);
    checks.push(windows::screen_lock(Some(text)));
    let _ = macos::sw_vers(text);
    let (x, y) = macos::xprotect(Some(text), Some(now), now);
    checks.extend([x, y, macos::filevault(Some(text)), macos::firewall(Some(text)), macos::updates(Some(text), now)]);
    checks.push(macos::screen_lock(Some(text)));
    for c in &checks {
        if c.status != Status::Unknown
            && let Some(v) = c.value
        {
            assert!(v >= 0, "{c:?}");
        }
    }
    let report = Report { agent_version: "fuzz".into(), hostname: "h".into(), os: Os::default(), checked_at: now, checks };
    let _ = policy::evaluate(&report, &policy::Policy::default(), now, now);
    // a report as the endpoint receives it
    if let Ok(r) = serde_json::from_slice::<Report>(bytes) {
        let _ = policy::evaluate(&r, &policy::Policy::default(), now, now);
    }
    // a certificate request as the enrolment call receives it
    if let Ok(issued) = ca().issue_device(text, "device-1", time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000), 30) {
        assert!(issued.pem.starts_with("-----BEGIN CERTIFICATE-----"));
    }
});
