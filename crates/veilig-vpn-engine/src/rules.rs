//! Access rules: which internal networks and ports a group may reach through the tunnel.
//! Nothing is allowed unless a rule says so.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Any,
    Tcp,
    Udp,
    Icmp,
}

impl Proto {
    pub fn parse(s: &str) -> Result<Proto, RuleError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "any" | "all" => Ok(Proto::Any),
            "tcp" => Ok(Proto::Tcp),
            "udp" => Ok(Proto::Udp),
            "icmp" | "ping" => Ok(Proto::Icmp),
            other => Err(RuleError::Protocol(other.to_owned())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Any => "any",
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
        }
    }

    /// Whether this rule protocol covers the IP protocol number `p`.
    pub fn covers(self, p: u8) -> bool {
        match self {
            Proto::Any => true,
            Proto::Tcp => p == 6,
            Proto::Udp => p == 17,
            Proto::Icmp => p == 1 || p == 58,
        }
    }

    fn overlaps(self, other: Proto) -> bool {
        self == Proto::Any || other == Proto::Any || self == other
    }
}

/// One access rule: a destination network, a protocol and, for TCP and UDP, a port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rule {
    pub network: IpNet,
    pub proto: Proto,
    /// Inclusive port range; `None` means every port.
    pub ports: Option<(u16, u16)>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RuleError {
    #[error("'{0}' is not a network: write an address with a prefix length, such as 10.20.0.0/24 or 10.20.0.5/32")]
    Network(String),
    #[error("'{0}' has host bits set: did you mean {1}?")]
    HostBits(String, IpNet),
    #[error("unknown protocol '{0}': use any, tcp, udp or icmp")]
    Protocol(String),
    #[error("'{0}' is not a port or port range: write 443, or 8000-8080 (1 to 65535, low to high)")]
    Ports(String),
    #[error("ports only apply to tcp or udp")]
    PortsWithoutProtocol,
    #[error("{0} is not inside the internal networks behind the gateway ({1})")]
    Outside(IpNet, String),
    #[error("this rule overlaps an existing rule of the same group ({0}); change or remove that one instead")]
    Overlap(String),
}

impl Rule {
    /// Builds a rule from the three form fields.
    pub fn parse(network: &str, proto: &str, ports: &str) -> Result<Rule, RuleError> {
        let text = network.trim();
        let network: IpNet = match text.parse::<IpNet>() {
            Ok(n) => n,
            Err(_) => match text.parse::<IpAddr>() {
                Ok(a) => IpNet::from(a),
                Err(_) => return Err(RuleError::Network(text.to_owned())),
            },
        };
        if network.trunc() != network {
            return Err(RuleError::HostBits(text.to_owned(), network.trunc()));
        }
        let proto = Proto::parse(proto)?;
        let ports = parse_ports(ports)?;
        if ports.is_some() && !matches!(proto, Proto::Tcp | Proto::Udp) {
            return Err(RuleError::PortsWithoutProtocol);
        }
        Ok(Rule { network, proto, ports })
    }

    /// Checks a new rule against the internal networks and the group's existing rules.
    pub fn check(&self, internal: &[IpNet], existing: &[Rule]) -> Result<(), RuleError> {
        if !internal.iter().any(|n| n.contains(&self.network)) {
            let list = internal.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            return Err(RuleError::Outside(self.network, if list.is_empty() { "none configured".into() } else { list }));
        }
        if let Some(other) = existing.iter().find(|r| r.overlaps(self)) {
            return Err(RuleError::Overlap(other.describe()));
        }
        Ok(())
    }

    fn overlaps(&self, other: &Rule) -> bool {
        let nets = self.network.contains(&other.network) || other.network.contains(&self.network);
        let ports = match (self.ports, other.ports) {
            (Some((a, b)), Some((c, d))) => a <= d && c <= b,
            _ => true,
        };
        nets && self.proto.overlaps(other.proto) && ports
    }

    /// `10.20.0.0/24 tcp 443`, for lists and error messages.
    pub fn describe(&self) -> String {
        match self.ports {
            Some((a, b)) if a == b => format!("{} {} {a}", self.network, self.proto.as_str()),
            Some((a, b)) => format!("{} {} {a}-{b}", self.network, self.proto.as_str()),
            None => format!("{} {}", self.network, self.proto.as_str()),
        }
    }

