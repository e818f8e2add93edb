//! The gateway's packet filter. Packets from a device into the internal networks pass only
//! when a rule of the device owner's groups allows them (default deny); packets from the
//! internal networks back to a device pass only as replies to a flow the device started.
//! Denied packets are counted per device for a rate-limited summary.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use crate::packet::{self, Header};
use crate::rules::Rule;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Drop,
}

/// Idle time after which a flow is forgotten.
const TCP_IDLE_MS: u64 = 3_600_000;
const OTHER_IDLE_MS: u64 = 180_000;
/// At most this many flows are tracked; beyond it new flows are refused (and counted).
pub const MAX_FLOWS: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FlowKey {
    proto: u8,
    device: IpAddr,
    device_port: u16,
    remote: IpAddr,
    remote_port: u16,
}

/// What was denied for one device since the last summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub device: IpAddr,
    pub count: u64,
    /// The last denied packet, as `tcp 10.20.1.9:22`.
    pub example: String,
}

#[derive(Debug, Default)]
pub struct Filter {
    policies: HashMap<IpAddr, Arc<[Rule]>>,
    flows: HashMap<FlowKey, u64>,
    /// Device/remote pairs with a live flow, for fragments without ports.
    pairs: HashMap<(u8, IpAddr, IpAddr), u64>,
    denied: HashMap<IpAddr, (u64, Header)>,
}

impl Filter {
    pub fn new() -> Filter {
        Filter::default()
    }

    /// Sets the rules that apply to packets from the device with tunnel address `device`.
    pub fn set_policy(&mut self, device: IpAddr, rules: impl Into<Arc<[Rule]>>) {
        self.policies.insert(device, rules.into());
    }

    /// Forgets a device: its rules and its flows.
    pub fn remove(&mut self, device: IpAddr) {
        self.policies.remove(&device);
        self.flows.retain(|k, _| k.device != device);
        self.pairs.retain(|k, _| k.1 != device);
    }

    pub fn flows(&self) -> usize {
        self.flows.len()
    }

    /// A packet that came out of the tunnel and wants to go into the internal network.
    pub fn outbound(&mut self, bytes: &[u8], now_ms: u64) -> Verdict {
        let Some(h) = packet::parse(bytes) else { return Verdict::Drop };
        let Some(rules) = self.policies.get(&h.src) else { return self.deny(h) };
        let pair = (h.proto, h.src, h.dst);
        if h.later_fragment {
            return if self.pairs.contains_key(&pair) { Verdict::Pass } else { self.deny(h) };
        }
        if !rules.iter().any(|r| r.allows(h.dst, h.proto, h.rule_port())) {
            return self.deny(h);
        }
        let key = FlowKey {
            proto: h.proto,
            device: h.src,
            device_port: h.src_port.unwrap_or(0),
            remote: h.dst,
            remote_port: h.dst_port.unwrap_or(0),
        };
        match self.flows.get_mut(&key) {
            Some(seen) => {
                // Refresh at most once a second: most packets only read the table.
                if now_ms.saturating_sub(*seen) > 1000 {
                    *seen = now_ms;
                    self.pairs.insert(pair, now_ms);
                }
            }
            None => {
                if self.flows.len() >= MAX_FLOWS {
                    self.expire(now_ms);
                    if self.flows.len() >= MAX_FLOWS {
                        return self.deny(h);
                    }
                }
                self.flows.insert(key, now_ms);
                self.pairs.insert(pair, now_ms);
            }
        }
        Verdict::Pass
    }

    /// A packet from the internal network on its way into the tunnel: only replies pass.
    pub fn inbound(&mut self, bytes: &[u8]) -> Verdict {
        let Some(h) = packet::parse(bytes) else { return Verdict::Drop };
        if h.later_fragment {
            return if self.pairs.contains_key(&(h.proto, h.dst, h.src)) { Verdict::Pass } else { Verdict::Drop };
        }
        // ICMP errors (unreachable, time exceeded, too big) about a flow pass as well, so that
        // path MTU discovery works; they quote the original packet.
        if let Some(quoted) = icmp_error_quote(&h, bytes)
            && let Some(q) = packet::parse(quoted)
        {
            let key = FlowKey {
                proto: q.proto,
                device: q.src,
                device_port: q.src_port.unwrap_or(0),
                remote: q.dst,
                remote_port: q.dst_port.unwrap_or(0),
            };
            return if self.flows.contains_key(&key) { Verdict::Pass } else { Verdict::Drop };
        }
        let key = FlowKey {
            proto: h.proto,
            device: h.dst,
            device_port: h.dst_port.unwrap_or(0),
            remote: h.src,
            remote_port: h.src_port.unwrap_or(0),
        };
        if self.flows.contains_key(&key) { Verdict::Pass } else { Verdict::Drop }
    }

    /// Forgets flows that have been idle too long.
    pub fn expire(&mut self, now_ms: u64) {
        self.flows.retain(|k, seen| now_ms.saturating_sub(*seen) < if k.proto == packet::TCP { TCP_IDLE_MS } else { OTHER_IDLE_MS });
        self.pairs.retain(|k, seen| now_ms.saturating_sub(*seen) < if k.0 == packet::TCP { TCP_IDLE_MS } else { OTHER_IDLE_MS });
    }

    /// What was denied since the last call, per device; the counters start again at zero.
    pub fn take_denied(&mut self) -> Vec<Denied> {
        let mut out: Vec<Denied> =
            self.denied.drain().map(|(device, (count, h))| Denied { device, count, example: describe(&h) }).collect();
        out.sort_by_key(|d| d.device);
        out
    }

