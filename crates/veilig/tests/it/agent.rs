//! `veilig agent check` on this Linux machine: real collectors, a ClamAV database header written
//! with a chosen build time, the default policy's verdict.

use std::process::Command;

fn header(build_epoch: i64) -> Vec<u8> {
    let mut h = format!("ClamAV-VDB:26 Nov 2026 09-23 +0000:27469:2071052:90:X:X:raynman:{build_epoch}").into_bytes();
    h.resize(512, b' ');
    h.extend_from_slice(b"...signatures follow...");
    h
}

fn check(clamav_dir: &std::path::Path) -> serde_json::Value {
    let out = Command::new(crate::BIN)
        .args(["agent", "check", "--json", "--clamav-dir", clamav_dir.to_str().unwrap()])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn item<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["report"]["checks"].as_array().unwrap().iter().find(|c| c["item"] == name).unwrap()
}

#[test]
fn agent_check_reads_this_machine_and_the_clamav_database_date() {
    let dir = std::env::temp_dir().join(format!("veilig-agent-{}", veilig_core::random_id()));
    std::fs::create_dir_all(&dir).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();

    std::fs::write(dir.join("daily.cld"), header(now - 2 * 86_400)).unwrap();
    let v = check(&dir);
    assert_eq!(v["report"]["os"]["family"], "linux");
    let os_release = std::fs::read_to_string("/etc/os-release").unwrap();
    assert!(os_release.contains(&format!("ID={}", v["report"]["os"]["name"].as_str().unwrap())), "{}", v["report"]["os"]);
    let sigs = item(&v, "signatures");
    assert_eq!((sigs["status"].as_str(), sigs["value"].as_i64()), (Some("ok"), Some(2)), "{sigs}");
    // without a desktop session the screen lock is unknown, not a guess
    assert_eq!(item(&v, "screen_lock")["status"], "unknown");
    // every item is there, with a status the engine knows
    assert_eq!(v["report"]["checks"].as_array().unwrap().len(), 7);
    assert!(["compliant", "not_compliant", "unknown"].contains(&v["compliance"]["verdict"].as_str().unwrap()));

    // a 40-day-old database breaks the 7-day rule of the default policy
    std::fs::write(dir.join("daily.cld"), header(now - 40 * 86_400)).unwrap();
    let v = check(&dir);
    assert_eq!(item(&v, "signatures")["value"], 40);
    assert_eq!(v["compliance"]["verdict"], "not_compliant");
    let codes: Vec<&str> = v["compliance"]["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"signatures.old"), "{codes:?}");

    // no database at all: no scanner
    std::fs::remove_file(dir.join("daily.cld")).unwrap();
    let v = check(&dir);
    assert_eq!(item(&v, "scanner")["status"], "not_ok");
}
