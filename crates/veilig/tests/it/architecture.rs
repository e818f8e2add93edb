//! The invariants written down in ARCHITECTURE.md, checked with `cargo tree` the way
//! rust-analyzer's CI does, so the layering does not erode by accident.

use std::collections::BTreeSet;

fn cargo_tree(package: &str, depth: Option<u32>) -> BTreeSet<String> {
    let mut cmd = std::process::Command::new(env!("CARGO"));
    cmd.args(["tree", "--locked", "-e", "normal", "--prefix", "none", "--format", "{p}", "-p", package]);
    if let Some(d) = depth {
        cmd.args(["--depth", &d.to_string()]);
    }
    let out = cmd.current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("cargo tree");
    assert!(out.status.success(), "cargo tree -p {package}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.split_whitespace().next()).map(str::to_owned).skip(1).collect()
}

fn workspace_members() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn engines_do_no_io() {
    // The audit chain's rules are pure: no runtime, no database, no network.
    for engine in ["veilig-audit", "veilig-monitor", "veilig-vpn-engine", "veilig-phish", "veilig-pseudo", "veilig-device", "veilig-cloud"]
    {
        let tree = cargo_tree(engine, None);
        for banned in ["tokio", "sqlx", "axum", "hyper", "mio", "socket2"] {
            assert!(!tree.contains(banned), "{engine} depends on {banned}: {tree:?}");
        }
    }
}

#[test]
fn only_veilig_web_and_the_binary_know_http() {
    assert!(cargo_tree("veilig-web", None).contains("axum"), "the check itself must see axum where it is");
    for member in workspace_members() {
        let tree = cargo_tree(&member, None);
        let knows_http = tree.contains("axum") || tree.contains("hyper");
        let allowed = matches!(member.as_str(), "veilig" | "veilig-web" | "veilig-testkit");
        assert!(allowed || !knows_http, "{member} depends on axum or hyper");
    }
}

#[test]
fn only_veilig_store_knows_sql() {
    for member in workspace_members() {
        let direct = cargo_tree(&member, Some(1));
        let allowed = matches!(member.as_str(), "veilig-store" | "veilig-testkit");
        assert!(allowed || !direct.contains("sqlx"), "{member} depends on sqlx directly");
    }
}

#[test]
fn veilig_core_stands_on_nothing_of_ours() {
    let tree = cargo_tree("veilig-core", None);
    assert!(!tree.iter().any(|p| p.starts_with("veilig-")), "veilig-core depends on {tree:?}");
    for banned in ["sqlx", "axum", "hyper"] {
        assert!(!tree.contains(banned), "veilig-core depends on {banned}");
    }
}

#[test]
fn every_crate_is_in_the_code_map() {
    let map = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ARCHITECTURE.md")).unwrap();
    for member in workspace_members() {
        assert!(map.contains(&format!("`{member}`")), "ARCHITECTURE.md does not describe {member}");
    }
}

#[test]
fn device_compliance_and_the_vpn_meet_only_on_the_event_bus() {
    // a lapsed device condition ends a VPN session through `DeviceAccessLost`, not a call
    let compliance = cargo_tree("veilig-compliance", None);
    assert!(compliance.contains("veilig-device"), "the check itself must see the engine: {compliance:?}");
    assert!(!compliance.contains("veilig-vpn"), "veilig-compliance depends on the VPN");
    assert!(!cargo_tree("veilig-vpn", None).contains("veilig-compliance"), "veilig-vpn depends on device compliance");
}
