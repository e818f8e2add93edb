//! Integration tests of the device posture engine, on outputs recorded on this Linux machine and
//! written from the documented output formats of Windows and macOS tools.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod parsers;
mod policy;

pub fn recorded(name: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/recorded").join(name)).unwrap()
}

/// 2026-11-27 12:00 UTC
pub const NOW: i64 = 1_795_780_800;
