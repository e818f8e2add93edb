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
}

impl Format {
    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "auto" => Some(Format::Auto),
            "netfilter" | "iptables" | "nftables" | "ufw" | "firewalld" => Some(Format::Netfilter),
            "sshd" | "ssh" => Some(Format::Sshd),
            "filterlog" | "pf" | "pfsense" | "opnsense" => Some(Format::Filterlog),
            _ => None,
        }
    }

    pub const NAMES: &'static str = "auto, netfilter (iptables, nftables, ufw, firewalld), sshd, filterlog (pfSense, OPNsense)";
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
    if line.is_empty() {
        return Parsed::Ignored;
    }
    let Some(h) = syslog::parse(line, year) else { return Parsed::Unparsed("no syslog header") };
    let which = match format {
        Format::Auto => match h.tag {
            "sshd" => Format::Sshd,
            "filterlog" => Format::Filterlog,
            _ if h.msg.contains("SRC=") && h.msg.contains("PROTO=") => Format::Netfilter,
            _ => return Parsed::Unparsed("unknown program"),
        },
        f => f,
    };
    let parsed = match which {
        Format::Netfilter => netfilter(h.ts_ms, h.tag, h.msg),
        Format::Sshd => sshd(h.ts_ms, h.msg),
        Format::Filterlog => filterlog(h.ts_ms, h.msg),
        Format::Auto => None,
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
    for field in body[in_at..].split(' ') {
        let Some((k, v)) = field.split_once('=') else { continue };
        match k {
            "IN" => e.iface = v,
            "SRC" => e.src = v.parse::<IpAddr>().ok(),
            "DST" => e.dst = v.parse::<IpAddr>().ok(),
            "PROTO" => e.proto = v,
            "SPT" => e.src_port = v.parse().ok(),
            "DPT" => e.dst_port = v.parse().ok(),
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
            Unparsed("unknown program")
            Unparsed("fields missing or malformed")
            Unparsed("no syslog header")"#]]
        .assert_eq(&out.join("\n"));
    }
}
