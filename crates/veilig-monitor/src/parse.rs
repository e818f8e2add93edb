//! Line parsers. Each is hand-written over the bytes of the line (no regular expressions), so a
//! line costs a few hundred nanoseconds, and none can be made to panic or to allocate without
//! bound by its input.

use std::net::IpAddr;

use crate::event::{Action, Event, Kind};
use crate::syslog;

/// Which parser to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Recognise each line by its program and shape.
    Auto,
    /// Linux netfilter LOG/NFLOG lines (iptables, nftables, ufw, firewalld).
    Netfilter,
    /// OpenSSH server messages.
    Sshd,
    /// pfSense and OPNsense `filterlog` CSV.
    Filterlog,
    /// FortiGate `key=value` traffic and event logs.
    Fortigate,
    /// Cisco ASA and FTD `%ASA-n-nnnnnn` messages.
    CiscoAsa,
    /// OpenVPN server messages.
    Openvpn,
    /// Windows Firewall `pfirewall.log`.
    WindowsFirewall,
    /// MikroTik RouterOS firewall and login messages.
    Mikrotik,
}

impl Format {
    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "auto" => Some(Format::Auto),
            "netfilter" | "iptables" | "nftables" | "ufw" | "firewalld" => Some(Format::Netfilter),
            "sshd" | "ssh" => Some(Format::Sshd),
            "filterlog" | "pf" | "pfsense" | "opnsense" => Some(Format::Filterlog),
            "fortigate" | "fortinet" => Some(Format::Fortigate),
            "cisco-asa" | "asa" | "ftd" => Some(Format::CiscoAsa),
            "openvpn" => Some(Format::Openvpn),
            "windows-firewall" | "pfirewall" => Some(Format::WindowsFirewall),
            "mikrotik" | "routeros" => Some(Format::Mikrotik),
            _ => None,
        }
    }

    pub const NAMES: &'static str = "auto, netfilter (iptables, nftables, ufw, firewalld), sshd, filterlog (pfSense, OPNsense), fortigate, cisco-asa, openvpn, windows-firewall, mikrotik";
}

/// The result of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<'a> {
    Event(Event<'a>),
    /// Understood, but nothing the engine uses (a session closed, a cron job).
    Ignored,
    /// Not understood; the reason is for the administrator's sample of unparsed lines.
    Unparsed(&'static str),
}

/// Parses one line. `year` completes time stamps that have none.
pub fn parse_line(line: &str, format: Format, year: i32) -> Parsed<'_> {
    let line = line.trim_end_matches(['\r', '\n']);
    match parse_inner(line, format, year) {
        Parsed::Event(mut e) => {
            e.line = line;
            Parsed::Event(e)
        }
        other => other,
    }
}

fn parse_inner(line: &str, format: Format, year: i32) -> Parsed<'_> {
    if line.is_empty() {
        return Parsed::Ignored;
    }
    // Formats that do not start with a standard syslog header.
    if matches!(format, Format::Auto | Format::WindowsFirewall)
        && line.starts_with(['#', '1', '2'])
        && let Some(p) = windows_firewall(line)
    {
        return p;
    }
    let body = strip_pri(line);
    if matches!(format, Format::Auto | Format::Fortigate) && body.starts_with("date=") {
        return fortigate(body).unwrap_or(Parsed::Unparsed("fields missing or malformed"));
    }
    if matches!(format, Format::Auto | Format::CiscoAsa) {
        // One fast byte search for '%' keeps this cheap for every other format.
        if let Some(at) = line.find('%').filter(|&at| line[at..].starts_with("%ASA-") || line[at..].starts_with("%FTD-")) {
            return cisco_asa(body, &line[at..], year).unwrap_or(Parsed::Unparsed("fields missing or malformed"));
        }
    }
    let Some(h) = syslog::parse(line, year) else { return Parsed::Unparsed("no syslog header") };
    let which = match format {
        Format::Auto => match h.tag {
            "sshd" => Format::Sshd,
            "filterlog" => Format::Filterlog,
            "openvpn" | "ovpn-server" => Format::Openvpn,
            t if t.starts_with("firewall,") || t.starts_with("system,") => Format::Mikrotik,
            _ if h.msg.contains("SRC=") && h.msg.contains("PROTO=") => Format::Netfilter,
            _ => return Parsed::Unparsed("unknown program"),
        },
        f => f,
    };
    let parsed = match which {
        Format::Netfilter => netfilter(h.ts_ms, h.tag, h.msg),
        Format::Sshd => sshd(h.ts_ms, h.msg),
        Format::Filterlog => filterlog(h.ts_ms, h.msg),
        Format::Openvpn => openvpn(h.ts_ms, h.msg),
        Format::Mikrotik => mikrotik(h.ts_ms, h.tag, h.msg),
        Format::Auto | Format::Fortigate | Format::CiscoAsa | Format::WindowsFirewall => None,
    };
    match parsed {
        Some(p) => p,
        None => Parsed::Unparsed("fields missing or malformed"),
    }
}

