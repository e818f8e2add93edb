//! Test helpers shared by the crates' integration tests: fresh databases of the kind the test
//! run asks for, the real `veilig` binary on a free port, an HTTP client, and a WebDriver
//! client for headless Chromium.
//!
//! `VEILIG_TEST_DB=postgres` runs the suite against PostgreSQL (`VEILIG_TEST_PG_URL`, default
//! `postgres://root@127.0.0.1:5432/test`); anything else, or nothing, means SQLite.

pub mod browser;
pub mod db;
pub mod dovecot;
pub mod http;
pub mod mmdb;
pub mod netns;
pub mod server;

pub use browser::Browser;
pub use db::{TestDatabase, fresh_database};
pub use server::ServerProcess;

/// A TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0)
}

/// A new empty folder under the system's temporary folder.
pub fn temp_dir(label: &str) -> std::path::PathBuf {
    use rand::Rng;
    let n: u64 = rand::thread_rng().r#gen();
    let dir = std::env::temp_dir().join(format!("veilig-{label}-{}-{n:x}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// Decodes RFC 4648 base32 (as in TOTP secrets), ignoring padding and case.
pub fn base32_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for c in s.trim_end_matches('=').bytes().map(|b| b.to_ascii_uppercase()) {
        let Some(v) = ALPHABET.iter().position(|&a| a == c) else { continue };
        buffer = (buffer << 5) | v as u32;
        bits += 5;
        if bits >= 8 {
            out.push((buffer >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    out
}
