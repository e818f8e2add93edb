//! Integration tests of the mail crate against real servers the tests start.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod dkim;
