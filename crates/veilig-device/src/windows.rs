//! Windows: the JSON that PowerShell's `ConvertTo-Json` gives for Security Center, Defender,
//! BitLocker, the firewall profiles, the hotfixes and the operating system, and the screen-saver
//! settings from `reg query`. Commands in docs/devices.md.

use crate::{Check, Item, Os, days_between};
use serde_json::Value;

/// `ConvertTo-Json` gives an object for one item and an array for more.
fn items(json: &str) -> Result<Vec<Value>, String> {
    match serde_json::from_str::<Value>(json.trim_start_matches('\u{feff}')) {
        Ok(Value::Array(a)) => Ok(a),
        Ok(v @ Value::Object(_)) => Ok(vec![v]),
        Ok(_) => Err("unexpected JSON".into()),
        Err(e) => Err(format!("not JSON: {e}")),
    }
}

fn truthy(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "on" | "1" | "yes" => Some(true),
            "false" | "off" | "0" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Security Center's `productState`: which product, whether it is on, whether its signatures are
/// up to date. (Undocumented by Microsoft, decoded the way management tools do: bits 0x00F000 the
/// state — 0 off, 1 on, 2 snoozed, 3 expired —, 0x0000F0 the signatures — 0 up to date —, 0x000F00
/// the owner — 1 Microsoft.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProductState {
    pub on: bool,
    pub snoozed: bool,
    pub expired: bool,
    pub up_to_date: bool,
    pub microsoft: bool,
}

pub fn product_state(v: u32) -> ProductState {
    let state = (v >> 12) & 0xF;
    ProductState {
        on: state == 1,
        snoozed: state == 2,
        expired: state == 3,
        up_to_date: (v >> 4) & 0xF == 0,
        microsoft: (v >> 8) & 0xF == 1,
    }
}

/// `Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct | ConvertTo-Json`
/// and `Get-MpComputerStatus | ConvertTo-Json` (either may be missing: Security Center is absent
/// on Windows Server, Defender's status when another product owns the machine).
pub fn scanner(security_center: Option<&str>, defender: Option<&str>) -> (Check, Check) {
    let mut products: Vec<(String, ProductState)> = Vec::new();
    if let Some(sc) = security_center
        && let Ok(list) = items(sc)
    {
        for p in list {
            let name = p.get("displayName").and_then(Value::as_str).unwrap_or("?").to_string();
            if let Some(state) = p.get("productState").and_then(Value::as_u64) {
                products.push((name, product_state(state as u32)));
            }
        }
    }
    let def = defender.and_then(|d| items(d).ok()).and_then(|l| l.into_iter().next());
    let sig_age = def.as_ref().and_then(|d| d.get("AntivirusSignatureAge")).and_then(Value::as_i64);
    let def_on = def.as_ref().and_then(|d| truthy(d.get("AntivirusEnabled")));
    let realtime = def.as_ref().and_then(|d| truthy(d.get("RealTimeProtectionEnabled")));
    let mode = def.as_ref().and_then(|d| d.get("AMRunningMode")).and_then(Value::as_str).unwrap_or("").to_string();

    let active = products.iter().find(|(_, s)| s.on);
    let scanner_check = match (active, def_on, realtime) {
        (Some((name, _)), _, _) => Check::ok(Item::Scanner, format!("{name} is on")),
        (None, Some(true), Some(true)) if !mode.to_ascii_lowercase().contains("passive") => {
            Check::ok(Item::Scanner, "Microsoft Defender is on")
        }
        (None, _, Some(false)) => Check::not_ok(Item::Scanner, "real-time protection is off"),
        (None, Some(false), _) => Check::not_ok(Item::Scanner, "Microsoft Defender is off"),
        _ if products.iter().any(|(_, s)| s.snoozed || s.expired) => {
            Check::not_ok(Item::Scanner, "the malware scanner is snoozed or expired")
        }
        _ if !products.is_empty() => Check::not_ok(Item::Scanner, "no malware scanner is on"),
        _ => Check::unknown(Item::Scanner, "neither Security Center nor Defender answered"),
    };
    let sig_check = match (sig_age, active) {
        (Some(age), _) if def_on == Some(true) || active.is_some_and(|(_, s)| s.microsoft) => {
            Check::ok(Item::Signatures, format!("Defender's signatures are {age} days old")).with_value(age)
        }
        (_, Some((name, s))) if s.up_to_date => {
            Check::ok(Item::Signatures, format!("{name} reports its signatures up to date")).with_value(0)
        }
        (_, Some((name, _))) => Check::not_ok(Item::Signatures, format!("{name} reports its signatures out of date")),
        _ => Check::unknown(Item::Signatures, "the signature age could not be read"),
    };
    (scanner_check, sig_check)
}

