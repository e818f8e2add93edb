//! What people type into the VPN pages: public keys, rules, private keys, configuration names.
//! Never a panic; an accepted key prints back exactly as given; an accepted rule describes
//! itself in a form that parses to the same rule.
#![no_main]
use libfuzzer_sys::fuzz_target;
use veilig_vpn_engine::{Key, KeyPair, Rule};

fuzz_target!(|input: (&str, &str, &str)| {
    let (a, b, c) = input;
    if let Ok(k) = Key::parse(a) {
        assert_eq!(k.to_base64(), a.trim());
    }
    let _ = KeyPair::from_private_base64(a);
    if let Ok(r) = Rule::parse(a, b, c) {
        let text = r.describe();
        let mut parts = text.split(' ');
        let net = parts.next().unwrap_or_default();
        let proto = parts.next().unwrap_or_default();
        let ports = parts.next().unwrap_or_default();
        assert_eq!(Rule::parse(net, proto, ports), Ok(r), "{text}");
    }
    let name = veilig_vpn_engine::conf::file_name(a);
    assert!(name.ends_with(".conf") && name.len() <= 20);
});
