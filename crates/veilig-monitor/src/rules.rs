//! The shipped rule pack, as data. Each rule groups events by a key, counts within a time
//! window (in event time) and fires once per key per window.

use crate::event::{Action, Kind};

/// Which events a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Packets the firewall did not let through, arriving on any interface.
    DroppedPackets,
    /// Dropped packets to one of these destination ports.
    DroppedToPorts(&'static [u16]),
    /// Failed sign-ins, from any program.
    AuthFailures,
    /// Failed sign-ins reported by one of these programs (the event's `source`).
    AuthFailuresFrom(&'static [&'static str]),
    /// A success after at least `threshold` failures from the same source.
    SuccessAfterFailures,
}

impl Filter {
    pub fn matches(&self, kind: Kind, action: Action, dst_port: Option<u16>, source: &str) -> bool {
        match self {
            Filter::DroppedPackets => kind == Kind::Packet && action != Action::Accept,
            Filter::DroppedToPorts(ports) => {
                kind == Kind::Packet && action != Action::Accept && dst_port.is_some_and(|p| ports.contains(&p))
            }
            Filter::AuthFailures => kind == Kind::AuthFailure,
            Filter::AuthFailuresFrom(programs) => kind == Kind::AuthFailure && programs.contains(&source),
            Filter::SuccessAfterFailures => kind == Kind::AuthFailure || kind == Kind::AuthSuccess,
        }
    }
}

/// What is counted per source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Matching events.
    Count,
    /// Different destination ports.
    DistinctPorts,
    /// Different destination hosts.
    DistinctHosts,
    /// Different user names.
    DistinctUsers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub name: &'static str,
    pub severity: &'static str,
    pub filter: Filter,
    pub measure: Measure,
    pub window_ms: i64,
    pub threshold: usize,
    /// A sentence with `{count}`, `{source}` and `{window}` for the alert's summary.
    pub summary: &'static str,
}

/// The rules Veilig ships. Thresholds are chosen so internet background noise (a few probes
/// per source per hour to common ports) stays quiet while real scans and brute force do not.
pub const PACK: &[Rule] = &[
    Rule {
        name: "port_scan_fast",
        severity: "high",
        filter: Filter::DroppedPackets,
        measure: Measure::DistinctPorts,
        window_ms: 60_000,
        threshold: 25,
        summary: "{source} probed {count} different ports within {window}",
    },
    Rule {
        name: "port_scan_slow",
        severity: "medium",
        filter: Filter::DroppedPackets,
        measure: Measure::DistinctPorts,
        window_ms: 3_600_000,
        threshold: 45,
        summary: "{source} probed {count} different ports within {window} (a slow scan)",
    },
    Rule {
        name: "horizontal_scan",
        severity: "high",
        filter: Filter::DroppedPackets,
        measure: Measure::DistinctHosts,
        window_ms: 600_000,
        threshold: 20,
        summary: "{source} probed {count} different hosts within {window}",
    },
    Rule {
        name: "ssh_brute_force",
        severity: "high",
        filter: Filter::AuthFailuresFrom(&["sshd"]),
        measure: Measure::Count,
        window_ms: 600_000,
        threshold: 10,
        summary: "{count} failed SSH sign-ins from {source} within {window}",
    },
    Rule {
        name: "vpn_brute_force",
        severity: "high",
        filter: Filter::AuthFailuresFrom(&["openvpn", "fortigate", "cisco-asa"]),
        measure: Measure::Count,
        window_ms: 600_000,
        threshold: 10,
        summary: "{count} failed VPN sign-ins from {source} within {window}",
    },
    Rule {
        name: "portal_brute_force",
        severity: "high",
        filter: Filter::AuthFailuresFrom(&["veilig"]),
        measure: Measure::Count,
        window_ms: 600_000,
        threshold: 10,
        summary: "{count} failed sign-ins to the Veilig portal from {source} within {window}",
    },
    Rule {
        name: "device_brute_force",
        severity: "high",
        filter: Filter::AuthFailuresFrom(&["mikrotik"]),
        measure: Measure::Count,
        window_ms: 600_000,
        threshold: 10,
        summary: "{count} failed sign-ins to a network device from {source} within {window}",
    },
    Rule {
        name: "password_spraying",
        severity: "high",
        filter: Filter::AuthFailures,
        measure: Measure::DistinctUsers,
        window_ms: 1_800_000,
        threshold: 5,
        summary: "{source} tried {count} different accounts within {window}",
    },
    Rule {
        name: "success_after_failures",
        severity: "critical",
        filter: Filter::SuccessAfterFailures,
        measure: Measure::Count,
        window_ms: 1_800_000,
        threshold: 5,
        summary: "a sign-in from {source} succeeded after {count} failures within {window}",
    },
    Rule {
        name: "vpn_port_flood",
        severity: "medium",
        filter: Filter::DroppedToPorts(&[51820, 1194, 500, 4500]),
        measure: Measure::Count,
        window_ms: 600_000,
        threshold: 100,
        summary: "{count} dropped packets from {source} to VPN ports within {window}",
    },
];
