//! The rule language: detection rules as YAML files, checked and compiled into [`Rule`]s that
//! the engine runs. The shipped pack is in `rules/*.yaml` (compiled into the binary);
//! administrators add their own in a folder (`--rules DIR`, `monitor.rules`), where a rule
//! with the name of a shipped one replaces it and `enabled: false` switches one off.
//!
//! ```yaml
//! name: ssh_brute_force            # letters, digits, '_'; unique
//! description: Many failed SSH sign-ins from one address.
//! severity: high                   # low, medium, high, critical
//! type: threshold                  # threshold (default), leaky, sequence, first_seen
//! match:                           # every condition given must hold
//!   kind: auth_failure             # packet, auth_failure, auth_success (one or a list)
//!   program: [sshd]                # who wrote the line (sshd, kernel, filterlog, veilig, ...)
//!   action: [drop, reject]         # packets: drop (anything not accepted), accept
//!   dst_port: [22, "8000-8100"]    # ports and ranges
//!   proto: [tcp]
//!   user: [root, admin]
//!   src_in: [0.0.0.0/0]            # networks; src_not_in / dst_in / dst_not_in likewise
//!   src_not_in: [10.0.0.0/8]       #   (an allow-list)
//!   time: {outside: "07:00-19:00", weekend: true, utc_offset: "+01:00"}
//! group_by: [src]                  # src, src_net, dst, dst_port, user, program (default src)
//! count: events                    # events, or distinct dst_port | dst | user | src | program
//! window: 10m                      # s, m, h, d
//! threshold: 10
//! summary: "{count} failed SSH sign-ins from {src} within {window}"
//! ```
//!
//! `leaky`: a bucket of `threshold` that one event fills by one and that empties by one every
//! `leak`; it fires when full. `sequence`: `threshold` events that `match`, then one that
//! matches `then`, within the window. `first_seen`: per `group_by` key, the `value` (a field)
//! not seen for that key within `window`, once `learn` has passed since the rule's first event.
//! `travel`: the source's country differs from the key's previous event's within the window.
//! With a GeoIP database, `match` takes `country: [NL, BE]` and `country_not: [NL]`, and
//! `country` is a field for `group_by`, `count: distinct` and `value`.

use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use serde::Deserialize;

use crate::event::{Action, Event, Kind};
use crate::geo::{Country, parse_country};

/// A field of an event that rules group by, count or remember.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Src,
    /// The source's /24 (IPv4) or /48 (IPv6).
    SrcNet,
    Dst,
    DstPort,
    User,
    Program,
    /// The source's country (with a GeoIP database; events without one lack it).
    Country,
}

impl Field {
    fn parse(s: &str) -> Result<Field, String> {
        Ok(match s {
            "src" => Field::Src,
            "src_net" => Field::SrcNet,
            "dst" => Field::Dst,
            "dst_port" => Field::DstPort,
            "user" => Field::User,
            "program" => Field::Program,
            "country" => Field::Country,
            other => return Err(format!("unknown field '{other}' (src, src_net, dst, dst_port, user, program, country)")),
        })
    }

    /// The field's value in `e` (whose source is in `country`), hashed, or `None` when the
    /// event does not have it.
    pub fn hash(self, e: &Event<'_>, country: Option<Country>) -> Option<u64> {
        let mut h = crate::engine::Fx::default();
        use std::hash::Hasher;
        match self {
            Field::Src => hash_ip(&mut h, e.src?),
            Field::SrcNet => hash_ip(&mut h, net_of(e.src?)),
            Field::Dst => hash_ip(&mut h, e.dst?),
            Field::DstPort => h.write(&e.dst_port?.to_le_bytes()),
            Field::User if !e.user.is_empty() => h.write(e.user.as_bytes()),
            Field::Program if !e.source.is_empty() => h.write(e.source.as_bytes()),
            Field::Country => h.write(&country?),
            Field::User | Field::Program => return None,
        }
        h.write_u8(self as u8);
        Some(h.finish())
    }
}

