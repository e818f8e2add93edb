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
    let session = agent.cookie_jar_lock().iter().find(|c| c.name() == "veilig_session").map(|c| c.value().to_owned()).unwrap();
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
