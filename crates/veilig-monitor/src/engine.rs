//! The detection engine: runs every rule of the pack over a stream of events in event time.
//! Per-source state expires when its window has passed in event time (not wall time), so a
//! replay of a week of logs and the live stream give the same alerts, and memory stays bounded
//! by the number of sources active within a window.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;

use serde::Serialize;

use crate::event::{Event, Kind};
use crate::rules::{Filter, Measure, PACK, Rule};

/// A fast non-cryptographic hasher for IP addresses (FxHash's multiply-rotate). Keys come from
/// the network, so a bucket flood is conceivable; the memory budget bounds what it can cost.
#[derive(Default)]
pub struct Fx(u64);

impl Hasher for Fx {
    /// The multiply leaves the low bits (which pick the bucket) depending only on the low input
    /// bytes; MurmurHash3's finaliser spreads every input bit over all output bits.
    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(buf)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

/// An alert, as `veilig monitor replay --json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub rule: &'static str,
    pub severity: &'static str,
    pub source: String,
    pub user: Option<String>,
    /// RFC 3339.
    pub first_seen: String,
    pub last_seen: String,
    /// The same times in epoch milliseconds, for storing.
    #[serde(skip)]
    pub first_seen_ms: i64,
    #[serde(skip)]
    pub last_seen_ms: i64,
    pub count: usize,
    pub summary: String,
}

/// One rule's state for one source. Nothing is allocated until the rule first matches.
#[derive(Default)]
struct Slot {
    /// Time stamps of counted events (for `Count`), oldest first, at most `threshold`.
    times: VecDeque<i64>,
    /// Distinct values and when each was last seen; thresholds are small, so a vector scanned
    /// linearly beats a hash map.
    values: Vec<(u64, i64)>,
    /// No new alert for this source before this time.
    quiet_until: i64,
}

struct Source {
    last_ts: i64,
    slots: Box<[Slot]>,
}

/// Limits that keep memory bounded whatever the input.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Sources tracked at once; past it, sources idle longest are dropped first.
    pub max_sources: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { max_sources: 500_000 }
    }
}

pub struct Engine {
    rules: Vec<Rule>,
    sources: FxMap<IpAddr, Source>,
    /// The longest window of any rule: state older than this is never needed.
    horizon_ms: i64,
    budget: Budget,
    now: i64,
    seen: u64,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new(PACK, Budget::default())
    }
}

fn window_text(ms: i64) -> String {
    if ms % 3_600_000 == 0 {
        format!("{} h", ms / 3_600_000)
    } else if ms % 60_000 == 0 {
        format!("{} min", ms / 60_000)
    } else {
        format!("{} s", ms / 1000)
    }
}

fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

fn value_of(measure: Measure, e: &Event<'_>) -> Option<u64> {
    match measure {
        Measure::Count => None,
        Measure::DistinctPorts => e.dst_port.map(u64::from),
        Measure::DistinctHosts => e.dst.map(|ip| {
            let mut h = Fx::default();
            match ip {
                IpAddr::V4(v4) => h.write(&v4.octets()),
                IpAddr::V6(v6) => h.write(&v6.octets()),
            }
            h.finish()
        }),
        Measure::DistinctUsers => (!e.user.is_empty()).then(|| {
            let mut h = Fx::default();
            h.write(e.user.as_bytes());
            h.finish()
        }),
    }
}

impl Engine {
    pub fn new(rules: &[Rule], budget: Budget) -> Engine {
        let horizon_ms = rules.iter().map(|r| r.window_ms).max().unwrap_or(0);
        Engine { rules: rules.to_vec(), sources: FxMap::default(), horizon_ms, budget, now: i64::MIN, seen: 0 }
    }

    /// Sources currently tracked (for memory reporting and tests).
    pub fn tracked(&self) -> usize {
        self.sources.len()
    }

