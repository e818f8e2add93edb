//! Readers for the logs discovery reads: one line in, a [`Line`] out, never a panic. Each
//! reader follows its program's documented format; `Format::Auto` recognises the format per
//! line, so mixed or concatenated files work.

use std::borrow::Cow;

/// The log formats discovery reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Recognise each line.
    Auto,
    /// dnsmasq and Pi-hole (`… dnsmasq[812]: query[A] name from 192.168.1.23`).
    Dnsmasq,
    /// Unbound with `log-queries: yes` (`[epoch] unbound[pid:t] info: client name. A IN`).
    Unbound,
    /// BIND 9's query log (`27-Nov-2026 09:12:01.123 queries: info: client … query: name IN A …`).
    Bind,
    /// The Windows Server DNS debug log (packet logging).
    WindowsDns,
    /// Squid's native `access.log`.
    Squid,
    /// Zeek `dns.log` or `ssl.log`, TSV (with its `#fields` header) or JSON.
    Zeek,
}

impl Format {
    pub const NAMES: &'static [&'static str] = &["auto", "dnsmasq", "pihole", "unbound", "bind", "windows-dns", "squid", "zeek"];

    pub fn parse(name: &str) -> Option<Format> {
        Some(match name {
            "auto" => Format::Auto,
            "dnsmasq" | "pihole" => Format::Dnsmasq,
            "unbound" => Format::Unbound,
            "bind" => Format::Bind,
            "windows-dns" => Format::WindowsDns,
            "squid" => Format::Squid,
            "zeek" => Format::Zeek,
            _ => return None,
        })
    }
}

/// One name looked up (or connected to) by one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query<'a> {
    /// As logged: any case, maybe with a final dot.
    pub name: Cow<'a, str>,
    pub client: Cow<'a, str>,
    /// Unix seconds, when the line has a time.
    pub at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line<'a> {
    Query(Query<'a>),
    /// A well-formed line that is not a query (replies, headers, other messages).
    Other,
    /// Not a line of the format.
    Malformed,
}

/// Column positions from a Zeek `#fields` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ZeekColumns {
    count: usize,
    ts: usize,
    client: usize,
    name: usize,
}

/// Reads lines of one file (Zeek TSV keeps its header's columns between lines).
#[derive(Debug, Clone)]
pub struct Reader {
    format: Format,
    /// The year for syslog time stamps that carry none (dnsmasq).
    year: i32,
    zeek: Option<ZeekColumns>,
}

const MONTHS: [&[u8; 3]; 12] = [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];

fn month(b: &[u8]) -> Option<u32> {
    MONTHS.iter().position(|m| b.eq_ignore_ascii_case(&m[..])).map(|i| i as u32 + 1)
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |n, &c| n * 10 + u32::from(c - b'0')))
}

/// `hh:mm:ss` (with anything after the seconds ignored) as seconds of the day.
fn clock(b: &[u8]) -> Option<i64> {
    let mut it = b.splitn(3, |&c| c == b':');
    let h = num(it.next()?)?;
    let m = num(it.next()?)?;
    let s = it.next()?;
    let s = num(&s[..s.iter().position(|c| !c.is_ascii_digit()).unwrap_or(s.len())])?;
    (h < 24 && m < 60 && s < 61).then(|| i64::from(h * 3600 + m * 60 + s))
}

fn date(y: i32, m: u32, d: u32) -> Option<i64> {
    ((1..=12).contains(&m) && (1..=31).contains(&d) && (1970..=2200).contains(&y)).then(|| days_from_civil(y, m, d) * 86_400)
}

/// Unix seconds with an optional fraction (`1795770721.123`).
fn epoch(b: &[u8]) -> Option<i64> {
    let whole = &b[..b.iter().position(|&c| c == b'.').unwrap_or(b.len())];
    let frac = &b[whole.len()..];
    if whole.is_empty() || whole.len() > 12 || !whole.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if frac.len() > 1 && !frac[1..].iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(whole.iter().fold(0i64, |n, &c| n * 10 + i64::from(c - b'0')))
}

fn text(b: &[u8]) -> Option<&str> {
    std::str::from_utf8(b).ok()
}

fn words(b: &[u8]) -> impl Iterator<Item = &[u8]> {
    b.split(|c| *c == b' ' || *c == b'\t').filter(|w| !w.is_empty())
}

fn is_ip(b: &[u8]) -> bool {
    text(b).is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok())
}

