//! Invitations and security notices through a real SMTP server process (Debian's aiosmtpd,
//! writing a Maildir), started by the test.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use veilig_testkit::http;

pub struct SmtpSink {
    child: Child,
    pub port: u16,
    maildir: PathBuf,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        let port = veilig_testkit::free_port();
        let maildir = veilig_testkit::temp_dir("maildir").join("mail");
        let child = Command::new("/usr/bin/python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3-aiosmtpd (scripts/test installs it)");
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the SMTP server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        SmtpSink { child, port, maildir }
    }

    /// Waits for a message to `to` whose text contains `needle`; returns the raw message.
    pub fn wait_for(&self, to: &str, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            for m in messages(&self.maildir.join("new")) {
                if m.contains(&format!("To: {to}")) && m.contains(needle) {
                    return m;
                }
            }
            assert!(Instant::now() < deadline, "no mail to {to} containing {needle:?}; have: {:#?}", messages(&self.maildir.join("new")));
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl SmtpSink {
    /// Every message received so far to `to`.
    pub fn all_to(&self, to: &str) -> Vec<String> {
        messages(&self.maildir.join("new")).into_iter().filter(|m| m.contains(&format!("To: {to}"))).collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn messages(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok()).filter_map(|e| std::fs::read_to_string(e.path()).ok()).collect())
        .unwrap_or_default()
}

/// Shows a received message as a mail program would (decoded headers and body, via Python's
/// `email` package) in Chromium and saves a screenshot for the README.
pub fn mail_screenshot(raw: &str, name: &str) {
    let dir = veilig_testkit::temp_dir("mail-shot");
    let (eml, page) = (dir.join("mail.eml"), dir.join("mail.html"));
    std::fs::write(&eml, raw).unwrap();
    let script = r#"
import email, email.policy, html, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
body = m.get_body(preferencelist=("plain",)).get_content()
head = "".join(f"<tr><th>{k}</th><td>{html.escape(str(m[k]))}</td></tr>" for k in ("From", "To", "Subject", "Date"))
open(sys.argv[2], "w").write(f"""<!doctype html><meta charset="utf-8"><body style="font-family:sans-serif;margin:24px;background:#f6f7f9">
<div style="background:#fff;border:1px solid #ccd;border-radius:8px;padding:16px 20px;max-width:860px">
<table style="border-collapse:collapse;margin-bottom:12px;color:#333">{head}</table><hr>
<pre style="font-size:14px;white-space:pre-wrap">{html.escape(body)}</pre></div>""")
"#;
    let out = Command::new("python3").args(["-c", script]).arg(&eml).arg(&page).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let b = veilig_testkit::Browser::start(960, 640);
    b.goto(&format!("file://{}", page.display()));
    b.wait_for_text("pre", "Veilig");
    b.save_screenshot(name);
}

/// Undoes quoted-printable soft line breaks and `=3D`, enough to find a link in a body.
pub fn unfold(raw: &str) -> String {
    raw.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=")
}

#[test]
fn invitations_and_security_notices_are_mailed() {
    let sink = SmtpSink::start();
    let port = sink.port.to_string();
    // The mail server is configured through the environment, as an administrator might.
    let env = [
        ("VEILIG_SMTP_HOST", "127.0.0.1"),
        ("VEILIG_SMTP_PORT", port.as_str()),
        ("VEILIG_SMTP_TLS", "none"),
        ("VEILIG_SMTP_FROM", "Veilig <veilig@gemeente.nl>"),
    ];
    let server = veilig_testkit::ServerProcess::start_with_env(
        std::path::Path::new(crate::BIN),
        &crate::database(),
        &["--syslog-udp", "127.0.0.1:{port2}"],
        &env,
    );
    let (agent, csrf) = crate::admin_agent(&server);
    sink.wait_for("beheer@gemeente.nl", "Tweede factor toegevoegd");

    let r = http::send(
        &agent,
        "POST",
        &server.url("/api/v1/users"),
        &[("x-csrf-token", &csrf)],
        Some(&serde_json::json!({"email": "jan@gemeente.nl", "name": "Jan"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let mail = unfold(&sink.wait_for("jan@gemeente.nl", "activeer"));
    assert!(mail.contains("From: Veilig <veilig@gemeente.nl>"), "{mail}");
    let link = mail.lines().map(str::trim).find(|l| l.contains("/enroll/")).unwrap().to_owned();
    let token = link.rsplit('/').next().unwrap();
    let jan = http::agent();
    let enrolled = http::post_json(
        &jan,
        &server.url("/api/v1/enroll"),
        &serde_json::json!({"token": token, "password": "groene appel naast de kachel"}),
    );
    assert_eq!(enrolled.status, 200, "the mailed link works: {}", enrolled.body);

    // A port scan arrives over syslog: the administrator gets an alert mail.
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..30u32 {
        let line = format!(
            "<4>Nov 27 06:00:{i:02} gw kernel: FW-DROP IN=eth0 OUT= SRC=203.0.113.66 DST=198.51.100.1 PROTO=TCP SPT=4000 DPT={} SYN",
            3000 + i
        );
        udp.send_to(line.as_bytes(), ("127.0.0.1", server.port2)).unwrap();
    }
    let alert = unfold(&sink.wait_for("beheer@gemeente.nl", "port_scan_fast"));
    assert!(alert.contains("203.0.113.66") && alert.contains("/alerts"), "{alert}");

    // The daily digest, sent now from the command line with the same settings: the alert and
    // the block it caused, in the administrator's language.
    let db = &server.db;
    let out = std::process::Command::new(crate::BIN)
        .args(["monitor", "digest", "--send", "--data"])
        .arg(&db.data_dir)
        .args(["--database-url", &db.url])
        .envs(env)
        .env_remove("VEILIG_CONFIG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("went to 1 administrator"));
    let raw_digest = sink.wait_for("beheer@gemeente.nl", "Meest gemelde regels");
    let digest = unfold(&raw_digest);
    assert!(digest.contains("port_scan_fast") && digest.contains("203.0.113.66") && digest.contains("(geblokkeerd)"), "{digest}");
    mail_screenshot(&sink.wait_for("beheer@gemeente.nl", "port_scan_fast vanaf"), "mail-alert-nl.png");
    mail_screenshot(&raw_digest, "mail-digest-nl.png");
}
