//! The assessment of a cloud service and its risk score.
//!
//! An assessment is a set of answers, each with its evidence (a link or a document) and the date
//! it was true. The score is a sum of documented points (0–100, higher is riskier), each with
//! the reason in Dutch and English, so a reader sees why a service scores as it does:
//!
//! | finding | points |
//! |---|---|
//! | data kept outside the EU/EEA without an adequacy decision / location unknown | 25 / 20 |
//! | data kept under an adequacy decision (not in the EU/EEA) | 5 |
//! | personal data processed and no signed processing agreement | 25 |
//! | special categories (health, BSN) processed | 10 |
//! | neither a valid ISO/IEC 27001 certificate nor a SOC 2 Type II report of the last 15 months | 15 |
//! | a certificate that has expired (also flagged) | +5 |
//! | two-factor sign-in not enforced / not known | 15 / 10 |
//! | sharing defaults not checked (public links, expiry, password), per item | 3 |
//! | paid by advertising / free tier | 15 / 5 |
//! | terms not reviewed in the last year (or never) | 10 |
//! | the terms allow training AI on the organisation's data | 15 |
//! | no exit plan | 5 |
//!
//! The sum is capped at 100; *low* below 25, *medium* below 50, *high* from 50.

use serde::{Deserialize, Serialize};

/// Where the service keeps the organisation's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// Inside the EU/EEA.
    Eu,
    /// A country with an EU adequacy decision.
    Adequacy,
    Elsewhere,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Revenue {
    Paid,
    Freemium,
    Advertising,
    Unknown,
}

/// The answers of an assessment; `None`: not answered yet. Dates are `YYYY-MM-DD`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Answers {
    pub data_location: Option<Location>,
    /// The vendor's jurisdiction (ISO 3166 alpha-2).
    pub jurisdiction: Option<String>,
    pub iso27001_expires: Option<String>,
    pub iso27001_scope: Option<String>,
    pub iso27001_issuer: Option<String>,
    /// The end of the period a SOC 2 Type II report covers.
    pub soc2_period_end: Option<String>,
    pub isae3402: Option<bool>,
    pub dpa_signed: Option<bool>,
    pub dpa_date: Option<String>,
    pub subprocessors: Option<String>,
    pub mfa_enforced: Option<bool>,
    pub public_links_off: Option<bool>,
    pub link_expiry: Option<bool>,
    pub link_password: Option<bool>,
    pub e2e_encryption: Option<bool>,
    pub revenue: Option<Revenue>,
    pub exit_plan: Option<String>,
    pub terms_reviewed: Option<String>,
    pub ai_training: Option<bool>,
    pub terms_notes: Option<String>,
}

/// What the service processes, from the register.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataKinds {
    pub personal: bool,
    /// Special categories (health, religion, …) or the BSN.
    pub special: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub code: &'static str,
    pub points: u32,
    pub nl: String,
    pub en: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Risk {
    pub score: u32,
    /// `low`, `medium` or `high`.
    pub level: &'static str,
    pub reasons: Vec<Reason>,
    /// A certificate or report that is no longer valid.
    pub expired: Vec<&'static str>,
    /// A certificate that ends within 30 days.
    pub expiring: Vec<&'static str>,
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
pub fn parse_day(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| std::str::from_utf8(&b[r]).ok()?.parse::<u32>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1970..=2200).contains(&y) {
        return None;
    }
    Some(crate::logs::days_from_civil(y as i32, m, d))
}