fn query<'a>(name: &'a [u8], client: &'a [u8], at: Option<i64>) -> Line<'a> {
    match (text(name), text(client)) {
        (Some(n), Some(c)) if !n.is_empty() && !c.is_empty() => Line::Query(Query { name: Cow::Borrowed(n), client: Cow::Borrowed(c), at }),
        _ => Line::Malformed,
    }
}

impl Reader {
    pub fn new(format: Format, year: i32) -> Reader {
        Reader { format, year, zeek: None }
    }

    /// Reads one line (without its line ending; a trailing `\r` is ignored).
    pub fn read<'a>(&mut self, line: &'a [u8]) -> Line<'a> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        // a line as a syslog receiver saved it: `<30>Nov 27 … host dnsmasq[812]: …`
        let line = match line.strip_prefix(b"<").and_then(|r| r.iter().position(|&c| c == b'>').map(|i| (r, i))) {
            Some((r, i)) if (1..=3).contains(&i) && r[..i].iter().all(u8::is_ascii_digit) => &r[i + 1..],
            _ => line,
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            return Line::Other;
        }
        match self.format {
            Format::Dnsmasq => self.dnsmasq(line),
            Format::Unbound => unbound(line),
            Format::Bind => bind(line),
            Format::WindowsDns => windows(line),
            Format::Squid => squid(line),
            Format::Zeek => self.zeek(line),
            Format::Auto => self.auto(line),
        }
    }

    fn auto<'a>(&mut self, line: &'a [u8]) -> Line<'a> {
        match line[0] {
            b'#' | b'{' => self.zeek(line),
            b'[' => unbound(line),
            b'0'..=b'9' => {
                if self.zeek.is_some() && memchr::memchr(b'\t', line).is_some() {
                    self.zeek(line)
                } else if line.len() > 11 && line[2] == b'-' && line[6] == b'-' {
                    bind(line)
                } else if memchr::memmem::find(line, b" PACKET ").is_some() {
                    windows(line)
                } else {
                    squid(line)
                }
            }
            b'A'..=b'Z' if line.len() > 16 && month(&line[..3]).is_some() => self.dnsmasq(line),
            _ => windows(line),
        }
    }

    /// `Mmm dd hh:mm:ss [host ]prog[pid]: query[TYPE] NAME from CLIENT`.
    fn dnsmasq<'a>(&self, line: &'a [u8]) -> Line<'a> {
        if line.len() < 16 {
            return Line::Malformed;
        }
        let Some(m) = month(&line[..3]) else { return Line::Malformed };
        let day = num(line[4..6].trim_ascii());
        let at = match (day, clock(&line[7..15])) {
            (Some(d), Some(t)) => date(self.year, m, d).map(|s| s + t),
            _ => return Line::Malformed,
        };
        let Some(colon) = memchr::memmem::find(&line[15..], b"]: ").map(|i| i + 15 + 3) else { return Line::Malformed };
        let msg = &line[colon..];
        let Some(rest) = msg.strip_prefix(b"query[") else { return Line::Other };
        let Some(close) = memchr::memchr(b']', rest) else { return Line::Malformed };
        let rest = &rest[close + 1..];
        let rest = rest.strip_prefix(b" ").unwrap_or(rest);
        let Some(from) = memchr::memmem::find(rest, b" from ") else { return Line::Malformed };
        let client = rest[from + 6..].trim_ascii();
        if !is_ip(client) {
            return Line::Malformed;
        }
        query(&rest[..from], client, at)
    }

    fn zeek<'a>(&mut self, line: &'a [u8]) -> Line<'a> {
        if line[0] == b'{' {
            return zeek_json(line);
        }
        if let Some(fields) = line.strip_prefix(b"#fields") {
            let names: Vec<&[u8]> = fields.split(|&c| c == b'\t').filter(|f| !f.is_empty()).collect();
            let find = |n: &[u8]| names.iter().position(|f| *f == n);
            self.zeek = match (find(b"ts"), find(b"id.orig_h"), find(b"query").or_else(|| find(b"server_name"))) {
                (Some(ts), Some(client), Some(name)) => Some(ZeekColumns { count: names.len(), ts, client, name }),
                _ => None,
            };
            return Line::Other;
        }
        if line[0] == b'#' {
            const META: [&[u8]; 8] =
                [b"#separator", b"#set_separator", b"#empty_field", b"#unset_field", b"#path", b"#open", b"#close", b"#types"];
            return if META.iter().any(|m| line.starts_with(m)) { Line::Other } else { Line::Malformed };
        }
        let Some(cols) = self.zeek else { return Line::Malformed };
        let parts: Vec<&[u8]> = line.split(|&c| c == b'\t').collect();
        if parts.len() != cols.count {
            return Line::Malformed;
        }
        let name = parts[cols.name];
        if name == b"-" || name == b"(empty)" {
            return Line::Other;
        }
        match epoch(parts[cols.ts]) {
            Some(at) => query(name, parts[cols.client], Some(at)),
            None => Line::Malformed,
        }
    }
}

