//! The VPN end to end, in network namespaces this test makes: Veilig as the gateway in *gw*,
//! an intranet web server in *office*, employees' laptops in *home* and *home2* running
//! Debian's `wireguard-go` with the `.conf` that Veilig produced, brought up by `wg-quick`.

use std::time::{Duration, Instant};

use serde_json::json;
use veilig_testkit::http::{self, Agent};
use veilig_testkit::netns::Lab;
use veilig_testkit::{ServerProcess, TestDatabase};

use crate::{BIN, PASSWORD, totp_now};

const INTRANET: &str = "http://10.20.0.2:8000/";

struct Person {
    agent: Agent,
    csrf: String,
    id: String,
    email: String,
    secret: String,
}

fn api(server: &ServerProcess, who: &Person, method: &str, path: &str, body: Option<serde_json::Value>) -> http::Reply {
    http::send(&who.agent, method, &server.url(path), &[("x-csrf-token", &who.csrf)], body.as_ref())
}

fn admin(server: &ServerProcess) -> Person {
    let token = crate::setup_link(server).rsplit('/').next().unwrap().to_owned();
    let agent = http::agent();
    let r = http::post_json(
        &agent,
        &server.url("/api/v1/setup"),
        &json!({"token": token, "email": "beheer@gemeente.nl", "password": PASSWORD}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let csrf = r.json()["csrf_token"].as_str().unwrap().to_owned();
    let mut p = Person { agent, csrf, id: String::new(), email: "beheer@gemeente.nl".into(), secret: String::new() };
    p.secret = enrol_totp(server, &p);
    p
}

fn enrol_totp(server: &ServerProcess, p: &Person) -> String {
    let t = api(server, p, "POST", "/api/v1/me/totp", None);
    assert_eq!(t.status, 200, "{}", t.body);
    let secret = t.json()["secret"].as_str().unwrap().to_owned();
    let c = api(server, p, "POST", "/api/v1/me/totp/confirm", Some(json!({"code": totp_now(&secret)})));
    assert_eq!(c.status, 200, "{}", c.body);
    secret
}

/// Invites an employee into `groups` and enrols them (password + authenticator app).
fn employee(server: &ServerProcess, admin: &Person, email: &str, groups: &[&str]) -> Person {
    let r = api(server, admin, "POST", "/api/v1/users", Some(json!({"email": email, "name": email, "groups": groups})));
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["user"]["id"].as_str().unwrap().to_owned();
    let token = r.json()["enrollment_url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let agent = http::agent();
    let e = http::post_json(&agent, &server.url("/api/v1/enroll"), &json!({"token": token, "password": PASSWORD}));
    assert_eq!(e.status, 200, "{}", e.body);
    let csrf = e.json()["csrf_token"].as_str().unwrap().to_owned();
    let mut p = Person { agent, csrf, id, email: email.to_owned(), secret: String::new() };
    p.secret = enrol_totp(server, &p);
    p
}

/// Signs in again with password and the code of the next 30-second step.
fn login(server: &ServerProcess, p: &mut Person) {
    p.agent = http::agent();
    let r = http::post_json(&p.agent, &server.url("/api/v1/login"), &json!({"email": p.email, "password": PASSWORD}));
    assert_eq!(r.status, 200, "{}", r.body);
    p.csrf = r.json()["csrf_token"].as_str().unwrap().to_owned();
    // A code can be used once: wait for a fresh step if this one was spent at enrolment.
    let mut code = totp_now(&p.secret);
    loop {
        let t = api(server, p, "POST", "/api/v1/login/totp", Some(json!({"code": code})));
        if t.status == 200 {
            p.csrf = t.json().get("csrf_token").and_then(|c| c.as_str()).map(str::to_owned).unwrap_or(p.csrf.clone());
            return;
        }
        assert_eq!(t.status, 401, "{}", t.body);
        while totp_now(&p.secret) == code {
            std::thread::sleep(Duration::from_millis(500));
        }
        code = totp_now(&p.secret);
    }
}

fn start_gateway(lab: &Lab, db: &TestDatabase, wg_port: u16, session_max_secs: u64, idle_secs: u64) -> ServerProcess {
    let port = wg_port.to_string();
    let endpoint = format!("10.99.1.1:{wg_port}");
    let max = session_max_secs.to_string();
    let idle = idle_secs.to_string();
    let interface = format!("vg{}t", lab.id);
    ServerProcess::start_inside(
        std::path::Path::new(BIN),
        db,
        &Lab::prefix(&lab.gw),
        "10.99.0.2",
        &["--behind-proxy", "10.99.0.1/32"],
        &[
            ("VEILIG_VPN_ENABLED", "true"),
            ("VEILIG_VPN_NETWORKS", "10.20.0.0/24"),
            ("VEILIG_VPN_PORT", &port),
            ("VEILIG_VPN_ENDPOINT", &endpoint),
            ("VEILIG_VPN_INTERFACE", &interface),
            ("VEILIG_VPN_SESSION_MAX_SECS", &max),
            ("VEILIG_VPN_IDLE_SECS", &idle),
            ("VEILIG_DEVICES_AGENT_LISTEN", "10.99.0.2:{port2}"),
        ],
    )
}

/// Enrols a device agent for `p` in a folder of its own, through the enrolment API (the portal
/// is not on loopback here, so the agent's own `enroll` would refuse plain http).
fn enrol_agent(server: &ServerProcess, p: &Person) -> std::path::PathBuf {
    let t = api(server, p, "POST", "/api/v1/devices/tokens", Some(json!({})));
    assert_eq!(t.status, 201, "{}", t.body);
    let key = rcgen::KeyPair::generate().unwrap();
    let csr = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap().serialize_request(&key).unwrap().pem().unwrap();
    let e = http::post_json(
        &http::agent(),
        &server.url("/api/v1/agent/enroll"),
        &json!({"token": t.json()["token"], "csr": csr, "hostname": "laptop-anna"}),
    );
    assert_eq!(e.status, 201, "{}", e.body);
    let e = e.json();
    let dir = veilig_testkit::temp_dir("agent");
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
    std::fs::write(dir.join("cert.pem"), e["certificate"].as_str().unwrap()).unwrap();
    std::fs::write(dir.join("ca.pem"), e["ca"].as_str().unwrap()).unwrap();
    let state = json!({"device_id": e["device_id"], "report_url": e["report_url"], "seq": 0});
    std::fs::write(dir.join("agent.json"), state.to_string()).unwrap();
    dir
}

/// One `veilig agent run --once` with ClamAV's databases in `clamav`.
fn agent_report(dir: &std::path::Path, clamav: &std::path::Path, ok: bool) {
    std::fs::create_dir_all(clamav).unwrap();
    let out = std::process::Command::new(BIN)
        .args(["agent", "run", "--once", "--dir", dir.to_str().unwrap(), "--clamav-dir", clamav.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.success(), ok, "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

fn clamav_header(build_epoch: i64) -> Vec<u8> {
    let mut h = format!("ClamAV-VDB:26 Nov 2026 09-23 +0000:27469:2071052:90:X:X:raynman:{build_epoch}").into_bytes();
    h.resize(512, b' ');
    h
}

/// Polls until `ns` reaches the intranet (`want = true`) or stops reaching it; returns how
/// long that took, or panics after `limit`.
fn until_reach(lab: &Lab, ns: &str, want: bool, limit: Duration, what: &str) -> Duration {
    let start = Instant::now();
    loop {
        if lab.reaches(ns, INTRANET, Duration::from_millis(400)) == want {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "{what}: still {} after {limit:?}", if want { "unreachable" } else { "reachable" });
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn session_id(server: &ServerProcess, p: &Person) -> String {
    let open = api(server, p, "GET", "/api/v1/vpn/sessions", None).json();
    open.as_array().unwrap().iter().find(|s| s["user"] == p.email.as_str()).unwrap()["id"].as_str().unwrap().to_owned()
}

#[test]
fn the_tunnel_carries_traffic_only_during_a_two_factor_session() {
    let mut lab = Lab::new();
    lab.office_http(8000);
    let base_db = crate::database();
    let db = TestDatabase { url: lab.reachable_db(&base_db.url), ..base_db };
    let wg_port = 51000 + (std::process::id() % 500) as u16;
    let mut server = start_gateway(&lab, &db, wg_port, 3600, 900);
    assert!(server.stdout().contains(&format!("WireGuard UDP port {wg_port}")), "{}", server.stdout());

    let boss = admin(&server);
    assert_eq!(api(&server, &boss, "POST", "/api/v1/groups", Some(json!({"name": "Thuiswerkers"}))).status, 201);
    let rule = api(
        &server,
        &boss,
        "POST",
        "/api/v1/vpn/rules",
        Some(json!({"group": "Thuiswerkers", "network": "10.20.0.0/24", "protocol": "tcp", "ports": "8000"})),
    );
    assert_eq!(rule.status, 201, "{}", rule.body);
    let mut anna = employee(&server, &boss, "anna@gemeente.nl", &["Thuiswerkers"]);
    let bert = employee(&server, &boss, "bert@gemeente.nl", &[]);

    // Each adds a laptop; Veilig makes the keys and hands out the configuration once.
    let conf_of = |p: &Person| {
        let r = api(&server, p, "POST", "/api/v1/vpn/devices", Some(json!({"name": "Laptop"})));
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()["config"].as_str().unwrap().to_owned()
    };
    let anna_conf = conf_of(&anna);
    let bert_conf = conf_of(&bert);
    let (anna_if, bert_if) = (format!("vg{}a", lab.id), format!("vg{}b", lab.id));
    let (home, home2) = (lab.home.clone(), lab.home2.clone());
    lab.tunnel_up(&home, &anna_if, &anna_conf);
    lab.tunnel_up(&home2, &bert_if, &bert_conf.replace("10.99.1.1", "10.99.2.1"));

    // No session: the tunnel carries nothing, no handshake completes.
    assert!(!lab.reaches(&home, INTRANET, Duration::from_secs(2)), "reachable before Connect");
    let hs = lab.exec(&home, &["wg", "show", &anna_if, "latest-handshakes"]);
    assert!(String::from_utf8_lossy(&hs.stdout).trim().ends_with("\t0"), "a handshake completed without a session");

    // Connect after signing in with both factors: traffic flows within a second or so.
    let opened = api(&server, &anna, "POST", "/api/v1/vpn/sessions", None);
    assert_eq!(opened.status, 201, "{}", opened.body);
    let first = until_reach(&lab, &home, true, Duration::from_secs(10), "after Connect");
    eprintln!("connect to first packet: {first:?}");

    // Bert's group has no rule: his tunnel comes up but reaches nothing.
    assert_eq!(api(&server, &bert, "POST", "/api/v1/vpn/sessions", None).status, 201);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        // Traffic makes his client retry the handshake (every five seconds).
        assert!(!lab.reaches(&home2, INTRANET, Duration::from_millis(500)), "a user without a rule reached the intranet");
        let hs = lab.exec(&home2, &["wg", "show", &bert_if, "latest-handshakes"]);
        if !String::from_utf8_lossy(&hs.stdout).trim().ends_with("\t0") {
            break;
        }
        assert!(Instant::now() < deadline, "bert's handshake did not complete: {hs:?}");
    }
    assert!(!lab.reaches(&home2, INTRANET, Duration::from_secs(2)), "a user without a rule reached the intranet");

    // Bert's laptop probes the internal network: every port refused, and monitoring notices.
    let probe = "for p in $(seq 1 60); do (exec 3<>/dev/tcp/10.20.0.2/$p) 2>/dev/null & done; sleep 1; kill $(jobs -p) 2>/dev/null; true";
    lab.exec(&home2, &["timeout", "3", "bash", "-c", probe]);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let alerts = api(&server, &boss, "GET", "/api/v1/alerts", None).json();
        if alerts.as_array().unwrap().iter().any(|a| a["rule"] == "vpn_device_probing" && a["user"] == "bert@gemeente.nl") {
            break;
        }
        assert!(Instant::now() < deadline, "no probing alert: {alerts}");
        std::thread::sleep(Duration::from_millis(500));
    }

    // The administrator sees the device with its handshake, endpoint and traffic.
    let mut seen = false;
    for _ in 0..30 {
        let devices = api(&server, &boss, "GET", "/api/v1/vpn/devices?all=true", None).json();
        let d = devices.as_array().unwrap().iter().find(|d| d["user"] == "anna@gemeente.nl").unwrap().clone();
        if d["last_handshake_ms"].is_i64()
            && d["endpoint"].as_str().is_some_and(|e| e.starts_with("10.99.1.2:"))
            && d["rx_bytes"].as_i64().unwrap() > 0
        {
            seen = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(seen, "the device list shows handshake, endpoint and bytes");
    // Idle for more than one ten-second store: the stored total grows by keepalives at most,
    // not by the data plane's counter again (each store adds only what is new).
    let rx_of = || {
        let devices = api(&server, &boss, "GET", "/api/v1/vpn/devices?all=true", None).json();
        devices.as_array().unwrap().iter().find(|d| d["user"] == "anna@gemeente.nl").unwrap()["rx_bytes"].as_i64().unwrap()
    };
    let r1 = rx_of();
    std::thread::sleep(Duration::from_secs(11));
    let r2 = rx_of();
    assert!(r2 <= r1 + r1 / 4 + 600, "the stored traffic grew from {r1} to {r2} bytes while idle");

    // Disconnect: the peer leaves the data plane at once.
    let id = session_id(&server, &anna);
    assert_eq!(api(&server, &anna, "DELETE", &format!("/api/v1/vpn/sessions/{id}"), None).status, 204);
    let stop = until_reach(&lab, &home, false, Duration::from_secs(2), "after Disconnect");
    eprintln!("disconnect to drop: {stop:?}");

    // Disabling the user ends their session too.
    assert_eq!(api(&server, &anna, "POST", "/api/v1/vpn/sessions", None).status, 201);
    until_reach(&lab, &home, true, Duration::from_secs(10), "after the second Connect");
    assert_eq!(api(&server, &boss, "POST", &format!("/api/v1/users/{}/disable", anna.id), None).status, 204);
    until_reach(&lab, &home, false, Duration::from_secs(2), "after disabling the user");
    assert_eq!(api(&server, &boss, "POST", &format!("/api/v1/users/{}/enable", anna.id), None).status, 204);

    // The administrator ends a session.
    login(&server, &mut anna);
    assert_eq!(api(&server, &anna, "POST", "/api/v1/vpn/sessions", None).status, 201);
    until_reach(&lab, &home, true, Duration::from_secs(20), "after signing in again");
    let id = session_id(&server, &anna);
    assert_eq!(api(&server, &boss, "DELETE", &format!("/api/v1/vpn/sessions/{id}"), None).status, 204);
    until_reach(&lab, &home, false, Duration::from_secs(2), "after an administrator ended the session");

    // A device condition: with "VPN: compliant device" on her group, Connect needs a laptop
    // that meets the policy, and a report that breaks it ends the open session.
    let agent_dir = enrol_agent(&server, &anna);
    let policy = json!({"scanner_required": false, "max_signature_days": 7, "encryption_required": false,
        "firewall_required": false, "supported_os_required": false, "max_update_days": null, "max_lock_minutes": null,
        "max_report_hours": 72});
    assert_eq!(api(&server, &boss, "PUT", "/api/v1/devices/policy", Some(policy)).status, 200);
    let cond = api(&server, &boss, "PUT", "/api/v1/devices/conditions/Thuiswerkers", Some(json!({"vpn_compliant": true})));
    assert_eq!(cond.status, 200, "{}", cond.body);
    let refused = api(&server, &anna, "POST", "/api/v1/vpn/sessions", None);
    assert_eq!((refused.status, refused.json()["error"]["code"].as_str()), (403, Some("device_required")), "{}", refused.body);
    let fresh = agent_dir.join("fresh");
    std::fs::create_dir_all(&fresh).unwrap();
    std::fs::write(fresh.join("daily.cld"), clamav_header(time::OffsetDateTime::now_utc().unix_timestamp() - 86_400)).unwrap();
    agent_report(&agent_dir, &fresh, true);
    assert_eq!(api(&server, &anna, "POST", "/api/v1/vpn/sessions", None).status, 201);
    until_reach(&lab, &home, true, Duration::from_secs(10), "with a compliant laptop");
    // the virus database disappears: the next report is not compliant and the tunnel closes
    agent_report(&agent_dir, &agent_dir.join("empty"), true);
    let lapse = until_reach(&lab, &home, false, Duration::from_secs(2), "after a report that broke the device condition");
    eprintln!("non-compliant report to drop: {lapse:?}");
    let reasons = api(&server, &boss, "GET", "/api/v1/audit?action=vpn.session_closed&limit=20", None).body;
    assert!(reasons.contains("device_conditions"), "{reasons}");
    let cond = api(&server, &boss, "PUT", "/api/v1/devices/conditions/Thuiswerkers", Some(json!({})));
    assert_eq!(cond.status, 200, "{}", cond.body);

    // A restart keeps devices, rules and open sessions (peers are installed again at start).
    assert_eq!(api(&server, &anna, "POST", "/api/v1/vpn/sessions", None).status, 201);
    until_reach(&lab, &home, true, Duration::from_secs(10), "before the restart");
    assert!(server.terminate().success(), "{}", server.stderr());
    let server = start_gateway(&lab, &db, wg_port, 4, 900);
    // The client notices the gateway lost its keys and handshakes again (within ~15 s).
    until_reach(&lab, &home, true, Duration::from_secs(40), "after the restart");

    // A short session (4 s in this configuration) ends by itself.
    let id = session_id(&server, &anna);
    assert_eq!(api(&server, &anna, "DELETE", &format!("/api/v1/vpn/sessions/{id}"), None).status, 204);
    until_reach(&lab, &home, false, Duration::from_secs(2), "after Disconnect following the restart");
    let opened_at = Instant::now();
    assert_eq!(api(&server, &anna, "POST", "/api/v1/vpn/sessions", None).status, 201);
    until_reach(&lab, &home, true, Duration::from_secs(4), "in the short session");
    until_reach(&lab, &home, false, Duration::from_secs(8), "at the end of the short session");
    let lived = opened_at.elapsed();
    assert!(lived >= Duration::from_secs(4) && lived <= Duration::from_secs(4 + 2 + 1), "the session lived {lived:?}");

    // A session without handshakes for `idle_secs` (3 s here) ends as idle. The gateway
    // starts one handshake at Connect; with no traffic the next would come only after minutes.
    let mut server = server;
    assert!(server.terminate().success());
    let server = start_gateway(&lab, &db, wg_port, 3600, 3);
    let opened = api(&server, &anna, "POST", "/api/v1/vpn/sessions", None);
    assert_eq!(opened.status, 201, "{}", opened.body);
    let deadline = Instant::now() + Duration::from_secs(15);
    while !api(&server, &anna, "GET", "/api/v1/vpn/sessions", None).json().as_array().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the idle session did not end");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(!lab.reaches(&home, INTRANET, Duration::from_secs(1)), "reachable after the idle end");

    // Everything is in the audit chain.
    let audit = api(&server, &boss, "GET", "/api/v1/audit?limit=1000", None).json();
    let text = audit.to_string();
    for action in [
        "vpn.device_added",
        "vpn.session_opened",
        "vpn.session_closed",
        "vpn.peer_added",
        "vpn.peer_removed",
        "vpn.handshake",
        "vpn.rule_added",
    ] {
        assert!(text.contains(action), "{action} is not in the audit log");
    }
    for reason in ["disconnect", "user_disabled", "ended_by_administrator", "expired", "idle"] {
        assert!(text.contains(reason), "no session closed with reason {reason}");
    }
    // Bert's refused packets were summarised, with an example.
    assert!(text.contains("tcp 10.20.0.2:"), "the denied summary names what was refused");
}

/// The whole way in Chromium, as the pages guide it: the administrator sets up Veilig, makes a
/// group with an access rule and invites an employee; the employee enrols on a phone, adds a
/// device, imports the configuration it shows, presses Connect, and reaches the intranet.
#[test]
fn an_employee_goes_from_invitation_to_a_working_tunnel_in_chromium() {
    use crate::browser::{confirm_app, fill};
    use veilig_testkit::Browser;

    let mut lab = Lab::new();
    lab.office_http(8000);
    let base_db = crate::database();
    let db = TestDatabase { url: lab.reachable_db(&base_db.url), ..base_db };
    let wg_port = 52000 + (std::process::id() % 500) as u16;
    let server = start_gateway(&lab, &db, wg_port, 3600, 900);
    let url = |path: &str| server.url(path);

    // The administrator, on a desktop browser.
    let b = Browser::start(1280, 900);
    b.goto(&crate::setup_link(&server));
    fill(
        &b,
        &[("#email", "beheer@gemeente.nl"), ("#name", "Beheer"), ("#password", PASSWORD), ("#password2", PASSWORD)],
        "form.stack button",
    );
    b.wait_for_text("h1", "Tweede factor instellen");
    confirm_app(&b);
    b.click(&b.find("#codes-saved"));
    b.wait_for_text("h1", "Overzicht");
    b.goto(&url("/admin/groups"));
    fill(&b, &[("#g-name", "Thuiswerkers"), ("#g-desc", "Werken vanuit huis")], "form.filters button");
    b.wait_for_text("main", "Thuiswerkers");
    b.goto(&url("/admin/vpn"));
    b.execute("document.getElementById('rule-protocol').value = 'tcp'", vec![]);
    fill(&b, &[("#rule-network", "10.20.0.0/24"), ("#rule-ports", "8000"), ("#rule-description", "Intranet")], "form.card button");
    b.wait_for_text("main", "Intranet");
    b.goto(&url("/admin/users"));
    b.execute("document.getElementById('i-group').value = 'Thuiswerkers'", vec![]);
    fill(&b, &[("#i-email", "anna@gemeente.nl"), ("#i-name", "Anna")], "form.filters button");
    let enroll_link = b.text(&b.find("#enroll-link"));

    // The employee, on a phone: enrol with password and authenticator app.
    let phone = Browser::start(390, 844);
    phone.goto(&enroll_link);
    phone.wait_for_text("h1", "Account activeren");
    fill(&phone, &[("#password", "groene appel naast de kachel"), ("#password2", "groene appel naast de kachel")], "form.stack button");
    phone.wait_for_text("h1", "Tweede factor instellen");
    confirm_app(&phone);
    phone.click(&phone.find("#codes-saved"));

    // The VPN page guides: add a device, import the settings, press Connect.
    phone.goto(&url("/vpn"));
    phone.wait_for_text("#vpn-state", "Niet verbonden");
    fill(&phone, &[("#name", "Laptop van Anna")], "#add-device");
    phone.wait_for_text("h1", "Apparaat toegevoegd");
    assert!(
        phone.execute("return document.querySelector('#vpn-qr path').getAttribute('d').length > 100", vec![]) == true,
        "a QR code is drawn"
    );
    let fits = phone.execute("return document.documentElement.scrollWidth <= window.innerWidth + 1", vec![]);
    assert_eq!(fits, true, "the device page fits a phone");
    phone.save_screenshot("vpn-device-nl-phone.png");
    let conf = phone.execute("return document.getElementById('conf').value", vec![]).as_str().unwrap().to_owned();
    assert!(conf.contains("PrivateKey = ") && conf.contains(&format!("Endpoint = 10.99.1.1:{wg_port}")), "{conf}");
    let download = phone.execute("return document.getElementById('download').getAttribute('href')", vec![]);
    assert!(download.as_str().unwrap().starts_with("data:application/octet-stream;base64,"), "the file can be saved");
    let anna_if = format!("vg{}a", lab.id);
    let home = lab.home.clone();
    lab.tunnel_up(&home, &anna_if, &conf);
    assert!(!lab.reaches(&home, INTRANET, Duration::from_secs(1)), "reachable before Connect");

    phone.click(&phone.find("a.button[href='/vpn']"));
    phone.click(&phone.find("#connect"));
    phone.wait_for_text("#vpn-state", "Verbonden");
    until_reach(&lab, &home, true, Duration::from_secs(15), "after Connect in the browser");
    phone.save_screenshot("vpn-connected-nl-phone.png");

    // The administrator sees the device, its handshake and its traffic.
    let mut shown = false;
    for _ in 0..20 {
        b.goto(&url("/admin/vpn?lang=en"));
        let text = b.text(&b.find("main"));
        if text.contains("Laptop van Anna") && text.contains("10.99.1.2:") && text.contains("anna@gemeente.nl") {
            shown = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(shown, "the admin page shows the device with its endpoint");
    b.save_screenshot("vpn-admin-en.png");

    phone.click(&phone.find("#disconnect"));
    phone.wait_for_text("#vpn-state", "Niet verbonden");
    until_reach(&lab, &home, false, Duration::from_secs(2), "after Disconnect in the browser");
}

/// The kernel data plane's access rules, for real: the nftables table Veilig writes, loaded
/// into *gw*'s kernel, with the link towards *home* standing in for the WireGuard interface
/// (this kernel has no WireGuard module, so the interface itself cannot be made here).
#[test]
fn kernel_mode_access_rules_are_enforced_by_nftables() {
    use std::collections::BTreeMap;
    use veilig_vpn::engine::Rule;
    use veilig_vpn::engine::nft;

    let mut lab = Lab::new();
    lab.office_http(8000);
    lab.office_http(8001);
    let (gw, home) = (lab.gw.clone(), lab.home.clone());
    assert!(lab.exec(&home, &["ip", "route", "add", "10.20.0.0/24", "via", "10.99.1.1"]).status.success());
    assert!(lab.exec(&gw, &["sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"]).status.success());
    let (p8000, p8001) = ("http://10.20.0.2:8000/", "http://10.20.0.2:8001/");
    let t = Duration::from_millis(800);
    assert!(lab.reaches(&home, p8000, t) && lab.reaches(&home, p8001, t), "routing works before any rule");

    let apply = |devices: &BTreeMap<std::net::Ipv4Addr, Vec<Rule>>| {
        let out = lab.exec_input(&gw, &["nft", "-f", "-"], &nft::ruleset("h1", devices));
        assert!(out.status.success(), "nft: {}", String::from_utf8_lossy(&out.stderr));
    };
    let device: std::net::Ipv4Addr = "10.99.1.2".parse().unwrap();
    let mut devices = BTreeMap::new();
    devices.insert(device, vec![Rule::parse("10.20.0.0/24", "tcp", "8000").unwrap()]);
    apply(&devices);
    assert!(lab.reaches(&home, p8000, t), "the rule allows port 8000");
    assert!(!lab.reaches(&home, p8001, t), "no rule allows port 8001");
    let listing = String::from_utf8_lossy(&lab.exec(&gw, &["nft", "list", "table", "inet", nft::TABLE]).stdout).into_owned();
    assert!(nft::denied_counters(&listing).get(&std::net::IpAddr::V4(device)).is_some_and(|n| *n > 0), "{listing}");

    // A changed rule takes effect on the next packet; a removed device reaches nothing.
    devices.insert(device, vec![Rule::parse("10.20.0.0/24", "tcp", "8001").unwrap()]);
    apply(&devices);
    assert!(!lab.reaches(&home, p8000, t) && lab.reaches(&home, p8001, t));
    apply(&BTreeMap::new());
    assert!(!lab.reaches(&home, p8000, t) && !lab.reaches(&home, p8001, t));

    let out = lab.exec_input(&gw, &["nft", "-f", "-"], &nft::teardown());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(lab.reaches(&home, p8000, t), "removing the table restores plain routing");
}

/// A tunnel interface name that is taken: Veilig stops with the reason, and leaves nothing
/// behind in the namespace.
#[test]
fn a_taken_interface_name_stops_the_gateway_with_a_clear_error() {
    let lab = Lab::new();
    let before = String::from_utf8_lossy(&lab.exec(&lab.gw, &["ip", "-o", "link", "show"]).stdout).lines().count();
    let db = crate::database();
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", &lab.gw, BIN, "serve", "--data"])
        .arg(&db.data_dir)
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("VEILIG_CONFIG")
        .env("VEILIG_VPN_ENABLED", "true")
        .env("VEILIG_VPN_NETWORKS", "10.20.0.0/24")
        .env("VEILIG_VPN_INTERFACE", "m1")
        .env("VEILIG_VPN_DATA_PLANE", "userspace")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot create the tunnel interface m1"), "{err}");
    let after = String::from_utf8_lossy(&lab.exec(&lab.gw, &["ip", "-o", "link", "show"]).stdout).lines().count();
    assert_eq!(before, after, "no interface was left behind");
}