    fn deny(&mut self, h: Header) -> Verdict {
        // Only devices the gateway knows are counted: anything else cannot have come through
        // a peer's allowed addresses.
        if self.denied.len() < 65_536 || self.denied.contains_key(&h.src) {
            let e = self.denied.entry(h.src).or_insert((0, h));
            e.0 += 1;
            e.1 = h;
        }
        Verdict::Drop
    }
}

fn describe(h: &Header) -> String {
    let proto = match h.proto {
        packet::TCP => "tcp".to_owned(),
        packet::UDP => "udp".to_owned(),
        packet::ICMP | packet::ICMPV6 => "icmp".to_owned(),
        p => format!("proto {p}"),
    };
    match (h.rule_port(), h.dst) {
        (Some(p), IpAddr::V6(a)) => format!("{proto} [{a}]:{p}"),
        (Some(p), a) => format!("{proto} {a}:{p}"),
        (None, a) => format!("{proto} {a}"),
    }
}

/// The quoted packet inside an ICMP error message, if this is one.
fn icmp_error_quote<'a>(h: &Header, bytes: &'a [u8]) -> Option<&'a [u8]> {
    let (header_len, error_types): (usize, &[u8]) = match h.proto {
        packet::ICMP => (usize::from(bytes.first()? & 0x0f) * 4, &[3, 11, 12]),
        packet::ICMPV6 if !h.later_fragment => (40, &[1, 2, 3, 4]),
        _ => return None,
    };
    let icmp = bytes.get(header_len..)?;
    if error_types.contains(icmp.first()?) { icmp.get(8..) } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{ICMP, TCP, UDP, build_v4};
    use std::net::Ipv4Addr;

    const HOME: Ipv4Addr = Ipv4Addr::new(10, 13, 0, 2);
    const SERVER: Ipv4Addr = Ipv4Addr::new(10, 20, 1, 9);

    fn filter() -> Filter {
        let mut f = Filter::new();
        f.set_policy(
            IpAddr::V4(HOME),
            vec![Rule::parse("10.20.1.0/24", "tcp", "443").unwrap(), Rule::parse("10.20.1.0/24", "icmp", "").unwrap()],
        );
        f
    }

    #[test]
    fn default_deny_then_what_a_rule_allows() {
        let mut f = filter();
        assert_eq!(f.outbound(&build_v4(HOME, SERVER, TCP, 40000, 443), 0), Verdict::Pass);
        assert_eq!(f.outbound(&build_v4(HOME, SERVER, TCP, 40000, 22), 0), Verdict::Drop);
        assert_eq!(f.outbound(&build_v4(HOME, Ipv4Addr::new(10, 20, 2, 1), TCP, 40000, 443), 0), Verdict::Drop);
        assert_eq!(f.outbound(&build_v4(HOME, SERVER, ICMP, 7, 7), 0), Verdict::Pass);
        // A device without rules gets nothing.
        assert_eq!(f.outbound(&build_v4(Ipv4Addr::new(10, 13, 0, 3), SERVER, TCP, 40000, 443), 0), Verdict::Drop);
        let denied = f.take_denied();
        assert_eq!(denied.len(), 2);
        assert_eq!(denied[0], Denied { device: IpAddr::V4(HOME), count: 2, example: "tcp 10.20.2.1:443".into() });
        assert!(f.take_denied().is_empty());
    }

    #[test]
    fn only_replies_come_back_into_the_tunnel() {
        let mut f = filter();
        // Nobody in the office may open a connection to a laptop at home.
        assert_eq!(f.inbound(&build_v4(SERVER, HOME, TCP, 443, 40000)), Verdict::Drop);
        f.outbound(&build_v4(HOME, SERVER, TCP, 40000, 443), 0);
        assert_eq!(f.inbound(&build_v4(SERVER, HOME, TCP, 443, 40000)), Verdict::Pass);
        assert_eq!(f.inbound(&build_v4(SERVER, HOME, TCP, 443, 40001)), Verdict::Drop);
        assert_eq!(f.inbound(&build_v4(SERVER, HOME, UDP, 443, 40000)), Verdict::Drop);
        f.outbound(&build_v4(HOME, SERVER, ICMP, 7, 7), 0);
        let mut reply = build_v4(SERVER, HOME, ICMP, 7, 7);
        reply[20] = 0;
        assert_eq!(f.inbound(&reply), Verdict::Pass);
    }

    #[test]
    fn flows_expire_and_removing_a_device_forgets_them() {
        let mut f = filter();
        f.outbound(&build_v4(HOME, SERVER, ICMP, 7, 7), 0);
        f.outbound(&build_v4(HOME, SERVER, TCP, 40000, 443), 0);
        f.expire(OTHER_IDLE_MS + 1);
        assert_eq!(f.flows(), 1);
        f.remove(IpAddr::V4(HOME));
        assert_eq!(f.flows(), 0);
        assert_eq!(f.outbound(&build_v4(HOME, SERVER, TCP, 40000, 443), 0), Verdict::Drop);
    }

    #[test]
    fn icmp_errors_about_a_flow_pass() {
        let mut f = filter();
        let out = build_v4(HOME, SERVER, TCP, 40000, 443);
        f.outbound(&out, 0);
        let mut err = build_v4(Ipv4Addr::new(10, 20, 0, 1), HOME, ICMP, 0, 0);
        err.truncate(20);
        err.extend_from_slice(&[3, 4, 0, 0, 0, 0, 5, 0x78]);
        err.extend_from_slice(&out);
        assert_eq!(f.inbound(&err), Verdict::Pass);
        let other = build_v4(HOME, SERVER, TCP, 1, 2);
        err.truncate(28);
        err.extend_from_slice(&other);
        assert_eq!(f.inbound(&err), Verdict::Drop);
    }
}
