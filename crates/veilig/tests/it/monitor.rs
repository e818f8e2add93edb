//! Live monitoring: syslog over UDP and TCP to a running server, alerts through the API.

use std::io::Write;
use std::time::{Duration, Instant};

use veilig_testkit::http;

#[test]
fn syslog_over_udp_and_tcp_raises_alerts() {
    let server = crate::start(&["--syslog-udp", "127.0.0.1:{port2}", "--syslog-tcp", "127.0.0.1:{port2}"]);
    assert!(server.stdout().contains(&format!("syslog UDP 127.0.0.1:{}", server.port2)), "{}", server.stdout());
    let (agent, csrf) = crate::admin_agent(&server);
    let target = format!("127.0.0.1:{}", server.port2);

    // A port scan, one datagram per line, with a syslog priority as a firewall sends it.
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..40u32 {
        let line = format!(
            "<4>Nov 27 06:00:{:02} gw kernel: FW-DROP IN=eth0 OUT= SRC=203.0.113.9 DST=198.51.100.1 PROTO=TCP SPT=4000 DPT={} SYN",
            i,
            2000 + i
        );
        udp.send_to(line.as_bytes(), &target).unwrap();
    }
    // SSH brute force over TCP: octet-counted frames, then newline-framed ones, and garbage.
    let mut tcp = std::net::TcpStream::connect(&target).unwrap();
    for i in 0..6u32 {
        let msg =
            format!("<38>1 2026-11-27T06:01:{:02}Z gw sshd 9 - - Failed password for root from 192.0.2.20 port {} ssh2", i * 2, 40000 + i);
        write!(tcp, "{} {}", msg.len(), msg).unwrap();
    }
    for i in 6..12u32 {
        writeln!(
            tcp,
            "<38>Nov 27 06:01:{:02} gw sshd[9]: Failed password for invalid user u{i} from 192.0.2.20 port {} ssh2",
            i * 2,
            40000 + i
        )
        .unwrap();
    }
    tcp.write_all(&vec![b'x'; 70_000]).unwrap();
    tcp.write_all(b"\n\xff\xfe not syslog\n").unwrap();
    tcp.flush().unwrap();

    let deadline = Instant::now() + Duration::from_secs(15);
    let rules = loop {
        let r = http::get(&agent, &server.url("/api/v1/alerts"));
        assert_eq!(r.status, 200, "{}", r.body);
        let rules: Vec<String> = r
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|a| format!("{} {}", a["rule"].as_str().unwrap(), a["source"].as_str().unwrap()))
            .collect();
        // Alerts of one event are stored one after another: wait for all three.
        let want = ["port_scan_fast 203.0.113.9", "ssh_brute_force 192.0.2.20", "password_spraying 192.0.2.20"];
        if want.iter().all(|w| rules.iter().any(|r| r == w)) {
            break rules;
        }
        assert!(Instant::now() < deadline, "alerts so far: {rules:?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(rules.len(), 3, "no other alerts: {rules:?}");
    // The sender is counted; the garbage line is sampled for the administrator.
    let inputs = http::get(&agent, &server.url("/api/v1/inputs")).json();
    let sender = &inputs["senders"][0];
    assert_eq!(sender["sender"], "127.0.0.1");
    assert!(sender["lines"].as_u64().unwrap() >= 52 && sender["unparsed"].as_u64().unwrap() >= 1, "{inputs}");
    assert!(inputs["samples"].as_array().unwrap().iter().any(|s| s["line"].as_str().unwrap().contains("not syslog")), "{inputs}");
    let page = http::get(&agent, &server.url("/alerts"));
    assert!(page.body.contains("port_scan_fast") && page.body.contains("203.0.113.9"));
    assert_eq!(http::get(&http::agent(), &server.url("/api/v1/alerts")).status, 401, "alerts are for staff");

    // Someone on duty acknowledges one alert; the audit chain says who.
    let alerts = http::get(&agent, &server.url("/api/v1/alerts")).json();
    let id = alerts[0]["id"].as_str().unwrap().to_owned();
    let set = |status: &str| {
        http::send(
            &agent,
            "POST",
            &server.url(&format!("/api/v1/alerts/{id}/status")),
            &[("x-csrf-token", &csrf)],
            Some(&serde_json::json!({"status": status})),
        )
        .status
    };
    assert_eq!(set("acknowledged"), 204);
    assert_eq!(set("solved?"), 422);
    let after = http::get(&agent, &server.url("/api/v1/alerts")).json();
    assert_eq!(after.as_array().unwrap().iter().find(|a| a["id"] == id.as_str()).unwrap()["status"], "acknowledged");
    let audit = http::get(&agent, &server.url("/api/v1/audit?action=monitor.")).json();
    assert_eq!(audit["records"][0]["actor"], "beheer@gemeente.nl");
    assert_eq!(
        http::send(
            &agent,
            "POST",
            &server.url("/api/v1/alerts/nope/status"),
            &[("x-csrf-token", &csrf)],
            Some(&serde_json::json!({"status": "closed"}))
        )
        .status,
        404
    );

    // What the security officer sees, in Chromium, signed in with the same session.
    let session = crate::session_cookie(&agent);
    let b = veilig_testkit::Browser::start(1280, 860);
    b.goto(&server.url("/login"));
    b.add_cookie("veilig_session", &session);
    b.goto(&server.url("/alerts"));
    b.wait_for_text("h1", "Meldingen");
    b.wait_for_text("table", "port_scan_fast");
    assert!(
        b.execute("return document.querySelectorAll('svg rect.bar-high').length > 0", vec![]) == true,
        "the timeline shows high alerts"
    );
    b.save_screenshot("alerts-nl.png");
}

/// Veilig's own sign-ins are monitored too: wrong passwords for many accounts from one address
/// become a portal brute-force and a password-spraying alert, without any syslog configured.
#[test]
fn failed_portal_sign_ins_raise_alerts() {
    let server = crate::start(&[]);
    let (agent, _csrf) = crate::admin_agent(&server);
    let stranger = http::agent();
    for i in 0..10 {
        let r = http::post_json(
            &stranger,
            &server.url("/api/v1/login"),
            &serde_json::json!({"email": format!("gok{i}@gemeente.nl"), "password": "verkeerd wachtwoord 123"}),
        );
        assert!(r.status == 401 || r.status == 429 || r.status == 503, "{} {}", r.status, r.body);
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let alerts = http::get(&agent, &server.url("/api/v1/alerts")).json();
        let rules: Vec<String> = alerts.as_array().unwrap().iter().map(|a| format!("{} {}", a["rule"], a["source"])).collect();
        if rules.iter().any(|r| r.contains("portal_brute_force") && r.contains("127.0.0.1"))
            && rules.iter().any(|r| r.contains("password_spraying"))
        {
            break;
        }
        assert!(Instant::now() < deadline, "no portal alerts: {rules:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The whole story of the issue: a firewall's syslog (UDP and TCP, IPv4 and IPv6) reaches a
/// running Veilig in a network namespace; the attack becomes an alert in the API, the attacker's
/// address lands in the nftables set and the attacking host can no longer reach the gateway
/// (another host still can); the webhook receiver gets the alert, the blocklist URL lists the
/// address, and unblocking lets the host back in.
#[test]
fn syslog_attack_is_alerted_blocked_in_nftables_and_sent_to_a_webhook() {
    use veilig_testkit::netns::Lab;
    let mut lab = Lab::new();
    let base_db = crate::database();
    let db = veilig_testkit::TestDatabase { url: lab.reachable_db(&base_db.url), ..base_db };
    let hook_port = veilig_testkit::free_port();
    let received = lab.receiver(&lab.gw.clone(), hook_port);
    let server = veilig_testkit::ServerProcess::start_inside(
        std::path::Path::new(crate::BIN),
        &db,
        &Lab::prefix(&lab.gw),
        "10.99.0.2",
        &["--behind-proxy", "10.99.0.1/32", "--syslog-udp", "10.99.0.2:{port2}", "--syslog-tcp", "10.99.0.2:{port2}"],
        &[("VEILIG_RESPONSE_NFTABLES", "true"), ("VEILIG_RESPONSE_BLOCK_SECS", "3600")],
    );
    assert!(server.stdout().contains("blocks into nftables table inet veilig_block"), "{}", server.stdout());
    let (agent, csrf) = crate::admin_agent(&server);
    let api = |method: &str, path: &str, body: Option<serde_json::Value>| {
        http::send(&agent, method, &server.url(path), &[("x-csrf-token", &csrf)], body.as_ref())
    };
    let hook = api(
        "POST",
        "/api/v1/webhooks",
        Some(serde_json::json!({"kind": "json", "url": format!("http://127.0.0.1:{hook_port}/veilig"), "min_severity": "high"})),
    );
    assert_eq!(hook.status, 201, "{}", hook.body);

    // Both home hosts reach the portal on the gateway.
    for ns in [&lab.home, &lab.home2] {
        let out = lab.exec(ns, &["ip", "route", "add", "10.99.0.0/30", "via", if *ns == lab.home { "10.99.1.1" } else { "10.99.2.1" }]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let portal = server.url("/healthz");
    assert!(lab.reaches(&lab.home, &portal, Duration::from_secs(3)) && lab.reaches(&lab.home2, &portal, Duration::from_secs(3)));

    // The firewall reports SSH brute force from the home host (UDP) and a port scan from an
    // IPv6 address (TCP, octet-counted).
    let target = format!("10.99.0.2:{}", server.port2);
    let udp = std::net::UdpSocket::bind("10.99.0.1:0").unwrap();
    for i in 0..12u32 {
        let line = format!("<38>Nov 27 07:00:{:02} fw sshd[77]: Failed password for root from 10.99.1.2 port {} ssh2", i * 3, 50000 + i);
        udp.send_to(line.as_bytes(), &target).unwrap();
    }
    let mut tcp = std::net::TcpStream::connect(&target).unwrap();
    for i in 0..40u32 {
        let msg = format!(
            "<4>1 2026-11-27T07:01:{:02}Z fw kernel - - - FW-DROP IN=eth0 OUT= SRC=2001:db8:66::1 DST=2001:db8:1::10 LEN=60 PROTO=TCP SPT=41000 DPT={} SYN",
            i,
            3000 + i
        );
        write!(tcp, "{} {}", msg.len(), msg).unwrap();
    }
    tcp.flush().unwrap();

    // The alerts, through the API.
    let deadline = Instant::now() + Duration::from_secs(20);
    let ssh_id = loop {
        let alerts = api("GET", "/api/v1/alerts", None).json();
        let find = |rule: &str, src: &str| {
            alerts
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["rule"] == rule && a["source"] == src)
                .map(|a| a["id"].as_str().unwrap().to_owned())
        };
        if let (Some(id), Some(_)) = (find("ssh_brute_force", "10.99.1.2"), find("port_scan_fast", "2001:db8:66::1")) {
            break id;
        }
        assert!(Instant::now() < deadline, "alerts so far: {alerts}");
        std::thread::sleep(Duration::from_millis(100));
    };

    // Both sources are blocked, in the nftables sets inside the gateway's namespace, and the
    // block is confirmed ("applied").
    let deadline = Instant::now() + Duration::from_secs(20);
    let decisions = loop {
        let d = api("GET", "/api/v1/decisions", None).json();
        let applied: Vec<String> = d
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["enforced"] == "applied")
            .map(|d| d["network"].as_str().unwrap().to_owned())
            .collect();
        if applied.contains(&"10.99.1.2/32".to_owned()) && applied.contains(&"2001:db8:66::1/128".to_owned()) {
            break d;
        }
        assert!(Instant::now() < deadline, "decisions so far: {d}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let sets = lab.exec(&lab.gw, &["nft", "list", "table", "inet", "veilig_block"]);
    let sets = String::from_utf8_lossy(&sets.stdout);
    assert!(sets.contains("10.99.1.2 timeout 1h") && sets.contains("2001:db8:66::1 timeout 1h"), "{sets}");
    let detail = api("GET", &format!("/api/v1/alerts/{ssh_id}"), None).json();
    assert_eq!(detail["decisions"][0]["network"], "10.99.1.2/32", "the alert names its block");
    assert!(detail["alert"]["example"].as_str().unwrap().contains("Failed password for root from 10.99.1.2"), "{detail}");

    // The block works: the attacking host no longer reaches the gateway; the other one does.
    assert!(!lab.reaches(&lab.home, &portal, Duration::from_secs(2)), "the blocked host still reaches the portal");
    assert!(lab.reaches(&lab.home2, &portal, Duration::from_secs(3)), "an innocent host is blocked too");

    // The webhook receiver got the alerts; the blocklist URL lists both addresses.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let text = std::fs::read_to_string(&received).unwrap();
        if text.contains("ssh_brute_force") && text.contains("/veilig") {
            assert!(text.contains("10.99.1.2"), "{text}");
            break;
        }
        assert!(Instant::now() < deadline, "the webhook received: {text}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let url = api("POST", "/api/v1/blocklist/token", None).json()["url"].as_str().unwrap().to_owned();
    let feed = http::get(&http::agent(), &url);
    assert_eq!(feed.body, "10.99.1.2\n2001:db8:66::1\n");

    // What the security officer sees: the alert with its block, and the Blocks page.
    assert_eq!(
        api("POST", &format!("/api/v1/alerts/{ssh_id}/assign"), Some(serde_json::json!({"assignee": "beheer@gemeente.nl"}))).status,
        204
    );
    let note = serde_json::json!({"body": "Blocked automatically; the host is a home router in the lab. Checking the firewall for more."});
    assert_eq!(api("POST", &format!("/api/v1/alerts/{ssh_id}/comments"), Some(note)).status, 204);
    let session = crate::session_cookie(&agent);
    let b = veilig_testkit::Browser::start(1280, 900);
    b.goto(&server.url("/login"));
    b.add_cookie("veilig_session", &session);
    b.goto(&server.url(&format!("/alerts/{ssh_id}?lang=en")));
    b.wait_for_text("h1", "ssh_brute_force");
    b.wait_for_text("main", "applied");
    b.save_screenshot("alert-blocked-en.png");
    b.goto(&server.url("/blocks?lang=nl"));
    b.wait_for_text("h1", "Blokkades");
    b.wait_for_text("table", "10.99.1.2/32");
    b.save_screenshot("blocks-nl.png");

    // Unblocking lets the host back in at once.
    let id = decisions.as_array().unwrap().iter().find(|d| d["network"] == "10.99.1.2/32").unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(api("DELETE", &format!("/api/v1/decisions/{id}"), None).status, 204);
    assert!(lab.reaches(&lab.home, &portal, Duration::from_secs(3)), "unblocked, the host reaches the portal again");
    let audit = api("GET", "/api/v1/audit?action=monitor.", None).json();
    let actions: Vec<&str> = audit["records"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"monitor.blocked") && actions.contains(&"monitor.unblocked"), "{actions:?}");
}

/// Syslog over TLS (RFC 5425, octet-counted frames) with the portal's certificate; a client
/// that does not speak TLS is turned away without harm. Log files are followed too.
#[test]
fn syslog_over_tls_and_followed_files_raise_alerts() {
    let dir = veilig_testkit::temp_dir("syslog-tls");
    let (cert, cert_path, key_path) = crate::self_signed(&dir);
    let log = dir.join("ufw.log");
    std::fs::write(&log, "").unwrap();
    let db = crate::database();
    let (port, syslog_port) = (veilig_testkit::free_port(), veilig_testkit::free_port());
    let syslog = format!("127.0.0.1:{syslog_port}");
    let mut child = std::process::Command::new(crate::BIN)
        .args(["serve", "--data"])
        .arg(&db.data_dir)
        .args(["--database-url", &db.url, "--listen", &format!("127.0.0.1:{port}"), "--syslog-tls", &syslog])
        .args(["--tls-cert", cert_path.to_str().unwrap(), "--tls-key", key_path.to_str().unwrap()])
        .args(["--log-file", log.to_str().unwrap()])
        .env_remove("VEILIG_CONFIG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let config = crate::tls_client(&cert);
    let deadline = Instant::now() + Duration::from_secs(30);
    let tcp = loop {
        if let Ok(s) = std::net::TcpStream::connect(&syslog) {
            break s;
        }
        assert!(Instant::now() < deadline, "the TLS syslog port did not open");
        std::thread::sleep(Duration::from_millis(100));
    };
    // Someone without TLS: refused, the listener lives on.
    let mut plain = std::net::TcpStream::connect(&syslog).unwrap();
    let _ = plain.write_all(b"<38>Nov 27 06:01:00 gw sshd[9]: Failed password for root from 192.0.2.99 port 1 ssh2\n");
    drop(plain);
    let conn = rustls::ClientConnection::new(config, "localhost".try_into().unwrap()).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    for i in 0..12u32 {
        let msg =
            format!("<38>1 2026-11-27T06:01:{:02}Z gw sshd 9 - - Failed password for root from 192.0.2.30 port {} ssh2", i * 2, 40000 + i);
        write!(tls, "{} {}", msg.len(), msg).unwrap();
    }
    tls.flush().unwrap();
    // A port scan in a followed file (ufw's format), written after the start.
    std::thread::sleep(Duration::from_millis(500));
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    for i in 0..30u32 {
        writeln!(
            f,
            "Nov 27 06:02:{i:02} gw kernel: [UFW BLOCK] IN=eth0 OUT= SRC=198.51.100.44 DST=192.0.2.1 PROTO=TCP SPT=5000 DPT={} SYN",
            1000 + i
        )
        .unwrap();
    }
    drop(f);

    let rt = crate::runtime();
    let store = rt.block_on(veilig_store::Store::connect(&db.url, 2)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let found = loop {
        let alerts = rt.block_on(store.alerts_recent(50)).unwrap();
        let found: Vec<String> = alerts.iter().map(|a| format!("{} {}", a.rule, a.source)).collect();
        if found.contains(&"ssh_brute_force 192.0.2.30".to_owned()) && found.contains(&"port_scan_fast 198.51.100.44".to_owned()) {
            break found;
        }
        assert!(Instant::now() < deadline, "alerts so far: {found:?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(!found.iter().any(|a| a.contains("192.0.2.99")), "nothing from the plain-text client: {found:?}");
    assert!(child.try_wait().unwrap().is_none(), "still running");
    let _ = child.kill();
    let _ = child.wait();
}
