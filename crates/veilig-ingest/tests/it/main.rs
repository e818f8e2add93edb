//! Following log files against a real database (SQLite, or PostgreSQL with
//! VEILIG_TEST_DB=postgres): rotation, truncation, partial and oversized lines, and restarts
//! that neither lose nor repeat a line.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests may stop on failure.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use veilig_core::{EventBus, SystemClock};
use veilig_ingest::Ingest;
use veilig_store::Store;

const EVERY: Duration = Duration::from_millis(20);

fn line(n: u32) -> String {
    format!("Nov 27 08:{:02}:{:02} fw sshd[9]: Failed password for root from 198.51.100.7 port {} ssh2\n", n / 60 % 60, n % 60, 40000 + n)
}

fn append(path: &Path, from: u32, to: u32) {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    for n in from..to {
        f.write_all(line(n).as_bytes()).unwrap();
    }
}

/// Waits until `ingest` has seen `n` events; fails if it sees more, or not within 10 s.
async fn until_events(ingest: &Ingest, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let seen = ingest.counters.events.load(Ordering::Relaxed);
        if seen == n {
            // Stay a few polls to see that no more arrive (a line read twice).
            tokio::time::sleep(EVERY * 5).await;
            assert_eq!(ingest.counters.events.load(Ordering::Relaxed), n, "more lines than written");
            return;
        }
        assert!(seen < n, "{seen} events, expected {n}: a line was read twice");
        assert!(Instant::now() < deadline, "{seen} events, expected {n}");
        tokio::time::sleep(EVERY).await;
    }
}

