//! Syslog headers: RFC 3164 (`<PRI>Nov 27 06:10:00 host tag[pid]: msg`, also without `<PRI>` as
//! in files), RFC 5424 (`<PRI>1 2026-11-27T06:10:00.1Z host app pid msgid [sd] msg`) and the
//! ISO time stamps rsyslog writes (`2026-11-27T06:10:00.123+01:00 host tag: msg`).

/// The parts of a syslog line that parsers need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    pub ts_ms: i64,
    pub host: &'a str,
    /// The program, without `[pid]`.
    pub tag: &'a str,
    pub msg: &'a str,
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Parses the header. RFC 3164 time stamps have no year and no zone: `year` supplies the year
/// and they are read as UTC.
pub fn parse(line: &str, year: i32) -> Option<Header<'_>> {
    let mut rest = line;
    if let Some(after) = rest.strip_prefix('<') {
        let end = after.find('>')?;
        if end == 0 || end > 3 || !after[..end].bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        rest = &after[end + 1..];
        if let Some(r5424) = rest.strip_prefix("1 ") {
            return parse_5424(r5424);
        }
    }
    let first = rest.as_bytes().first()?;
    if first.is_ascii_digit() {
        // ISO time stamp then host then tag.
        let (ts, after) = rest.split_once(' ')?;
        let ts_ms = iso_ms(ts)?;
        return split_host_tag(ts_ms, after);
    }
    // "Nov 27 06:10:00 host tag: msg" (the day may be space-padded: "Nov  7").
    if rest.len() < 16 {
        return None;
    }
    let month = MONTHS.iter().position(|m| rest.starts_with(m))? as u8 + 1;
    let b = rest.as_bytes();
    if b[3] != b' ' {
        return None;
    }
    // `get` rather than indexing: a multi-byte character must not split a slice (found by fuzzing).
    let day_str = rest.get(4..6)?.trim_start();
    let day: u8 = day_str.parse().ok()?;
    if b[6] != b' ' {
        return None;
    }
    let (h, m, s) = hms(rest.get(7..15)?)?;
    let date = time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    let ts_ms = (date.midnight().assume_utc().unix_timestamp() + i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s)) * 1000;
    split_host_tag(ts_ms, rest.get(16..)?)
}

fn hms(s: &str) -> Option<(u8, u8, u8)> {
    let b = s.as_bytes();
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let h: u8 = s.get(0..2)?.parse().ok()?;
    let m: u8 = s.get(3..5)?.parse().ok()?;
    let sec: u8 = s.get(6..8)?.parse().ok()?;
    (h < 24 && m < 60 && sec < 61).then_some((h, m, sec))
}

/// `host tag[pid]: msg` → header.
fn split_host_tag(ts_ms: i64, rest: &str) -> Option<Header<'_>> {
    let (host, after) = rest.split_once(' ')?;
    match after.find(": ") {
        Some(colon) => {
            let tag_full = &after[..colon];
            let tag = tag_full.split('[').next().unwrap_or(tag_full);
            Some(Header { ts_ms, host, tag, msg: &after[colon + 2..] })
        }
        // Devices such as MikroTik write "topics message" without a colon.
        None => {
            let (tag, msg) = after.split_once(' ').unwrap_or((after, ""));
            Some(Header { ts_ms, host, tag, msg })
        }
    }
}

fn parse_5424(rest: &str) -> Option<Header<'_>> {
    let mut parts = rest.splitn(6, ' ');
    let ts = parts.next()?;
    let host = parts.next()?;
    let app = parts.next()?;
    let _procid = parts.next()?;
    let _msgid = parts.next()?;
    let mut msg = parts.next().unwrap_or("");
    // Structured data: "-" or one or more [..] blocks.
    if let Some(m) = msg.strip_prefix("- ") {
        msg = m;
    } else if msg == "-" {
        msg = "";
    } else if msg.starts_with('[') {
        let mut depth = 0usize;
        let mut end = None;
        let mut escaped = false;
        for (i, c) in msg.char_indices() {
            match c {
                '\\' if !escaped => {
                    escaped = true;
                    continue;
                }
                '[' if !escaped => depth += 1,
                ']' if !escaped => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 && !msg[i + 1..].starts_with('[') {
                        end = Some(i + 1);
                        break;
                    }
                }
                _ => {}
            }
            escaped = false;
        }
        msg = msg[end?..].trim_start();
    }
    let msg = msg.strip_prefix('\u{feff}').unwrap_or(msg);
    let ts_ms = if ts == "-" { 0 } else { iso_ms(ts)? };
    Some(Header { ts_ms, host, tag: app, msg })
}

/// RFC 3339 time stamp to epoch milliseconds.
fn iso_ms(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    Some(t.unix_timestamp() * 1000 + i64::from(t.millisecond()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(line: &str) -> String {
        match parse(line, 2026) {
            Some(h) => format!("{} {} {} | {}", h.ts_ms, h.host, h.tag, h.msg),
            None => "none".to_owned(),
        }
    }

    #[test]
    fn headers() {
        let lines = [
            "Nov 27 06:10:00 gw kernel: [123.4] FW-DROP IN=eth0",
            "<4>Nov  7 06:10:00 gw sshd[4001]: Failed password for root",
            "<165>1 2026-11-27T06:10:00.250Z fw01 filterlog 123 - - 5,,,1000,em0,match,block,in,4",
            "<165>1 2026-11-27T06:10:00Z fw01 app - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"App\"] hello",
            "2026-11-27T07:10:00.5+01:00 gw sshd[1]: Accepted publickey for emp01",
            "Nov 27 25:10:00 gw kernel: bad hour",
            "garbage",
            "\u{0}Jul  2        \u{6f9}\u{2d7} 0",
            "<999999>x",
            "",
        ];
        let out: Vec<String> = lines.iter().map(|l| show(l)).collect();
        expect_test::expect![[r#"
            1795759800000 gw kernel | [123.4] FW-DROP IN=eth0
            1794031800000 gw sshd | Failed password for root
            1795759800250 fw01 filterlog | 5,,,1000,em0,match,block,in,4
            1795759800000 fw01 app | hello
            1795759800500 gw sshd | Accepted publickey for emp01
            none
            none
            none
            none
            none"#]]
        .assert_eq(&out.join("\n"));
    }
}
