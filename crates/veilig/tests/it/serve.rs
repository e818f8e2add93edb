use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use veilig_store::{AuditFilter, Store};
use veilig_testkit::http;

fn store_of(server: &veilig_testkit::ServerProcess) -> (tokio::runtime::Runtime, Store) {
    let rt = crate::runtime();
    let store = rt.block_on(Store::connect(&server.db.url, 2)).unwrap();
    (rt, store)
}

#[test]
fn serve_answers_and_stops_gracefully_on_sigterm() {
    let mut server = crate::start(&[]);
    assert!(server.stdout().contains(&format!("running at http://127.0.0.1:{}", server.port)), "it says where it runs");
    let agent = http::agent();
    assert_eq!(http::get(&agent, &server.url("/login")).status, 200);
    let status = server.terminate();
    assert!(status.success(), "exit status {status}");

    let (rt, store) = store_of(&server);
    let records = rt.block_on(store.audit_list(&AuditFilter { action: Some("platform.".into()), ..Default::default() }, 10)).unwrap();
    let actions: Vec<&str> = records.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["platform.stopped", "platform.started"]);
    let out = server.run(&["audit", "verify"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn json_logs_on_request() {
    let mut server = crate::start(&["--log-format", "json"]);
    server.terminate();
    let first = server.stderr().lines().next().unwrap_or_default().to_owned();
    let v: serde_json::Value = serde_json::from_str(&first).unwrap_or_else(|e| panic!("{e}: {first}"));
    assert!(v["level"].is_string() && v["message"].is_string(), "{v}");
    assert!(!server.stderr().contains(&server.db.url), "the database URL is never logged");
}

/// Kills the server during a burst of audited writes; after a restart every acknowledged
/// write is there and the chain is intact.
#[test]
fn a_crash_loses_no_acknowledged_write() {
    let mut server = crate::start(&[]);
    let (agent, _) = crate::admin_agent(&server);
    let acknowledged = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (ack, stop, url) = (acknowledged.clone(), stop.clone(), server.url("/audit/export?format=json&action=none."));
        let agent = agent.clone();
        workers.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match agent.get(&url).call() {
                    Ok(r) if r.status().as_u16() == 200 => {
                        ack.fetch_add(1, Ordering::SeqCst);
                    }
                    _ => break,
                }
            }
        }));
    }
    while acknowledged.load(Ordering::SeqCst) < 40 {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let acked = acknowledged.load(Ordering::SeqCst);

    let out = server.run(&["audit", "verify"]);
    assert!(out.status.success(), "chain broken after the crash: {}", String::from_utf8_lossy(&out.stdout));
    let (rt, store) = store_of(&server);
    let stored =
        rt.block_on(store.audit_list(&AuditFilter { action: Some("audit.exported".into()), ..Default::default() }, 1000)).unwrap().len();
    assert!(stored as u64 >= acked, "{acked} writes were acknowledged but only {stored} are stored");
    rt.block_on(store.close());

    let mut again = veilig_testkit::ServerProcess::start(std::path::Path::new(crate::BIN), &server.db, &[]);
    assert_eq!(http::get(&http::agent(), &again.url("/healthz")).status, 200);
    again.terminate();
    assert!(again.run(&["audit", "verify"]).status.success());
}

#[test]
fn tls_serves_https_with_hsts() {
    let dir = veilig_testkit::temp_dir("tls");
    let (cert, cert_path, key_path) = crate::self_signed(&dir);

    // A key that does not belong to the certificate is refused at start.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let wrong_key = dir.join("wrong.pem");
    std::fs::write(&wrong_key, other.signing_key.serialize_pem()).unwrap();
    let (code, _, err) =
        crate::veilig(&["config", "check", "--tls-cert", cert_path.to_str().unwrap(), "--tls-key", wrong_key.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");

    let db = crate::database();
    let port = veilig_testkit::free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = std::process::Command::new(crate::BIN)
        .args([
            "serve",
            "--database-url",
            &db.url,
            "--listen",
            &listen,
            "--tls-cert",
            cert_path.to_str().unwrap(),
            "--tls-key",
            key_path.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();

    let config = crate::tls_client(&cert);
    let mut response = String::new();
    for _ in 0..100 {
        let Ok(tcp) = std::net::TcpStream::connect(&listen) else {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        };
        let conn = rustls::ClientConnection::new(config.clone(), "localhost".try_into().unwrap()).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
        let _ = tls.read_to_string(&mut response);
        break;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.to_ascii_lowercase().contains("strict-transport-security: max-age=31536000"), "{response}");
    assert!(response.contains("\"status\":\"ok\""));
}