fn action_of(prefix: &str) -> Action {
    let upper = prefix.as_bytes();
    let has = |word: &[u8]| upper.windows(word.len()).any(|w| w.eq_ignore_ascii_case(word));
    if has(b"ACCEPT") || has(b"ALLOW") || has(b"FWD") || has(b"PASS") {
        Action::Accept
    } else if has(b"DROP") || has(b"REJECT") || has(b"BLOCK") || has(b"DENY") {
        Action::Drop
    } else {
        Action::Unknown
    }
}

/// `[12.3] PREFIX IN=eth0 OUT= MAC=.. SRC=a DST=b LEN=.. PROTO=TCP SPT=1 DPT=2 ..`
fn netfilter<'a>(ts_ms: i64, tag: &'a str, msg: &'a str) -> Option<Parsed<'a>> {
    let body = match msg.strip_prefix('[') {
        Some(after) => after.split_once("] ").map(|(_, b)| b).unwrap_or(after),
        None => msg,
    };
    let in_at = body.find("IN=")?;
    let prefix = &body[..in_at];
    let mut e = Event::new(ts_ms, Kind::Packet, tag);
    e.action = action_of(prefix);
    // `KEY=value` fields separated by single spaces, read with plain byte loops (this is the
    // hottest loop of a firewall replay); the fields Veilig uses all come before `DPT=`, so the
    // rest of the line (WINDOW, flags) is not read.
    let bytes = body.as_bytes();
    let mut at = in_at;
    while at < bytes.len() {
        let end = bytes[at..].iter().position(|b| *b == b' ').map_or(bytes.len(), |n| at + n);
        let field = &body[at..end];
        at = end + 1;
        if !matches!(field.as_bytes().first(), Some(b'I' | b'S' | b'D' | b'P')) {
            continue;
        }
        let Some(eq) = field.bytes().position(|b| b == b'=') else { continue };
        let (k, v) = (&field[..eq], &field[eq + 1..]);
        match k {
            "IN" => e.iface = v,
            "SRC" => e.src = v.parse::<IpAddr>().ok(),
            "DST" => e.dst = v.parse::<IpAddr>().ok(),
            "PROTO" => e.proto = v,
            "SPT" => e.src_port = v.parse().ok(),
            "DPT" => {
                e.dst_port = v.parse().ok();
                break;
            }
            _ => {}
        }
    }
    e.src?;
    Some(Parsed::Event(e))
}

/// The sshd messages about sign-ins. Only `Failed ...` lines count as failures: sshd writes an
/// `Invalid user` line *and* a `Failed password for invalid user` line for the same attempt.
fn sshd(ts_ms: i64, msg: &str) -> Option<Parsed<'_>> {
    let (kind, rest) = if let Some(r) = msg.strip_prefix("Failed ") {
        (Kind::AuthFailure, r)
    } else if let Some(r) = msg.strip_prefix("Accepted ") {
        (Kind::AuthSuccess, r)
    } else {
        return Some(Parsed::Ignored);
    };
    // "<method> for [invalid user ]<user> from <ip> port <n> ssh2"
    let (_, after_for) = rest.split_once(" for ")?;
    let after_for = after_for.strip_prefix("invalid user ").unwrap_or(after_for);
    let from = after_for.rfind(" from ")?;
    let user = &after_for[..from];
    let mut words = after_for[from + 6..].split(' ');
    let ip: IpAddr = words.next()?.parse().ok()?;
    let port = match (words.next(), words.next()) {
        (Some("port"), Some(p)) => p.parse().ok(),
        _ => None,
    };
    let mut e = Event::new(ts_ms, kind, "sshd");
    e.user = user;
    e.src = Some(ip);
    e.src_port = port;
    e.dst_port = Some(22);
    e.proto = "TCP";
    Some(Parsed::Event(e))
}

