//! Integration tests of the pseudonymiser engine: one binary, modules per theme.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod engine;
mod eval;
mod office;
mod vault;