/// `Get-BitLockerVolume -MountPoint $env:SystemDrive | ConvertTo-Json`: ProtectionStatus 1 (or "On").
pub fn bitlocker(json: Option<&str>) -> Check {
    let Some(json) = json else {
        return Check::unknown(Item::DiskEncryption, "BitLocker's status could not be read (needs administrator rights)");
    };
    match items(json).ok().and_then(|l| l.into_iter().next()) {
        Some(v) => match truthy(v.get("ProtectionStatus")) {
            Some(true) => Check::ok(Item::DiskEncryption, "BitLocker protects the system drive"),
            Some(false) => Check::not_ok(Item::DiskEncryption, "BitLocker is off on the system drive"),
            None => Check::unknown(Item::DiskEncryption, "BitLocker's protection status is unclear"),
        },
        None => Check::unknown(Item::DiskEncryption, "BitLocker's output could not be read"),
    }
}

/// `Get-NetFirewallProfile | ConvertTo-Json`: every profile (Domain, Private, Public) enabled.
pub fn firewall(json: Option<&str>) -> Check {
    let Some(list) = json.and_then(|j| items(j).ok()) else {
        return Check::unknown(Item::Firewall, "the firewall profiles could not be read");
    };
    let off: Vec<String> = list
        .iter()
        .filter(|p| truthy(p.get("Enabled")) == Some(false))
        .map(|p| p.get("Name").and_then(Value::as_str).unwrap_or("?").to_string())
        .collect();
    if list.is_empty() {
        Check::unknown(Item::Firewall, "no firewall profiles listed")
    } else if off.is_empty() {
        Check::ok(Item::Firewall, "Windows Defender Firewall is on for every profile")
    } else {
        Check::not_ok(Item::Firewall, format!("the firewall is off for: {}", off.join(", ")))
    }
}

/// A PowerShell date in JSON: `"/Date(1717200000000)/"`, or `{"value": "/Date(…)/", "DateTime": …}`.
fn ps_date(v: &Value) -> Option<i64> {
    let s = match v {
        Value::String(s) => s.as_str(),
        Value::Object(o) => o.get("value").and_then(Value::as_str)?,
        _ => return None,
    };
    let ms: i64 = s.strip_prefix("/Date(")?.split([')', '+', '-']).next()?.parse().ok()?;
    Some(ms / 1000)
}

/// `Get-HotFix | ConvertTo-Json`: the newest InstalledOn.
pub fn updates(json: Option<&str>, now: i64) -> Check {
    let Some(list) = json.and_then(|j| items(j).ok()) else {
        return Check::unknown(Item::Updates, "the installed updates could not be read");
    };
    match list.iter().filter_map(|h| h.get("InstalledOn").and_then(ps_date)).max() {
        Some(t) => {
            let days = days_between(t, now);
            Check::ok(Item::Updates, format!("last update {days} days ago")).with_value(days)
        }
        None => Check::unknown(Item::Updates, "no installed update has a date"),
    }
}

/// `Get-CimInstance Win32_OperatingSystem | ConvertTo-Json`: Caption, Version, BuildNumber.
pub fn os(json: &str) -> Result<Os, String> {
    let v = items(json)?.into_iter().next().ok_or("empty")?;
    let get = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").trim().to_string();
    Ok(Os { family: "windows".into(), name: get("Caption"), version: get("Version"), build: get("BuildNumber") })
}

/// `reg query "HKCU\Control Panel\Desktop"`: ScreenSaveActive, ScreenSaverIsSecure, ScreenSaveTimeOut (seconds).
pub fn screen_lock(reg: Option<&str>) -> Check {
    let Some(reg) = reg else { return Check::unknown(Item::ScreenLock, "the screen saver settings could not be read") };
    let value = |name: &str| {
        reg.lines().find_map(|l| {
            let mut parts = l.split_whitespace();
            (parts.next()?.eq_ignore_ascii_case(name)).then(|| parts.nth(1).map(str::to_string))?
        })
    };
    let active = value("ScreenSaveActive").as_deref() == Some("1");
    let secure = value("ScreenSaverIsSecure").as_deref() == Some("1");
    let timeout: Option<i64> = value("ScreenSaveTimeOut").and_then(|v| v.parse().ok());
    match (active, secure, timeout) {
        (true, true, Some(t)) if t > 0 => Check::ok(Item::ScreenLock, format!("locks after {} minutes", t / 60)).with_value(t / 60),
        (_, false, _) | (false, _, _) => Check::not_ok(Item::ScreenLock, "the screen saver does not ask for the password"),
        _ => Check::unknown(Item::ScreenLock, "the screen saver's time-out could not be read"),
    }
}