/// pf `filterlog` CSV: rule, sub-rule, anchor, tracker, interface, reason, action, direction,
/// IP version, then per version and protocol.
fn filterlog(ts_ms: i64, msg: &str) -> Option<Parsed<'_>> {
    let f: Vec<&str> = msg.splitn(32, ',').collect();
    if f.len() < 9 {
        return None;
    }
    let mut e = Event::new(ts_ms, Kind::Packet, "filterlog");
    e.iface = f[4];
    e.action = match f[6] {
        "block" | "reject" => Action::Drop,
        "pass" => Action::Accept,
        _ => Action::Unknown,
    };
    let (proto, src, dst, ports) = match f[8] {
        "4" if f.len() >= 20 => (16, 18, 19, 20),
        "6" if f.len() >= 17 => (12, 15, 16, 17),
        _ => return None,
    };
    e.proto = f[proto];
    e.src = Some(f[src].parse().ok()?);
    e.dst = f[dst].parse().ok();
    if e.proto.eq_ignore_ascii_case("tcp") || e.proto.eq_ignore_ascii_case("udp") {
        e.src_port = f.get(ports).and_then(|p| p.parse().ok());
        e.dst_port = f.get(ports + 1).and_then(|p| p.parse().ok());
    }
    Some(Parsed::Event(e))
}

fn strip_pri(line: &str) -> &str {
    match line.strip_prefix('<').and_then(|r| r.split_once('>')) {
        Some((pri, rest)) if !pri.is_empty() && pri.len() <= 3 && pri.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => line,
    }
}

/// The value of `key` in a FortiGate line: `key=value` or `key="value with spaces"`.
fn kv<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let mut search = 0;
    while let Some(pos) = line[search..].find(key) {
        let at = search + pos;
        let before_ok = at == 0 || line.as_bytes()[at - 1] == b' ';
        let after = &line[at + key.len()..];
        if before_ok && let Some(v) = after.strip_prefix('=') {
            return Some(match v.strip_prefix('"') {
                Some(q) => q.split('"').next().unwrap_or(""),
                None => v.split(' ').next().unwrap_or(""),
            });
        }
        search = at + key.len();
    }
    None
}

/// FortiGate: `date=2026-11-27 time=06:10:00 ... srcip=.. dstip=.. dstport=.. action="deny"`;
/// VPN and administrator sign-in events carry `user=` and `action="ssl-login-fail"` or
/// `status="failed"`.
fn fortigate(line: &str) -> Option<Parsed<'_>> {
    let date = kv(line, "date")?;
    let time_of_day = kv(line, "time")?;
    let ts = time::PrimitiveDateTime::parse(
        &format!("{date} {time_of_day}"),
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
    )
    .ok()?;
    let ts_ms = ts.assume_utc().unix_timestamp() * 1000;
    let action = kv(line, "action").unwrap_or("");
    let status = kv(line, "status").unwrap_or("");
    let src = kv(line, "srcip").or_else(|| kv(line, "remip")).and_then(|v| v.parse::<IpAddr>().ok());
    let user = kv(line, "user").unwrap_or("");
    let login_failed =
        action.contains("login-fail") || action == "tunnel-down" && status == "failed" || (action == "login" && status == "failed");
    let login_ok = (action == "login" && status == "success") || action == "tunnel-up" || action == "ssl-login-success";
    let mut e = if login_failed || login_ok {
        let mut e = Event::new(ts_ms, if login_failed { Kind::AuthFailure } else { Kind::AuthSuccess }, "fortigate");
        e.user = user;
        e
    } else if kv(line, "type") == Some("traffic") {
        let mut e = Event::new(ts_ms, Kind::Packet, "fortigate");
        e.action = match action {
            "deny" | "blocked" | "block" | "drop" => Action::Drop,
            "accept" | "close" | "timeout" | "server-rst" | "client-rst" | "start" => Action::Accept,
            _ => Action::Unknown,
        };
        e.dst = kv(line, "dstip").and_then(|v| v.parse().ok());
        e.src_port = kv(line, "srcport").and_then(|v| v.parse().ok());
        e.dst_port = kv(line, "dstport").and_then(|v| v.parse().ok());
        e.proto = match kv(line, "proto") {
            Some("6") => "TCP",
            Some("17") => "UDP",
            Some("1") => "ICMP",
            Some(other) => other,
            None => "",
        };
        e.iface = kv(line, "srcintf").unwrap_or("");
        e
    } else {
        return Some(Parsed::Ignored);
    };
    e.src = Some(src?);
    Some(Parsed::Event(e))
}

