//! The `veilig` binary as an administrator uses it: command line, server process, browser.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // Tests may stop on failure.

mod architecture;
mod browser;
mod cli;
mod serve;

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