/// `[epoch] unbound[pid:thread] info: CLIENT NAME. TYPE CLASS` (four fields: a query).
fn unbound(line: &[u8]) -> Line<'_> {
    let Some(close) = memchr::memchr(b']', line) else { return Line::Malformed };
    let Some(at) = line.get(1..close).and_then(epoch) else { return Line::Malformed };
    let Some(info) = memchr::memmem::find(line, b" info: ") else {
        // another level's message (`notice:`, `warning:` …) is a line of the log, not a query
        let mut w = words(&line[close + 1..]);
        let prog = w.next().is_some_and(|p| p.starts_with(b"unbound[") && p.ends_with(b"]"));
        let level = w.next().is_some_and(|l| l.len() > 1 && l.ends_with(b":") && l[..l.len() - 1].iter().all(u8::is_ascii_lowercase));
        return if prog && level { Line::Other } else { Line::Malformed };
    };
    let fields: Vec<&[u8]> = words(&line[info + 7..]).collect();
    if fields.len() == 4 && is_ip(fields[0]) { query(fields[1], fields[0], Some(at)) } else { Line::Other }
}

/// `dd-Mmm-yyyy hh:mm:ss.mmm queries: info: client [@0x…] IP#PORT (NAME): [view V: ]query: NAME CLASS TYPE …`.
fn bind(line: &[u8]) -> Line<'_> {
    let mut w = words(line);
    let (Some(d), Some(t), Some(category)) = (w.next(), w.next(), w.next()) else { return Line::Malformed };
    let mut parts = d.split(|&c| c == b'-');
    let (Some(day), Some(mon), Some(year)) = (parts.next().and_then(num), parts.next().and_then(month), parts.next().and_then(num)) else {
        return Line::Malformed;
    };
    let Some(at) = date(year as i32, mon, day).zip(clock(t)).map(|(a, b)| a + b) else { return Line::Malformed };
    if category != b"queries:" {
        return if category.ends_with(b":") { Line::Other } else { Line::Malformed };
    }
    let Some(c) = memchr::memmem::find(line, b" client ") else { return Line::Malformed };
    let mut rest = &line[c + 8..];
    if rest.starts_with(b"@0x") {
        let Some(sp) = memchr::memchr(b' ', rest) else { return Line::Malformed };
        rest = &rest[sp + 1..];
    }
    let Some(hash) = memchr::memchr(b'#', rest) else { return Line::Malformed };
    let client = &rest[..hash];
    let Some(q) = memchr::memmem::find(rest, b"query: ") else { return Line::Malformed };
    let mut after = words(&rest[q + 7..]);
    let (Some(name), Some(_class), Some(_type)) = (after.next(), after.next(), after.next()) else { return Line::Malformed };
    if !is_ip(client) {
        return Line::Malformed;
    }
    query(name, client, Some(at))
}

