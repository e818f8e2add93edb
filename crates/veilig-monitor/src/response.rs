//! Response: when an alert becomes a block, for how long, and the nftables text that enforces
//! it. Pure: the caller supplies the allow-list, the history and the clock, and runs `nft`.
//!
//! A decision blocks one address or network. Repeat offenders are blocked longer: each earlier
//! decision for the same address within the look-back multiplies the base duration by the
//! factor, up to the maximum. The allow-list (the organisation's own ranges, kept by the
//! administrators) is checked before any decision, and loopback, link-local, unspecified and
//! multicast addresses are never blocked.

use std::net::IpAddr;

use ipnet::IpNet;

/// Severities in order; an alert at or above the policy's minimum becomes a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// How alerts become blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub min_severity: Severity,
    pub base_secs: u64,
    pub max_secs: u64,
    pub factor: u64,
    /// Earlier decisions within this many seconds count as repeats.
    pub lookback_secs: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { min_severity: Severity::High, base_secs: 4 * 3600, max_secs: 7 * 24 * 3600, factor: 4, lookback_secs: 30 * 24 * 3600 }
    }
}

/// Why an alert did not become a block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Skip {
    #[error("severity {0} is below the blocking threshold")]
    Severity(String),
    #[error("'{0}' is not an IP address")]
    NotAnAddress(String),
    #[error("{0} is on the allow-list ({1})")]
    Allowed(IpAddr, IpNet),
    #[error("{0} is never blocked ({1})")]
    Reserved(IpAddr, &'static str),
}

/// A block to make: the network (a single address is a /32 or /128), for how long, and the
/// how-manieth block of this address it is (1 for the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub net: IpNet,
    pub secs: u64,
    pub level: u32,
}

impl Policy {
    /// Decides whether an alert of `severity` about `source` becomes a block, given the
    /// allow-list and how many times the address was blocked within the look-back.
    pub fn decide(&self, severity: &str, source: &str, allow: &[IpNet], earlier: u32) -> Result<Block, Skip> {
        let level = Severity::parse(severity).unwrap_or(Severity::Low);
        if level < self.min_severity {
            return Err(Skip::Severity(severity.to_owned()));
        }
        let ip: IpAddr = source.trim().parse().map_err(|_| Skip::NotAnAddress(source.to_owned()))?;
        self.block_network(IpNet::from(ip), allow, earlier)
    }

    /// A block of a whole network, as a person asked for it: the same checks, with the network
    /// refused when it overlaps the allow-list at all.
    pub fn block_network(&self, net: IpNet, allow: &[IpNet], earlier: u32) -> Result<Block, Skip> {
        let net = net.trunc();
        let first = net.network();
        if let Some(reason) = reserved(first) {
            return Err(Skip::Reserved(first, reason));
        }
        if let Some(a) = allow.iter().find(|a| a.contains(&first) || net.contains(&a.network())) {
            return Err(Skip::Allowed(first, *a));
        }
        Ok(Block { net, secs: self.duration(earlier), level: earlier.saturating_add(1) })
    }

    /// The block's length after `earlier` earlier blocks: base × factor^earlier, at most max.
    pub fn duration(&self, earlier: u32) -> u64 {
        let mut secs = self.base_secs;
        for _ in 0..earlier {
            secs = secs.saturating_mul(self.factor.max(1));
            if secs >= self.max_secs {
                return self.max_secs;
            }
        }
        secs.min(self.max_secs)
    }
}

fn reserved(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) if v4.is_loopback() => Some("loopback"),
        IpAddr::V4(v4) if v4.is_unspecified() || v4.is_broadcast() => Some("unspecified"),
        IpAddr::V4(v4) if v4.is_link_local() => Some("link-local"),
        IpAddr::V4(v4) if v4.is_multicast() => Some("multicast"),
        IpAddr::V6(v6) if v6.is_loopback() => Some("loopback"),
        IpAddr::V6(v6) if v6.is_unspecified() => Some("unspecified"),
        IpAddr::V6(v6) if v6.is_multicast() => Some("multicast"),
        IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80 => Some("link-local"),
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => Some("IPv4-mapped"),
        _ => None,
    }
}

/// The nftables table that holds the blocks: two sets (IPv4 and IPv6, intervals, kernel
/// timeouts) and drop rules in the input and forward hooks, ahead of other filters.
pub const TABLE: &str = "veilig_block";

/// The script that creates the table, or empties and re-creates it, with `blocks` in it:
/// `(network, seconds left)`. Run with `nft -f -`; it is one transaction.
pub fn nft_ruleset(blocks: &[(IpNet, u64)]) -> String {
    let mut s = String::new();
    s.push_str(&format!("table inet {TABLE}\ndelete table inet {TABLE}\n"));
    s.push_str(&format!("table inet {TABLE} {{\n"));
    for (set, family) in [("v4", "ipv4_addr"), ("v6", "ipv6_addr")] {
        s.push_str(&format!("  set {set} {{\n    type {family}\n    flags interval, timeout\n  }}\n"));
    }
    for (chain, hook) in [("input", "input"), ("forward", "forward")] {
        s.push_str(&format!(
            "  chain {chain} {{\n    type filter hook {hook} priority filter - 10; policy accept;\n    ip saddr @v4 counter drop\n    ip6 saddr @v6 counter drop\n  }}\n"
        ));
    }
    s.push_str("}\n");
    for (net, secs) in blocks {
        s.push_str(&nft_add(*net, *secs));
    }
    s
}

fn set_of(net: IpNet) -> &'static str {
    match net {
        IpNet::V4(_) => "v4",
        IpNet::V6(_) => "v6",
    }
}