fn hash_ip(h: &mut crate::engine::Fx, ip: IpAddr) {
    use std::hash::Hasher;
    match ip {
        IpAddr::V4(v4) => h.write(&v4.octets()),
        IpAddr::V6(v6) => h.write(&v6.octets()),
    }
}

/// The /24 or /48 an address is in.
pub fn net_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4((u32::from(v4) & 0xffff_ff00).into()),
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !((1u128 << 80) - 1)).into()),
    }
}

/// When in the week an event happened, in the rule's time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeOfDay {
    /// Minutes after midnight: the normal hours are `from..to` (may wrap past midnight).
    pub from_min: u32,
    pub to_min: u32,
    /// True: match outside the hours; false: inside.
    pub outside: bool,
    /// Also match on Saturdays and Sundays, whatever the hour.
    pub weekend: bool,
    pub offset_min: i32,
}

impl TimeOfDay {
    fn matches(&self, ts_ms: i64) -> bool {
        let local_s = ts_ms.div_euclid(1000) + i64::from(self.offset_min) * 60;
        let minute = u32::try_from(local_s.rem_euclid(86_400) / 60).unwrap_or(0);
        // 1970-01-01 was a Thursday: day 0 → 3 when Monday is 0.
        let weekday = (local_s.div_euclid(86_400) + 3).rem_euclid(7);
        if self.weekend && weekday >= 5 {
            return true;
        }
        let inside = if self.from_min <= self.to_min {
            (self.from_min..self.to_min).contains(&minute)
        } else {
            minute >= self.from_min || minute < self.to_min
        };
        inside != self.outside
    }
}

/// The conditions on one event; empty lists accept anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Match {
    pub kinds: Vec<Kind>,
    pub actions: Vec<Action>,
    pub programs: Vec<String>,
    pub dst_ports: Vec<(u16, u16)>,
    pub protos: Vec<String>,
    pub users: Vec<String>,
    pub src_in: Vec<IpNet>,
    pub src_not_in: Vec<IpNet>,
    pub dst_in: Vec<IpNet>,
    pub dst_not_in: Vec<IpNet>,
    /// The source's country must be one of these (known) / must be known and none of these.
    pub countries: Vec<Country>,
    pub not_countries: Vec<Country>,
    /// Imported lists (by name) the source / destination must be on; resolved by the engine
    /// ([`Rule::resolve_lists`]); a list that is not loaded holds nothing.
    pub src_lists: Vec<(String, Arc<NetSet>)>,
    pub dst_lists: Vec<(String, Arc<NetSet>)>,
    pub time: Option<TimeOfDay>,
}

/// A set of networks from an imported list (Spamhaus DROP, FireHOL, an own file): one address
/// or network a line, `#` and `;` start comments. Kept as sorted, merged ranges.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct NetSet {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

