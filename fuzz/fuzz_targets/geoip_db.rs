//! Any bytes given as a country database give a database or an error, never a panic; lookups
//! in a database that opened never panic either.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(geo) = veilig_monitor::geo::Geo::from_bytes(vec![data.to_vec()]) {
        for ip in ["145.97.3.4", "8.8.8.8", "2a02:a400::1", "81.2.69.160"] {
            let _ = geo.country(ip.parse().unwrap_or(std::net::IpAddr::from([1, 1, 1, 1])));
        }
    }
});