    /// Whether this rule lets a packet to `dst` with protocol `proto` and destination port
    /// `port` through (`port` is `None` for protocols without ports and for later fragments).
    pub fn allows(&self, dst: IpAddr, proto: u8, port: Option<u16>) -> bool {
        if !self.proto.covers(proto) || !self.network.contains(&dst) {
            return false;
        }
        match (self.ports, port) {
            (None, _) => true,
            (Some((a, b)), Some(p)) => a <= p && p <= b,
            (Some(_), None) => false,
        }
    }
}

fn parse_ports(s: &str) -> Result<Option<(u16, u16)>, RuleError> {
    let t = s.trim();
    if t.is_empty() || t == "*" || t.eq_ignore_ascii_case("any") {
        return Ok(None);
    }
    let bad = || RuleError::Ports(t.to_owned());
    let (a, b) = match t.split_once('-') {
        Some((a, b)) => (a.trim(), b.trim()),
        None => (t, t),
    };
    let a: u16 = a.parse().map_err(|_| bad())?;
    let b: u16 = b.parse().map_err(|_| bad())?;
    if a == 0 || a > b {
        return Err(bad());
    }
    Ok(Some((a, b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn internal() -> Vec<IpNet> {
        vec!["10.20.0.0/16".parse().unwrap()]
    }

    #[test]
    fn parses_the_form_fields() {
        let r = Rule::parse("10.20.1.0/24", "TCP", "443").unwrap();
        assert_eq!(r.describe(), "10.20.1.0/24 tcp 443");
        assert_eq!(Rule::parse("10.20.1.5", "", "").unwrap().describe(), "10.20.1.5/32 any");
        assert_eq!(Rule::parse("10.20.1.0/24", "udp", "5000 - 5010").unwrap().ports, Some((5000, 5010)));
    }

    #[test]
    fn bad_fields_get_a_reason() {
        assert_eq!(Rule::parse("10.20.1.300/24", "tcp", ""), Err(RuleError::Network("10.20.1.300/24".into())));
        assert_eq!(
            Rule::parse("10.20.1.7/24", "tcp", ""),
            Err(RuleError::HostBits("10.20.1.7/24".into(), "10.20.1.0/24".parse().unwrap()))
        );
        assert_eq!(Rule::parse("10.20.1.0/24", "gre", ""), Err(RuleError::Protocol("gre".into())));
        assert_eq!(Rule::parse("10.20.1.0/24", "tcp", "80-22"), Err(RuleError::Ports("80-22".into())));
        assert_eq!(Rule::parse("10.20.1.0/24", "tcp", "0"), Err(RuleError::Ports("0".into())));
        assert_eq!(Rule::parse("10.20.1.0/24", "icmp", "80"), Err(RuleError::PortsWithoutProtocol));
    }

    #[test]
    fn rules_outside_the_internal_networks_or_overlapping_are_refused() {
        let web = Rule::parse("10.20.1.0/24", "tcp", "80-443").unwrap();
        assert!(matches!(Rule::parse("192.168.1.0/24", "any", "").unwrap().check(&internal(), &[]), Err(RuleError::Outside(..))));
        let same_host = Rule::parse("10.20.1.9/32", "tcp", "443").unwrap();
        assert_eq!(same_host.check(&internal(), &[web]), Err(RuleError::Overlap("10.20.1.0/24 tcp 80-443".into())));
        // Another port range on the same network, or another protocol, is fine.
        assert!(Rule::parse("10.20.1.0/24", "tcp", "8080").unwrap().check(&internal(), &[web]).is_ok());
        assert!(Rule::parse("10.20.1.0/24", "udp", "53").unwrap().check(&internal(), &[web]).is_ok());
        assert!(Rule::parse("10.20.1.0/24", "any", "").unwrap().check(&internal(), &[web]).is_err());
    }

    #[test]
    fn a_rule_allows_only_its_network_protocol_and_ports() {
        let r = Rule::parse("10.20.1.0/24", "tcp", "443").unwrap();
        let host: IpAddr = "10.20.1.9".parse().unwrap();
        assert!(r.allows(host, 6, Some(443)));
        assert!(!r.allows(host, 6, Some(22)));
        assert!(!r.allows(host, 17, Some(443)));
        assert!(!r.allows("10.20.2.9".parse().unwrap(), 6, Some(443)));
        assert!(!r.allows(host, 6, None));
        let ping = Rule::parse("10.20.1.0/24", "icmp", "").unwrap();
        assert!(ping.allows(host, 1, None));
    }
}