fn merge<T: Ord + Copy>(mut ranges: Vec<(T, T)>, next: impl Fn(T) -> Option<T>) -> Vec<(T, T)> {
    ranges.sort_unstable();
    let mut out: Vec<(T, T)> = Vec::with_capacity(ranges.len());
    for (a, b) in ranges {
        match out.last_mut() {
            Some(last) if next(last.1).is_none_or(|n| a <= n) => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

fn find<T: Ord + Copy>(ranges: &[(T, T)], x: T) -> bool {
    let i = ranges.partition_point(|(a, _)| *a <= x);
    i > 0 && ranges[i - 1].1 >= x
}

impl NetSet {
    /// Reads a list; returns the set and how many lines were not an address or network.
    pub fn parse(text: &str) -> (NetSet, usize) {
        let (mut v4, mut v6, mut skipped) = (Vec::new(), Vec::new(), 0);
        for line in text.lines() {
            let entry = line.split(['#', ';']).next().unwrap_or("").split_whitespace().next().unwrap_or("");
            if entry.is_empty() {
                continue;
            }
            match entry.parse::<IpNet>().or_else(|_| entry.parse::<IpAddr>().map(IpNet::from)) {
                Ok(IpNet::V4(n)) => v4.push((u32::from(n.network()), u32::from(n.broadcast()))),
                Ok(IpNet::V6(n)) => v6.push((u128::from(n.network()), u128::from(n.broadcast()))),
                Err(_) => skipped += 1,
            }
        }
        (NetSet { v4: merge(v4, |x: u32| x.checked_add(1)), v6: merge(v6, |x: u128| x.checked_add(1)) }, skipped)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(v4) => find(&self.v4, u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => find(&self.v4, u32::from(v4)),
                None => find(&self.v6, u128::from(v6)),
            },
        }
    }

    /// Ranges after merging.
    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Match {
    /// Whether the rule's conditions need the source's country.
    pub fn needs_country(&self) -> bool {
        !self.countries.is_empty() || !self.not_countries.is_empty()
    }

    pub fn matches(&self, e: &Event<'_>, country: Option<Country>) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&e.kind))
            && (self.actions.is_empty() || self.actions.contains(&e.action))
            && (self.programs.is_empty() || self.programs.iter().any(|p| p == e.source))
            && (self.dst_ports.is_empty() || e.dst_port.is_some_and(|p| self.dst_ports.iter().any(|(a, b)| (*a..=*b).contains(&p))))
            && (self.protos.is_empty() || self.protos.iter().any(|p| p.eq_ignore_ascii_case(e.proto)))
            && (self.users.is_empty() || self.users.iter().any(|u| u == e.user))
            && (self.src_in.is_empty() || e.src.is_some_and(|ip| self.src_in.iter().any(|n| n.contains(&ip))))
            && !e.src.is_some_and(|ip| self.src_not_in.iter().any(|n| n.contains(&ip)))
            && (self.dst_in.is_empty() || e.dst.is_some_and(|ip| self.dst_in.iter().any(|n| n.contains(&ip))))
            && !e.dst.is_some_and(|ip| self.dst_not_in.iter().any(|n| n.contains(&ip)))
            && (self.countries.is_empty() || country.is_some_and(|c| self.countries.contains(&c)))
            && (self.not_countries.is_empty() || country.is_some_and(|c| !self.not_countries.contains(&c)))
            && (self.src_lists.is_empty() || e.src.is_some_and(|ip| self.src_lists.iter().any(|(_, s)| s.contains(ip))))
            && (self.dst_lists.is_empty() || e.dst.is_some_and(|ip| self.dst_lists.iter().any(|(_, s)| s.contains(ip))))
            && self.time.as_ref().is_none_or(|t| t.matches(e.ts_ms))
    }
}

/// How a rule decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Logic {
    /// Matching events within the window (sliding).
    Count,
    /// Different values of a field within the window (sliding).
    Distinct(Field),
    /// The bytes of matching events within the window (sliding); the threshold is in bytes.
    SumBytes,
    /// A bucket of `threshold` that leaks one event every `leak_ms`.
    Leaky { leak_ms: i64 },
    /// `threshold` matching events, then one matching `then`.
    Sequence { then: Box<Match> },
    /// A value of `value` new for the key, after `learn_ms` of learning.
    FirstSeen { value: Field, learn_ms: i64 },
    /// The source's country differs from the key's previous event's, within the window
    /// (one account signing in from two countries in less time than travel takes).
    Travel,
}

/// A checked rule, ready for the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub name: String,
    pub description: String,
    pub severity: String,
    pub when: Match,
    pub group_by: Vec<Field>,
    pub logic: Logic,
    pub window_ms: i64,
    pub threshold: usize,
    /// A sentence with `{count}`, `{src}`, `{user}`, `{dst}`, `{dst_port}`, `{program}` and
    /// `{window}` for the alert's summary.
    pub summary: String,
}

impl Rule {
    /// Whether the event concerns this rule at all.
    pub fn wants(&self, e: &Event<'_>, country: Option<Country>) -> bool {
        self.when.matches(e, country) || matches!(&self.logic, Logic::Sequence { then } if then.matches(e, country))
    }

    /// Points the rule's list conditions at the loaded lists (by name); names not loaded get
    /// an empty set.
    pub fn resolve_lists(&mut self, lists: &std::collections::HashMap<String, Arc<NetSet>>) {
        let resolve = |m: &mut Match| {
            for (name, set) in m.src_lists.iter_mut().chain(m.dst_lists.iter_mut()) {
                *set = lists.get(name).cloned().unwrap_or_default();
            }
        };
        resolve(&mut self.when);
        if let Logic::Sequence { then } = &mut self.logic {
            resolve(then);
        }
    }

    /// Whether the rule needs the source's country (conditions, keys, values, travel).
    pub fn needs_country(&self) -> bool {
        self.when.needs_country()
            || self.group_by.contains(&Field::Country)
            || matches!(&self.logic, Logic::Distinct(Field::Country) | Logic::FirstSeen { value: Field::Country, .. } | Logic::Travel)
            || matches!(&self.logic, Logic::Sequence { then } if then.needs_country())
    }
}

/// A problem in a rule file, naming the file and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct RuleError {
    pub file: String,
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(t) => vec![t],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum PortSpec {
    Number(u16),
    Text(String),
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TimeSpec {
    outside: Option<String>,
    inside: Option<String>,
    #[serde(default)]
    weekend: bool,
    utc_offset: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct MatchSpec {
    kind: Option<OneOrMany<String>>,
    action: Option<OneOrMany<String>>,
    program: Option<OneOrMany<String>>,
    dst_port: Option<OneOrMany<PortSpec>>,
    proto: Option<OneOrMany<String>>,
    user: Option<OneOrMany<String>>,
    src_in: Option<Vec<String>>,
    src_not_in: Option<Vec<String>>,
    dst_in: Option<Vec<String>>,
    dst_not_in: Option<Vec<String>>,
    country: Option<OneOrMany<String>>,
    country_not: Option<OneOrMany<String>>,
    src_in_list: Option<OneOrMany<String>>,
    dst_in_list: Option<OneOrMany<String>>,
    time: Option<TimeSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default = "yes")]
    enabled: bool,
    severity: Option<String>,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(rename = "match", default)]
    when: Option<MatchSpec>,
    then: Option<MatchSpec>,
    group_by: Option<OneOrMany<String>>,
    count: Option<String>,
    value: Option<String>,
    leak: Option<String>,
    learn: Option<String>,
    window: Option<String>,
    threshold: Option<usize>,
    summary: Option<String>,
}

