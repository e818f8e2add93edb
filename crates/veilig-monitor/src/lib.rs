//! Monitoring: turns log lines from firewalls, sshd and Veilig itself into events, and events
//! into alerts with a detection engine that keeps per-source state in event time within a
//! memory budget.
//!
//! Everything here is pure (no I/O, no clock): `veilig monitor replay` and, later, the live
//! syslog listener feed it lines; the same input gives the same alerts.
//!
//! Status: parsers for netfilter LOG lines (iptables, nftables, ufw, firewalld), sshd, pf
//! `filterlog` (pfSense, OPNsense), FortiGate, Cisco ASA/FTD, OpenVPN, Windows Firewall
//! `pfirewall.log` and MikroTik, recognised per line; a built-in rule pack
//! (fast and slow port scans, horizontal scans, SSH brute force, password spraying, success
//! after failures, VPN port floods). The declarative YAML rules, the other vendor formats,
//! and GeoIP are still to come. `response.rs` decides which alerts become blocks (allow-list,
//! escalation for repeat offenders) and writes the nftables text that enforces them.

pub mod engine;
pub mod event;
pub mod parse;
pub mod response;
pub mod rules;
pub mod syslog;

pub use engine::{Alert, Engine};
pub use event::{Action, Event, Kind};
pub use parse::{Format, Parsed, parse_line};
