//! The response against a real database (SQLite, or PostgreSQL with VEILIG_TEST_DB=postgres),
//! real nftables inside a network namespace the test makes, and a real HTTP receiver for the
//! webhooks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests may stop on failure.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use veilig_core::config::ResponseConfig;
use veilig_core::{Clock, Event, EventBus, FakeClock};
use veilig_respond::{Nft, Responder};
use veilig_store::Store;

fn config() -> ResponseConfig {
    ResponseConfig {
        block_severity: Some("high".into()),
        block_secs: 3600,
        block_max_secs: 86_400,
        allow: vec!["192.0.2.0/24".parse().unwrap()],
        nftables: true,
        end_vpn_sessions: true,
        retention: Duration::from_secs(90 * 86_400),
    }
}

/// A network namespace with `nft` wrapped to run inside it; removed on drop.
struct Netns {
    name: String,
    wrapper: std::path::PathBuf,
}

impl Netns {
    fn new() -> Netns {
        veilig_testkit::netns::require_root();
        let name = format!("vgr{:x}", rand_u16());
        assert!(Command::new("ip").args(["netns", "add", &name]).status().unwrap().success());
        let dir = veilig_testkit::temp_dir("nft");
        let wrapper = dir.join("nft");
        script(&wrapper, &format!("#!/bin/sh\nexec ip netns exec {name} nft \"$@\"\n"));
        Netns { name, wrapper }
    }

