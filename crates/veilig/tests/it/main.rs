//! The `veilig` binary as an administrator uses it: command line, server process, browser.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests may stop on failure.

mod agent;
mod architecture;
mod awareness;
mod browser;
mod cli;
mod cloud;
mod mail;
mod monitor;
mod phishing;
mod pseudo;
mod serve;
mod vpn;

use veilig_testkit::{ServerProcess, TestDatabase};

pub const BIN: &str = env!("CARGO_BIN_EXE_veilig");

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

pub fn database() -> TestDatabase {
    runtime().block_on(veilig_testkit::fresh_database())
}

pub fn start(extra: &[&str]) -> ServerProcess {
    ServerProcess::start(std::path::Path::new(BIN), &database(), extra)
}

/// Runs `veilig ARGS` and returns (exit code, stdout, stderr).
pub fn veilig(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(BIN).args(args).env_remove("VEILIG_CONFIG").output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The one-time setup link `serve` printed.
pub fn setup_link(server: &ServerProcess) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(line) = server.stdout().lines().find(|l| l.contains("/setup/")) {
            return line.trim().to_owned();
        }
        assert!(std::time::Instant::now() < deadline, "no setup link in: {}", server.stdout());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The current TOTP code for a base32 secret.
pub fn totp_now(secret_base32: &str) -> String {
    let secret = veilig_testkit::base32_decode(secret_base32);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    format!("{:06}", veilig_identity::totp::code_at(&secret, veilig_identity::totp::step_of(now)))
}

pub const PASSWORD: &str = "paarse fiets onder de brug";

/// Creates the first administrator through the API and returns a signed-in agent and its CSRF token.
pub fn admin_agent(server: &ServerProcess) -> (veilig_testkit::http::Agent, String) {
    use veilig_testkit::http;
    let token = setup_link(server).rsplit('/').next().unwrap().to_owned();
    let agent = http::agent();
    let r = http::post_json(
        &agent,
        &server.url("/api/v1/setup"),
        &serde_json::json!({"token": token, "email": "beheer@gemeente.nl", "password": PASSWORD}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let csrf = r.json()["csrf_token"].as_str().unwrap().to_owned();
    add_authenticator(server, &agent, &csrf);
    (agent, csrf)
}

/// The browser session cookie an HTTP agent holds (to hand a signed-in session to Chromium).
pub fn session_cookie(agent: &veilig_testkit::http::Agent) -> String {
    agent.cookie_jar_lock().iter().find(|c| c.name() == "veilig_session").map(|c| c.value().to_owned()).expect("a signed-in session")
}

/// Adds an authenticator app to the session's account, which completes its sign-in.
fn add_authenticator(server: &ServerProcess, agent: &veilig_testkit::http::Agent, csrf: &str) {
    use veilig_testkit::http;
    let t = http::send(agent, "POST", &server.url("/api/v1/me/totp"), &[("x-csrf-token", csrf)], None);
    let secret = t.json()["secret"].as_str().unwrap().to_owned();
    let body = serde_json::json!({"code": totp_now(&secret)});
    let c = http::send(agent, "POST", &server.url("/api/v1/me/totp/confirm"), &[("x-csrf-token", csrf)], Some(&body));
    assert_eq!(c.status, 200, "{}", c.body);
}

/// Enrols an invited user from their enrolment link (password, then an authenticator app) and
/// returns their signed-in agent and CSRF token.
pub fn enrolled_agent(server: &ServerProcess, enrollment_url: &str, password: &str) -> (veilig_testkit::http::Agent, String) {
    use veilig_testkit::http;
    let token = enrollment_url.rsplit('/').next().unwrap();
    let agent = http::agent();
    let r = http::post_json(&agent, &server.url("/api/v1/enroll"), &serde_json::json!({"token": token, "password": password}));
    assert_eq!(r.status, 200, "{}", r.body);
    let csrf = r.json()["csrf_token"].as_str().unwrap().to_owned();
    add_authenticator(server, &agent, &csrf);
    (agent, csrf)
}

/// A self-signed certificate for `localhost`, written as `cert.pem` and `key.pem` in `dir`.
pub fn self_signed(dir: &std::path::Path) -> (rcgen::CertifiedKey<rcgen::KeyPair>, std::path::PathBuf, std::path::PathBuf) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    (cert, cert_path, key_path)
}

/// A TLS client that trusts only `cert`.
pub fn tls_client(cert: &rcgen::CertifiedKey<rcgen::KeyPair>) -> std::sync::Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    std::sync::Arc::new(
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}