    /// Feeds one event; returns the alerts it completes.
    pub fn push(&mut self, e: &Event<'_>, out: &mut Vec<Alert>) {
        let Some(src) = e.src else { return };
        if !self.rules.iter().any(|r| r.filter.matches(e.kind, e.action, e.dst_port, e.source)) {
            return;
        }
        self.now = self.now.max(e.ts_ms);
        self.seen += 1;
        if self.seen.is_multiple_of(65_536) || self.sources.len() >= self.budget.max_sources {
            self.sweep();
            if self.sources.len() >= self.budget.max_sources && !self.sources.contains_key(&src) {
                return;
            }
        }
        let n = self.rules.len();
        let source =
            self.sources.entry(src).or_insert_with(|| Source { last_ts: e.ts_ms, slots: (0..n).map(|_| Slot::default()).collect() });
        source.last_ts = source.last_ts.max(e.ts_ms);
        for (rule, k) in self.rules.iter().zip(source.slots.iter_mut()) {
            if !rule.filter.matches(e.kind, e.action, e.dst_port, e.source) {
                continue;
            }
            let horizon = e.ts_ms - rule.window_ms;
            let (count, first) = match (rule.filter, rule.measure) {
                (Filter::SuccessAfterFailures, _) => {
                    while k.times.front().is_some_and(|&t| t < horizon) {
                        k.times.pop_front();
                    }
                    if e.kind == Kind::AuthFailure {
                        k.times.push_back(e.ts_ms);
                        if k.times.len() > rule.threshold {
                            k.times.pop_front();
                        }
                        continue;
                    }
                    (k.times.len(), k.times.front().copied().unwrap_or(e.ts_ms))
                }
                (_, Measure::Count) => {
                    k.times.push_back(e.ts_ms);
                    while k.times.front().is_some_and(|&t| t < horizon) || k.times.len() > rule.threshold {
                        k.times.pop_front();
                    }
                    (k.times.len(), k.times.front().copied().unwrap_or(e.ts_ms))
                }
                (_, measure) => {
                    let Some(v) = value_of(measure, e) else { continue };
                    match k.values.iter_mut().find(|(x, _)| *x == v) {
                        Some(slot) => slot.1 = slot.1.max(e.ts_ms),
                        None => k.values.push((v, e.ts_ms)),
                    }
                    if k.values.len() >= rule.threshold {
                        k.values.retain(|(_, t)| *t >= horizon);
                    }
                    let first = k.values.iter().map(|(_, t)| *t).min().unwrap_or(e.ts_ms);
                    (k.values.len(), first)
                }
            };
            if count >= rule.threshold && e.ts_ms >= k.quiet_until {
                k.quiet_until = e.ts_ms + rule.window_ms;
                let source = src.to_string();
                let summary = rule
                    .summary
                    .replace("{count}", &count.to_string())
                    .replace("{source}", &source)
                    .replace("{window}", &window_text(rule.window_ms));
                out.push(Alert {
                    rule: rule.name,
                    severity: rule.severity,
                    source,
                    user: (!e.user.is_empty()).then(|| e.user.to_owned()),
                    first_seen: rfc3339(first),
                    last_seen: rfc3339(e.ts_ms),
                    first_seen_ms: first,
                    last_seen_ms: e.ts_ms,
                    count,
                    summary,
                });
                // Start counting afresh for the next window.
                k.times.clear();
                k.values.clear();
            }
        }
    }

