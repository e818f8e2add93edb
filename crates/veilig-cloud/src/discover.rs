//! Discovery: which cloud services the organisation's machines reach, from their DNS, proxy or
//! Zeek logs — counts per service per day and the unknown registrable domains. No per-person
//! history: client addresses are hashed in memory to count distinct clients and leave as counts.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::logs::{Format, Line, Reader};

/// The unknown domains kept at most (the rest is counted in `unknown_dropped`).
pub const MAX_UNKNOWN: usize = 100_000;
/// Lines not understood that are kept as samples.
pub const SAMPLES: usize = 10;

/// Client hashes are already uniform: hash them no further.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Clients = HashSet<u64, BuildHasherDefault<Identity>>;

/// FNV-1a, mixed: a client address as a 64-bit number.
fn client_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^ (h >> 29)
}

#[derive(Default)]
struct Tally {
    queries: u64,
    clients: Clients,
    first: Option<i64>,
    last: Option<i64>,
    /// Per day (Unix day number): queries and clients.
    days: BTreeMap<i64, (u64, Clients)>,
}

impl Tally {
    fn add(&mut self, client: u64, at: Option<i64>) {
        self.queries += 1;
        self.clients.insert(client);
        if let Some(t) = at {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
            let day = self.days.entry(t.div_euclid(86_400)).or_default();
            day.0 += 1;
            day.1.insert(client);
        }
    }
}

/// One day of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    /// `2026-11-27`.
    pub day: String,
    pub queries: u64,
    pub clients: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceFinding {
    /// The catalog's id.
    pub service: String,
    pub name: String,
    pub domains: Vec<String>,
    pub functions: Vec<String>,
    pub queries: u64,
    pub clients: usize,
    /// Unix seconds.
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    pub days: Vec<DayCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownDomain {
    /// The registrable domain (eTLD+1).
    pub domain: String,
    pub queries: u64,
    pub clients: usize,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
}

/// What a run found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Findings {
    /// Services in the catalog that were reached, most queries first.
    pub services: Vec<ServiceFinding>,
    /// Public registrable domains outside the catalog, most queries first.
    pub unknown: Vec<UnknownDomain>,
    pub lines: u64,
    pub queries: u64,
    /// Lines that were not queries (replies, headers, other messages).
    pub other: u64,
    pub malformed: u64,
    /// Queries for names without a public suffix (`printer.local`, reverse lookups).
    pub internal: u64,
    pub unknown_dropped: u64,
    /// The first lines not understood, cut at 200 characters.
    pub samples: Vec<String>,
}

/// A discovery run over any number of files.
pub struct Discovery<'c> {
    catalog: &'c Catalog,
    reader: Reader,
    services: HashMap<u32, Tally>,
    unknown: HashMap<String, Tally>,
    stats: Findings,
    name_buf: String,
}

fn day_text(day: i64) -> String {
    // civil from days (inverse of logs::days_from_civil)
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// A sample line with its IP addresses replaced by `‹ip›`: the format stays visible, the person
/// does not.
pub fn mask_addresses(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let core = run.trim_end_matches(['.', ':']);
        if core.len() >= 3 && core.parse::<std::net::IpAddr>().is_ok() {
            out.push_str("‹ip›");
            out.push_str(&run[core.len()..]);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in line.chars() {
        if c.is_ascii_hexdigit() || c == '.' || c == ':' {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

fn valid_name(n: &str) -> bool {
    !n.is_empty() && n.len() <= 253 && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
}

impl<'c> Discovery<'c> {
    /// `year` dates syslog time stamps that carry none (dnsmasq).
    pub fn new(catalog: &'c Catalog, format: Format, year: i32) -> Discovery<'c> {
        Discovery {
            catalog,
            reader: Reader::new(format, year),
            services: HashMap::new(),
            unknown: HashMap::new(),
            stats: Findings {
                services: Vec::new(),
                unknown: Vec::new(),
                lines: 0,
                queries: 0,
                other: 0,
                malformed: 0,
                internal: 0,
                unknown_dropped: 0,
                samples: Vec::new(),
            },
            name_buf: String::new(),
        }
    }

    /// A new file begins: headers of the last one no longer apply; `year` for its syslog stamps.
    pub fn start_file(&mut self, format: Format, year: i32) {
        self.reader = Reader::new(format, year);
    }

    pub fn feed(&mut self, line: &[u8]) {
        self.stats.lines += 1;
        let q = match self.reader.read(line) {
            Line::Query(q) => q,
            Line::Other => {
                self.stats.other += 1;
                return;
            }
            Line::Malformed => {
                self.stats.malformed += 1;
                if self.stats.samples.len() < SAMPLES {
                    let text: String = String::from_utf8_lossy(line).chars().take(200).collect();
                    self.stats.samples.push(mask_addresses(&text));
                }
                return;
            }
        };
        self.stats.queries += 1;
        let name = &mut self.name_buf;
        name.clear();
        name.push_str(q.name.trim_end_matches('.'));
        name.make_ascii_lowercase();
        if !valid_name(name) || name.ends_with(".arpa") || name.ends_with(".local") {
            self.stats.internal += 1;
            return;
        }
        let client = client_hash(&q.client);
        if let Some(i) = self.catalog.lookup(name) {
            self.services.entry(i).or_default().add(client, q.at);
            return;
        }
        let known_suffix = psl::suffix(name.as_bytes()).is_some_and(|s| s.is_known());
        match psl::domain_str(name) {
            Some(domain) if known_suffix => {
                if let Some(t) = self.unknown.get_mut(domain) {
                    t.add(client, q.at);
                } else if self.unknown.len() < MAX_UNKNOWN {
                    let mut t = Tally::default();
                    t.add(client, q.at);
                    self.unknown.insert(domain.to_owned(), t);
                } else {
                    self.stats.unknown_dropped += 1;
                }
            }
            _ => self.stats.internal += 1,
        }
    }

    /// Feeds a whole buffer of lines (`\n`-separated; a last line without one counts too).
    pub fn feed_all(&mut self, bytes: &[u8]) {
        for line in bytes.split(|&b| b == b'\n') {
            if !line.is_empty() {
                self.feed(line);
            }
        }
    }

    pub fn finish(self) -> Findings {
        self.snapshot()
    }

    /// What was found so far, leaving the run going (live discovery shows this).
    pub fn snapshot(&self) -> Findings {
        let mut out = self.stats.clone();
        let days = |t: &Tally| t.days.iter().map(|(d, (q, c))| DayCount { day: day_text(*d), queries: *q, clients: c.len() }).collect();
        out.services = self
            .services
            .iter()
            .filter_map(|(i, t)| {
                let s = self.catalog.get(*i)?;
                Some(ServiceFinding {
                    service: s.id.clone(),
                    name: s.name.clone(),
                    domains: s.domains.clone(),
                    functions: s.functions.clone(),
                    queries: t.queries,
                    clients: t.clients.len(),
                    first_seen: t.first,
                    last_seen: t.last,
                    days: days(t),
                })
            })
            .collect();
        out.services.sort_by(|a, b| b.queries.cmp(&a.queries).then_with(|| a.service.cmp(&b.service)));
        out.unknown = self
            .unknown
            .iter()
            .map(|(d, t)| UnknownDomain {
                domain: d.clone(),
                queries: t.queries,
                clients: t.clients.len(),
                first_seen: t.first,
                last_seen: t.last,
            })
            .collect();
        out.unknown.sort_by(|a, b| b.queries.cmp(&a.queries).then_with(|| a.domain.cmp(&b.domain)));
        out
    }
}
