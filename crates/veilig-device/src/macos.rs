//! macOS: `sw_vers`, `fdesetup status`, the application firewall, `softwareupdate --history`,
//! XProtect's version and date, and `sysadminctl -screenLock status`. Commands in docs/devices.md.

use crate::{Check, Item, Os, days_between};

/// `sw_vers`: ProductName, ProductVersion, BuildVersion.
pub fn sw_vers(text: &str) -> Os {
    let mut os = Os { family: "macos".into(), ..Os::default() };
    for line in text.lines() {
        let Some((k, v)) = line.split_once(':') else { continue };
        let v = v.trim().to_string();
        match k.trim() {
            "ProductName" => os.name = v,
            "ProductVersion" => os.version = v,
            "BuildVersion" => os.build = v,
            _ => {}
        }
    }
    os
}

/// `fdesetup status`: "FileVault is On." / "FileVault is Off."
pub fn filevault(text: Option<&str>) -> Check {
    match text.map(str::trim) {
        Some(t) if t.starts_with("FileVault is On") => Check::ok(Item::DiskEncryption, "FileVault is on"),
        Some(t) if t.starts_with("FileVault is Off") => Check::not_ok(Item::DiskEncryption, "FileVault is off"),
        Some(t) if t.contains("Encryption in progress") => Check::not_ok(Item::DiskEncryption, "FileVault is still encrypting"),
        _ => Check::unknown(Item::DiskEncryption, "fdesetup gave no answer"),
    }
}

/// `/usr/libexec/ApplicationFirewall/socketfilterfw --getglobalstate`.
pub fn firewall(text: Option<&str>) -> Check {
    match text.map(str::trim) {
        Some(t) if t.contains("State = 1") || t.contains("State = 2") || t.starts_with("Firewall is enabled") => {
            Check::ok(Item::Firewall, "the application firewall is on")
        }
        Some(t) if t.contains("State = 0") || t.starts_with("Firewall is disabled") => {
            Check::not_ok(Item::Firewall, "the application firewall is off")
        }
        _ => Check::unknown(Item::Firewall, "the application firewall gave no answer"),
    }
}

/// `softwareupdate --history`: the newest date in its Date column ("MM/DD/YYYY, HH:MM:SS").
pub fn updates(history: Option<&str>, now: i64) -> Check {
    let Some(history) = history else { return Check::unknown(Item::Updates, "softwareupdate gave no history") };
    let newest = history
        .lines()
        // configuration data (XProtect, MRT, Gatekeeper) is updated silently: not a system update
        .filter(|l| !["XProtect", "MRT", "Gatekeeper", "ConfigData", "Config Data"].iter().any(|k| l.contains(k)))
        .filter_map(|l| {
            let date = l.split_whitespace().find(|w| w.len() >= 8 && w.matches('/').count() == 2)?;
            let parts: Vec<i64> = date.trim_end_matches(',').split('/').filter_map(|p| p.parse().ok()).collect();
            let [m, d, y] = parts.as_slice() else { return None };
            let month = time::Month::try_from(*m as u8).ok()?;
            let day = time::Date::from_calendar_date(*y as i32, month, *d as u8).ok()?;
            Some(day.midnight().assume_utc().unix_timestamp())
        })
        .max();
    match newest {
        Some(t) => {
            let days = days_between(t, now);
            Check::ok(Item::Updates, format!("last update {days} days ago")).with_value(days)
        }
        None => Check::unknown(Item::Updates, "no dated update in softwareupdate's history"),
    }
}

/// XProtect: present on every Mac and always on; its signatures' age is the age of its bundle
/// (the collector passes the version and the bundle's modification time).
pub fn xprotect(version: Option<&str>, modified: Option<i64>, now: i64) -> (Check, Check) {
    match (version, modified) {
        (Some(v), Some(t)) => {
            let age = days_between(t, now);
            (
                Check::ok(Item::Scanner, format!("XProtect {v}")),
                Check::ok(Item::Signatures, format!("XProtect {v}, {age} days old")).with_value(age),
            )
        }
        (Some(v), None) => {
            (Check::ok(Item::Scanner, format!("XProtect {v}")), Check::unknown(Item::Signatures, "XProtect's date could not be read"))
        }
        _ => {
            (Check::unknown(Item::Scanner, "XProtect's version could not be read"), Check::unknown(Item::Signatures, "no XProtect version"))
        }
    }
}

/// `sysadminctl -screenLock status`: "screenLock delay is 300 seconds" / "screenLock is off".
pub fn screen_lock(text: Option<&str>) -> Check {
    let Some(t) = text else { return Check::unknown(Item::ScreenLock, "sysadminctl gave no answer") };
    if t.contains("screenLock is off") {
        return Check::not_ok(Item::ScreenLock, "the screen does not lock");
    }
    if t.contains("immediate") {
        return Check::ok(Item::ScreenLock, "locks at once").with_value(0);
    }
    let secs = t.split("delay is").nth(1).and_then(|r| r.split_whitespace().next()).and_then(|n| n.parse::<i64>().ok());
    match secs {
        Some(s) => Check::ok(Item::ScreenLock, format!("locks {} minutes after the screen saver starts", s / 60)).with_value(s / 60),
        None => Check::unknown(Item::ScreenLock, "sysadminctl's answer could not be read"),
    }
}