fn element(net: IpNet) -> String {
    if net.prefix_len() == net.max_prefix_len() { net.addr().to_string() } else { net.trunc().to_string() }
}

/// Adds one block with a kernel timeout (at least one second).
pub fn nft_add(net: IpNet, secs: u64) -> String {
    format!("add element inet {TABLE} {} {{ {} timeout {}s }}\n", set_of(net), element(net), secs.max(1))
}

/// Removes one block.
pub fn nft_delete(net: IpNet) -> String {
    format!("delete element inet {TABLE} {} {{ {} }}\n", set_of(net), element(net))
}

/// The command that lists the set holding `net`, for [`listing_contains`].
pub fn nft_list_args(net: IpNet) -> [String; 5] {
    ["list".into(), "set".into(), "inet".into(), TABLE.into(), set_of(net).into()]
}

/// Whether `nft list set` output names `net` among the elements (the check that a block took
/// effect).
pub fn listing_contains(listing: &str, net: IpNet) -> bool {
    let Some(start) = listing.find("elements = {") else { return false };
    let wanted = element(net);
    listing[start + "elements = {".len()..]
        .split(|c: char| c == ',' || c == '}' || c.is_whitespace())
        .take_while(|t| *t != "}")
        .any(|t| t == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow() -> Vec<IpNet> {
        vec!["192.0.2.0/24".parse().unwrap(), "2001:db8:1::/48".parse().unwrap()]
    }

    #[test]
    fn high_alerts_become_blocks_that_escalate() {
        let p = Policy::default();
        let b = p.decide("high", "203.0.113.7", &allow(), 0).unwrap();
        assert_eq!((b.net.to_string(), b.secs, b.level), ("203.0.113.7/32".to_owned(), 4 * 3600, 1));
        assert_eq!(p.decide("critical", "203.0.113.7", &allow(), 1).unwrap().secs, 16 * 3600);
        assert_eq!(p.decide("high", "203.0.113.7", &allow(), 2).unwrap().secs, 64 * 3600);
        assert_eq!(p.decide("high", "203.0.113.7", &allow(), 3).unwrap().secs, 7 * 24 * 3600);
        assert_eq!(p.decide("high", "203.0.113.7", &allow(), 1000).unwrap().secs, 7 * 24 * 3600);
    }

    #[test]
    fn low_severity_allowed_and_reserved_addresses_are_not_blocked() {
        let p = Policy::default();
        assert_eq!(p.decide("medium", "203.0.113.7", &allow(), 0), Err(Skip::Severity("medium".into())));
        assert!(matches!(p.decide("high", "192.0.2.9", &allow(), 0), Err(Skip::Allowed(..))));
        assert!(matches!(p.decide("high", "2001:db8:1::5", &allow(), 0), Err(Skip::Allowed(..))));
        assert!(matches!(p.decide("high", "127.0.0.1", &allow(), 0), Err(Skip::Reserved(_, "loopback"))));
        assert!(matches!(p.decide("high", "fe80::1", &allow(), 0), Err(Skip::Reserved(_, "link-local"))));
        assert!(matches!(p.decide("high", "::ffff:203.0.113.7", &allow(), 0), Err(Skip::Reserved(..))));
        assert!(matches!(p.decide("high", "jansen", &allow(), 0), Err(Skip::NotAnAddress(_))));
        // A network that would swallow an allowed range is refused too.
        assert!(matches!(p.block_network("192.0.0.0/16".parse().unwrap(), &allow(), 0), Err(Skip::Allowed(..))));
        assert!(p.block_network("198.51.100.0/24".parse().unwrap(), &allow(), 0).is_ok());
    }

    #[test]
    fn the_ruleset_has_both_families_and_the_blocks() {
        let blocks = [("203.0.113.7/32".parse().unwrap(), 600), ("2001:db8:bad::/64".parse().unwrap(), 0)];
        expect_test::expect![[r#"
            table inet veilig_block
            delete table inet veilig_block
            table inet veilig_block {
              set v4 {
                type ipv4_addr
                flags interval, timeout
              }
              set v6 {
                type ipv6_addr
                flags interval, timeout
              }
              chain input {
                type filter hook input priority filter - 10; policy accept;
                ip saddr @v4 counter drop
                ip6 saddr @v6 counter drop
              }
              chain forward {
                type filter hook forward priority filter - 10; policy accept;
                ip saddr @v4 counter drop
                ip6 saddr @v6 counter drop
              }
            }
            add element inet veilig_block v4 { 203.0.113.7 timeout 600s }
            add element inet veilig_block v6 { 2001:db8:bad::/64 timeout 1s }
        "#]]
        .assert_eq(&nft_ruleset(&blocks));
        assert_eq!(nft_delete("203.0.113.7/32".parse().unwrap()), "delete element inet veilig_block v4 { 203.0.113.7 }\n");
    }

    #[test]
    fn listings_are_read() {
        let listing = "table inet veilig_block {\n\tset v4 {\n\t\ttype ipv4_addr\n\t\tflags interval,timeout\n\t\telements = { 198.51.100.0/24 timeout 4h expires 3h59m, 203.0.113.7 timeout 4h expires 3h59m58s }\n\t}\n}\n";
        assert!(listing_contains(listing, "203.0.113.7/32".parse().unwrap()));
        assert!(listing_contains(listing, "198.51.100.0/24".parse().unwrap()));
        assert!(!listing_contains(listing, "203.0.113.70/32".parse().unwrap()));
        assert!(!listing_contains("table inet veilig_block {\n set v4 {\n }\n}", "203.0.113.7/32".parse().unwrap()));
    }
}