async fn store() -> Store {
    let db = veilig_testkit::fresh_database().await;
    let store = Store::connect(&db.url, 4).await.unwrap();
    store.migrate().await.unwrap();
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_followed_through_rotation_truncation_and_restarts() {
    let store = store().await;
    let dir = veilig_testkit::temp_dir("files");
    let log = dir.join("auth.log");
    append(&log, 0, 3); // history before Veilig follows the file: not read

    let ingest = Ingest::new(store.clone(), EventBus::default(), Arc::new(SystemClock));
    let task = veilig_ingest::files::spawn_files_every(vec![log.clone()], ingest.clone(), EVERY).await;
    tokio::time::sleep(EVERY * 5).await;
    append(&log, 3, 15);
    until_events(&ingest, 12).await;
    let alerts = store.alerts_recent(10).await.unwrap();
    assert!(alerts.iter().any(|a| a.rule == "ssh_brute_force" && a.source == "198.51.100.7"), "{alerts:?}");

    // A line written in two parts is one event, read when it is whole.
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    let whole = line(15);
    f.write_all(&whole.as_bytes()[..20]).unwrap();
    f.flush().unwrap();
    tokio::time::sleep(EVERY * 5).await;
    assert_eq!(ingest.counters.events.load(Ordering::Relaxed), 12);
    f.write_all(&whole.as_bytes()[20..]).unwrap();
    until_events(&ingest, 13).await;

    // Rotation (logrotate's rename + create): the writer still adds to the old file for a
    // moment, then writes to the new one. Both are read, nothing twice.
    let rotated = dir.join("auth.log.1");
    std::fs::rename(&log, &rotated).unwrap();
    append(&rotated, 16, 18);
    append(&log, 18, 21);
    until_events(&ingest, 18).await;

    // Truncation in place (copytruncate), then new lines.
    std::fs::write(&log, "").unwrap();
    tokio::time::sleep(EVERY * 5).await;
    append(&log, 21, 23);
    until_events(&ingest, 20).await;

    // A line longer than 64 KiB is counted and skipped; the next one is read.
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(&vec![b'x'; 100_000]).unwrap();
    f.write_all(b"\n").unwrap();
    drop(f);
    append(&log, 23, 24);
    until_events(&ingest, 21).await;
    assert_eq!(ingest.counters.oversized.load(Ordering::Relaxed), 1);

    // Veilig stops. Lines are written, the file is rotated, more lines come: after the
    // restart every one of them is read once, the rotated file's rest first.
    tokio::time::sleep(EVERY * 5).await; // the checkpoint is saved at each poll
    task.abort();
    let _ = task.await;
    append(&log, 24, 27);
    std::fs::rename(&log, &rotated).unwrap();
    append(&log, 27, 31);
    let again = Ingest::new(store.clone(), EventBus::default(), Arc::new(SystemClock));
    let task = veilig_ingest::files::spawn_files_every(vec![log.clone()], again.clone(), EVERY).await;
    until_events(&again, 7).await;

    // And a plain restart without changes reads nothing again.
    tokio::time::sleep(EVERY * 5).await;
    task.abort();
    let _ = task.await;
    let third = Ingest::new(store.clone(), EventBus::default(), Arc::new(SystemClock));
    let task = veilig_ingest::files::spawn_files_every(vec![log.clone()], third.clone(), EVERY).await;
    append(&log, 31, 32);
    until_events(&third, 1).await;
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_file_is_waited_for() {
    let store = store().await;
    let dir = veilig_testkit::temp_dir("files-missing");
    let log = dir.join("ufw.log");
    let ingest = Ingest::new(store, EventBus::default(), Arc::new(SystemClock));
    let task = veilig_ingest::files::spawn_files_every(vec![log.clone()], ingest.clone(), EVERY).await;
    tokio::time::sleep(EVERY * 5).await;
    append(&log, 0, 4);
    until_events(&ingest, 4).await;
    task.abort();
}

/// The VPN gateway's traffic reports become engine events: one user moving more than 5 GB
/// within an hour raises `vpn_data_volume` with the user's name; VPN sessions count as sign-ins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vpn_traffic_and_sessions_are_inputs() {
    let store = store().await;
    let bus = EventBus::default();
    let ingest = Ingest::new(store.clone(), bus.clone(), Arc::new(SystemClock));
    veilig_ingest::spawn_own_events(ingest.clone());
    tokio::time::sleep(Duration::from_millis(50)).await;
    let traffic = |email: &str, bytes: u64| veilig_core::Event::VpnTraffic {
        device_id: "d".into(),
        email: email.into(),
        address: "10.13.0.2".into(),
        bytes,
    };
    bus.publish(veilig_core::Event::VpnSessionOpened { user_id: "u".into(), email: "anna@gemeente.nl".into(), ip: "145.97.3.4".into() });
    for _ in 0..4 {
        bus.publish(traffic("anna@gemeente.nl", 1_000_000_000));
        bus.publish(traffic("bert@gemeente.nl", 10_000_000));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(store.alerts_recent(10).await.unwrap().is_empty(), "4 GB is below the threshold");
    bus.publish(traffic("anna@gemeente.nl", 1_500_000_000));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let alerts = store.alerts_recent(10).await.unwrap();
        if let Some(a) = alerts.iter().find(|a| a.rule == "vpn_data_volume") {
            assert_eq!(a.user.as_deref(), Some("anna@gemeente.nl"));
            assert!(a.summary.contains("moved 5.5 GB through the VPN within 1 h"), "{}", a.summary);
            assert_eq!(alerts.len(), 1, "nothing about bert: {alerts:?}");
            break;
        }
        assert!(Instant::now() < deadline, "no data volume alert: {alerts:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ingest.counters.events.load(Ordering::Relaxed) >= 10, "the session and the traffic reports are events");
}

/// DNS lines in the monitoring input (a dnsmasq forwarding to syslog, here as one message)
/// also count as cloud discovery: services, clients, no addresses kept.
#[tokio::test]
async fn dns_lines_in_the_input_feed_live_cloud_discovery() {
    let ingest = Ingest::new(store().await, EventBus::default(), Arc::new(SystemClock));
    let text = "<30>Nov 27 09:12:01 gw dnsmasq[812]: query[A] us05web.zoom.us from 192.168.1.23\n\
                Nov 27 09:12:02 gw dnsmasq[812]: query[A] zoom.us from 192.168.1.24\n\
                Nov 27 09:12:03 gw kernel: [UFW BLOCK] IN=eth0 OUT= SRC=203.0.113.9 DST=192.0.2.1 PROTO=TCP SPT=4444 DPT=22\n";
    ingest.message_from("192.168.1.1", text).await;
    let f = ingest.cloud_live().unwrap();
    let zoom = f.services.iter().find(|s| s.service == "zoom").unwrap();
    assert_eq!((zoom.queries, zoom.clients), (2, 2));
    assert!(!serde_json::to_string(&f).unwrap().contains("192.168.1.2"), "no client address is kept");
    // the firewall line still reached the monitoring engine
    assert_eq!(ingest.counters.events.load(Ordering::Relaxed), 1);
}
