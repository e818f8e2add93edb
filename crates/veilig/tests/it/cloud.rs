//! `veilig cloud discover` on the engine's hand-made sample logs, and its bad input.

use crate::veilig;

fn samples() -> String {
    format!("{}/../veilig-cloud/tests/it/samples", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn discover_prints_one_json_object_per_service_then_the_unknown_domains_then_a_summary() {
    let dir = samples();
    let (code, out, err) = veilig(&["cloud", "discover", "--json", &format!("{dir}/dnsmasq.log"), &format!("{dir}/zeek-ssl.log")]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let zoom = lines.iter().find(|v| v["service"] == "zoom").unwrap();
    for key in ["service", "domains", "functions", "register_status", "queries", "clients", "first_seen", "last_seen"] {
        assert!(zoom.get(key).is_some(), "{key} missing: {zoom}");
    }
    assert_eq!((zoom["queries"].as_u64(), zoom["clients"].as_u64()), (Some(5), Some(3)), "3/2 in dnsmasq.log, 2/1 in zeek-ssl.log");
    assert_eq!(zoom["first_seen"], "2026-11-26T13:05:20Z", "epoch 1795698320 in zeek-ssl.log");
    assert!(lines.iter().any(|v| v["unknown_domain"] == "nu.nl"), "{out}");
    let summary = &lines.last().unwrap()["summary"];
    assert_eq!((summary["queries"].as_u64(), summary["malformed"].as_u64()), (Some(42), Some(5)), "{summary}");
    assert!(!out.contains("192.168.") && !out.contains("10.40."), "no client address is printed");
}

#[test]
fn discover_says_what_is_wrong_with_its_input() {
    let (code, _, err) = veilig(&["cloud", "discover", "--format", "syslog", "x.log"]);
    assert_eq!(code, 2);
    assert!(err.contains("--format") && err.contains("windows-dns"), "{err}");
    let (code, _, err) = veilig(&["cloud", "discover", "/no/such/file.log"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read /no/such/file.log"), "{err}");
    let dir = std::env::temp_dir().join(format!("veilig-cloud-{}", veilig_core::random_id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junk = dir.join("junk.log");
    std::fs::write(&junk, "hello\nthis is not a log\n\u{0}\u{1}binary\n").unwrap();
    let (code, out, err) = veilig(&["cloud", "discover", junk.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("no line was understood"), "{err}");
    assert!(out.contains("3 not understood") && out.contains("not understood: hello"), "{out}");
}
