//! Veilig's device posture engine. The agent's collectors run the operating system's own tools
//! (thin, per platform, behind `cfg` in the binary); everything they return is read here, in plain
//! code that is tested on recorded outputs of Linux, Windows and macOS. Each posture item is *ok*,
//! *not ok* or *unknown with a reason* — never a guess. [`policy::evaluate`] then judges a report
//! against the organisation's policy with an explained result in Dutch and English.
//!
//! Pure: no I/O, no clock (the time is passed in).

pub mod eol;
pub mod linux;
pub mod macos;
pub mod policy;
pub mod windows;

use serde::{Deserialize, Serialize};

/// The state of one posture item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    NotOk,
    Unknown,
}

/// The posture items a report carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Item {
    /// The operating system is still supported by its maker.
    OsSupported,
    /// The last installed update, in days.
    Updates,
    /// A malware scanner is present and running.
    Scanner,
    /// The scanner's signatures, in days.
    Signatures,
    /// The system volume is encrypted.
    DiskEncryption,
    /// The firewall is on.
    Firewall,
    /// The screen locks after a while.
    ScreenLock,
}

/// One item as observed: its status, what was seen, and for *unknown* why not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub item: Item,
    pub status: Status,
    /// What was seen, for people: "ClamAV, database of 2026-11-26", "LUKS on /".
    pub detail: String,
    /// A number where the item has one: days since the last update or signature, lock minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<i64>,
}

impl Check {
    pub fn ok(item: Item, detail: impl Into<String>) -> Check {
        Check { item, status: Status::Ok, detail: detail.into(), value: None }
    }
    pub fn not_ok(item: Item, detail: impl Into<String>) -> Check {
        Check { item, status: Status::NotOk, detail: detail.into(), value: None }
    }
    pub fn unknown(item: Item, reason: impl Into<String>) -> Check {
        Check { item, status: Status::Unknown, detail: reason.into(), value: None }
    }
    pub fn with_value(mut self, v: i64) -> Check {
        self.value = Some(v);
        self
    }
}

/// The operating system as the device describes it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Os {
    /// `linux`, `windows` or `macos`.
    pub family: String,
    /// The distribution or product: "debian", "ubuntu", "Windows 11 Pro", "macOS".
    pub name: String,
    /// "12", "24.04", "10.0.26100", "15.1".
    pub version: String,
    /// The build or codename where there is one: "bookworm", "26100", "24B83".
    pub build: String,
}

/// What the agent sends: who it is, what it runs, what it saw, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub agent_version: String,
    pub hostname: String,
    pub os: Os,
    /// Unix seconds on the device's clock when the checks ran.
    pub checked_at: i64,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn check(&self, item: Item) -> Option<&Check> {
        self.checks.iter().find(|c| c.item == item)
    }
}

/// Days between two Unix times, rounded down, never negative.
pub fn days_between(earlier: i64, later: i64) -> i64 {
    ((later - earlier) / 86_400).max(0)
}
