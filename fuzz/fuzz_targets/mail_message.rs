//! Any bytes as an e-mail, and as a report to find the original in: never a panic, a score
//! within 0–100, and a message that could not be read is never called clean.
#![no_main]
use libfuzzer_sys::fuzz_target;
use veilig_phish::{Code, Context, Verdict, analyse, reported_message};

fn ctx() -> &'static Context {
    static CTX: std::sync::OnceLock<Context> = std::sync::OnceLock::new();
    CTX.get_or_init(|| {
        Context::new().and_then(|c| c.org_domain("zorggroephorizon.nl")).map(|c| c.person("Sanne Bakker")).unwrap_or_else(|e| panic!("{e}"))
    })
}

fuzz_target!(|data: &[u8]| {
    let a = analyse(data, ctx());
    assert!(a.score <= 100);
    if a.reasons.iter().any(|r| r.code == Code::Incomplete) {
        assert_ne!(a.verdict, Verdict::Clean);
    }
    let r = reported_message(data);
    let _ = analyse(&r.message, ctx());
});
