//! Is the operating system still supported? A small own table of end dates, each with its source,
//! and Debian's and Ubuntu's own `distro-info-data` tables (ISC) when the device has them. An
//! operating system the tables do not know is *unknown*, with the reason.

use crate::{Check, Item, Os};

/// (family, match, end of support as YYYY-MM-DD, what, source)
const TABLE: &[(&str, &str, &str, &str, &str)] = &[
    // Windows, by build; Home and Pro editions (Enterprise and Education get a year more)
    ("windows", "build<19045", "2023-06-13", "Windows 10 before 22H2", "Microsoft Lifecycle, Windows 10 release information"),
    (
        "windows",
        "build=19045",
        "2025-10-14",
        "Windows 10 22H2",
        "Microsoft Lifecycle: Windows 10 Home and Pro, end of support 14 October 2025",
    ),
    ("windows", "build=22000", "2023-10-10", "Windows 11 21H2", "Microsoft Lifecycle: Windows 11 Home and Pro"),
    ("windows", "build=22621", "2024-10-08", "Windows 11 22H2", "Microsoft Lifecycle: Windows 11 Home and Pro"),
    ("windows", "build=22631", "2025-11-11", "Windows 11 23H2", "Microsoft Lifecycle: Windows 11 Home and Pro"),
    ("windows", "build=26100", "2026-10-13", "Windows 11 24H2", "Microsoft Lifecycle: Windows 11 Home and Pro"),
    ("windows", "build=26200", "2027-10-12", "Windows 11 25H2", "Microsoft Lifecycle: Windows 11 Home and Pro"),
    // macOS: Apple publishes no end dates; in practice the three newest majors get security updates
    ("macos", "major<=12", "2024-09-16", "macOS 12 Monterey and older", "Apple security releases: no updates after macOS 15's release"),
    ("macos", "major=13", "2025-09-15", "macOS 13 Ventura", "Apple security releases: no updates after macOS 26's release"),
    ("macos", "major=14", "2026-09-30", "macOS 14 Sonoma", "expected: three newest majors (Apple security releases)"),
    ("macos", "major=15", "2027-09-30", "macOS 15 Sequoia", "expected: three newest majors (Apple security releases)"),
    ("macos", "major=26", "2028-09-30", "macOS 26 Tahoe", "expected: three newest majors (Apple security releases)"),
    // Linux, when distro-info-data is not on the device (security support incl. LTS)
    ("debian", "10", "2024-06-30", "Debian 10 buster", "Debian LTS"),
    ("debian", "11", "2026-08-31", "Debian 11 bullseye", "Debian LTS"),
    ("debian", "12", "2028-06-30", "Debian 12 bookworm", "Debian LTS"),
    ("debian", "13", "2030-06-30", "Debian 13 trixie", "Debian LTS"),
    ("ubuntu", "20.04", "2025-05-31", "Ubuntu 20.04 LTS", "Ubuntu release cycle (standard support)"),
    ("ubuntu", "22.04", "2027-06-01", "Ubuntu 22.04 LTS", "Ubuntu release cycle (standard support)"),
    ("ubuntu", "24.04", "2029-05-31", "Ubuntu 24.04 LTS", "Ubuntu release cycle (standard support)"),
    ("ubuntu", "24.10", "2025-07-10", "Ubuntu 24.10", "Ubuntu release cycle"),
    ("ubuntu", "25.04", "2026-01-15", "Ubuntu 25.04", "Ubuntu release cycle"),
    ("ubuntu", "25.10", "2026-07-09", "Ubuntu 25.10", "Ubuntu release cycle"),
];

fn day(s: &str) -> Option<i64> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s.trim(), f).ok().map(|d| d.midnight().assume_utc().unix_timestamp())
}

/// The end of support from a `distro-info-data` CSV (`debian.csv`, `ubuntu.csv`): the LTS end
/// where there is one, else the end of life.
pub fn from_distro_info(csv: &str, version: &str) -> Option<(i64, String)> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next()?.split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (v, series) = (col("version")?, col("series")?);
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        let ver = f.get(v).map(|s| s.trim_end_matches(" LTS")).unwrap_or("");
        if ver == version || ver.split('.').next() == Some(version) && !version.contains('.') {
            let end = ["eol-lts", "eol-server", "eol"].iter().filter_map(|c| col(c)).filter_map(|c| f.get(c)).find_map(|s| day(s));
            return end.map(|e| (e, format!("{} ({})", f.get(series).unwrap_or(&""), "distro-info-data")));
        }
    }
    None
}

/// Whether `os` is supported at `now`. `distro_info` is the device's own table for its family.
pub fn check(os: &Os, distro_info: Option<&str>, now: i64) -> Check {
    if let Some(csv) = distro_info
        && let Some((end, what)) = from_distro_info(csv, &os.version)
    {
        return verdict(end, &format!("{} {}", os.name, what), now);
    }
    // Windows Server and LTSC editions share build numbers with the client but not its dates
    if os.family == "windows" && (os.name.contains("Server") || os.name.contains("LTSC") || os.name.contains("LTSB")) {
        return Check::unknown(
            Item::OsSupported,
            format!("no end-of-support date known for {} (server and LTSC editions have their own)", os.name),
        );
    }
    let family = if os.family == "linux" { os.name.as_str() } else { os.family.as_str() };
    let build: i64 = os.build.parse().unwrap_or(-1);
    let major: i64 = os.version.split('.').next().and_then(|m| m.parse().ok()).unwrap_or(-1);
    for (fam, m, end, what, _source) in TABLE {
        if *fam != family {
            continue;
        }
        let hit = if let Some(b) = m.strip_prefix("build<") {
            build >= 0 && build < b.parse().unwrap_or(0)
        } else if let Some(b) = m.strip_prefix("build=") {
            build == b.parse().unwrap_or(-2)
        } else if let Some(b) = m.strip_prefix("major<=") {
            major >= 0 && major <= b.parse().unwrap_or(0)
        } else if let Some(b) = m.strip_prefix("major=") {
            major == b.parse().unwrap_or(-2)
        } else {
            os.version == *m || os.version.split('.').next() == Some(m) && !m.contains('.')
        };
        if hit && let Some(e) = day(end) {
            return verdict(e, what, now);
        }
    }
    Check::unknown(Item::OsSupported, format!("no end-of-support date known for {} {} (build {})", os.name, os.version, os.build))
}

fn verdict(end: i64, what: &str, now: i64) -> Check {
    let date = time::OffsetDateTime::from_unix_timestamp(end).map(|d| d.date().to_string()).unwrap_or_default();
    if now < end {
        Check::ok(Item::OsSupported, format!("{what}: supported until {date}")).with_value((end - now) / 86_400)
    } else {
        Check::not_ok(Item::OsSupported, format!("{what}: support ended on {date}")).with_value((end - now) / 86_400)
    }
}
