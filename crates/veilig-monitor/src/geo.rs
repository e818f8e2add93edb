//! Countries of addresses, from MaxMind DB (`.mmdb`) country databases given as bytes (the
//! binary reads the files). Records of either shape are read: `{"country_code": "NL"}` (the
//! ip-location-db files, such as `geo-whois-asn-country.mmdb`) and
//! `{"country": {"iso_code": "NL"}}` (GeoLite2 Country, DB-IP). Private, shared, loopback,
//! link-local, documentation, multicast and other reserved ranges are never looked up.

use std::net::IpAddr;

use serde::Deserialize;

/// A two-letter country code as two ASCII upper-case bytes.
pub type Country = [u8; 2];

pub struct Geo {
    readers: Vec<maxminddb::Reader<Vec<u8>>>,
}

impl std::fmt::Debug for Geo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Geo({} databases)", self.readers.len())
    }
}

#[derive(Deserialize)]
struct Record {
    country_code: Option<String>,
    country: Option<CountryRecord>,
}

#[derive(Deserialize)]
struct CountryRecord {
    iso_code: Option<String>,
}

impl Geo {
    /// Opens databases from their bytes; the first that knows an address answers.
    pub fn from_bytes(dbs: Vec<Vec<u8>>) -> Result<Geo, String> {
        let mut readers = Vec::new();
        for (i, db) in dbs.into_iter().enumerate() {
            readers.push(maxminddb::Reader::from_source(db).map_err(|e| format!("database {}: not a MaxMind DB file: {e}", i + 1))?);
        }
        Ok(Geo { readers })
    }

    /// The country of a public address, when a database knows it.
    pub fn country(&self, ip: IpAddr) -> Option<Country> {
        if !is_public(ip) {
            return None;
        }
        self.readers.iter().find_map(|r| {
            let record: Record = r.lookup(ip).ok()?.decode().ok()??;
            let code = record.country_code.or_else(|| record.country.and_then(|c| c.iso_code))?;
            parse_country(&code)
        })
    }
}

/// `NL` → `[b'N', b'L']`; anything but two ASCII letters is `None`.
pub fn parse_country(s: &str) -> Option<Country> {
    match s.as_bytes() {
        [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => Some([a.to_ascii_uppercase(), b.to_ascii_uppercase()]),
        _ => None,
    }
}

pub fn country_text(c: Country) -> String {
    String::from_utf8_lossy(&c).into_owned()
}

/// Whether an address is one a country database may know: not private, shared (CGNAT),
/// loopback, link-local, documentation, benchmarking, multicast or otherwise reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_unspecified()
                || v4.is_documentation()
                || o[0] == 0
                || o[0] >= 240
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] & 0xe000) != 0x2000)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_documentation_ranges_are_never_public() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "127.0.0.1",
            "169.254.1.1",
            "192.0.2.1",
            "198.51.100.1",
            "203.0.113.1",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "0.1.2.3",
            "::1",
            "fe80::1",
            "fd00::1",
            "2001:db8::1",
            "ff02::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "145.97.0.1", "2a00:1450::1", "::ffff:8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        assert_eq!(parse_country("nl"), Some(*b"NL"));
        assert_eq!(parse_country("NLD"), None);
        assert_eq!(parse_country("1A"), None);
    }
}
