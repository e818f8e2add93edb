//! Monitoring: turns log lines from firewalls, sshd and Veilig itself into events, and events
//! into alerts with a detection engine that keeps per-key state in event time within a
//! memory budget.
//!
//! Everything here is pure (no I/O, no clock): `veilig monitor replay` and the live inputs
//! (`veilig-ingest`) feed it lines; the same input gives the same alerts.
//!
//! Status: parsers for netfilter LOG lines (iptables, nftables, ufw, firewalld), sshd, pf
//! `filterlog` (pfSense, OPNsense), FortiGate, Cisco ASA/FTD, OpenVPN, Windows Firewall
//! `pfirewall.log` and MikroTik, recognised per line; the YAML rule language and its shipped
//! pack (`rules.rs`, `rules/*.yaml`); the engine (`engine.rs`); the response's rules
//! (`response.rs`: which alerts become blocks, and the nftables text that enforces them).
//! Countries come from MaxMind DB country databases (`geo.rs`).

pub mod engine;
pub mod event;
pub mod geo;
pub mod parse;
pub mod response;
pub mod rules;
pub mod syslog;

pub use engine::{Alert, Engine};
pub use event::{Action, Event, Kind};
pub use parse::{Format, Parsed, parse_line};
