//! The detection engine: runs the rules (`rules.rs`, from YAML) over a stream of events in
//! event time. Each rule keeps its own state per key (the values of its `group_by` fields,
//! hashed); state expires when the rule's window has passed in event time (not wall time), so a
//! replay of a week of logs and the live stream give the same alerts, and memory stays bounded:
//! at most [`Budget::max_keys`] keys per rule, the idlest dropped first.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use serde::Serialize;

use crate::event::Event;
use crate::geo::{Country, Geo};
use crate::rules::{Logic, Rule};

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

/// Keys are already hashes: pass them through.
#[derive(Default)]
pub struct Pass(u64);

impl Hasher for Pass {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<Pass>>;

/// An alert, as `veilig monitor replay --json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub rule: String,
    pub severity: String,
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
    /// The line that completed the alert (at most 500 characters), so it explains itself.
    pub example: String,
}

/// An example line, cut at a character boundary.
fn example_of(line: &str) -> String {
    match line.char_indices().nth(500) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_owned(),
    }
}

/// One rule's state for one key. Nothing is allocated until the rule first matches.
#[derive(Default)]
struct Slot {
    /// Time stamps of counted events (`Count`, `Sequence`), oldest first, at most `threshold`.
    times: VecDeque<i64>,
    /// Time stamps and bytes (`SumBytes`), oldest first, and their sum.
    amounts: VecDeque<(i64, u64)>,
    sum: u64,
    /// Distinct values and when each was last seen; thresholds are small, so a vector scanned
    /// linearly beats a hash map.
    values: Vec<(u64, i64)>,
    /// A leaky bucket's level in thousandths of an event, and when it last leaked.
    level: i64,
    leaked_at: i64,
    filled_at: i64,
    last_ts: i64,
    /// The previous event's country and time (`travel`).
    prev: Option<(Country, i64)>,
    /// No new alert for this key before this time.
    quiet_until: i64,
}

/// Limits that keep memory bounded whatever the input.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Keys (sources, users, ...) tracked at once per rule; past it, the idlest are dropped.
    pub max_keys: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { max_keys: 500_000 }
    }
}

/// How far one event may move the stream's time ahead: a sender whose clock is a year wrong
/// must not make the engine forget everyone else's state at the next sweep.
pub const MAX_SKEW_MS: i64 = 3_600_000;

/// Values a `first_seen` rule remembers per key.
const FIRST_SEEN_VALUES: usize = 256;

struct State {
    keys: KeyMap<Slot>,
    /// The first event this rule saw (for `learn`).
    started: Option<i64>,
}

pub struct Engine {
    rules: Vec<Rule>,
    states: Vec<State>,
    budget: Budget,
    now: i64,
    seen: u64,
    geo: Option<std::sync::Arc<Geo>>,
    /// Whether any rule needs countries (else no lookups are made).
    needs_country: bool,
    countries: HashMap<std::net::IpAddr, Option<Country>, BuildHasherDefault<Fx>>,
}

/// Addresses whose country is remembered at once; the cache is emptied when full.
const COUNTRY_CACHE: usize = 65_536;

impl Default for Engine {
    fn default() -> Self {
        Engine::new(crate::rules::pack(), Budget::default())
    }
}