/// `a.b.c.d/port` or `iface:a.b.c.d/port` → (ip, port).
fn ip_slash_port(s: &str) -> Option<(IpAddr, Option<u16>)> {
    let s = s.rsplit(':').next().filter(|_| !s.contains("::")).unwrap_or(s);
    let s = s.trim_end_matches(',');
    let (ip, port) = match s.split_once('/') {
        Some((ip, port)) => (ip, port.parse().ok()),
        None => (s, None),
    };
    Some((ip.parse().ok()?, port))
}

/// Cisco ASA / FTD. The time stamp is `Nov 27 2026 06:10:00` (with a year) or a classic
/// syslog one; the message id says what happened.
fn cisco_asa<'a>(body: &'a str, msg: &'a str, year: i32) -> Option<Parsed<'a>> {
    let ts_ms = asa_time(body, year).unwrap_or(0);
    let (id, text) = msg.split_once(": ")?;
    let code = id.rsplit('-').next()?;
    let words: Vec<&str> = text.split(' ').collect();
    let after = |w: &str| words.iter().position(|x| *x == w).and_then(|i| words.get(i + 1)).copied();
    match code {
        // Deny tcp src outside:203.0.113.5/51234 dst inside:198.51.100.10/3389 by access-group ...
        "106023" | "106100" => {
            let (src, sport) = ip_slash_port(after("src")?)?;
            let (dst, dport) = ip_slash_port(after("dst")?)?;
            let mut e = Event::new(ts_ms, Kind::Packet, "cisco-asa");
            e.action = if text.starts_with("Deny") || text.contains(" denied") { Action::Drop } else { Action::Accept };
            e.proto = words.get(1).copied().unwrap_or("");
            (e.src, e.src_port, e.dst, e.dst_port) = (Some(src), sport, Some(dst), dport);
            Some(Parsed::Event(e))
        }
        // Inbound TCP connection denied from 203.0.113.5/51234 to 198.51.100.10/22 flags SYN on interface outside
        // Deny TCP (no connection) from 203.0.113.5/51234 to 198.51.100.10/443 flags RST on interface outside
        // Deny inbound UDP from 203.0.113.5/5353 to 198.51.100.10/1194 due to DNS Query
        "106001" | "106006" | "106015" | "710003" => {
            let (src, sport) = ip_slash_port(after("from")?)?;
            let (dst, dport) = ip_slash_port(after("to")?)?;
            let mut e = Event::new(ts_ms, Kind::Packet, "cisco-asa");
            e.action = Action::Drop;
            e.proto = words.iter().find(|w| matches!(**w, "TCP" | "UDP" | "tcp" | "udp" | "icmp" | "ICMP")).copied().unwrap_or("");
            e.iface = after("interface").unwrap_or("");
            (e.src, e.src_port, e.dst, e.dst_port) = (Some(src), sport, Some(dst), dport);
            Some(Parsed::Event(e))
        }
        // Login denied from 203.0.113.5/51234 to outside:198.51.100.1/ssh for user "admin"
        "605004" | "605005" => {
            let (src, sport) = ip_slash_port(after("from")?)?;
            let mut e = Event::new(ts_ms, if code == "605004" { Kind::AuthFailure } else { Kind::AuthSuccess }, "cisco-asa");
            e.src = Some(src);
            e.src_port = sport;
            e.user = after("user").unwrap_or("").trim_matches('"');
            Some(Parsed::Event(e))
        }
        // AAA user authentication Rejected : reason = AAA failure : server = 10.1.1.1 : user = jan : user IP = 203.0.113.5
        "113005" | "113015" => {
            let ip = text.split(" : ").find_map(|p| p.strip_prefix("user IP = "))?;
            let mut e = Event::new(ts_ms, Kind::AuthFailure, "cisco-asa");
            e.src = Some(ip.trim().parse().ok()?);
            e.user = text.split(" : ").find_map(|p| p.strip_prefix("user = ")).unwrap_or("").trim();
            Some(Parsed::Event(e))
        }
        _ => Some(Parsed::Ignored),
    }
}