    /// Drops sources whose longest window has passed in event time and that no rule keeps
    /// quiet; when still over budget, drops the ones idle longest.
    fn sweep(&mut self) {
        let now = self.now;
        let horizon = self.horizon_ms;
        self.sources.retain(|_, s| now - s.last_ts <= horizon || s.slots.iter().any(|k| k.quiet_until > now));
        if self.sources.len() >= self.budget.max_sources {
            let mut ages: Vec<i64> = self.sources.values().map(|s| s.last_ts).collect();
            let cut = ages.len() / 2;
            ages.select_nth_unstable(cut);
            let median = ages[cut];
            self.sources.retain(|_, s| s.last_ts > median);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Action;

    fn packet(ts_s: i64, src: &str, dst: &str, port: u16) -> Event<'static> {
        let mut e = Event::new(ts_s * 1000, Kind::Packet, "kernel");
        e.action = Action::Drop;
        e.src = src.parse().ok();
        e.dst = dst.parse().ok();
        e.dst_port = Some(port);
        e
    }

    fn auth(ts_s: i64, src: &str, user: &'static str, ok: bool) -> Event<'static> {
        auth_from("sshd", ts_s, src, user, ok)
    }

    fn auth_from(program: &'static str, ts_s: i64, src: &str, user: &'static str, ok: bool) -> Event<'static> {
        let mut e = Event::new(ts_s * 1000, if ok { Kind::AuthSuccess } else { Kind::AuthFailure }, program);
        e.src = src.parse().ok();
        e.user = user;
        e
    }

    fn run(events: &[Event<'static>]) -> Vec<String> {
        let mut engine = Engine::default();
        let mut out = Vec::new();
        for e in events {
            engine.push(e, &mut out);
        }
        out.iter().map(|a| format!("{} {} {} {}", a.rule, a.source, a.count, a.user.as_deref().unwrap_or("-"))).collect()
    }

    #[test]
    fn a_fast_scan_fires_once() {
        let events: Vec<_> = (0..200).map(|i| packet(i / 10, "203.0.113.9", "198.51.100.1", 1000 + i as u16)).collect();
        expect_test::expect![[r#"["port_scan_fast 203.0.113.9 25 -", "port_scan_slow 203.0.113.9 45 -"]"#]]
            .assert_eq(&format!("{:?}", run(&events)));
    }

    #[test]
    fn a_slow_scan_fires_and_background_noise_does_not() {
        let mut events: Vec<_> = (0..80).map(|i| packet(i * 40, "203.0.113.100", "198.51.100.1", 2000 + i as u16)).collect();
        // A noisy source: one probe a minute for three hours to the 26 usual ports.
        events.extend((0..180).map(|i| {
            packet(
                i * 60,
                "198.18.0.1",
                "198.51.100.1",
                [
                    22, 23, 80, 443, 445, 3389, 8080, 25, 110, 143, 993, 2323, 37215, 52869, 81, 8000, 9200, 11211, 123, 53, 5060, 1433,
                    3306, 5900, 6379, 8443,
                ][i as usize % 26],
            )
        }));
        events.sort_by_key(|e| e.ts_ms);
        expect_test::expect![[r#"["port_scan_slow 203.0.113.100 45 -"]"#]].assert_eq(&format!("{:?}", run(&events)));
    }

    #[test]
    fn brute_force_spraying_and_a_success_after_failures() {
        let users = ["root", "admin", "pi", "git", "test", "oracle"];
        let mut events: Vec<_> = (0..12).map(|i| auth(i * 5, "192.0.2.20", users[i as usize % users.len()], false)).collect();
        events.push(auth(100, "192.0.2.20", "deploy", true));
        events.extend((0..3).map(|i| auth(i * 5, "10.8.0.5", "emp01", false)));
        events.push(auth(30, "10.8.0.5", "emp01", true));
        events.sort_by_key(|e| e.ts_ms);
        expect_test::expect![[
            r#"["password_spraying 192.0.2.20 5 test", "ssh_brute_force 192.0.2.20 10 git", "success_after_failures 192.0.2.20 5 deploy"]"#
        ]]
        .assert_eq(&format!("{:?}", run(&events)));
    }

    #[test]
    fn brute_force_is_named_for_the_service_it_hits() {
        let mut events = Vec::new();
        for (i, program) in ["veilig", "openvpn", "mikrotik", "sshd"].iter().enumerate() {
            let src: &'static str = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"][i];
            events.extend((0..10).map(|t| auth_from(program, t, src, "jan", false)));
        }
        events.sort_by_key(|e| e.ts_ms);
        expect_test::expect![[
            r#"["portal_brute_force 192.0.2.1 10 jan", "vpn_brute_force 192.0.2.2 10 jan", "device_brute_force 192.0.2.3 10 jan", "ssh_brute_force 192.0.2.4 10 jan"]"#
        ]]
        .assert_eq(&format!("{:?}", run(&events)));
    }

    #[test]
    fn memory_stays_within_the_budget() {
        let mut engine = Engine::new(PACK, Budget { max_sources: 1000 });
        let mut out = Vec::new();
        for i in 0..50_000u32 {
            let src = format!("198.18.{}.{}", (i >> 8) & 255, i & 255);
            engine.push(&packet(i64::from(i), &src, "198.51.100.1", 22), &mut out);
        }
        assert!(engine.tracked() <= 1000, "{}", engine.tracked());
        assert!(out.is_empty());
    }
}
