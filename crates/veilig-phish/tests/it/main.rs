//! Integration tests of the phishing engine: one binary, modules per theme.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bad_input;
mod corpus;
mod report;
mod signals;

use veilig_phish::{Analysis, Context, analyse};

/// The organisation of the tests and the corpus: Zorggroep Horizon.
pub fn ctx() -> Context {
    Context::new()
        .unwrap()
        .org_domain("zorggroephorizon.nl")
        .unwrap()
        .person("Sanne Bakker")
        .person("Pieter Jansen")
        .person("Ahmed El Amrani")
        .person("Marieke de Vries")
}

/// A verdict as text: the verdict and score, then one line per reason.
pub fn render(a: &Analysis) -> String {
    let mut s = format!("{} {}\n", a.verdict.as_str(), a.score);
    for r in &a.reasons {
        s.push_str(&format!("{} {}\n", r.code.as_str(), r.detail));
    }
    s
}

pub fn run(raw: &str) -> String {
    render(&analyse(raw.as_bytes(), &ctx()))
}