    fn list(&self) -> String {
        let out = Command::new("ip").args(["netns", "exec", &self.name, "nft", "list", "table", "inet", "veilig_block"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
    }
}

/// Writes an executable script from a child process, so that no file descriptor open for
/// writing leaks into a program another test thread starts meanwhile ("text file busy").
fn script(path: &std::path::Path, text: &str) {
    let mut child = Command::new("sh")
        .args(["-c", "cat > \"$1\" && chmod 755 \"$1\"", "sh"])
        .arg(path)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
}

fn rand_u16() -> u16 {
    (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() % 65_000) as u16
        ^ (std::process::id() as u16)
}

async fn setup(nft: Option<Nft>) -> (Responder, Store, EventBus, Arc<FakeClock>) {
    let db = veilig_testkit::fresh_database().await;
    let store = Store::connect(&db.url, 4).await.unwrap();
    store.migrate().await.unwrap();
    let clock = Arc::new(FakeClock::new(time::macros::datetime!(2026-11-27 03:00 UTC)));
    let bus = EventBus::default();
    let secrets = veilig_identity::crypto::SecretBox::new(&[9u8; 32]);
    let r = Responder::new(store.clone(), bus.clone(), clock.clone(), config(), nft, secrets, "https://veilig.test");
    (r, store, bus, clock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_block_in_nftables_escalate_and_unblock() {
    let ns = Netns::new();
    let (r, store, bus, clock) = setup(Some(Nft::new(&ns.wrapper))).await;
    r.start().await.unwrap();
    assert!(ns.list().contains("set v4") && ns.list().contains("set v6"), "{}", ns.list());
    let mut events = bus.subscribe();

    // A high alert blocks its source, enforced and read back.
    r.on_alert("a1", "ssh_brute_force", "high", "203.0.113.7").await;
    let active = store.decisions_active(clock.now_ms()).await.unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!((active[0].network.as_str(), active[0].enforced.as_str(), active[0].level), ("203.0.113.7/32", "applied", 1));
    assert_eq!(active[0].until_ms - active[0].created_ms, 3_600_000);
    assert!(ns.list().contains("203.0.113.7"), "{}", ns.list());
    // It asked the VPN to end the session of a device with that address, and announced the block.
    let mut seen = Vec::new();
    while let Ok(e) = events.try_recv() {
        seen.push(e);
    }
    assert!(seen.iter().any(|e| matches!(e, Event::EndVpnAccess { address, .. } if address == "203.0.113.7")), "{seen:?}");
    assert!(
        seen.iter()
            .any(|e| matches!(e, Event::MonitorBlocked { network, enforced, .. } if network == "203.0.113.7/32" && enforced == "applied"))
    );

    // A second alert while blocked changes nothing; low alerts, allowed and reserved sources block nobody.
    r.on_alert("a2", "port_scan_fast", "high", "203.0.113.7").await;
    r.on_alert("a3", "port_scan_slow", "medium", "198.51.100.9").await;
    r.on_alert("a4", "ssh_brute_force", "critical", "192.0.2.55").await;
    r.on_alert("a5", "ssh_brute_force", "critical", "127.0.0.1").await;
    r.on_alert("a6", "ssh_brute_force", "critical", "not-an-ip").await;
    assert_eq!(store.decisions_active(clock.now_ms()).await.unwrap().len(), 1);

    // IPv6 too.
    r.on_alert("a7", "ssh_brute_force", "high", "2001:db8:bad::7").await;
    assert!(ns.list().contains("2001:db8:bad::7"), "{}", ns.list());

    // After the block ends, the same source comes back: four times longer.
    clock.advance(time::Duration::seconds(3601));
    r.on_alert("a8", "ssh_brute_force", "high", "203.0.113.7").await;
    let again = store.decisions_active(clock.now_ms()).await.unwrap().into_iter().find(|d| d.network == "203.0.113.7/32").unwrap();
    assert_eq!((again.level, again.until_ms - again.created_ms), (2, 4 * 3_600_000));

    // A person unblocks it: gone from nftables, read back.
    r.unblock("soc@gemeente.nl", &again.id).await.unwrap();
    assert!(!ns.list().contains("203.0.113.7"), "{}", ns.list());
    let all = store.decisions_recent(10).await.unwrap();
    let revoked = all.iter().find(|d| d.id == again.id).unwrap();
    assert_eq!((revoked.revoked_by.as_deref(), revoked.enforced.as_str()), (Some("soc@gemeente.nl"), "removed"));
    assert!(r.unblock("soc@gemeente.nl", &again.id).await.is_err(), "twice is not found");

    // A manual block of a network; the table is rebuilt at start with what is in force.
    let d = r.block("soc@gemeente.nl", "198.51.100.0/24", Some(600), "scanner farm").await.unwrap();
    assert_eq!(d.enforced, "applied");
    for set in ["v4", "v6"] {
        assert!(
            Command::new("ip")
                .args(["netns", "exec", &ns.name, "nft", "flush", "set", "inet", "veilig_block", set])
                .status()
                .unwrap()
                .success()
        );
    }
    assert!(!ns.list().contains("198.51.100.0/24"));
    r.start().await.unwrap();
    assert!(ns.list().contains("198.51.100.0/24"), "{}", ns.list());
    assert!(!ns.list().contains("2001:db8:bad::7"), "the IPv6 block ended an hour ago: {}", ns.list());

    // The blocklist for edge firewalls: what is in force, addresses without /32.
    r.on_alert("a9", "ssh_brute_force", "high", "2001:db8:bad::8").await;
    r.on_alert("a10", "ssh_brute_force", "high", "203.0.113.77").await;
    assert_eq!(r.blocklist_text().await.unwrap(), "198.51.100.0/24\n203.0.113.77\n2001:db8:bad::8\n");

    // Every decision is in the audit chain.
    let audit = store.audit_list(&Default::default(), 100).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "monitor.blocked").count(), 6, "{actions:?}");
    assert_eq!(actions.iter().filter(|a| **a == "monitor.unblocked").count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_nft_is_reported_not_hidden() {
    let dir = veilig_testkit::temp_dir("nft-broken");
    let broken = dir.join("nft");
    script(&broken, "#!/bin/sh\necho 'Error: Could not process rule: Operation not permitted' >&2\nexit 1\n");
    let (r, store, _bus, clock) = setup(Some(Nft::new(&broken))).await;
    let e = r.start().await.unwrap_err();
    assert!(e.contains("Operation not permitted"), "{e}");
    r.on_alert("a1", "ssh_brute_force", "high", "203.0.113.7").await;
    let d = &store.decisions_active(clock.now_ms()).await.unwrap()[0];
    assert!(d.enforced.starts_with("failed: nft refused the change: Error: Could not process rule"), "{}", d.enforced);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_blocks_and_the_allow_list_check_their_input() {
    let (r, _store, _bus, _clock) = setup(None).await;
    let code = |e: veilig_respond::RespondError| match e {
        veilig_respond::RespondError::Invalid { code, .. } => code,
        other => panic!("{other}"),
    };
    assert_eq!(code(r.block("a@b.nl", "not an address", None, "x").await.unwrap_err()), "address");
    assert_eq!(code(r.block("a@b.nl", "203.0.113.7", None, "  ").await.unwrap_err()), "reason");
    assert_eq!(code(r.block("a@b.nl", "203.0.113.7", Some(5), "x").await.unwrap_err()), "duration");
    assert_eq!(code(r.block("a@b.nl", "192.0.2.0/25", None, "x").await.unwrap_err()), "allowed");
    assert_eq!(code(r.block("a@b.nl", "::1", None, "x").await.unwrap_err()), "reserved");
    let d = r.block("a@b.nl", "203.0.113.7", None, "x").await.unwrap();
    assert_eq!(d.enforced, "off", "no enforcement on this host");
    assert_eq!(code(r.block("a@b.nl", "203.0.113.7", None, "x").await.unwrap_err()), "blocked_already");
    let a = r.allow("a@b.nl", "10.0.0.1/8", "offices").await.unwrap();
    assert_eq!(a.network, "10.0.0.0/8");
    assert_eq!(code(r.allow("a@b.nl", "10.0.0.0/8", "").await.unwrap_err()), "listed_already");
    assert_eq!(code(r.block("a@b.nl", "10.1.2.3", None, "x").await.unwrap_err()), "allowed");
    r.disallow("a@b.nl", &a.id).await.unwrap();
    assert!(r.block("a@b.nl", "10.1.2.3", None, "x").await.is_ok());

    // The blocklist token: shown once, only its hash kept, the old one stops working.
    assert!(!r.blocklist_token_ok("vbl_guess").await.unwrap());
    let t1 = r.new_blocklist_token("a@b.nl").await.unwrap();
    assert!(r.blocklist_token_ok(&t1).await.unwrap());
    let t2 = r.new_blocklist_token("a@b.nl").await.unwrap();
    assert!(!r.blocklist_token_ok(&t1).await.unwrap() && r.blocklist_token_ok(&t2).await.unwrap());
}

/// A webhook receiver on loopback: records each request's path and body; answers `status`.
/// What a receiver got: (path, JSON body) per request.
type Received = Arc<Mutex<Vec<(String, serde_json::Value)>>>;

fn receiver(status: u16) -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks/secret-path", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let got2 = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut len = 0usize;
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                if h == "\r\n" || h.is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0u8; len];
            reader.read_exact(&mut body).unwrap();
            let path = request_line.split_whitespace().nth(1).unwrap_or_default().to_owned();
            got2.lock().unwrap().push((path, serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null)));
            write!(stream, "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").unwrap();
        }
    });
    (url, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_group_alerts_filter_by_severity_and_keep_the_url_secret() {
    let (r, store, bus, _clock) = setup(None).await;
    let (json_url, json_got) = receiver(204);
    let (slack_url, slack_got) = receiver(200);
    let (bad_url, _) = receiver(500);
    let json = r.add_webhook("soc@gemeente.nl", "json", &json_url, "medium").await.unwrap();
    r.add_webhook("soc@gemeente.nl", "slack", &slack_url, "critical").await.unwrap();
    let bad = r.add_webhook("soc@gemeente.nl", "teams", &bad_url, "low").await.unwrap();
    // The URL is stored sealed; the pages see scheme and host only.
    let stored = store.webhooks().await.unwrap();
    assert!(stored.iter().all(|w| !w.url_sealed.contains("secret-path") && w.url_hint.ends_with("/…")));
    assert!(matches!(
        r.add_webhook("soc@gemeente.nl", "json", "http://hooks.example/x", "high").await,
        Err(veilig_respond::RespondError::Invalid { code: "url", .. })
    ));

    let task = r.spawn_webhooks();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let alert = |id: &str, rule: &str, severity: &str, source: &str| Event::MonitorAlert {
        id: id.into(),
        rule: rule.into(),
        severity: severity.into(),
        source: source.into(),
        user: None,
        summary: format!("{rule} from {source}"),
    };
    bus.publish(alert("1", "port_scan_fast", "high", "203.0.113.7"));
    bus.publish(alert("2", "ssh_brute_force", "high", "203.0.113.8"));
    bus.publish(alert("3", "port_scan_slow", "low", "203.0.113.9"));
    bus.publish(alert("4", "port_scan_fast", "high", "203.0.113.7")); // a duplicate
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while json_got.lock().unwrap().is_empty() || store.webhooks().await.unwrap().iter().any(|w| w.id == bad.id && w.last_status.is_none()) {
        assert!(std::time::Instant::now() < deadline, "no webhook delivery");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = json_got.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "one message for the group: {got:?}");
    assert_eq!(got[0].0, "/hooks/secret-path");
    let ids: Vec<&str> = got[0].1["alerts"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["1", "2"], "the low one is below this webhook's minimum; the duplicate is dropped");
    assert!(slack_got.lock().unwrap().is_empty(), "nothing critical yet");

    bus.publish(alert("5", "vpn_device_probing", "critical", "10.13.0.2"));
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while slack_got.lock().unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no Slack delivery");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let text = slack_got.lock().unwrap()[0].1["text"].as_str().unwrap().to_owned();
    assert!(text.contains("vpn_device_probing") && text.contains("https://veilig.test/alerts/5"), "{text}");

    // A receiver that fails is retried once, then recorded as failed.
    let hooks = store.webhooks().await.unwrap();
    assert_eq!(hooks.iter().find(|w| w.id == bad.id).unwrap().last_status.as_deref(), Some("failed: HTTP 500"));
    assert_eq!(hooks.iter().find(|w| w.id == json.id).unwrap().last_status.as_deref(), Some("HTTP 204"));
    // The test button.
    assert_eq!(r.test_webhook(&json.id).await.unwrap(), "HTTP 204");
    assert_eq!(json_got.lock().unwrap().last().unwrap().1["alerts"][0]["rule"], "test");
    r.remove_webhook("soc@gemeente.nl", &json.id).await.unwrap();
    assert!(r.test_webhook(&json.id).await.is_err());
    task.abort();
}