/// Windows Server DNS debug log: `M/D/YYYY h:mm:ss AM THREAD PACKET CONTEXT PROTO Rcv|Snd IP XID [R] OPCODE [FLAGS] TYPE NAME`.
fn windows(line: &[u8]) -> Line<'_> {
    let w: Vec<&[u8]> = words(line).collect();
    let header = |l: &[u8]| {
        [&b"DNS Server log"[..], b"Log file wrap", b"Message logging key", b"Field #", b"Log file"].iter().any(|p| l.starts_with(p))
    };
    if line[0] == b'\t' || line[0] == b' ' || header(line) {
        return Line::Other;
    }
    if w.len() < 12 || w.get(4) != Some(&&b"PACKET"[..]) {
        return Line::Malformed;
    }
    let mut d = w[0].split(|&c| c == b'/');
    let (Some(m), Some(day), Some(y)) = (d.next().and_then(num), d.next().and_then(num), d.next().and_then(num)) else {
        return Line::Malformed;
    };
    let Some(mut t) = clock(w[1]) else { return Line::Malformed };
    let pm = w[2].eq_ignore_ascii_case(b"PM");
    if (pm || w[2].eq_ignore_ascii_case(b"AM")) && t >= 12 * 3600 {
        t -= 12 * 3600;
    }
    if pm {
        t += 12 * 3600;
    }
    let Some(day0) = date(y as i32, m, day) else { return Line::Malformed };
    if w[7] != b"Rcv" && w[7] != b"Snd" {
        return Line::Malformed;
    }
    if !is_ip(w[8]) {
        return Line::Malformed;
    }
    // after the transaction id: "Q" for a query; "R Q" for a response
    if w[7] != b"Rcv" || w[10] != b"Q" {
        return Line::Other;
    }
    let Some(encoded) = w.last() else { return Line::Malformed };
    match decode_windows_name(encoded) {
        Some(name) => match text(w[8]) {
            Some(client) => Line::Query(Query { name: Cow::Owned(name), client: Cow::Borrowed(client), at: Some(day0 + t) }),
            None => Line::Malformed,
        },
        None => Line::Malformed,
    }
}

/// `(7)us05web(4)zoom(2)us(0)` → `us05web.zoom.us`.
fn decode_windows_name(b: &[u8]) -> Option<String> {
    let mut out = String::new();
    let mut rest = b;
    loop {
        let rest2 = rest.strip_prefix(b"(")?;
        let close = memchr::memchr(b')', rest2)?;
        let n = num(&rest2[..close])? as usize;
        rest = &rest2[close + 1..];
        if n == 0 {
            return (!out.is_empty() && rest.is_empty()).then_some(out);
        }
        let label = rest.get(..n)?;
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(text(label)?);
        rest = &rest[n..];
    }
}

/// Squid native: `time elapsed client code/status bytes method URL user hierarchy/peer type`.
fn squid(line: &[u8]) -> Line<'_> {
    let w: Vec<&[u8]> = words(line).take(8).collect();
    if w.len() < 7 || !is_ip(w[2]) || memchr::memchr(b'/', w[3]).is_none() || num(w[1]).is_none() {
        return Line::Malformed;
    }
    let Some(at) = epoch(w[0]) else { return Line::Malformed };
    let url = w[6];
    let authority = match memchr::memmem::find(url, b"://") {
        Some(i) => {
            let rest = &url[i + 3..];
            &rest[..rest.iter().position(|&c| c == b'/' || c == b'?').unwrap_or(rest.len())]
        }
        None => url,
    };
    let authority = authority.rsplit(|&c| c == b'@').next().unwrap_or(authority);
    let host = if authority.first() == Some(&b'[') {
        &authority[1..authority.iter().position(|&c| c == b']').unwrap_or(authority.len())]
    } else {
        &authority[..authority.iter().position(|&c| c == b':').unwrap_or(authority.len())]
    };
    if host.is_empty() {
        return Line::Malformed;
    }
    query(host, w[2], Some(at))
}

/// A Zeek JSON record: `query` (dns.log) or `server_name` (ssl.log), `id.orig_h`, `ts`.
fn zeek_json(line: &[u8]) -> Line<'_> {
    let Ok(serde_json::Value::Object(v)) = serde_json::from_slice::<serde_json::Value>(line) else { return Line::Malformed };
    let name = v.get("query").or_else(|| v.get("server_name")).and_then(|n| n.as_str());
    let client = v.get("id.orig_h").and_then(|c| c.as_str());
    let at = match v.get("ts") {
        Some(serde_json::Value::Number(n)) => n.as_f64().map(|f| f as i64),
        Some(serde_json::Value::String(s)) => iso(s.as_bytes()),
        _ => None,
    };
    match (name, client) {
        (Some(n), Some(c)) if !n.is_empty() => Line::Query(Query { name: Cow::Owned(n.to_owned()), client: Cow::Owned(c.to_owned()), at }),
        (None, Some(_)) => Line::Other,
        _ => Line::Malformed,
    }
}

/// `2026-11-27T08:12:01.123456Z`.
fn iso(b: &[u8]) -> Option<i64> {
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || (b[10] != b'T' && b[10] != b' ') {
        return None;
    }
    let d = date(num(&b[..4])? as i32, num(&b[5..7])?, num(&b[8..10])?)?;
    Some(d + clock(&b[11..19])?)
}
