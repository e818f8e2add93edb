//! The organisation's policy and the verdict for one device: *compliant*, *not compliant* or
//! *unknown*, with what to fix in plain Dutch and English.

use crate::{Item, Report, Status};
use serde::{Deserialize, Serialize};

/// What administrators require. `None` for a number: no limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    pub scanner_required: bool,
    pub max_signature_days: Option<i64>,
    pub encryption_required: bool,
    pub firewall_required: bool,
    pub supported_os_required: bool,
    pub max_update_days: Option<i64>,
    pub max_lock_minutes: Option<i64>,
    /// A report older than this no longer counts: the device "stopped reporting".
    pub max_report_hours: i64,
}

impl Default for Policy {
    /// The article's measures: an up-to-date scanner (signatures at most 7 days old), encryption,
    /// a firewall, a supported system updated in the last 30 days, a screen lock within 15 minutes.
    fn default() -> Policy {
        Policy {
            scanner_required: true,
            max_signature_days: Some(7),
            encryption_required: true,
            firewall_required: true,
            supported_os_required: true,
            max_update_days: Some(30),
            max_lock_minutes: Some(15),
            max_report_hours: 72,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Compliant,
    NotCompliant,
    Unknown,
}

/// One thing the policy found, with a stable code and the fix in both languages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub item: Option<Item>,
    /// `ok`, `not_ok` or `unknown`.
    pub status: Status,
    pub code: &'static str,
    pub nl: String,
    pub en: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Compliance {
    pub verdict: Verdict,
    pub findings: Vec<Finding>,
}

fn f(item: Option<Item>, status: Status, code: &'static str, nl: impl Into<String>, en: impl Into<String>) -> Finding {
    Finding { item, status, code, nl: nl.into(), en: en.into() }
}

/// An item that could not be checked: why.
fn unknown(item: Item, why: &str) -> Finding {
    f(Some(item), Status::Unknown, "check.unknown", format!("Niet vast te stellen: {why}"), format!("Could not be checked: {why}"))
}

/// An item the device did not report at all.
fn missing(item: Item) -> Finding {
    f(Some(item), Status::Unknown, "check.missing", "Het apparaat meldde dit niet.", "The device did not report this.")
}

/// Judges `report`, which the server received at `received_at`, against `policy` at `now` (both
/// Unix seconds on the server's clock).
pub fn evaluate(report: &Report, policy: &Policy, received_at: i64, now: i64) -> Compliance {
    let mut out = Vec::new();
    // a device clock far off makes every age in the report untrustworthy
    let skew = report.checked_at - received_at;
    if skew.abs() > 24 * 3600 {
        out.push(f(
            None,
            Status::Unknown,
            "clock.off",
            "De klok van dit apparaat loopt meer dan een dag verkeerd; zet datum en tijd automatisch.",
            "This device's clock is more than a day off; set date and time automatically.",
        ));
        return Compliance { verdict: Verdict::Unknown, findings: out };
    }
    if now - received_at > policy.max_report_hours * 3600 {
        out.push(f(
            None,
            Status::Unknown,
            "report.stale",
            format!("Dit apparaat heeft al meer dan {} uur niets gemeld; start de Veilig-agent.", policy.max_report_hours),
            format!("This device has not reported for more than {} hours; start the Veilig agent.", policy.max_report_hours),
        ));
    }
    let status = |item: Item| report.check(item).map(|c| (c.status, c.value, c.detail.clone()));
    let need = |required: bool, item: Item, code_bad: &'static str, nl_fix: &str, en_fix: &str, out: &mut Vec<Finding>| {
        if !required {
            return;
        }
        match status(item) {
            Some((Status::Ok, _, _)) => {}
            // the detail the agent saw is English: the Dutch text gives the fix alone
            Some((Status::NotOk, _, d)) => {
                out.push(f(Some(item), Status::NotOk, code_bad, format!("{nl_fix}."), format!("{en_fix} ({d})")))
            }
            Some((Status::Unknown, _, d)) => out.push(unknown(item, &d)),
            None => out.push(missing(item)),
        }
    };
    need(
        policy.scanner_required,
        Item::Scanner,
        "scanner.off",
        "Zet een virusscanner aan (bijvoorbeeld Microsoft Defender)",
        "Turn on a malware scanner (such as Microsoft Defender)",
        &mut out,
    );
    need(
        policy.encryption_required,
        Item::DiskEncryption,
        "encryption.off",
        "Zet schijfversleuteling aan (BitLocker, FileVault of LUKS)",
        "Turn on disk encryption (BitLocker, FileVault or LUKS)",
        &mut out,
    );
    need(policy.firewall_required, Item::Firewall, "firewall.off", "Zet de firewall aan", "Turn on the firewall", &mut out);
    need(
        policy.supported_os_required,
        Item::OsSupported,
        "os.unsupported",
        "Stap over op een versie van het besturingssysteem die nog updates krijgt",
        "Move to an operating system version that still gets updates",
        &mut out,
    );
    let limit = |max: Option<i64>,
                 item: Item,
                 code: &'static str,
                 nl: &dyn Fn(i64, i64) -> String,
                 en: &dyn Fn(i64, i64) -> String,
                 out: &mut Vec<Finding>| {
        let Some(max) = max else { return };
        match status(item) {
            Some((Status::Ok, Some(v), _)) if v > max => out.push(f(Some(item), Status::NotOk, code, nl(v, max), en(v, max))),
            Some((Status::Ok, Some(_), _)) => {}
            Some((Status::NotOk, _, d)) => out.push(f(Some(item), Status::NotOk, code, d.clone(), d)),
            Some((_, _, d)) => out.push(unknown(item, &d)),
            None => out.push(missing(item)),
        }
    };
    limit(
        policy.max_signature_days,
        Item::Signatures,
        "signatures.old",
        &|v, m| format!("De virusdefinities zijn {v} dagen oud (maximaal {m}); laat de scanner bijwerken."),
        &|v, m| format!("The malware signatures are {v} days old (at most {m}); let the scanner update."),
        &mut out,
    );
    limit(
        policy.max_update_days,
        Item::Updates,
        "updates.old",
        &|v, m| format!("De laatste update is {v} dagen geleden (maximaal {m}); installeer de updates."),
        &|v, m| format!("The last update was {v} days ago (at most {m}); install the updates."),
        &mut out,
    );
    limit(
        policy.max_lock_minutes,
        Item::ScreenLock,
        "lock.slow",
        &|v, m| format!("Het scherm vergrendelt pas na {v} minuten (maximaal {m}); stel het korter in."),
        &|v, m| format!("The screen locks only after {v} minutes (at most {m}); make it shorter."),
        &mut out,
    );
    let verdict = if out.iter().any(|x| x.status == Status::NotOk) {
        Verdict::NotCompliant
    } else if out.iter().any(|x| x.status == Status::Unknown) {
        Verdict::Unknown
    } else {
        Verdict::Compliant
    };
    Compliance { verdict, findings: out }
}
