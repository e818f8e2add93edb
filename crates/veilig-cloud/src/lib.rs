//! The cloud register's engine (issue #7), pure: no I/O, no clock.
//!
//! - [`catalog`]: the curated catalog of cloud services common in Dutch organisations
//!   (`data/catalog.toml`, compiled in): names, vendors, functions and the registrable domains
//!   each service runs on, with a fast name → service index.
//! - [`logs`]: readers for DNS query logs (dnsmasq/Pi-hole, Unbound, BIND, Windows DNS debug
//!   log), Squid's access log and Zeek's `dns.log`/`ssl.log` (TSV and JSON), recognised per line.
//! - [`discover`]: counts per service per day (queries, distinct clients) and the unknown
//!   registrable domains, keeping no per-person history: client addresses live only as hashes
//!   in memory during a run and leave as counts.

pub mod assess;
pub mod catalog;
pub mod discover;
pub mod logs;

pub use catalog::{Catalog, CatalogError, Service};
pub use discover::{Discovery, Findings, ServiceFinding, UnknownDomain};
pub use logs::{Format, Line, Query, Reader};
