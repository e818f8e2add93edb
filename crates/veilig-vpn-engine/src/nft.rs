//! The access rules as an nftables ruleset, for the kernel data plane: there the kernel
//! decrypts and forwards, so the rules must live in the kernel's firewall too. The same
//! meaning as [`crate::filter`]: from a device only what a rule allows (checked on every
//! packet, so a removed rule takes effect at once), towards a device only replies.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use crate::rules::{Proto, Rule};

/// The nftables table Veilig owns; nothing else in the ruleset is touched.
pub const TABLE: &str = "veilig";

fn ports(r: &Rule, proto: &str) -> String {
    match r.ports {
        Some((a, b)) if a == b => format!(" {proto} dport {a}"),
        Some((a, b)) => format!(" {proto} dport {a}-{b}"),
        None => format!(" meta l4proto {proto}"),
    }
}

fn matcher(r: &Rule) -> Option<String> {
    let dst = match r.network {
        IpNet::V4(n) => format!("ip daddr {n}"),
        // A device has an IPv4 tunnel address only; an IPv6 rule cannot apply to it.
        IpNet::V6(_) => return None,
    };
    let l4 = match r.proto {
        Proto::Any => String::new(),
        Proto::Tcp => ports(r, "tcp"),
        Proto::Udp => ports(r, "udp"),
        Proto::Icmp => " meta l4proto icmp".to_owned(),
    };
    Some(format!("{dst}{l4}"))
}

/// The whole table, replaced atomically when fed to `nft -f -`: the tunnel interface
/// `iface`, and for each installed device its tunnel address and rules.
pub fn ruleset(iface: &str, devices: &BTreeMap<Ipv4Addr, Vec<Rule>>) -> String {
    let iface: String = iface.chars().filter(|c| c.is_ascii_alphanumeric() || "_.-".contains(*c)).collect();
    let mut s = String::new();
    let _ = writeln!(s, "add table inet {TABLE}");
    let _ = writeln!(s, "flush table inet {TABLE}");
    let _ = writeln!(s, "table inet {TABLE} {{");
    s.push_str("  chain forward {\n    type filter hook forward priority filter; policy accept;\n");
    let _ = writeln!(s, "    oifname \"{iface}\" ct state established,related accept");
    let _ = writeln!(s, "    oifname \"{iface}\" counter drop comment \"veilig-inbound\"");
    for (addr, rules) in devices {
        for r in rules {
            if let Some(m) = matcher(r) {
                let _ = writeln!(s, "    iifname \"{iface}\" ip saddr {addr} {m} accept");
            }
        }
        let _ = writeln!(s, "    iifname \"{iface}\" ip saddr {addr} counter drop comment \"veilig-deny {addr}\"");
    }
    let _ = writeln!(s, "    iifname \"{iface}\" counter drop comment \"veilig-deny-other\"");
    s.push_str("  }\n}\n");
    s
}

/// The commands that remove the table again.
pub fn teardown() -> String {
    format!("add table inet {TABLE}\ndelete table inet {TABLE}\n")
}

/// Reads the per-device drop counters from `nft list table inet veilig`.
pub fn denied_counters(listing: &str) -> BTreeMap<IpAddr, u64> {
    let mut out = BTreeMap::new();
    for line in listing.lines() {
        let Some(at) = line.find("comment \"veilig-deny ") else { continue };
        let addr = line[at + "comment \"veilig-deny ".len()..].trim_end().trim_end_matches('"');
        let packets = line.split_whitespace().skip_while(|w| *w != "packets").nth(1).and_then(|n| n.parse::<u64>().ok());
        if let (Ok(addr), Some(n)) = (addr.parse::<IpAddr>(), packets) {
            out.insert(addr, n);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ruleset_per_device() {
        let mut devices = BTreeMap::new();
        devices.insert(
            Ipv4Addr::new(10, 13, 0, 2),
            vec![
                Rule::parse("10.20.1.0/24", "tcp", "443").unwrap(),
                Rule::parse("10.20.2.0/24", "udp", "5000-5010").unwrap(),
                Rule::parse("10.20.3.4", "icmp", "").unwrap(),
                Rule::parse("10.20.9.0/24", "any", "").unwrap(),
                Rule::parse("fd00::/64", "tcp", "").unwrap(),
            ],
        );
        devices.insert(Ipv4Addr::new(10, 13, 0, 3), vec![]);
        expect_test::expect![[r#"
            add table inet veilig
            flush table inet veilig
            table inet veilig {
              chain forward {
                type filter hook forward priority filter; policy accept;
                oifname "veilig0" ct state established,related accept
                oifname "veilig0" counter drop comment "veilig-inbound"
                iifname "veilig0" ip saddr 10.13.0.2 ip daddr 10.20.1.0/24 tcp dport 443 accept
                iifname "veilig0" ip saddr 10.13.0.2 ip daddr 10.20.2.0/24 udp dport 5000-5010 accept
                iifname "veilig0" ip saddr 10.13.0.2 ip daddr 10.20.3.4/32 meta l4proto icmp accept
                iifname "veilig0" ip saddr 10.13.0.2 ip daddr 10.20.9.0/24 accept
                iifname "veilig0" ip saddr 10.13.0.2 counter drop comment "veilig-deny 10.13.0.2"
                iifname "veilig0" ip saddr 10.13.0.3 counter drop comment "veilig-deny 10.13.0.3"
                iifname "veilig0" counter drop comment "veilig-deny-other"
              }
            }
        "#]]
        .assert_eq(&ruleset("veilig0", &devices));
    }

    #[test]
    fn reads_the_drop_counters() {
        let listing = "table inet veilig {\n\tchain forward {\n\t\tiifname \"veilig0\" ip saddr 10.13.0.2 counter packets 7 bytes 420 drop comment \"veilig-deny 10.13.0.2\"\n\t\tiifname \"veilig0\" counter packets 3 bytes 1 drop comment \"veilig-deny-other\"\n\t}\n}\n";
        let c = denied_counters(listing);
        assert_eq!(c.len(), 1);
        assert_eq!(c[&IpAddr::V4(Ipv4Addr::new(10, 13, 0, 2))], 7);
    }
}
