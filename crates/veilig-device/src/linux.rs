//! Linux: what `/etc/os-release`, apt's and dnf's history, ClamAV's database header, `lsblk`,
//! `nft`/`ufw`/`firewall-cmd` and GNOME's settings say.

use crate::{Check, Item, Os, days_between};
use time::macros::format_description;

/// `/etc/os-release` (KEY=value, values maybe quoted).
pub fn os_release(text: &str) -> Os {
    let mut os = Os { family: "linux".into(), ..Os::default() };
    for line in text.lines() {
        let Some((k, v)) = line.split_once('=') else { continue };
        let v = v.trim().trim_matches('"').trim_matches('\'').to_string();
        match k.trim() {
            "ID" => os.name = v,
            "VERSION_ID" => os.version = v,
            "VERSION_CODENAME" => os.build = v,
            _ => {}
        }
    }
    os
}

fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let f = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let g = format_description!("[year]-[month]-[day] [hour]:[minute]");
    time::PrimitiveDateTime::parse(&s, f).or_else(|_| time::PrimitiveDateTime::parse(&s, g)).ok().map(|d| d.assume_utc().unix_timestamp())
}

/// The start of the last apt run that upgraded or installed packages (`/var/log/apt/history.log`;
/// its times are local, read here as UTC: a day's precision is what counts).
pub fn apt_last_update(history: &str) -> Option<i64> {
    let mut last = None;
    let mut start = None;
    for line in history.lines() {
        if let Some(d) = line.strip_prefix("Start-Date:") {
            start = parse_datetime(d.trim());
        } else if line.starts_with("Upgrade:") && start.is_some() {
            last = last.max(start);
        }
    }
    last
}

/// The last update in `dnf history list` (`ID | Command line | Date and time | Action(s) | Altered`).
pub fn dnf_last_update(list: &str) -> Option<i64> {
    list.lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('|').map(str::trim).collect();
            (cols.len() >= 4 && cols[0].chars().all(|c| c.is_ascii_digit()) && !cols[0].is_empty()).then(|| parse_datetime(cols[2]))?
        })
        .max()
}

/// The build time of a ClamAV database from the 512-byte header of `daily.cvd`/`daily.cld`:
/// `ClamAV-VDB:<build time>:<version>:<signatures>:<f-level>:<md5>:<dsig>:<builder>:<build epoch>`.
pub fn clamav_build_time(header: &[u8]) -> Result<i64, String> {
    let head = &header[..header.len().min(512)];
    let text = String::from_utf8_lossy(head);
    let text = text.trim_end_matches(['\0', ' ']);
    let fields: Vec<&str> = text.split(':').collect();
    if fields.first() != Some(&"ClamAV-VDB") {
        return Err("not a ClamAV database header".into());
    }
    fields.get(8).and_then(|f| f.trim().parse::<i64>().ok()).ok_or_else(|| "the header has no build time".into())
}

/// ClamAV's engine version from `clamscan --version` (`ClamAV 1.4.6` without a database,
/// `ClamAV 1.4.6/27469/Wed Nov 26 09:23:00 2026` with one).
pub fn clamav_version(out: &str) -> Option<String> {
    let v = out.trim().strip_prefix("ClamAV ")?.split('/').next()?.trim();
    (!v.is_empty() && v.len() < 40 && v.chars().all(|c| c.is_ascii_alphanumeric() || ".-~+".contains(c))).then(|| v.to_owned())
}

/// The malware scanner on Linux: ClamAV's engine (`clamscan --version`), its newest database and
/// whether freshclam keeps it fresh.
pub fn clamav(version: Option<&str>, header: Option<&[u8]>, freshclam_active: Option<bool>, now: i64) -> (Check, Check) {
    let Some(header) = header else {
        let scanner = match version {
            Some(v) => Check::not_ok(Item::Scanner, format!("ClamAV {v} is installed but has no virus database (run freshclam)")),
            None => Check::not_ok(Item::Scanner, "no malware scanner found (no ClamAV)"),
        };
        return (scanner, Check::unknown(Item::Signatures, "no virus database, so no signatures"));
    };
    let name = version.map(|v| format!("ClamAV {v}")).unwrap_or_else(|| "ClamAV".to_owned());
    match clamav_build_time(header) {
        Ok(t) => {
            let age = days_between(t, now);
            let scanner = match freshclam_active {
                Some(true) => Check::ok(Item::Scanner, format!("{name}, updated by freshclam")),
                Some(false) => Check::not_ok(Item::Scanner, format!("{name} is installed but freshclam does not run")),
                None => Check::unknown(Item::Scanner, format!("{name} is installed; whether freshclam runs could not be seen")),
            };
            (scanner, Check::ok(Item::Signatures, format!("ClamAV database {age} days old")).with_value(age))
        }
        Err(e) => (Check::unknown(Item::Scanner, format!("ClamAV's database could not be read: {e}")), Check::unknown(Item::Signatures, e)),
    }
}

