//! Any log line, in every format, through the engine and the shipped rules: never a panic,
//! and state stays within the budget (per rule).
#![no_main]
use libfuzzer_sys::fuzz_target;
use veilig_monitor::engine::Budget;
use veilig_monitor::{Engine, Format, Parsed, parse_line};

const FORMATS: [Format; 10] = [
    Format::Auto,
    Format::Netfilter,
    Format::Sshd,
    Format::Filterlog,
    Format::Fortigate,
    Format::CiscoAsa,
    Format::Openvpn,
    Format::WindowsFirewall,
    Format::Mikrotik,
    Format::Auto,
];

/// The shipped rules, parsed once (parsing YAML per input would be all the fuzzer measures).
fn pack() -> Vec<veilig_monitor::rules::Rule> {
    static PACK: std::sync::OnceLock<Vec<veilig_monitor::rules::Rule>> = std::sync::OnceLock::new();
    PACK.get_or_init(veilig_monitor::rules::pack).clone()
}

fuzz_target!(|input: (u8, &str)| {
    let (which, text) = input;
    let mut engine = Engine::new(pack(), Budget { max_keys: 64 });
    let mut alerts = Vec::new();
    for line in text.lines() {
        if let Parsed::Event(e) = parse_line(line, FORMATS[usize::from(which) % FORMATS.len()], 2026) {
            engine.push(&e, &mut alerts);
        }
    }
    assert!(engine.tracked() <= 64 * engine.rules().len());
});
