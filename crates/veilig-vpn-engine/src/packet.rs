//! Just enough of IPv4 and IPv6 to filter a packet: addresses, protocol and ports.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub const TCP: u8 = 6;
pub const UDP: u8 = 17;
pub const ICMP: u8 = 1;
pub const ICMPV6: u8 = 58;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The transport protocol number (after IPv6 extension headers).
    pub proto: u8,
    /// TCP/UDP ports; for ICMP echo the identifier is put in both, so a reply matches its
    /// request.
    pub src_port: Option<u16>,
    pub dst_port: Option<u16>,
    /// A fragment other than the first: it carries no transport header.
    pub later_fragment: bool,
}

impl Header {
    /// The destination port a rule is checked against (none for ICMP).
    pub fn rule_port(&self) -> Option<u16> {
        if matches!(self.proto, TCP | UDP) { self.dst_port } else { None }
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// Reads the header of an IP packet; `None` when it is not a well-formed IPv4 or IPv6 packet.
pub fn parse(b: &[u8]) -> Option<Header> {
    match b.first()? >> 4 {
        4 => parse_v4(b),
        6 => parse_v6(b),
        _ => None,
    }
}

fn parse_v4(b: &[u8]) -> Option<Header> {
    let ihl = usize::from(b.first()? & 0x0f) * 4;
    if ihl < 20 || b.len() < ihl {
        return None;
    }
    let frag = be16(b, 6)?;
    let later_fragment = frag & 0x1fff != 0;
    let proto = *b.get(9)?;
    let src = IpAddr::V4(Ipv4Addr::new(b[12], b[13], b[14], b[15]));
    let dst = IpAddr::V4(Ipv4Addr::new(b[16], b[17], b[18], b[19]));
    let (src_port, dst_port) = if later_fragment { (None, None) } else { ports(proto, &b[ihl..]) };
    Some(Header { src, dst, proto, src_port, dst_port, later_fragment })
}

fn parse_v6(b: &[u8]) -> Option<Header> {
    if b.len() < 40 {
        return None;
    }
    let mut src = [0u8; 16];
    src.copy_from_slice(&b[8..24]);
    let mut dst = [0u8; 16];
    dst.copy_from_slice(&b[24..40]);
    let mut next = b[6];
    let mut at = 40usize;
    let mut later_fragment = false;
    // Walk at most eight extension headers: hop-by-hop, routing, fragment, destination options.
    for _ in 0..8 {
        match next {
            0 | 43 | 60 => {
                next = *b.get(at)?;
                at = at.checked_add((usize::from(*b.get(at + 1)?) + 1) * 8)?;
            }
            44 => {
                next = *b.get(at)?;
                later_fragment = be16(b, at + 2)? & 0xfff8 != 0;
                at = at.checked_add(8)?;
            }
            _ => break,
        }
    }
    let rest = b.get(at..)?;
    let (src_port, dst_port) = if later_fragment { (None, None) } else { ports(next, rest) };
    Some(Header {
        src: IpAddr::V6(Ipv6Addr::from(src)),
        dst: IpAddr::V6(Ipv6Addr::from(dst)),
        proto: next,
        src_port,
        dst_port,
        later_fragment,
    })
}

fn ports(proto: u8, t: &[u8]) -> (Option<u16>, Option<u16>) {
    match proto {
        TCP | UDP => (be16(t, 0), be16(t, 2)),
        // Echo request/reply (ICMP 8/0, ICMPv6 128/129): the identifier pairs them.
        ICMP | ICMPV6 if matches!(t.first(), Some(0 | 8 | 128 | 129)) => {
            let id = be16(t, 4);
            (id, id)
        }
        _ => (None, None),
    }
}

/// Builds a minimal IPv4 packet (header and the first eight bytes of a transport header) for
/// tests and benchmarks.
pub fn build_v4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, src_port: u16, dst_port: u16) -> Vec<u8> {
    let mut p = vec![0u8; 28];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&28u16.to_be_bytes());
    p[8] = 64;
    p[9] = proto;
    p[12..16].copy_from_slice(&src.octets());
    p[16..20].copy_from_slice(&dst.octets());
    if proto == ICMP {
        p[20] = 8;
        p[24..26].copy_from_slice(&src_port.to_be_bytes());
    } else {
        p[20..22].copy_from_slice(&src_port.to_be_bytes());
        p[22..24].copy_from_slice(&dst_port.to_be_bytes());
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ipv4_tcp() {
        let p = build_v4(Ipv4Addr::new(10, 13, 0, 2), Ipv4Addr::new(10, 20, 1, 9), TCP, 50000, 443);
        let h = parse(&p).unwrap();
        assert_eq!(h.src, IpAddr::V4(Ipv4Addr::new(10, 13, 0, 2)));
        assert_eq!(h.dst_port, Some(443));
        assert_eq!(h.rule_port(), Some(443));
        assert!(!h.later_fragment);
    }

    #[test]
    fn later_fragments_carry_no_ports() {
        let mut p = build_v4(Ipv4Addr::new(10, 13, 0, 2), Ipv4Addr::new(10, 20, 1, 9), UDP, 1, 53);
        p[6..8].copy_from_slice(&0x0010u16.to_be_bytes());
        let h = parse(&p).unwrap();
        assert!(h.later_fragment);
        assert_eq!(h.dst_port, None);
    }

    #[test]
    fn reads_ipv6_through_extension_headers() {
        let mut p = vec![0u8; 40 + 8 + 8];
        p[0] = 0x60;
        p[6] = 0; // hop-by-hop
        p[8..24].copy_from_slice(&"fd00::2".parse::<Ipv6Addr>().unwrap().octets());
        p[24..40].copy_from_slice(&"fd00:20::9".parse::<Ipv6Addr>().unwrap().octets());
        p[40] = TCP; // next header after hop-by-hop
        p[41] = 0; // length 8
        p[48..50].copy_from_slice(&40000u16.to_be_bytes());
        p[50..52].copy_from_slice(&22u16.to_be_bytes());
        let h = parse(&p).unwrap();
        assert_eq!(h.proto, TCP);
        assert_eq!(h.dst_port, Some(22));
    }

    #[test]
    fn garbage_is_not_a_packet() {
        assert_eq!(parse(&[]), None);
        assert_eq!(parse(&[0x45, 0, 0]), None);
        assert_eq!(parse(&[0x20; 40]), None);
        assert_eq!(parse(&[0x4f; 20]), None);
    }
}