fn window_text(ms: i64) -> String {
    if ms % 86_400_000 == 0 {
        format!("{} d", ms / 86_400_000)
    } else if ms % 3_600_000 == 0 {
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

/// The key of an event for a rule: its `group_by` fields hashed together; `None` when the
/// event lacks one of them.
fn key_of(rule: &Rule, e: &Event<'_>, country: Option<Country>) -> Option<u64> {
    let mut key = 0x9e37_79b9_7f4a_7c15u64;
    for f in &rule.group_by {
        key = (key.rotate_left(17) ^ f.hash(e, country)?).wrapping_mul(0x2545_f491_4f6c_dd1d);
    }
    Some(key)
}

impl Engine {
    pub fn new(rules: Vec<Rule>, budget: Budget) -> Engine {
        let states = rules.iter().map(|_| State { keys: KeyMap::default(), started: None }).collect();
        let needs_country = rules.iter().any(Rule::needs_country);
        Engine { rules, states, budget, now: i64::MIN, seen: 0, geo: None, needs_country, countries: HashMap::default() }
    }

    /// Gives the rules their imported lists (by name: `src_in_list`, `dst_in_list`).
    pub fn with_lists(mut self, lists: &HashMap<String, std::sync::Arc<crate::rules::NetSet>>) -> Engine {
        for r in &mut self.rules {
            r.resolve_lists(lists);
        }
        self
    }

    /// Gives the engine a GeoIP database for rules about countries. Without one, events have
    /// no country: such rules never fire.
    pub fn with_geo(mut self, geo: std::sync::Arc<Geo>) -> Engine {
        self.geo = Some(geo);
        self
    }

    fn country(&mut self, ip: std::net::IpAddr) -> Option<Country> {
        let geo = self.geo.as_ref()?;
        if let Some(c) = self.countries.get(&ip) {
            return *c;
        }
        if self.countries.len() >= COUNTRY_CACHE {
            self.countries.clear();
        }
        let c = geo.country(ip);
        self.countries.insert(ip, c);
        c
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Keys currently tracked over all rules (for memory reporting and tests).
    pub fn tracked(&self) -> usize {
        self.states.iter().map(|s| s.keys.len()).sum()
    }

    /// Feeds one event; returns the alerts it completes.
    pub fn push(&mut self, e: &Event<'_>, out: &mut Vec<Alert>) {
        let Some(src) = e.src else { return };
        let country = if self.needs_country { self.country(src) } else { None };
        if !self.rules.iter().any(|r| r.wants(e, country)) {
            return;
        }
        if self.now == i64::MIN || e.ts_ms <= self.now.saturating_add(MAX_SKEW_MS) {
            self.now = self.now.max(e.ts_ms);
        }
        self.seen += 1;
        if self.seen.is_multiple_of(65_536) {
            self.sweep();
        }
        let budget = self.budget.max_keys;
        let now = self.now;
        for (rule, state) in self.rules.iter().zip(self.states.iter_mut()) {
            if !rule.wants(e, country) {
                continue;
            }
            let Some(key) = key_of(rule, e, country) else { continue };
            if state.keys.len() >= budget && !state.keys.contains_key(&key) {
                sweep_state(rule, state, now, budget);
                if state.keys.len() >= budget {
                    continue;
                }
            }
            let started = *state.started.get_or_insert(e.ts_ms);
            let k = state.keys.entry(key).or_default();
            k.last_ts = k.last_ts.max(e.ts_ms);
            let horizon = e.ts_ms - rule.window_ms;
            let mut previous: Option<Country> = None;
            let (count, first) = match &rule.logic {
                Logic::Sequence { then } => {
                    while k.times.front().is_some_and(|&t| t < horizon) {
                        k.times.pop_front();
                    }
                    if rule.when.matches(e, country) {
                        k.times.push_back(e.ts_ms);
                        if k.times.len() > rule.threshold {
                            k.times.pop_front();
                        }
                        continue;
                    }
                    if !then.matches(e, country) {
                        continue;
                    }
                    (k.times.len(), k.times.front().copied().unwrap_or(e.ts_ms))
                }
                Logic::Count => {
                    k.times.push_back(e.ts_ms);
                    while k.times.front().is_some_and(|&t| t < horizon) || k.times.len() > rule.threshold {
                        k.times.pop_front();
                    }
                    (k.times.len(), k.times.front().copied().unwrap_or(e.ts_ms))
                }
                Logic::Distinct(field) => {
                    let Some(v) = field.hash(e, country) else { continue };
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
                Logic::SumBytes => {
                    k.amounts.push_back((e.ts_ms, e.bytes));
                    k.sum = k.sum.saturating_add(e.bytes);
                    while let Some(&(t, b)) = k.amounts.front() {
                        if t >= horizon && k.amounts.len() <= 4096 {
                            break;
                        }
                        k.sum = k.sum.saturating_sub(b);
                        k.amounts.pop_front();
                    }
                    (usize::try_from(k.sum).unwrap_or(usize::MAX), k.amounts.front().map(|(t, _)| *t).unwrap_or(e.ts_ms))
                }
                Logic::Leaky { leak_ms } => {
                    let elapsed = (e.ts_ms - k.leaked_at).max(0);
                    k.level = (k.level - elapsed.saturating_mul(1000) / leak_ms.max(&1)).max(0);
                    k.leaked_at = e.ts_ms;
                    if k.level == 0 {
                        k.filled_at = e.ts_ms;
                    }
                    k.level += 1000;
                    (usize::try_from((k.level + 999) / 1000).unwrap_or(usize::MAX), k.filled_at)
                }
                Logic::Travel => {
                    let Some(c) = country else { continue };
                    let prev = k.prev.replace((c, e.ts_ms));
                    match prev {
                        Some((p, t)) if p != c && e.ts_ms - t <= rule.window_ms => {
                            previous = Some(p);
                            (1, t)
                        }
                        _ => continue,
                    }
                }
                Logic::FirstSeen { value, learn_ms } => {
                    let Some(v) = value.hash(e, country) else { continue };
                    k.values.retain(|(_, t)| *t >= horizon);
                    let had_history = !k.values.is_empty();
                    match k.values.iter_mut().find(|(x, _)| *x == v) {
                        Some(slot) => {
                            slot.1 = slot.1.max(e.ts_ms);
                            continue;
                        }
                        None => {
                            if k.values.len() >= FIRST_SEEN_VALUES
                                && let Some(oldest) = k.values.iter().enumerate().min_by_key(|(_, (_, t))| *t).map(|(i, _)| i)
                            {
                                k.values.swap_remove(oldest);
                            }
                            k.values.push((v, e.ts_ms));
                        }
                    }
                    if !had_history || e.ts_ms < started.saturating_add(*learn_ms) {
                        continue;
                    }
                    (1, e.ts_ms)
                }
            };
            if count >= rule.threshold && e.ts_ms >= k.quiet_until {
                let first_seen_rule = matches!(rule.logic, Logic::FirstSeen { .. } | Logic::Travel);
                if !first_seen_rule {
                    k.quiet_until = e.ts_ms + rule.window_ms;
                    // Start counting afresh for the next window.
                    k.times.clear();
                    k.values.clear();
                    k.level = 0;
                    k.amounts.clear();
                    k.sum = 0;
                }
                let source = src.to_string();
                let summary = rule
                    .summary
                    .replace("{count}", &count.to_string())
                    .replace("{source}", &source)
                    .replace("{src}", &source)
                    .replace("{user}", e.user)
                    .replace("{program}", e.source)
                    .replace("{dst}", &e.dst.map(|d| d.to_string()).unwrap_or_default())
                    .replace("{dst_port}", &e.dst_port.map(|p| p.to_string()).unwrap_or_default())
                    .replace("{country}", &country.map(crate::geo::country_text).unwrap_or_else(|| "?".to_owned()))
                    .replace("{previous_country}", &previous.map(crate::geo::country_text).unwrap_or_else(|| "?".to_owned()))
                    .replace("{minutes}", &((e.ts_ms - first) / 60_000).to_string())
                    .replace("{gigabytes}", &format!("{:.1}", count as f64 / 1e9))
                    .replace("{window}", &window_text(rule.window_ms));
                out.push(Alert {
                    rule: rule.name.clone(),
                    severity: rule.severity.clone(),
                    source,
                    user: (!e.user.is_empty()).then(|| e.user.to_owned()),
                    first_seen: rfc3339(first),
                    last_seen: rfc3339(e.ts_ms),
                    first_seen_ms: first,
                    last_seen_ms: e.ts_ms,
                    count,
                    summary,
                    example: example_of(e.line),
                });
            }
        }
    }

    /// Drops keys whose rule's window has passed in event time and that no alert keeps quiet.
    fn sweep(&mut self) {
        let (now, budget) = (self.now, self.budget.max_keys);
        for (rule, state) in self.rules.iter().zip(self.states.iter_mut()) {
            sweep_state(rule, state, now, budget);
        }
    }
}

fn sweep_state(rule: &Rule, state: &mut State, now: i64, budget: usize) {
    let window = rule.window_ms;
    state.keys.retain(|_, s| now - s.last_ts <= window || s.quiet_until > now);
    if state.keys.len() >= budget {
        let mut ages: Vec<i64> = state.keys.values().map(|s| s.last_ts).collect();
        let cut = ages.len() / 2;
        ages.select_nth_unstable(cut);
        let median = ages[cut];
        state.keys.retain(|_, s| s.last_ts > median);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Action, Kind};

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
        let mut engine = Engine::new(crate::rules::pack(), Budget { max_keys: 1000 });
        let mut out = Vec::new();
        for i in 0..50_000u32 {
            let src = format!("198.18.{}.{}", (i >> 8) & 255, i & 255);
            engine.push(&packet(i64::from(i), &src, "198.51.100.1", 22), &mut out);
        }
        assert!(engine.tracked() <= 1000 * engine.rules().len(), "{}", engine.tracked());
        assert!(out.is_empty());
    }

    fn with(rules: &str, events: &[Event<'static>]) -> Vec<String> {
        let (_, rule) = crate::rules::parse_rule("t.yaml", rules).unwrap();
        let mut engine = Engine::new(vec![rule.unwrap()], Budget::default());
        let mut out = Vec::new();
        for e in events {
            engine.push(e, &mut out);
        }
        out.iter().map(|a| format!("{} {} {} {}", a.last_seen, a.source, a.count, a.summary)).collect()
    }

    #[test]
    fn a_leaky_bucket_ignores_a_trickle_and_catches_a_burst() {
        let rule = "name: flood\nseverity: medium\ntype: leaky\nmatch: {kind: packet, dst_port: 51820}\nleak: 6s\nwindow: 10m\nthreshold: 100\nsummary: \"{count} from {src}\"\n";
        // One packet every 7 s for 84 minutes (720 packets): it leaks faster than it fills.
        let trickle: Vec<_> = (0..720).map(|i| packet(i * 7, "198.51.100.1", "192.0.2.1", 51820)).collect();
        assert_eq!(with(rule, &trickle), Vec::<String>::new());
        // 150 packets in 15 s fill it.
        let burst: Vec<_> = (0..150).map(|i| packet(i / 10, "198.51.100.2", "192.0.2.1", 51820)).collect();
        expect_test::expect![[r#"["1970-01-01T00:00:10Z 198.51.100.2 100 100 from 198.51.100.2"]"#]]
            .assert_eq(&format!("{:?}", with(rule, &burst)));
    }

    #[test]
    fn first_seen_networks_per_user_after_learning() {
        let rule = "name: new_net\nseverity: medium\ntype: first_seen\nmatch: {kind: auth_success}\ngroup_by: [user]\nvalue: src_net\nlearn: 1h\nwindow: 30d\nthreshold: 1\nsummary: \"{user} from {src}\"\n";
        let day = 86_400;
        let events = vec![
            auth(0, "192.0.2.10", "anna", true),               // learning
            auth(600, "198.51.100.10", "anna", true),          // learning: a second network, no alert
            auth(day, "192.0.2.77", "anna", true),             // same /24 as before
            auth(day + 60, "203.0.113.5", "anna", true),       // new network: alert
            auth(day + 120, "203.0.113.6", "anna", true),      // that /24 is known now
            auth(day + 180, "203.0.113.9", "bert", true),      // bert's first ever: no history, no alert
            auth(day + 240, "2001:db8:1::1", "bert", true),    // bert's second network: alert (IPv6)
            auth(day + 300, "2001:db8:1:ff::2", "bert", true), // same /48
        ];
        expect_test::expect![[r#"["1970-01-02T00:01:00Z 203.0.113.5 1 anna from 203.0.113.5", "1970-01-02T00:04:00Z 2001:db8:1::1 1 bert from 2001:db8:1::1"]"#]]
            .assert_eq(&format!("{:?}", with(rule, &events)));
    }

    #[test]
    fn time_of_day_and_allow_lists_in_rules() {
        let rule = "name: night_root\nseverity: high\nmatch: {kind: auth_success, user: root, src_not_in: [10.0.0.0/8], time: {outside: \"07:00-19:00\"}}\ngroup_by: [user, src]\nwindow: 1h\nthreshold: 1\nsummary: \"{user} at night from {src}\"\n";
        let events = vec![
            auth(12 * 3600, "192.0.2.1", "root", true),       // noon: fine
            auth(23 * 3600, "10.1.2.3", "root", true),        // night, but from the allow-listed network
            auth(23 * 3600 + 60, "192.0.2.1", "admin", true), // another user
            auth(23 * 3600 + 120, "192.0.2.1", "root", true), // this one
        ];
        expect_test::expect![[r#"["1970-01-01T23:02:00Z 192.0.2.1 1 root at night from 192.0.2.1"]"#]]
            .assert_eq(&format!("{:?}", with(rule, &events)));
    }

    const NETS: &[(&str, &str)] = &[("145.97.0.0/16", "NL"), ("81.2.69.0/24", "GB"), ("2a02:a400::/32", "NL"), ("1.1.1.0/24", "AU")];

    fn geo(shape: veilig_testkit::mmdb::Shape) -> std::sync::Arc<Geo> {
        std::sync::Arc::new(Geo::from_bytes(vec![veilig_testkit::mmdb::country_db(shape, NETS)]).unwrap())
    }

    #[test]
    fn countries_from_both_database_shapes() {
        for shape in [veilig_testkit::mmdb::Shape::CountryCode, veilig_testkit::mmdb::Shape::CountryIsoCode] {
            let g = geo(shape);
            assert_eq!(g.country("145.97.3.4".parse().unwrap()), Some(*b"NL"));
            assert_eq!(g.country("81.2.69.160".parse().unwrap()), Some(*b"GB"));
            assert_eq!(g.country("2a02:a400:1::5".parse().unwrap()), Some(*b"NL"));
            assert_eq!(g.country("8.8.8.8".parse().unwrap()), None, "not in the database");
            assert_eq!(g.country("10.0.0.1".parse().unwrap()), None, "private: never looked up");
        }
        assert!(Geo::from_bytes(vec![b"not a database".to_vec()]).unwrap_err().contains("not a MaxMind DB"));
    }

    #[test]
    fn impossible_travel_and_a_new_country() {
        let events = [
            auth(0, "145.97.3.4", "anna", true),
            auth(600, "145.97.9.9", "anna", true),
            auth(3000, "81.2.69.160", "anna", true), // London 40 minutes after Amsterdam
            auth(3600 * 10, "1.1.1.1", "bert", true),
            auth(3600 * 20, "145.97.1.1", "bert", true), // ten hours later: could be a flight
        ];
        let pack = crate::rules::pack();
        let mut engine = Engine::new(pack, Budget::default()).with_geo(geo(veilig_testkit::mmdb::Shape::CountryCode));
        let mut out = Vec::new();
        for e in &events {
            engine.push(e, &mut out);
        }
        let got: Vec<String> = out.iter().map(|a| format!("{} {}", a.rule, a.summary)).collect();
        expect_test::expect![[r#"["impossible_travel anna signed in from GB (81.2.69.160) 40 min after a sign-in from NL"]"#]]
            .assert_eq(&format!("{got:?}"));
        // Without a database the country rules stay silent.
        let mut plain = Engine::default();
        let mut out = Vec::new();
        for e in &events {
            plain.push(e, &mut out);
        }
        assert!(out.iter().all(|a| a.rule != "impossible_travel"));

        let rule = "name: abroad\nseverity: low\nmatch: {kind: auth_success, country_not: [NL]}\ngroup_by: [user, country]\nwindow: 1d\nthreshold: 1\nsummary: \"{user} from {country}\"\n";
        let (_, r) = crate::rules::parse_rule("t.yaml", rule).unwrap();
        let mut engine = Engine::new(vec![r.unwrap()], Budget::default()).with_geo(geo(veilig_testkit::mmdb::Shape::CountryIsoCode));
        let mut out = Vec::new();
        for e in &events {
            engine.push(e, &mut out);
        }
        let got: Vec<String> = out.iter().map(|a| a.summary.clone()).collect();
        assert_eq!(got, ["anna from GB", "bert from AU"]);
    }

    #[test]
    fn imported_lists_in_both_directions() {
        let (set, skipped) = crate::rules::NetSet::parse(
            "; Spamhaus DROP style\n1.10.16.0/20 ; SBL256894\n203.0.113.0/25\n203.0.113.128/25\n# FireHOL style\n2001:db8:bad::/48\nnot-a-network\n198.51.100.7\n",
        );
        assert_eq!((set.len(), skipped), (4, 1), "the two halves of 203.0.113.0/24 merge");
        for (ip, on) in [
            ("1.10.20.1", true),
            ("1.10.32.0", false),
            ("203.0.113.200", true),
            ("2001:db8:bad:1::1", true),
            ("::ffff:198.51.100.7", true),
            ("198.51.100.8", false),
        ] {
            assert_eq!(set.contains(ip.parse().unwrap()), on, "{ip}");
        }
        let lists = HashMap::from([("blocklist".to_owned(), std::sync::Arc::new(set))]);
        let mut inbound = packet(10, "1.10.20.1", "145.100.0.1", 443);
        inbound.action = crate::event::Action::Drop;
        let mut outbound = packet(20, "145.100.0.9", "203.0.113.200", 8443);
        outbound.action = crate::event::Action::Accept;
        let events = [inbound, outbound.clone(), outbound];
        let mut engine = Engine::default().with_lists(&lists);
        let mut out = Vec::new();
        for e in &events {
            engine.push(e, &mut out);
        }
        let got: Vec<String> = out.iter().map(|a| format!("{} {}", a.rule, a.summary)).collect();
        expect_test::expect![[r#"["blocklisted_source 1.10.20.1, on the imported blocklist, sent traffic to 145.100.0.1 port 443", "blocklisted_destination 145.100.0.9 connected to 203.0.113.200 port 8443, an address on the imported blocklist"]"#]]
            .assert_eq(&format!("{got:?}"));
        // Without the list, nothing.
        let mut plain = Engine::default();
        let mut out = Vec::new();
        for e in &events {
            plain.push(e, &mut out);
        }
        assert!(out.iter().all(|a| !a.rule.starts_with("blocklisted")));
    }

    #[test]
    fn out_of_order_lines_and_a_sender_with_a_wrong_clock() {
        // Failures arriving out of order within the window still add up.
        let order = [3, 0, 7, 1, 9, 2, 8, 4, 6, 5];
        let shuffled: Vec<_> = order.iter().map(|i| auth(*i, "192.0.2.20", "root", false)).collect();
        assert!(run(&shuffled).iter().any(|a| a.starts_with("ssh_brute_force 192.0.2.20 10")), "{:?}", run(&shuffled));

        // Five failures; then one line dated a year ahead from another sender; then enough
        // traffic for a sweep; then five more failures: the brute force is still seen.
        let mut events: Vec<Event<'static>> = (0..5).map(|i| auth(i, "192.0.2.30", "root", false)).collect();
        events.push(auth(365 * 86_400, "198.51.100.99", "x", false));
        for i in 0..70_000u32 {
            let src: &'static str = Box::leak(format!("198.18.{}.{}", (i >> 8) & 255, i & 255).into_boxed_str());
            events.push(packet(5, src, "198.51.100.1", 80));
        }
        events.extend((6..11).map(|i| auth(i, "192.0.2.30", "root", false)));
        let mut engine = Engine::default();
        let mut out = Vec::new();
        for e in &events {
            engine.push(e, &mut out);
        }
        assert!(
            out.iter().any(|a| a.rule == "ssh_brute_force" && a.source == "192.0.2.30"),
            "{:?}",
            out.iter().map(|a| &a.rule).collect::<Vec<_>>()
        );
    }
}
