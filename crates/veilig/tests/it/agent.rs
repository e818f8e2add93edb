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

    // ClamAV from Debian is installed here (scripts/test installs it): the engine's version is named
    let installed = Command::new("clamscan").arg("--version").output().expect("scripts/test installs clamav");
    let version = String::from_utf8_lossy(&installed.stdout).trim().trim_start_matches("ClamAV ").split('/').next().unwrap().to_owned();
    assert!(item(&v, "scanner")["detail"].as_str().unwrap().contains(&format!("ClamAV {version}")), "{}", item(&v, "scanner"));
    // whether freshclam runs is seen (systemd, or the process list where there is no systemd)
    assert_ne!(item(&v, "scanner")["status"], "unknown", "{}", item(&v, "scanner"));

    // no database at all: installed, but no scanner worth the name
    std::fs::remove_file(dir.join("daily.cld")).unwrap();
    let v = check(&dir);
    assert_eq!(item(&v, "scanner")["status"], "not_ok");
    assert!(item(&v, "scanner")["detail"].as_str().unwrap().contains("no virus database"), "{}", item(&v, "scanner"));
}

fn agent_cmd(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(crate::BIN).args(args).env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY").output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A request on a TLS connection to the agent endpoint that trusts the device CA but shows no
/// client certificate (or the given one): the answer, if any.
fn bare_request(port: u16, ca_pem: &str, client: Option<&rcgen::CertifiedKey<rcgen::KeyPair>>) -> String {
    use rustls_pki_types::pem::PemObject;
    use std::io::{Read, Write};
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls_pki_types::CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap()).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match client {
        Some(c) => builder
            .with_client_auth_cert(
                vec![c.cert.der().clone()],
                rustls_pki_types::PrivateKeyDer::from_pem_slice(c.signing_key.serialize_pem().as_bytes()).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let body = r#"{"seq": 999, "report": {"agent_version": "x", "hostname": "forged", "os": {"family": "linux", "name": "debian", "version": "12", "build": ""}, "checked_at": 0, "checks": []}}"#;
    let req = format!(
        "POST /agent/v1/report HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    if tls.write_all(req.as_bytes()).is_err() {
        return String::new();
    }
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn an_agent_enrols_with_a_portal_token_and_reports_over_mutual_tls_until_revoked() {
    use veilig_testkit::http;
    let server = veilig_testkit::ServerProcess::start_with_env(
        std::path::Path::new(crate::BIN),
        &crate::database(),
        &[],
        &[("VEILIG_DEVICES_AGENT_LISTEN", "127.0.0.1:{port2}")],
    );
    let (admin, csrf) = crate::admin_agent(&server);
    let dir = std::env::temp_dir().join(format!("veilig-agent-e2e-{}", veilig_core::random_id()));
    let clam = dir.join("clamav");
    std::fs::create_dir_all(&clam).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    std::fs::write(clam.join("daily.cld"), header(now - 86_400)).unwrap();
    let state = dir.join("agent");
    let state_s = state.to_str().unwrap();

    let t = http::send(&admin, "POST", &server.url("/api/v1/devices/tokens"), &[("x-csrf-token", &csrf)], Some(&serde_json::json!({})));
    assert_eq!(t.status, 201, "{}", t.body);
    let token = t.json()["token"].as_str().unwrap().to_owned();
    assert!(t.json()["command"].as_str().unwrap().contains(&token));

    // a wrong token enrols nothing
    let (code, _, err) = agent_cmd(&["agent", "enroll", &server.url(""), "--token", "vdt_wrong", "--dir", state_s]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown, used or expired"), "{err}");

    let (code, out, err) = agent_cmd(&["agent", "enroll", &server.url(""), "--token", &token, "--dir", state_s]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("enrolled as device"), "{out}");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(state.join("key.pem")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the device key is readable by the agent only");
    }
    // the token works once
    let (code, _, _) = agent_cmd(&["agent", "enroll", &server.url(""), "--token", &token, "--dir", dir.join("again").to_str().unwrap()]);
    assert_eq!(code, 2);

    let run = |extra: &[&str]| {
        let mut args = vec!["agent", "run", "--once", "--dir", state_s, "--clamav-dir", clam.to_str().unwrap()];
        args.extend_from_slice(extra);
        agent_cmd(&args)
    };
    let (code, out, err) = run(&[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("compliant") || out.contains("unknown"), "{out}");

    let devices = http::get(&admin, &server.url("/api/v1/devices"));
    assert_eq!(devices.status, 200, "{}", devices.body);
    let list = devices.json();
    let d = &list.as_array().unwrap()[0];
    assert_eq!(d["user"], "beheer@gemeente.nl");
    assert_eq!(d["state"], "active");
    assert!(d["last_report_ms"].as_i64().is_some(), "{d}");
    assert_eq!(d["report"]["os"]["family"], "linux");
    let sigs = d["report"]["checks"].as_array().unwrap().iter().find(|c| c["item"] == "signatures").unwrap().clone();
    assert_eq!(sigs["value"], 1, "{sigs}");
    let id = d["id"].as_str().unwrap().to_owned();

    // a replayed sequence number is refused
    let saved: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(state.join("agent.json")).unwrap()).unwrap();
    let mut replay = saved.clone();
    replay["seq"] = serde_json::json!(0);
    std::fs::write(state.join("agent.json"), replay.to_string()).unwrap();
    let (code, _, err) = run(&[]);
    assert_eq!(code, 1);
    assert!(err.contains("already used"), "{err}");

    // no client certificate, or one the device CA did not sign: refused in the handshake
    let port: u16 = saved["report_url"].as_str().unwrap().rsplit(':').next().unwrap().parse().unwrap();
    let ca = std::fs::read_to_string(state.join("ca.pem")).unwrap();
    let answer = bare_request(port, &ca, None);
    assert!(!answer.starts_with("HTTP/"), "answered without a certificate: {answer}");
    let forged = rcgen::generate_simple_self_signed(vec!["laptop".to_owned()]).unwrap();
    let answer = bare_request(port, &ca, Some(&forged));
    assert!(!answer.starts_with("HTTP/"), "answered a forged certificate: {answer}");
    let after = http::get(&admin, &server.url(&format!("/api/v1/devices/{id}")));
    assert_eq!(after.json()["report"]["hostname"], d["report"]["hostname"], "nothing stored from the forged connections");

    // revoked: the next report is refused
    let r = http::send(&admin, "POST", &server.url(&format!("/api/v1/devices/{id}/revoke")), &[("x-csrf-token", &csrf)], None);
    assert_eq!(r.status, 204, "{}", r.body);
    let (code, _, err) = run(&[]);
    assert_eq!(code, 1);
    assert!(err.contains("revoked"), "{err}");
    let audit = http::get(&admin, &server.url("/api/v1/audit?action=device."));
    for action in ["device.token_issued", "device.enrolled", "device.compliance_changed", "device.revoked"] {
        assert!(audit.body.contains(action), "{action} missing from the audit chain: {}", audit.body);
    }
}

/// The "done when" of issue #9: an employee enrols this Linux machine with the token from the
/// portal and sees the verdict with what to fix; an administrator sees it in the inventory.
#[test]
fn an_employee_enrols_a_laptop_from_the_portal_and_sees_what_to_fix_in_chromium() {
    use veilig_testkit::{Browser, http};
    let server = veilig_testkit::ServerProcess::start_with_env(
        std::path::Path::new(crate::BIN),
        &crate::database(),
        &[],
        &[("VEILIG_DEVICES_AGENT_LISTEN", "127.0.0.1:{port2}")],
    );
    let (admin, csrf) = crate::admin_agent(&server);
    let r = http::send(
        &admin,
        "POST",
        &server.url("/api/v1/users"),
        &[("x-csrf-token", &csrf)],
        Some(&serde_json::json!({"email": "anna@gemeente.nl", "name": "Anna Jansen"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let (emp, _) = crate::enrolled_agent(&server, r.json()["enrollment_url"].as_str().unwrap(), "groene appel naast de kachel");
    let cookie = crate::session_cookie;

    let b = Browser::start(1280, 1100);
    b.goto(&server.url("/login"));
    b.add_cookie("veilig_session", &cookie(&emp));
    b.goto(&server.url("/devices?lang=nl"));
    b.wait_for_text("h1", "Apparaten");
    b.wait_for_text("#no-devices", "nog geen");
    b.click(&b.find("#new-token"));
    let command = b.wait_for_text("#enrol-command", "veilig agent enroll");
    let words: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(&words[..3], ["veilig", "agent", "enroll"], "{command}");

    // on the laptop (this machine): the command from the page, then one report
    let dir = std::env::temp_dir().join(format!("veilig-agent-ui-{}", veilig_core::random_id()));
    let clam = dir.join("clamav");
    std::fs::create_dir_all(&clam).unwrap();
    std::fs::write(clam.join("daily.cld"), header(time::OffsetDateTime::now_utc().unix_timestamp() - 3 * 86_400)).unwrap();
    let state = dir.join("agent");
    let mut args: Vec<&str> = words[1..].to_vec();
    args.extend(["--dir", state.to_str().unwrap()]);
    let (code, out, err) = agent_cmd(&args);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = agent_cmd(&["agent", "run", "--once", "--dir", state.to_str().unwrap(), "--clamav-dir", clam.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");

    // the page: the device, its verdict, and what to fix in plain Dutch
    b.goto(&server.url("/devices?lang=nl"));
    b.wait_for_text("section.device h2", "");
    let verdict = b.text(&b.find("section.device h2 .badge"));
    assert!(["Voldoet", "Voldoet niet", "Onbekend"].contains(&verdict.as_str()), "{verdict}");
    let fixes = b.execute("return Array.from(document.querySelectorAll('.fixes li')).map(li => li.textContent)", vec![]);
    if verdict != "Voldoet" {
        assert!(!fixes.as_array().unwrap().is_empty(), "a verdict other than compliant says what to fix");
    }
    b.click(&b.find("section.device details summary"));
    b.wait_for_text("section.device .checks", "ClamAV");
    b.save_screenshot("devices-employee-nl.png");

    let phone = Browser::start(390, 844);
    phone.goto(&server.url("/login"));
    phone.add_cookie("veilig_session", &cookie(&emp));
    phone.goto(&server.url("/devices?lang=nl"));
    phone.wait_for_text("h1", "Apparaten");
    assert_eq!(phone.execute("return document.documentElement.scrollWidth <= window.innerWidth + 1", vec![]), true, "fits a phone");
    phone.save_screenshot("devices-employee-nl-phone.png");

    // the administrator's inventory
    let a = Browser::start(1280, 1400);
    a.goto(&server.url("/login"));
    a.add_cookie("veilig_session", &cookie(&admin));
    a.goto(&server.url("/admin/devices?lang=en"));
    a.wait_for_text("h1", "Device compliance");
    a.wait_for_text("#inventory", "anna@gemeente.nl");
    assert_eq!(a.execute("return document.querySelectorAll('figure.chart svg g').length", vec![]), 7, "one bar per check");
    a.save_screenshot("devices-admin-en.png");
}