fn asa_time(body: &str, year: i32) -> Option<i64> {
    // "Nov 27 2026 06:10:00 host : %ASA-..." or a classic header.
    let mut it = body.split(' ').filter(|w| !w.is_empty());
    let (m, d, y_or_t) = (it.next()?, it.next()?, it.next()?);
    let month =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].iter().position(|x| *x == m)? as u8 + 1;
    let day: u8 = d.parse().ok()?;
    let (y, t) = if y_or_t.len() == 4 { (y_or_t.parse().ok()?, it.next()?) } else { (year, y_or_t) };
    let date = time::Date::from_calendar_date(y, time::Month::try_from(month).ok()?, day).ok()?;
    let tparts: Vec<u8> = t.split(':').take(3).map(|x| x.parse().unwrap_or(99)).collect();
    if tparts.len() != 3 || tparts[0] > 23 || tparts[1] > 59 || tparts[2] > 60 {
        return None;
    }
    Some(
        (date.midnight().assume_utc().unix_timestamp() + i64::from(tparts[0]) * 3600 + i64::from(tparts[1]) * 60 + i64::from(tparts[2]))
            * 1000,
    )
}

/// OpenVPN: `203.0.113.5:51234 TLS Auth Error: Auth Username/Password verification failed for peer`,
/// `203.0.113.5:51234 [jan] Peer Connection Initiated with [AF_INET]203.0.113.5:51234`.
fn openvpn(ts_ms: i64, msg: &str) -> Option<Parsed<'_>> {
    let (peer, rest) = msg.split_once(' ')?;
    let peer = peer.strip_prefix("[AF_INET]").or_else(|| peer.strip_prefix("[AF_INET6]")).unwrap_or(peer);
    let (ip, port) = peer.rsplit_once(':')?;
    let Ok(ip) = ip.trim_matches(['[', ']']).parse::<IpAddr>() else { return Some(Parsed::Ignored) };
    let kind = if rest.contains("verification failed") || rest.contains("AUTH_FAILED") || rest.contains("TLS handshake failed") {
        Kind::AuthFailure
    } else if rest.contains("Peer Connection Initiated") {
        Kind::AuthSuccess
    } else {
        return Some(Parsed::Ignored);
    };
    let mut e = Event::new(ts_ms, kind, "openvpn");
    e.src = Some(ip);
    e.src_port = port.parse().ok();
    e.user = rest.strip_prefix('[').and_then(|r| r.split_once(']')).map(|(u, _)| u).unwrap_or("");
    e.proto = "UDP";
    Some(Parsed::Event(e))
}

/// Windows Firewall `pfirewall.log` (W3C-like, fields: date time action protocol src-ip dst-ip
/// src-port dst-port size tcpflags tcpsyn tcpack tcpwin icmptype icmpcode info path [pid]).
fn windows_firewall(line: &str) -> Option<Parsed<'_>> {
    if line.starts_with('#') {
        return Some(Parsed::Ignored);
    }
    let f: Vec<&str> = line.split(' ').collect();
    if f.len() < 8 || f[0].len() != 10 || f[0].as_bytes()[4] != b'-' {
        return None;
    }
    let ts = time::PrimitiveDateTime::parse(
        &format!("{} {}", f[0], f[1]),
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
    )
    .ok()?;
    let mut e = Event::new(ts.assume_utc().unix_timestamp() * 1000, Kind::Packet, "windows-firewall");
    e.action = match f[2] {
        "DROP" => Action::Drop,
        "ALLOW" => Action::Accept,
        _ => return Some(Parsed::Ignored),
    };
    e.proto = f[3];
    e.src = Some(f[4].parse().ok()?);
    e.dst = f[5].parse().ok();
    e.src_port = f[6].parse().ok();
    e.dst_port = f[7].parse().ok();
    // Outbound packets (path SEND) are this PC's own traffic.
    if f.get(16) == Some(&"SEND") {
        return Some(Parsed::Ignored);
    }
    Some(Parsed::Event(e))
}

