//! Any bytes as DNS, proxy and Zeek log lines through discovery, in every format. Never a panic;
//! every line is a query, another line or malformed; no sample carries an IPv4 address.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use veilig_cloud::{Catalog, Discovery, Format};

fn catalog() -> &'static Catalog {
    static C: OnceLock<Catalog> = OnceLock::new();
    C.get_or_init(|| Catalog::shipped().unwrap_or_else(|e| panic!("{e}")))
}

fuzz_target!(|data: &[u8]| {
    for name in Format::NAMES {
        let Some(format) = Format::parse(name) else { continue };
        let mut d = Discovery::new(catalog(), format, 2026);
        d.feed_all(data);
        let f = d.finish();
        assert_eq!(f.queries + f.other + f.malformed, f.lines, "{name}");
        let listed: u64 = f.services.iter().map(|s| s.queries).sum::<u64>() + f.unknown.iter().map(|u| u.queries).sum::<u64>();
        assert_eq!(listed + f.internal + f.unknown_dropped, f.queries, "{name}");
        for s in &f.samples {
            assert!(s.split(|c: char| !(c.is_ascii_digit() || c == '.')).all(|t| t.parse::<std::net::Ipv4Addr>().is_err()), "{s}");
        }
    }
});