fn yes() -> bool {
    true
}

/// `30s`, `10m`, `2h`, `7d` in milliseconds.
pub fn duration_ms(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = digits.parse().map_err(|_| format!("'{s}' is not a duration such as 30s, 10m, 2h or 7d"))?;
    let ms = match unit {
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("'{s}' is not a duration such as 30s, 10m, 2h or 7d")),
    };
    if n == 0 || n > 400 * 86_400 {
        return Err(format!("'{s}' is out of range (1s to 400d)"));
    }
    Ok(n * ms)
}

fn clock(s: &str) -> Result<(u32, u32), String> {
    let err = || format!("'{s}' is not a range of hours such as 07:00-19:00");
    let (a, b) = s.split_once('-').ok_or_else(err)?;
    let minutes = |t: &str| -> Result<u32, String> {
        let (h, m) = t.trim().split_once(':').ok_or_else(err)?;
        let (h, m): (u32, u32) = (h.parse().map_err(|_| err())?, m.parse().map_err(|_| err())?);
        if h > 24 || m > 59 || (h == 24 && m > 0) {
            return Err(err());
        }
        Ok(h * 60 + m)
    };
    Ok((minutes(a)?, minutes(b)?))
}

fn offset(s: &str) -> Result<i32, String> {
    let err = || format!("'{s}' is not a UTC offset such as +01:00");
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1, &s[1..]),
        Some(b'-') => (-1, &s[1..]),
        _ => return Err(err()),
    };
    let (h, m) = rest.split_once(':').ok_or_else(err)?;
    let (h, m): (i32, i32) = (h.parse().map_err(|_| err())?, m.parse().map_err(|_| err())?);
    if h > 14 || m > 59 {
        return Err(err());
    }
    Ok(sign * (h * 60 + m))
}