/// MikroTik RouterOS: `firewall,info drop input: in:ether1 out:(unknown 0), src-mac .., proto TCP
/// (SYN), 203.0.113.5:51234->198.51.100.1:8291, len 60` and `system,error,critical login failure
/// for user admin from 203.0.113.5 via winbox`.
fn mikrotik<'a>(ts_ms: i64, tag: &'a str, msg: &'a str) -> Option<Parsed<'a>> {
    if let Some(rest) = msg.strip_prefix("login failure for user ") {
        let (user, after) = rest.split_once(" from ")?;
        let mut e = Event::new(ts_ms, Kind::AuthFailure, "mikrotik");
        e.user = user;
        e.src = Some(after.split(' ').next()?.parse().ok()?);
        return Some(Parsed::Event(e));
    }
    if !tag.starts_with("firewall") {
        return Some(Parsed::Ignored);
    }
    // The tag holds the topics and the rule's log prefix: "firewall,info drop input".
    let prefix = tag.split_once(' ').map(|(_, p)| p).unwrap_or("");
    let rest = msg.strip_prefix("in:").or_else(|| msg.split_once(" in:").map(|(_, r)| r)).unwrap_or(msg);
    let mut e = Event::new(ts_ms, Kind::Packet, "mikrotik");
    e.action = action_of(prefix);
    e.iface = rest.split([' ', ',']).next().unwrap_or("");
    let proto_at = rest.find("proto ")?;
    e.proto = rest[proto_at + 6..].split([' ', ',']).next().unwrap_or("");
    let flow = rest.split(", ").find(|p| p.contains("->"))?;
    let (from, to) = flow.split_once("->")?;
    let split = |s: &str| -> Option<(IpAddr, Option<u16>)> {
        match s.rsplit_once(':') {
            Some((ip, port)) if !ip.contains(':') => Some((ip.parse().ok()?, port.parse().ok())),
            _ => Some((s.parse().ok()?, None)),
        }
    };
    let (src, sport) = split(from)?;
    let (dst, dport) = split(to)?;
    (e.src, e.src_port, e.dst, e.dst_port) = (Some(src), sport, Some(dst), dport);
    Some(Parsed::Event(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(line: &str) -> String {
        match parse_line(line, Format::Auto, 2026) {
            Parsed::Event(e) => format!(
                "{:?} {:?} src={} dst={} {}:{:?}->{:?} user={:?} if={} from={}",
                e.kind,
                e.action,
                e.src.map(|i| i.to_string()).unwrap_or_default(),
                e.dst.map(|i| i.to_string()).unwrap_or_default(),
                e.proto,
                e.src_port,
                e.dst_port,
                e.user,
                e.iface,
                e.source
            ),
            other => format!("{other:?}"),
        }
    }

    /// Samples written from each vendor's documented format.
    #[test]
    fn golden_lines() {
        let lines = [
            // iptables LOG with a prefix, inbound SYN
            "Nov 27 00:00:13 gw kernel: [1234580.648401] FW-DROP IN=eth0 OUT= MAC=52:54:00:12:34:56:00:1b:21:aa:bb:cc:08:00 SRC=198.18.58.189 DST=198.51.100.1 LEN=40 TOS=0x00 PREC=0x00 TTL=219 ID=17547 PROTO=TCP SPT=39832 DPT=22 WINDOW=1024 RES=0x00 SYN URGP=0",
            // ufw
            "Nov 27 00:00:14 host kernel: [ 5.1] [UFW BLOCK] IN=enp3s0 OUT= MAC=aa SRC=203.0.113.7 DST=192.0.2.1 LEN=60 PROTO=UDP SPT=5353 DPT=1194 LEN=40",
            // nftables log with IPv6, no kernel time stamp
            "Nov 27 00:00:15 gw kernel: nft-drop: IN=eth0 OUT= SRC=2001:db8::7 DST=2001:db8::1 LEN=80 TC=0 HOPLIMIT=57 FLOWLBL=0 PROTO=TCP SPT=40000 DPT=443 WINDOW=1 SYN",
            // accepted, forwarded
            "Nov 27 00:01:35 gw kernel: [1234662.295316] FW-ACCEPT IN=eth1 OUT=eth0 SRC=192.168.1.57 DST=198.51.100.52 LEN=60 PROTO=TCP SPT=34289 DPT=443 SYN",
            // ICMP has no ports
            "Nov 27 00:01:36 gw kernel: DROP IN=eth0 OUT= SRC=198.51.100.9 DST=198.51.100.1 LEN=84 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1",
            // sshd
            "Nov 27 00:02:00 gw sshd[4001]: Failed password for invalid user admin from 192.0.2.20 port 40022 ssh2",
            "Nov 27 00:02:01 gw sshd[4001]: Failed password for root from 2001:db8::5 port 40023 ssh2",
            "Nov 27 00:02:02 gw sshd[4002]: Accepted publickey for emp12 from 10.8.0.22 port 33300 ssh2: ED25519 SHA256:Zm9v",
            "Nov 27 00:02:03 gw sshd[4002]: Invalid user admin from 192.0.2.20 port 40022",
            "Nov 27 00:02:04 gw sshd[4002]: Failed password for a user from with spaces from 192.0.2.21 port 1 ssh2",
            // pf filterlog IPv4 TCP and IPv6 UDP (RFC 5424 as pfSense sends it)
            "<134>1 2026-11-27T00:03:00.000Z fw01 filterlog 5423 - - 5,,,1000000103,igb0,match,block,in,4,0x0,,64,0,0,DF,6,tcp,60,203.0.113.50,198.51.100.1,51234,3389,0,S,1234,,64240,,mss",
            "<134>1 2026-11-27T00:03:01.000Z fw01 filterlog 5423 - - 6,,,1000000104,igb0,match,pass,in,6,0x00,0x00000,64,udp,17,52,2001:db8::9,2001:db8::1,5353,51820,52",
            // FortiGate traffic deny, SSL-VPN login failure, an accepted session
            "<189>date=2026-11-27 time=00:05:00 devname=\"FGT60F\" devid=\"FGT60FTK1\" logid=\"0000000013\" type=\"traffic\" subtype=\"forward\" level=\"notice\" srcip=203.0.113.5 srcport=51234 srcintf=\"wan1\" dstip=198.51.100.10 dstport=3389 dstintf=\"lan\" proto=6 action=\"deny\" policyid=0",
            "date=2026-11-27 time=00:05:01 devname=\"FGT60F\" logid=\"0101039426\" type=\"event\" subtype=\"vpn\" level=\"alert\" logdesc=\"SSL VPN login fail\" action=\"ssl-login-fail\" remip=203.0.113.6 user=\"jan de vries\" reason=\"sslvpn_login_unknown_user\"",
            "date=2026-11-27 time=00:05:02 type=\"traffic\" subtype=\"forward\" srcip=192.168.1.5 srcport=50000 dstip=198.51.100.20 dstport=443 proto=6 action=\"close\"",
            // Cisco ASA
            "<166>Nov 27 2026 00:06:00 asa01 : %ASA-4-106023: Deny tcp src outside:203.0.113.7/51234 dst inside:198.51.100.10/3389 by access-group \"outside_in\" [0x0, 0x0]",
            "<162>Nov 27 2026 00:06:01 asa01 : %ASA-2-106001: Inbound TCP connection denied from 203.0.113.8/40000 to 198.51.100.10/22 flags SYN  on interface outside",
            "<166>Nov 27 2026 00:06:02 asa01 : %ASA-6-605004: Login denied from 203.0.113.9/51000 to outside:198.51.100.1/ssh for user \"admin\"",
            "<166>Nov 27 00:06:03 ftd01 : %FTD-6-113005: AAA user authentication Rejected : reason = AAA failure : server = 10.1.1.1 : user = piet : user IP = 203.0.113.10",
            "<166>Nov 27 2026 00:06:04 asa01 : %ASA-6-302013: Built inbound TCP connection 1 for outside:203.0.113.1/1 (203.0.113.1/1) to inside:10.0.0.1/443 (10.0.0.1/443)",
            // OpenVPN
            "Nov 27 00:07:00 vpn openvpn[812]: 203.0.113.11:51234 TLS Auth Error: Auth Username/Password verification failed for peer",
            "Nov 27 00:07:01 vpn openvpn[812]: 198.51.100.77:1194 [jan] Peer Connection Initiated with [AF_INET]198.51.100.77:1194",
            // Windows Firewall pfirewall.log
            "#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin icmptype icmpcode info path pid",
            "2026-11-27 00:08:00 DROP TCP 203.0.113.12 192.168.1.20 51234 3389 52 S 12345 0 64240 - - - RECEIVE 4",
            "2026-11-27 00:08:01 ALLOW UDP 192.168.1.20 192.168.1.1 5353 53 0 - - - - - - - SEND 1200",
            // MikroTik
            "Nov 27 00:09:00 mikrotik firewall,info drop input: in:ether1 out:(unknown 0), src-mac 00:11:22:33:44:55, proto TCP (SYN), 203.0.113.13:51234->198.51.100.1:8291, len 60",
            "Nov 27 00:09:01 mikrotik system,error,critical login failure for user admin from 203.0.113.14 via winbox",
            // not ours / broken
            "Nov 27 00:04:00 gw CRON[1]: (root) CMD (run-parts)",
            "Nov 27 00:04:01 gw kernel: IN=eth0 OUT= SRC=not-an-ip DST=1.2.3.4 PROTO=TCP",
            "\u{0}\u{1}binary",
        ];
        let out: Vec<String> = lines.iter().map(|l| show(l)).collect();
        expect_test::expect![[r#"
            Packet Drop src=198.18.58.189 dst=198.51.100.1 TCP:Some(39832)->Some(22) user="" if=eth0 from=kernel
            Packet Drop src=203.0.113.7 dst=192.0.2.1 UDP:Some(5353)->Some(1194) user="" if=enp3s0 from=kernel
            Packet Drop src=2001:db8::7 dst=2001:db8::1 TCP:Some(40000)->Some(443) user="" if=eth0 from=kernel
            Packet Accept src=192.168.1.57 dst=198.51.100.52 TCP:Some(34289)->Some(443) user="" if=eth1 from=kernel
            Packet Drop src=198.51.100.9 dst=198.51.100.1 ICMP:None->None user="" if=eth0 from=kernel
            AuthFailure Unknown src=192.0.2.20 dst= TCP:Some(40022)->Some(22) user="admin" if= from=sshd
            AuthFailure Unknown src=2001:db8::5 dst= TCP:Some(40023)->Some(22) user="root" if= from=sshd
            AuthSuccess Unknown src=10.8.0.22 dst= TCP:Some(33300)->Some(22) user="emp12" if= from=sshd
            Ignored
            AuthFailure Unknown src=192.0.2.21 dst= TCP:Some(1)->Some(22) user="a user from with spaces" if= from=sshd
            Packet Drop src=203.0.113.50 dst=198.51.100.1 tcp:Some(51234)->Some(3389) user="" if=igb0 from=filterlog
            Packet Accept src=2001:db8::9 dst=2001:db8::1 udp:Some(5353)->Some(51820) user="" if=igb0 from=filterlog
            Packet Drop src=203.0.113.5 dst=198.51.100.10 TCP:Some(51234)->Some(3389) user="" if=wan1 from=fortigate
            AuthFailure Unknown src=203.0.113.6 dst= :None->None user="jan de vries" if= from=fortigate
            Packet Accept src=192.168.1.5 dst=198.51.100.20 TCP:Some(50000)->Some(443) user="" if= from=fortigate
            Packet Drop src=203.0.113.7 dst=198.51.100.10 tcp:Some(51234)->Some(3389) user="" if= from=cisco-asa
            Packet Drop src=203.0.113.8 dst=198.51.100.10 TCP:Some(40000)->Some(22) user="" if=outside from=cisco-asa
            AuthFailure Unknown src=203.0.113.9 dst= :Some(51000)->None user="admin" if= from=cisco-asa
            AuthFailure Unknown src=203.0.113.10 dst= :None->None user="piet" if= from=cisco-asa
            Ignored
            AuthFailure Unknown src=203.0.113.11 dst= UDP:Some(51234)->None user="" if= from=openvpn
            AuthSuccess Unknown src=198.51.100.77 dst= UDP:Some(1194)->None user="jan" if= from=openvpn
            Ignored
            Packet Drop src=203.0.113.12 dst=192.168.1.20 TCP:Some(51234)->Some(3389) user="" if= from=windows-firewall
            Ignored
            Packet Drop src=203.0.113.13 dst=198.51.100.1 TCP:Some(51234)->Some(8291) user="" if=ether1 from=mikrotik
            AuthFailure Unknown src=203.0.113.14 dst= :None->None user="admin" if= from=mikrotik
            Unparsed("unknown program")
            Unparsed("fields missing or malformed")
            Unparsed("no syslog header")"#]]
        .assert_eq(&out.join("\n"));
    }
}