/// Whether `/` lies on an encrypted (LUKS/dm-crypt) device, from `lsblk -J -o NAME,TYPE,MOUNTPOINT[S]`.
pub fn root_encryption(lsblk_json: &str) -> Check {
    fn walk(node: &serde_json::Value, crypt_above: bool) -> Option<bool> {
        let crypt = crypt_above || node.get("type").and_then(|t| t.as_str()) == Some("crypt");
        let mounts: Vec<&str> = match (node.get("mountpoints"), node.get("mountpoint")) {
            (Some(serde_json::Value::Array(a)), _) => a.iter().filter_map(|m| m.as_str()).collect(),
            (_, Some(serde_json::Value::String(m))) => vec![m.as_str()],
            _ => Vec::new(),
        };
        if mounts.contains(&"/") {
            return Some(crypt);
        }
        node.get("children").and_then(|c| c.as_array()).into_iter().flatten().find_map(|c| walk(c, crypt))
    }
    let Ok(v) = serde_json::from_str::<serde_json::Value>(lsblk_json) else {
        return Check::unknown(Item::DiskEncryption, "lsblk's output could not be read");
    };
    let found = v.get("blockdevices").and_then(|d| d.as_array()).into_iter().flatten().find_map(|d| walk(d, false));
    match found {
        Some(true) => Check::ok(Item::DiskEncryption, "the root file system is on an encrypted (LUKS) device"),
        Some(false) => Check::not_ok(Item::DiskEncryption, "the root file system is not encrypted"),
        None => Check::unknown(Item::DiskEncryption, "no block device holds / (a container or a network root?)"),
    }
}

/// The firewall: `nft list ruleset` (an input hook that drops or rejects), else `ufw status`,
/// else `firewall-cmd --state`.
pub fn firewall(nft: Option<&str>, ufw: Option<&str>, firewalld: Option<&str>) -> Check {
    if ufw.is_some_and(|u| u.contains("Status: active")) {
        return Check::ok(Item::Firewall, "ufw is active");
    }
    if firewalld.is_some_and(|f| f.trim() == "running") {
        return Check::ok(Item::Firewall, "firewalld is running");
    }
    // nftables: an input-hook chain that drops by policy, or has a drop or reject rule itself
    if let Some(n) = nft {
        let mut in_input = false;
        let mut filters = false;
        for line in n.lines() {
            let l = line.trim();
            if l.starts_with("chain ") {
                in_input = false;
            } else if l.contains("hook input") {
                in_input = true;
                if l.contains("policy drop") || l.contains("policy reject") {
                    filters = true;
                }
            } else if in_input && (l.ends_with(" drop") || l == "drop" || l.contains(" reject")) {
                filters = true;
            }
        }
        if filters {
            return Check::ok(Item::Firewall, "nftables filters incoming traffic");
        }
    }
    if ufw.is_some_and(|u| u.contains("Status: inactive")) || nft.is_some() {
        return Check::not_ok(Item::Firewall, "no firewall filters incoming traffic");
    }
    Check::unknown(Item::Firewall, "neither nft, ufw nor firewalld could be asked")
}

/// The session ids in `loginctl list-sessions --no-legend` (the first column).
pub fn session_ids(list: &str) -> Vec<String> {
    list.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|id| !id.is_empty() && id.len() < 20 && id.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(str::to_owned)
        .collect()
}

/// An active graphical session's user name and id from `loginctl show-session ID -p Type -p
/// Active -p Name -p User`, so that an agent running as a system service can ask that user's
/// desktop settings.
pub fn graphical_session(show: &str) -> Option<(String, u32)> {
    let field = |k: &str| show.lines().find_map(|l| l.trim().strip_prefix(k)?.strip_prefix('=')).map(str::trim);
    let graphical = matches!(field("Type"), Some("x11" | "wayland"));
    let name = field("Name")?;
    let uid = field("User")?.parse::<u32>().ok()?;
    let safe = !name.is_empty() && name.len() <= 32 && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    (graphical && field("Active") == Some("yes") && safe && uid > 0).then(|| (name.to_owned(), uid))
}

/// GNOME's screen lock: `gsettings get org.gnome.desktop.session idle-delay` ("uint32 300") and
/// `gsettings get org.gnome.desktop.screensaver lock-enabled` ("true").
pub fn gnome_screen_lock(idle_delay: Option<&str>, lock_enabled: Option<&str>) -> Check {
    let (Some(delay), Some(lock)) = (idle_delay, lock_enabled) else {
        return Check::unknown(Item::ScreenLock, "no desktop settings found (no GNOME session, or a server)");
    };
    let secs: Option<i64> = delay.split_whitespace().last().and_then(|s| s.parse().ok());
    match (secs, lock.trim()) {
        (_, "false") => Check::not_ok(Item::ScreenLock, "the screen does not lock"),
        (Some(0), _) => Check::not_ok(Item::ScreenLock, "the screen never goes idle, so it never locks"),
        (Some(s), "true") => Check::ok(Item::ScreenLock, format!("locks after {} minutes", s / 60)).with_value(s / 60),
        _ => Check::unknown(Item::ScreenLock, "the desktop's lock settings could not be read"),
    }
}

/// The age of the last update from apt's or dnf's history.
pub fn updates(apt_history: Option<&str>, dnf_list: Option<&str>, now: i64) -> Check {
    let last = apt_history.and_then(apt_last_update).or_else(|| dnf_list.and_then(dnf_last_update));
    match last {
        Some(t) => {
            let days = days_between(t, now);
            Check::ok(Item::Updates, format!("last update {days} days ago")).with_value(days)
        }
        None => Check::unknown(Item::Updates, "no update history found (apt or dnf)"),
    }
}