fn nets(list: Option<Vec<String>>) -> Result<Vec<IpNet>, String> {
    list.unwrap_or_default()
        .iter()
        .map(|n| {
            n.parse::<IpNet>()
                .or_else(|_| n.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("'{n}' is not a network such as 10.0.0.0/8"))
        })
        .collect()
}

fn compile_match(m: MatchSpec) -> Result<Match, String> {
    let kinds = m
        .kind
        .map(OneOrMany::into_vec)
        .unwrap_or_default()
        .iter()
        .map(|k| match k.as_str() {
            "packet" => Ok(Kind::Packet),
            "auth_failure" => Ok(Kind::AuthFailure),
            "auth_success" => Ok(Kind::AuthSuccess),
            "traffic" => Ok(Kind::Traffic),
            other => Err(format!("unknown kind '{other}' (packet, auth_failure, auth_success, traffic)")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut actions = Vec::new();
    for a in m.action.map(OneOrMany::into_vec).unwrap_or_default() {
        match a.as_str() {
            // Firewalls log mostly what they refuse: a line that does not say what happened
            // to the packet counts as refused, as it always did in the pack.
            "drop" | "reject" | "deny" | "block" => {
                for a in [Action::Drop, Action::Unknown] {
                    if !actions.contains(&a) {
                        actions.push(a);
                    }
                }
            }
            "accept" | "allow" | "pass" => actions.push(Action::Accept),
            other => return Err(format!("unknown action '{other}' (drop, reject, accept)")),
        }
    }
    let dst_ports = m
        .dst_port
        .map(OneOrMany::into_vec)
        .unwrap_or_default()
        .into_iter()
        .map(|p| match p {
            PortSpec::Number(n) => Ok((n, n)),
            PortSpec::Text(t) => {
                let err = || format!("'{t}' is not a port or a range such as 8000-8100");
                match t.split_once('-') {
                    Some((a, b)) => {
                        let (a, b): (u16, u16) = (a.trim().parse().map_err(|_| err())?, b.trim().parse().map_err(|_| err())?);
                        if a > b { Err(err()) } else { Ok((a, b)) }
                    }
                    None => t.trim().parse::<u16>().map(|n| (n, n)).map_err(|_| err()),
                }
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let time = match m.time {
        None => None,
        Some(t) => {
            let (range, outside) = match (t.outside, t.inside) {
                (Some(r), None) => (r, true),
                (None, Some(r)) => (r, false),
                (None, None) if t.weekend => ("00:00-00:00".to_owned(), false),
                _ => return Err("time: give one of outside or inside (and weekend if wanted)".to_owned()),
            };
            let (from_min, to_min) = clock(&range)?;
            let offset_min = t.utc_offset.as_deref().map(offset).transpose()?.unwrap_or(0);
            Some(TimeOfDay { from_min, to_min, outside, weekend: t.weekend, offset_min })
        }
    };
    let countries = |list: Option<OneOrMany<String>>| -> Result<Vec<Country>, String> {
        list.map(OneOrMany::into_vec)
            .unwrap_or_default()
            .iter()
            .map(|c| parse_country(c).ok_or_else(|| format!("'{c}' is not a two-letter country code such as NL")))
            .collect()
    };
    let lists = |l: Option<OneOrMany<String>>| -> Vec<(String, Arc<NetSet>)> {
        l.map(OneOrMany::into_vec).unwrap_or_default().into_iter().map(|n| (n, Arc::new(NetSet::default()))).collect()
    };
    Ok(Match {
        src_lists: lists(m.src_in_list),
        dst_lists: lists(m.dst_in_list),
        countries: countries(m.country)?,
        not_countries: countries(m.country_not)?,
        kinds,
        actions,
        programs: m.program.map(OneOrMany::into_vec).unwrap_or_default(),
        dst_ports,
        protos: m.proto.map(OneOrMany::into_vec).unwrap_or_default(),
        users: m.user.map(OneOrMany::into_vec).unwrap_or_default(),
        src_in: nets(m.src_in)?,
        src_not_in: nets(m.src_not_in)?,
        dst_in: nets(m.dst_in)?,
        dst_not_in: nets(m.dst_not_in)?,
        time,
    })
}

/// Reads one rule file's text. `Ok(None)` is a rule switched off (`enabled: false`), which
/// still names the rule it switches off.
pub fn parse_rule(file: &str, text: &str) -> Result<(String, Option<Rule>), RuleError> {
    let fail = |message: String| RuleError { file: file.to_owned(), message };
    if text.len() > 64 * 1024 {
        return Err(fail("a rule file is at most 64 KiB".to_owned()));
    }
    let spec: RuleSpec = serde_norway::from_str(text).map_err(|e| fail(e.to_string()))?;
    let name = spec.name.trim().to_owned();
    if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(fail(format!("name '{name}' must be 1 to 64 letters, digits or '_'")));
    }
    let fail = |message: String| RuleError { file: file.to_owned(), message: format!("rule {name}: {message}") };
    if !spec.enabled {
        return Ok((name, None));
    }
    let severity = spec.severity.ok_or_else(|| fail("severity is missing".to_owned()))?;
    if !matches!(severity.as_str(), "low" | "medium" | "high" | "critical") {
        return Err(fail(format!("severity '{severity}' is not low, medium, high or critical")));
    }
    let when = compile_match(spec.when.ok_or_else(|| fail("match is missing".to_owned()))?).map_err(&fail)?;
    let group_by = match spec.group_by {
        None => vec![Field::Src],
        Some(g) => g.into_vec().iter().map(|f| Field::parse(f)).collect::<Result<Vec<_>, _>>().map_err(&fail)?,
    };
    if group_by.is_empty() || group_by.len() > 4 {
        return Err(fail("group_by names 1 to 4 fields".to_owned()));
    }
    let window_ms = duration_ms(spec.window.as_deref().ok_or_else(|| fail("window is missing".to_owned()))?).map_err(&fail)?;
    let threshold = spec.threshold.ok_or_else(|| fail("threshold is missing".to_owned()))?;
    let bytes = spec.count.as_deref().map(str::trim) == Some("sum bytes");
    if !bytes && !(1..=100_000).contains(&threshold) {
        return Err(fail("threshold is 1 to 100000".to_owned()));
    }
    let only = |what: &str, given: bool, kind: &str| -> Result<(), RuleError> {
        if given { Err(fail(format!("{what} belongs to type {kind} only"))) } else { Ok(()) }
    };
    let kind = spec.kind.as_deref().unwrap_or("threshold");
    let logic = match kind {
        "threshold" => {
            only("then", spec.then.is_some(), "sequence")?;
            only("leak", spec.leak.is_some(), "leaky")?;
            only("value", spec.value.is_some(), "first_seen")?;
            match spec.count.as_deref().map(str::trim) {
                None | Some("events") => Logic::Count,
                Some("sum bytes") => Logic::SumBytes,
                Some(c) => match c.strip_prefix("distinct ") {
                    Some(f) => Logic::Distinct(Field::parse(f.trim()).map_err(&fail)?),
                    None => return Err(fail(format!("count '{c}' is not events or distinct FIELD"))),
                },
            }
        }
        "leaky" => {
            let leak_ms =
                duration_ms(spec.leak.as_deref().ok_or_else(|| fail("leak is missing (such as 6s)".to_owned()))?).map_err(&fail)?;
            Logic::Leaky { leak_ms }
        }
        "sequence" => {
            let then = compile_match(spec.then.ok_or_else(|| fail("then is missing".to_owned()))?).map_err(&fail)?;
            Logic::Sequence { then: Box::new(then) }
        }
        "first_seen" => {
            let value =
                Field::parse(spec.value.as_deref().ok_or_else(|| fail("value is missing (such as src_net)".to_owned()))?).map_err(&fail)?;
            let learn_ms = match spec.learn.as_deref() {
                Some(l) => duration_ms(l).map_err(&fail)?,
                None => 0,
            };
            Logic::FirstSeen { value, learn_ms }
        }
        "travel" => Logic::Travel,
        other => return Err(fail(format!("type '{other}' is not threshold, leaky, sequence, first_seen or travel"))),
    };
    let summary = spec.summary.unwrap_or_else(|| format!("{name}: {{count}} events from {{src}} within {{window}}"));
    Ok((
        name.clone(),
        Some(Rule {
            name,
            description: spec.description.trim().to_owned(),
            severity,
            when,
            group_by,
            logic,
            window_ms,
            threshold,
            summary,
        }),
    ))
}

/// The shipped rule pack's files: (file name, text).
pub const PACK_FILES: &[(&str, &str)] = &[
    ("port_scan_fast.yaml", include_str!("../rules/port_scan_fast.yaml")),
    ("port_scan_slow.yaml", include_str!("../rules/port_scan_slow.yaml")),
    ("horizontal_scan.yaml", include_str!("../rules/horizontal_scan.yaml")),
    ("ssh_brute_force.yaml", include_str!("../rules/ssh_brute_force.yaml")),
    ("vpn_brute_force.yaml", include_str!("../rules/vpn_brute_force.yaml")),
    ("portal_brute_force.yaml", include_str!("../rules/portal_brute_force.yaml")),
    ("device_brute_force.yaml", include_str!("../rules/device_brute_force.yaml")),
    ("password_spraying.yaml", include_str!("../rules/password_spraying.yaml")),
    ("success_after_failures.yaml", include_str!("../rules/success_after_failures.yaml")),
    ("vpn_port_flood.yaml", include_str!("../rules/vpn_port_flood.yaml")),
    ("admin_login_unusual_hours.yaml", include_str!("../rules/admin_login_unusual_hours.yaml")),
    ("new_network_for_user.yaml", include_str!("../rules/new_network_for_user.yaml")),
    ("login_new_country.yaml", include_str!("../rules/login_new_country.yaml")),
    ("impossible_travel.yaml", include_str!("../rules/impossible_travel.yaml")),
    ("blocklisted_source.yaml", include_str!("../rules/blocklisted_source.yaml")),
    ("blocklisted_destination.yaml", include_str!("../rules/blocklisted_destination.yaml")),
    ("vpn_data_volume.yaml", include_str!("../rules/vpn_data_volume.yaml")),
];

/// The shipped pack, compiled. A test checks that every file compiles, so this cannot be
/// empty in a build that passed its tests.
pub fn pack() -> Vec<Rule> {
    PACK_FILES.iter().filter_map(|(f, t)| parse_rule(f, t).ok().and_then(|(_, r)| r)).collect()
}

/// The shipped pack with `extra` files laid over it: a rule of the same name replaces the
/// shipped one, `enabled: false` removes it. Every problem in every file is reported.
pub fn with_overrides(extra: &[(String, String)]) -> Result<Vec<Rule>, Vec<RuleError>> {
    let mut rules = pack();
    let mut errors = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (file, text) in extra {
        match parse_rule(file, text) {
            Ok((name, rule)) => {
                if !seen.insert(name.clone()) {
                    errors.push(RuleError { file: file.clone(), message: format!("rule {name} is defined twice") });
                    continue;
                }
                rules.retain(|r| r.name != name);
                if let Some(r) = rule {
                    rules.push(r);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() { Ok(rules) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_pack_compiles() {
        for (file, text) in PACK_FILES {
            let (name, rule) = parse_rule(file, text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(format!("{name}.yaml"), *file);
            assert!(rule.is_some());
        }
        assert_eq!(pack().len(), PACK_FILES.len());
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            ("name: x\nseverity: high\nwindow: 1m\nthreshold: 1\n", "match is missing"),
            ("name: x\nseverity: urgent\nmatch: {kind: packet}\nwindow: 1m\nthreshold: 1\n", "severity 'urgent'"),
            ("name: x\nseverity: high\nmatch: {kind: pakket}\nwindow: 1m\nthreshold: 1\n", "unknown kind 'pakket'"),
            ("name: x\nseverity: high\nmatch: {kind: packet}\nwindow: 1 minute\nthreshold: 1\n", "not a duration"),
            ("name: x\nseverity: high\nmatch: {kind: packet, colour: red}\nwindow: 1m\nthreshold: 1\n", "unknown field `colour`"),
            ("name: x\nseverity: high\nmatch: {dst_port: [\"90-80\"]}\nwindow: 1m\nthreshold: 1\n", "'90-80'"),
            ("name: x\nseverity: high\nmatch: {src_not_in: [kantoor]}\nwindow: 1m\nthreshold: 1\n", "'kantoor'"),
            (
                "name: x\nseverity: high\nmatch: {kind: packet}\ncount: distinct colour\nwindow: 1m\nthreshold: 1\n",
                "unknown field 'colour'",
            ),
            ("name: x\nseverity: high\ntype: leaky\nmatch: {kind: packet}\nwindow: 1m\nthreshold: 1\n", "leak is missing"),
            (
                "name: x\nseverity: high\nmatch: {kind: packet}\nthen: {kind: packet}\nwindow: 1m\nthreshold: 1\n",
                "then belongs to type sequence",
            ),
            ("name: x\nseverity: high\nmatch: {time: {outside: \"25:00-07:00\"}}\nwindow: 1m\nthreshold: 1\n", "not a range of hours"),
            ("name: x y\nseverity: high\n", "must be 1 to 64"),
            ("- just a list\n", "invalid type"),
            ("name: x\nseverity: high\nmatch: {kind: packet}\nwindow: 1m\nthreshold: 0\n", "threshold is 1 to 100000"),
        ];
        for (text, needle) in cases {
            let e = parse_rule("custom.yaml", text).unwrap_err().to_string();
            assert!(e.contains(needle) && e.starts_with("custom.yaml: "), "{needle}: {e}");
        }
    }

    #[test]
    fn overrides_replace_switch_off_and_add() {
        let extra = vec![
            ("strict-ssh.yaml".to_owned(), "name: ssh_brute_force\nseverity: critical\nmatch: {kind: auth_failure, program: sshd}\nwindow: 5m\nthreshold: 3\n".to_owned()),
            ("off.yaml".to_owned(), "name: port_scan_slow\nenabled: false\n".to_owned()),
            ("rdp.yaml".to_owned(), "name: rdp_probe\nseverity: low\nmatch: {kind: packet, dst_port: 3389, src_not_in: [192.0.2.0/24]}\nwindow: 1h\nthreshold: 3\n".to_owned()),
        ];
        let rules = with_overrides(&extra).unwrap();
        let ssh = rules.iter().find(|r| r.name == "ssh_brute_force").unwrap();
        assert_eq!((ssh.severity.as_str(), ssh.threshold, ssh.window_ms), ("critical", 3, 300_000));
        assert!(!rules.iter().any(|r| r.name == "port_scan_slow"));
        assert!(rules.iter().any(|r| r.name == "rdp_probe"));
        assert_eq!(rules.len(), PACK_FILES.len());
        let twice = vec![("a.yaml".to_owned(), extra[2].1.clone()), ("b.yaml".to_owned(), extra[2].1.clone())];
        assert!(with_overrides(&twice).unwrap_err()[0].message.contains("defined twice"));
    }

    #[test]
    fn time_of_day_in_the_rules_zone() {
        let t = TimeOfDay { from_min: 7 * 60, to_min: 19 * 60, outside: true, weekend: true, offset_min: 60 };
        // Friday 2026-11-27: 05:30 UTC is 06:30 in Amsterdam (outside), 12:00 UTC inside.
        let friday = 1_795_737_600_000i64; // 2026-11-27 00:00 UTC
        assert!(t.matches(friday + (5 * 60 + 30) * 60_000));
        assert!(!t.matches(friday + 12 * 3_600_000));
        assert!(t.matches(friday + 18 * 3_600_000 + 30 * 60_000), "19:30 local");
        // Saturday noon: the weekend.
        assert!(t.matches(friday + 86_400_000 + 12 * 3_600_000));
        let night = TimeOfDay { from_min: 22 * 60, to_min: 6 * 60, outside: false, weekend: false, offset_min: 0 };
        assert!(night.matches(friday + 23 * 3_600_000) && night.matches(friday + 3_600_000) && !night.matches(friday + 12 * 3_600_000));
    }
}