/// The risk of a service with these answers and data, on `today` (days since 1970-01-01).
pub fn score(a: &Answers, data: DataKinds, today: i64) -> Risk {
    let mut reasons = Vec::new();
    let mut expired = Vec::new();
    let mut add = |code: &'static str, points: u32, nl: &str, en: &str| reasons.push(Reason { code, points, nl: nl.into(), en: en.into() });
    match a.data_location {
        Some(Location::Eu) => {}
        Some(Location::Adequacy) => add(
            "location.adequacy",
            5,
            "Gegevens buiten de EU, onder een adequaatheidsbesluit",
            "Data kept outside the EU under an adequacy decision",
        ),
        Some(Location::Elsewhere) => add(
            "location.elsewhere",
            25,
            "Gegevens buiten de EU zonder adequaatheidsbesluit",
            "Data kept outside the EU without an adequacy decision",
        ),
        Some(Location::Unknown) | None => add("location.unknown", 20, "Onbekend waar de gegevens staan", "Unknown where the data is kept"),
    }
    if data.personal && a.dpa_signed != Some(true) {
        add(
            "dpa.missing",
            25,
            "Persoonsgegevens zonder getekende verwerkersovereenkomst",
            "Personal data without a signed data-processing agreement",
        );
    }
    if data.special {
        add("data.special", 10, "Bijzondere persoonsgegevens of BSN", "Special categories of personal data or the BSN");
    }
    let valid_until = |d: &Option<String>| d.as_deref().and_then(parse_day);
    let iso_valid = valid_until(&a.iso27001_expires).is_some_and(|d| d >= today);
    let soc2_recent = valid_until(&a.soc2_period_end).is_some_and(|d| today - d <= 457);
    if !iso_valid && !soc2_recent {
        add(
            "assurance.none",
            15,
            "Geen geldig ISO 27001-certificaat of recent SOC 2 Type II-rapport",
            "No valid ISO 27001 certificate or recent SOC 2 Type II report",
        );
    }
    if valid_until(&a.iso27001_expires).is_some_and(|d| d < today) {
        expired.push("iso27001");
        add("iso27001.expired", 5, "Het ISO 27001-certificaat is verlopen", "The ISO 27001 certificate has expired");
    }
    if valid_until(&a.soc2_period_end).is_some_and(|d| today - d > 457) {
        expired.push("soc2");
    }
    let mut expiring = Vec::new();
    if valid_until(&a.iso27001_expires).is_some_and(|d| (today..=today + 30).contains(&d)) {
        expiring.push("iso27001");
    }
    match a.mfa_enforced {
        Some(true) => {}
        Some(false) => add("mfa.off", 15, "Tweestapsverificatie is niet verplicht", "Two-factor sign-in is not enforced"),
        None => add("mfa.unknown", 10, "Onbekend of tweestapsverificatie verplicht is", "Unknown whether two-factor sign-in is enforced"),
    }
    for (v, code, nl, en) in [
        (a.public_links_off, "sharing.public_links", "Openbare links niet uitgezet", "Public links not switched off"),
        (a.link_expiry, "sharing.expiry", "Links verlopen niet", "Links do not expire"),
        (a.link_password, "sharing.password", "Links zonder wachtwoord", "Links without a password"),
    ] {
        if v != Some(true) {
            add(code, 3, nl, en);
        }
    }
    match a.revenue {
        Some(Revenue::Advertising) => add("revenue.advertising", 15, "Betaald met advertenties", "Paid for by advertising"),
        Some(Revenue::Freemium) => add("revenue.freemium", 5, "Gratis versie", "Free tier"),
        _ => {}
    }
    if valid_until(&a.terms_reviewed).is_none_or(|d| today - d > 365) {
        add("terms.unreviewed", 10, "Voorwaarden het afgelopen jaar niet beoordeeld", "Terms not reviewed in the last year");
    }
    if a.ai_training == Some(true) {
        add("terms.ai_training", 15, "De voorwaarden staan AI-training op onze gegevens toe", "The terms allow training AI on our data");
    }
    if a.exit_plan.as_deref().is_none_or(|p| p.trim().is_empty()) {
        add("exit.none", 5, "Geen exitplan", "No exit plan");
    }
    let score = reasons.iter().map(|r| r.points).sum::<u32>().min(100);
    let level = if score < 25 {
        "low"
    } else if score < 50 {
        "medium"
    } else {
        "high"
    };
    Risk { score, level, reasons, expired, expiring }
}
