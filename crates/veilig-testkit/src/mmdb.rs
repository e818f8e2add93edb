//! A small writer of MaxMind DB files (format version 2.0, as the MaxMind DB File Format
//! Specification describes it) for test fixtures: country databases of a few networks, in the
//! two record shapes Veilig reads — `{"country_code": "NL"}` (the ip-location-db files) and
//! `{"country": {"iso_code": "NL"}}` (GeoLite2 and DB-IP).

use std::net::IpAddr;

use ipnet::IpNet;

/// The shape of the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    CountryCode,
    CountryIsoCode,
}

fn control(kind: u8, size: usize, out: &mut Vec<u8>) {
    assert!(size < 29, "fixture values are small");
    if kind <= 7 {
        out.push((kind << 5) | size as u8);
    } else {
        out.push(size as u8);
        out.push(kind - 7);
    }
}

fn string(s: &str, out: &mut Vec<u8>) {
    control(2, s.len(), out);
    out.extend_from_slice(s.as_bytes());
}

fn uint(kind: u8, n: u64, out: &mut Vec<u8>) {
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    control(kind, 8 - skip, out);
    out.extend_from_slice(&bytes[skip..]);
}

/// Encodes one record.
fn record(shape: Shape, country: &str) -> Vec<u8> {
    let mut out = Vec::new();
    control(7, 1, &mut out);
    match shape {
        Shape::CountryCode => {
            string("country_code", &mut out);
            string(country, &mut out);
        }
        Shape::CountryIsoCode => {
            string("country", &mut out);
            control(7, 1, &mut out);
            string("iso_code", &mut out);
            string(country, &mut out);
        }
    }
    out
}

/// The 128 bits of a network's first address in the IPv6 tree (IPv4 at `::/96`) and its prefix
/// length there.
fn bits(net: &IpNet) -> (u128, u8) {
    match net.trunc() {
        IpNet::V4(v4) => (u128::from(u32::from(v4.addr())), v4.prefix_len() + 96),
        IpNet::V6(v6) => (u128::from(v6.addr()), v6.prefix_len()),
    }
}

/// Builds a database mapping each network to its country. Later networks do not override
/// earlier ones; give disjoint networks.
pub fn country_db(shape: Shape, networks: &[(&str, &str)]) -> Vec<u8> {
    // The tree as nodes of two children: `None` empty, `Some(Ok(n))` a node, `Some(Err(d))` data d.
    type Child = Option<Result<usize, usize>>;
    let mut nodes: Vec<[Child; 2]> = vec![[None, None]];
    let mut data = Vec::new();
    let mut offsets = Vec::new();
    for (net, country) in networks {
        let net: IpNet = net.parse().unwrap_or_else(|e| panic!("{net}: {e}"));
        offsets.push(data.len());
        data.extend(record(shape, country));
        let (addr, len) = bits(&net);
        let mut node = 0;
        for depth in 0..len {
            let bit = ((addr >> (127 - depth)) & 1) as usize;
            if depth + 1 == len {
                nodes[node][bit] = Some(Err(offsets.len() - 1));
            } else {
                node = match nodes[node][bit] {
                    Some(Ok(next)) => next,
                    _ => {
                        nodes.push([None, None]);
                        let next = nodes.len() - 1;
                        nodes[node][bit] = Some(Ok(next));
                        next
                    }
                };
            }
        }
    }
    let count = nodes.len() as u64;
    let mut out = Vec::new();
    for n in &nodes {
        for child in n {
            let value = match child {
                None => count,
                Some(Ok(next)) => *next as u64,
                Some(Err(d)) => count + 16 + offsets[*d] as u64,
            };
            out.extend_from_slice(&(value as u32).to_be_bytes());
        }
    }
    out.extend_from_slice(&[0u8; 16]);
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    let mut meta = Vec::new();
    control(7, 9, &mut meta);
    string("node_count", &mut meta);
    uint(6, count, &mut meta);
    string("record_size", &mut meta);
    uint(5, 32, &mut meta);
    string("ip_version", &mut meta);
    uint(5, 6, &mut meta);
    string("database_type", &mut meta);
    string("veilig-test-country", &mut meta);
    string("languages", &mut meta);
    control(11, 1, &mut meta);
    string("en", &mut meta);
    string("binary_format_major_version", &mut meta);
    uint(5, 2, &mut meta);
    string("binary_format_minor_version", &mut meta);
    uint(5, 0, &mut meta);
    string("build_epoch", &mut meta);
    uint(9, 1_795_737_600, &mut meta);
    string("description", &mut meta);
    control(7, 1, &mut meta);
    string("en", &mut meta);
    string("Veilig test fixture", &mut meta);
    out.extend(meta);
    out
}

/// Whether `ip` is in one of `networks` (for tests that check lookups against the fixture).
pub fn contains(networks: &[(&str, &str)], ip: IpAddr) -> Option<String> {
    networks.iter().find(|(n, _)| n.parse::<IpNet>().is_ok_and(|n| n.contains(&ip))).map(|(_, c)| (*c).to_owned())
}
