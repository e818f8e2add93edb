//! Values with a shape: e-mail addresses, links, IBANs, IP addresses, BSNs, phone numbers,
//! postcodes, licence plates, dates of birth, KvK, document and case numbers. Each finder scans
//! the text once and checks what can be checked (11-check, mod-97, lengths per country).

use crate::{Cand, Label};
use std::net::{Ipv4Addr, Ipv6Addr};

pub(crate) struct Text<'a> {
    pub s: &'a str,
    pub b: &'a [u8],
    /// ASCII-lowercased copy: same byte offsets as `s`.
    pub lower: String,
}

impl<'a> Text<'a> {
    pub(crate) fn new(s: &'a str) -> Text<'a> {
        Text { s, b: s.as_bytes(), lower: s.to_ascii_lowercase() }
    }

    /// The byte at `i`, or 0 past the end.
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    fn before(&self, i: usize) -> u8 {
        if i == 0 { b' ' } else { self.b[i - 1] }
    }

    /// Is the byte before `i` not part of a word or a number (non-ASCII letters count as word)?
    fn boundary_before(&self, i: usize) -> bool {
        let p = self.before(i);
        !(p.is_ascii_alphanumeric() || p >= 0x80 || p == b'_')
    }

    fn boundary_after(&self, i: usize) -> bool {
        let n = self.at(i);
        !(n.is_ascii_alphanumeric() || n >= 0x80 || n == b'_')
    }

    /// The lower-cased text of up to `n` bytes before `i`, on the same line or the line before.
    pub(crate) fn context(&self, i: usize, n: usize) -> &str {
        let mut from = i.saturating_sub(n);
        while from < i && !self.lower.is_char_boundary(from) {
            from += 1;
        }
        let ctx = &self.lower[from..i];
        // stop at a blank line: context does not cross paragraphs
        match ctx.rfind("\n\n") {
            Some(p) => &ctx[p + 2..],
            None => ctx,
        }
    }

    fn context_has(&self, i: usize, n: usize, words: &[&str]) -> bool {
        let c = self.context(i, n);
        words.iter().any(|w| c.contains(w))
    }
}

fn cand(start: usize, end: usize, label: Label, conf: f32, reason: &'static str) -> Cand {
    Cand { start, end, label, conf, reason, flag: false, client: false }
}

// ---------------------------------------------------------------- e-mail and links

pub(crate) fn emails(t: &Text, out: &mut Vec<Cand>) {
    let b = t.b;
    let mut from = 0;
    while let Some(off) = b[from..].iter().position(|&c| c == b'@') {
        let at = from + off;
        from = at + 1;
        let local_ok = |c: u8| c.is_ascii_alphanumeric() || b"._%+-'".contains(&c);
        let mut s = at;
        while s > 0 && local_ok(b[s - 1]) {
            s -= 1;
        }
        while s < at && !b[s].is_ascii_alphanumeric() {
            s += 1;
        }
        let mut e = at + 1;
        while e < b.len() && (b[e].is_ascii_alphanumeric() || b[e] == b'-' || b[e] == b'.') {
            e += 1;
        }
        while e > at + 1 && (b[e - 1] == b'.' || b[e - 1] == b'-') {
            e -= 1;
        }
        let domain = &t.s[at + 1..e];
        let tld_ok = domain.rsplit('.').next().is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|c| c.is_ascii_alphabetic()));
        if s < at && domain.contains('.') && tld_ok {
            out.push(cand(s, e, Label::Email, 0.99, "rule:email"));
        }
    }
}

const PROFILE_HOSTS: &[&str] = &[
    "linkedin.com/in/",
    "facebook.com/",
    "fb.com/",
    "instagram.com/",
    "twitter.com/",
    "x.com/",
    "tiktok.com/@",
    "github.com/",
    "youtube.com/@",
    "wa.me/",
    "t.me/",
    "snapchat.com/add/",
    "threads.net/@",
    "mastodon.",
    "bsky.app/profile/",
    "marktplaats.nl/u/",
];
const PERSONAL_PARAMS: &[&str] = &[
    "client", "clientid", "cliënt", "klant", "user", "userid", "uid", "bsn", "naam", "name", "email", "mail", "patient", "patiënt",
    "dossier", "case", "member", "lid", "id", "account", "person", "persoon", "token", "leerling", "student", "ticket",
];

pub(crate) fn urls(t: &Text, out: &mut Vec<Cand>) {
    let lower = t.lower.as_bytes();
    let mut i = 0;
    while i + 4 < lower.len() {
        let rest = &lower[i..];
        let scheme = rest.starts_with(b"https://") || rest.starts_with(b"http://") || rest.starts_with(b"www.");
        if !scheme || !t.boundary_before(i) {
            i += 1;
            continue;
        }
        let mut e = i;
        while e < lower.len() && !lower[e].is_ascii_whitespace() && !b"<>\"'`|[]{}".contains(&lower[e]) {
            e += 1;
        }
        while e > i && b".,;:!?)".contains(&lower[e - 1]) {
            e -= 1;
        }
        let url = &t.lower[i..e];
        let body = url.trim_start_matches("https://").trim_start_matches("http://").trim_start_matches("www.");
        let path = body.split_once('/').map(|x| x.1).unwrap_or("");
        let profile = PROFILE_HOSTS.iter().any(|h| body.starts_with(h) || body.contains(&format!(".{h}"))) && path.len() > 1;
        let query = url.split_once('?').map(|x| x.1).unwrap_or("");
        let personal_param = query.split('&').any(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            !v.is_empty()
                && PERSONAL_PARAMS.iter().any(|p| k == *p || k.ends_with(&format!("_{p}")) || k.ends_with(p) && k.len() <= p.len() + 3)
        });
        let email_inside = url.contains('@') || url.contains("%40");
        let long_id = path.split(['/', '-', '_']).any(|seg| seg.len() >= 6 && seg.bytes().filter(u8::is_ascii_digit).count() >= 5);
        if profile || personal_param || email_inside || long_id {
            out.push(cand(i, e, Label::Url, 0.9, if profile { "rule:url-profile" } else { "rule:url-personal-part" }));
        }
        i = e.max(i + 1);
    }
}

// ---------------------------------------------------------------- IBAN

fn iban_length(cc: &[u8]) -> Option<usize> {
    const TABLE: &[(&str, usize)] = &[
        ("AD", 24),
        ("AE", 23),
        ("AL", 28),
        ("AT", 20),
        ("AZ", 28),
        ("BA", 20),
        ("BE", 16),
        ("BG", 22),
        ("BH", 22),
        ("BR", 29),
        ("BY", 28),
        ("CH", 21),
        ("CR", 22),
        ("CY", 28),
        ("CZ", 24),
        ("DE", 22),
        ("DK", 18),
        ("DO", 28),
        ("EE", 20),
        ("EG", 29),
        ("ES", 24),
        ("FI", 18),
        ("FO", 18),
        ("FR", 27),
        ("GB", 22),
        ("GE", 22),
        ("GI", 23),
        ("GL", 18),
        ("GR", 27),
        ("GT", 28),
        ("HR", 21),
        ("HU", 28),
        ("IE", 22),
        ("IL", 23),
        ("IQ", 23),
        ("IS", 26),
        ("IT", 27),
        ("JO", 30),
        ("KW", 30),
        ("KZ", 20),
        ("LB", 28),
        ("LC", 32),
        ("LI", 21),
        ("LT", 20),
        ("LU", 20),
        ("LV", 21),
        ("MA", 28),
        ("MC", 27),
        ("MD", 24),
        ("ME", 22),
        ("MK", 19),
        ("MR", 27),
        ("MT", 31),
        ("MU", 30),
        ("NL", 18),
        ("NO", 15),
        ("PK", 24),
        ("PL", 28),
        ("PS", 29),
        ("PT", 25),
        ("QA", 29),
        ("RO", 24),
        ("RS", 22),
        ("SA", 24),
        ("SC", 31),
        ("SE", 24),
        ("SI", 19),
        ("SK", 24),
        ("SM", 27),
        ("ST", 25),
        ("SV", 28),
        ("TL", 23),
        ("TN", 24),
        ("TR", 26),
        ("UA", 29),
        ("VA", 22),
        ("VG", 24),
        ("XK", 20),
    ];
    TABLE.iter().find(|(c, _)| c.as_bytes() == cc).map(|(_, n)| *n)
}

pub(crate) fn iban_valid(chars: &[u8]) -> bool {
    if chars.len() < 15 || chars.len() > 34 {
        return false;
    }
    let mut rem: u32 = 0;
    for &c in chars[4..].iter().chain(&chars[..4]) {
        let v = match c {
            b'0'..=b'9' => (c - b'0') as u32,
            b'A'..=b'Z' => (c - b'A') as u32 + 10,
            b'a'..=b'z' => (c - b'a') as u32 + 10,
            _ => return false,
        };
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    rem == 1
}

pub(crate) fn ibans(t: &Text, out: &mut Vec<Cand>) {
    let b = t.b;
    let mut i = 0;
    while i + 15 <= b.len() {
        let (c0, c1) = (b[i].to_ascii_uppercase(), b[i + 1].to_ascii_uppercase());
        if !(c0.is_ascii_uppercase()
            && c1.is_ascii_uppercase()
            && t.at(i + 2).is_ascii_digit()
            && t.at(i + 3).is_ascii_digit()
            && t.boundary_before(i))
        {
            i += 1;
            continue;
        }
        let want = iban_length(&[c0, c1]);
        let mut chars: Vec<u8> = Vec::with_capacity(34);
        let mut j = i;
        let mut best = None;
        while j < b.len() && chars.len() < 34 {
            let c = b[j];
            if c.is_ascii_alphanumeric() {
                chars.push(c.to_ascii_uppercase());
                j += 1;
                let len_ok = match want {
                    Some(n) => chars.len() == n,
                    None => chars.len() >= 15,
                };
                if len_ok && t.boundary_after(j) && iban_valid(&chars) {
                    best = Some(j);
                    if want.is_some() {
                        break;
                    }
                }
            } else if (c == b' ' || c == b'-' || c == b'.') && t.at(j + 1).is_ascii_alphanumeric() && chars.len() >= 2 {
                j += 1;
            } else {
                break;
            }
        }
        if let Some(e) = best {
            out.push(cand(i, e, Label::Iban, 0.99, "rule:iban-mod97"));
            i = e;
        } else {
            i += 1;
        }
    }
}

// ---------------------------------------------------------------- IP

pub(crate) fn ips(t: &Text, out: &mut Vec<Cand>) {
    let b = t.b;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start_ok = (c.is_ascii_hexdigit() || c == b':') && t.boundary_before(i) && t.before(i) != b'.' && t.before(i) != b':';
        if !start_ok {
            i += 1;
            continue;
        }
        let mut e = i;
        while e < b.len() && (b[e].is_ascii_hexdigit() || b[e] == b'.' || b[e] == b':') {
            e += 1;
        }
        let mut end = e;
        while end > i && (b[end - 1] == b'.' || b[end - 1] == b':') {
            end -= 1;
        }
        let s = &t.s[i..end];
        if t.boundary_after(end) {
            if s.bytes().filter(|&c| c == b'.').count() == 3
                && let Ok(ip) = s.parse::<Ipv4Addr>()
                && !ip.is_unspecified()
                && !ip.is_loopback()
                && ip.octets()[0] != 255
                && ip.octets()[0] != 0
                && !t.context_has(i, 24, &["versie", "version", "v."])
            {
                out.push(cand(i, end, Label::Ip, 0.95, "rule:ipv4"));
            } else if s.bytes().filter(|&c| c == b':').count() >= 2
                && s.bytes().any(|c| c.is_ascii_hexdigit())
                && let Ok(ip) = s.parse::<Ipv6Addr>()
                && !ip.is_loopback()
                && !ip.is_unspecified()
            {
                out.push(cand(i, end, Label::Ip, 0.95, "rule:ipv6"));
            }
        }
        i = e.max(i + 1);
    }
}

// ---------------------------------------------------------------- digit groups

/// Digit groups from `i`: each (start, end), separated by one of `seps` (one char, or "(0)").
fn groups(t: &Text, i: usize, seps: &[u8], max: usize) -> Vec<(usize, usize, u8)> {
    let b = t.b;
    let mut out = Vec::new();
    let mut j = i;
    let mut sep = b' ';
    while j < b.len() && out.len() < max {
        let s = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j == s {
            break;
        }
        out.push((s, j, sep));
        if j + 1 < b.len() && seps.contains(&b[j]) && b[j + 1].is_ascii_digit() {
            sep = b[j];
            j += 1;
        } else {
            break;
        }
    }
    out
}

fn digits_of(t: &Text, s: usize, e: usize) -> Vec<u8> {
    t.b[s..e].iter().filter(|c| c.is_ascii_digit()).map(|c| c - b'0').collect()
}

pub(crate) fn bsn_valid(d: &[u8]) -> bool {
    if d.len() != 9 {
        return false;
    }
    let mut sum: i32 = 0;
    for (k, &v) in d[..8].iter().enumerate() {
        sum += (9 - k as i32) * v as i32;
    }
    sum -= d[8] as i32;
    sum != 0 && sum % 11 == 0
}

const BSN_CONTEXT: &[&str] = &["bsn", "burgerservicenummer", "burgerservice", "sofinummer", "sofi-nummer", "citizen service", "sofi nr"];
const NOT_PERSONAL_NUMBER: &[&str] = &[
    "factuur",
    "invoice",
    "order",
    "bestel",
    "referentie",
    "reference",
    "ref.",
    "ref:",
    "artikel",
    "article",
    "ticket",
    "bedrag",
    "amount",
    "€",
    "eur",
    "kvk",
    "btw",
    "vat",
    "kenmerk",
    "transactie",
    "transaction",
    "zending",
    "tracking",
    "track",
    "pakket",
    "verzend",
    "boeking",
    "booking",
    "contract",
    "offerte",
    "quote",
    "nota",
    "rekeningnummer",
    "postbus",
    "kamer van koophandel",
];

fn number_start_ok(t: &Text, i: usize) -> bool {
    if !t.boundary_before(i) {
        return false;
    }
    // not the tail of a longer number such as 1.234.567.890 or 12-34
    let p = t.before(i);
    if matches!(p, b'.' | b'-' | b'/' | b',' | b':') && i >= 2 && t.b[i - 2].is_ascii_digit() {
        return false;
    }
    true
}

pub(crate) fn bsns(t: &Text, out: &mut Vec<Cand>) {
    let b = t.b;
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() || !number_start_ok(t, i) {
            i += 1;
            continue;
        }
        let gs = groups(t, i, b" .-", 5);
        let Some(&(_, last_end, _)) = gs.last() else {
            i += 1;
            continue;
        };
        // try the prefixes that make 9 digits in an accepted grouping
        let mut found = None;
        let mut total = 0;
        let mut shape = Vec::new();
        for (k, &(s, e, _)) in gs.iter().enumerate() {
            total += e - s;
            shape.push(e - s);
            if total == 9 {
                let ok_shape = matches!(shape.as_slice(), [9] | [4, 2, 3] | [3, 3, 3] | [2, 2, 2, 3] | [3, 2, 2, 2] | [3, 3, 2, 1]);
                let seps_same = gs[1..=k].iter().all(|g| g.2 == gs.get(1).map(|x| x.2).unwrap_or(b' '));
                let continues = k + 1 < gs.len() && gs[k + 1].2 != b' ';
                if ok_shape && seps_same && !continues {
                    found = Some(e);
                }
                break;
            }
            if total > 9 {
                break;
            }
        }
        let Some(end) = found else {
            i = last_end;
            continue;
        };
        let d = digits_of(t, i, end);
        let ctx_bsn = t.context_has(i, 40, BSN_CONTEXT);
        if bsn_valid(&d) {
            if ctx_bsn {
                out.push(cand(i, end, Label::Bsn, 0.99, "context:bsn+11-check"));
            } else if !t.context_has(i, 32, NOT_PERSONAL_NUMBER) && d[0] != 0 {
                let grouped = end - i > 9;
                out.push(cand(i, end, Label::Bsn, if grouped { 0.9 } else { 0.8 }, "rule:11-check"));
            }
        } else if ctx_bsn {
            let mut c = cand(i, end, Label::Bsn, 0.3, "check:fails-11-check");
            c.flag = true;
            out.push(c);
        }
        i = end;
    }
}

// ---------------------------------------------------------------- phone numbers

fn phone_ok(digits: &[u8], plus: bool) -> bool {
    let n = digits.len();
    if plus {
        let strip = |rest: &[u8]| -> usize { if rest.first() == Some(&0) { rest.len() - 1 } else { rest.len() } };
        return match digits {
            [3, 1, rest @ ..] => strip(rest) == 9,
            [3, 2, rest @ ..] => (8..=9).contains(&strip(rest)),
            [4, 9, rest @ ..] => (6..=12).contains(&strip(rest)),
            [4, 4, rest @ ..] => (9..=10).contains(&strip(rest)),
            [3, 3, rest @ ..] => strip(rest) == 9,
            [1, rest @ ..] => rest.len() == 10,
            _ => (8..=15).contains(&n),
        };
    }
    match digits {
        [0, 0, rest @ ..] => phone_ok(rest, true),
        [0, 8, 0, 0, ..] | [0, 9, 0, 0, ..] | [0, 9, 0, 6, ..] | [0, 9, 0, 9, ..] => n == 8 || n == 11,
        [0, d, ..] if *d != 0 => n == 10 || (n == 11 && matches!(d, 1 | 2 | 7)),
        // municipal number: 14 followed by the area code (14 020, 14 0546)
        [1, 4, 0, ..] => n == 5 || n == 6,
        _ => false,
    }
}

pub(crate) fn phones(t: &Text, out: &mut Vec<Cand>) {
    let b = t.b;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let plus = c == b'+' && t.at(i + 1).is_ascii_digit();
        let paren = c == b'(' && t.at(i + 1) == b'0';
        let zero = (c == b'0' || c == b'1' && t.at(i + 1) == b'4' && t.at(i + 2) == b' ' && t.at(i + 3) == b'0') && number_start_ok(t, i);
        if !(plus || paren || zero) || (plus || paren) && !t.boundary_before(i) && t.before(i) != b'(' {
            i += 1;
            continue;
        }
        // walk digits and separators; remember each end where a number could stop
        let mut j = if plus || paren { i + 1 } else { i };
        let mut digits: Vec<u8> = Vec::new();
        let mut best: Option<usize> = None;
        let mut seps = Vec::new();
        let mut group_sizes = Vec::new();
        let mut g = 0;
        while j < b.len() && digits.len() <= 15 {
            let ch = b[j];
            if ch.is_ascii_digit() {
                digits.push(ch - b'0');
                g += 1;
                j += 1;
                if !t.at(j).is_ascii_digit() && phone_ok(&digits, plus) {
                    best = Some(j);
                }
                continue;
            }
            // a run of at most 3 separators: " - ", ") ", " (", "/"
            let mut k = j;
            while k < b.len() && k - j < 3 && matches!(b[k], b' ' | b'-' | b'.' | b'/' | b'(' | b')') {
                k += 1;
            }
            let run = &b[j..k];
            let ok =
                k > j && t.at(k).is_ascii_digit() && run.iter().filter(|c| **c == b' ').count() <= 2 && !run.contains(&b'.') || run == b".";
            if !ok || k == j {
                break;
            }
            if g > 0 {
                group_sizes.push(g);
                g = 0;
            }
            seps.push(run[0]);
            j = k;
        }
        let Some(end) = best else {
            i += 1;
            continue;
        };
        // dates and times are not phone numbers: 06-12-2023 10:30
        let datey = group_sizes.len() >= 2
            && group_sizes[0] <= 2
            && group_sizes[1] <= 2
            && seps.first().is_some_and(|s| matches!(s, b'-' | b'/' | b'.'));
        let money = t.context_has(i, 6, &["€", "eur", "$", "£"]);
        if !datey && !money {
            out.push(cand(i, end, Label::Phone, 0.95, if plus { "rule:phone-international" } else { "rule:phone-national" }));
            i = end;
        } else {
            i += 1;
        }
    }
}

// ---------------------------------------------------------------- postcodes

pub(crate) fn postcodes(t: &Text, out: &mut Vec<Cand>) {
    let b = t.b;
    let mut i = 0;
    while i + 6 <= b.len() {
        if !(b[i].is_ascii_digit() && b[i] != b'0' && number_start_ok(t, i)) {
            i += 1;
            continue;
        }
        let four = (0..4).all(|k| t.at(i + k).is_ascii_digit());
        if !four || t.at(i + 4).is_ascii_digit() {
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            continue;
        }
        let mut j = i + 4;
        let spaced = t.at(j) == b' ';
        if spaced {
            j += 1;
        }
        let (l0, l1) = (t.at(j), t.at(j + 1));
        let upper = l0.is_ascii_uppercase() && l1.is_ascii_uppercase();
        let lower = !spaced && l0.is_ascii_lowercase() && l1.is_ascii_lowercase();
        let pair = [l0.to_ascii_uppercase(), l1.to_ascii_uppercase()];
        if (upper || lower) && t.boundary_after(j + 2) && !matches!(&pair, b"SA" | b"SD" | b"SS") {
            out.push(cand(i, j + 2, Label::Postcode, if upper { 0.97 } else { 0.85 }, "rule:postcode-nl"));
            i = j + 2;
        } else {
            i += 4;
        }
    }
    uk_postcodes(t, out);
}

fn uk_postcodes(t: &Text, out: &mut Vec<Cand>) {
    // outward code (A9, A99, AA9, AA99, A9A, AA9A), a space, inward code (9AA)
    let b = t.b;
    let mut i = 0;
    while i + 6 <= b.len() {
        if !b[i].is_ascii_uppercase() || !t.boundary_before(i) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < b.len() && j - i < 4 && b[j].is_ascii_alphanumeric() && !b[j].is_ascii_lowercase() {
            j += 1;
        }
        let outward = &b[i..j];
        let shape_ok = outward.len() >= 2
            && outward[0].is_ascii_uppercase()
            && outward.iter().any(u8::is_ascii_digit)
            && (outward[1].is_ascii_digit() || outward[1].is_ascii_uppercase() && outward.get(2).is_some_and(u8::is_ascii_digit));
        if shape_ok
            && t.at(j) == b' '
            && t.at(j + 1).is_ascii_digit()
            && t.at(j + 2).is_ascii_uppercase()
            && t.at(j + 3).is_ascii_uppercase()
            && t.boundary_after(j + 4)
        {
            out.push(cand(i, j + 4, Label::Postcode, 0.9, "rule:postcode-uk"));
            i = j + 4;
        } else {
            i = j.max(i + 1);
        }
    }
}

// ---------------------------------------------------------------- licence plates

pub(crate) fn plates(t: &Text, out: &mut Vec<Cand>) {
    // Dutch side codes 1-14: shapes of letter (X) and digit (9) groups
    const SHAPES: &[&[u8]] = &[
        b"XX-99-99",
        b"99-99-XX",
        b"99-XX-99",
        b"XX-99-XX",
        b"XX-XX-99",
        b"99-XX-XX",
        b"99-XXX-9",
        b"9-XXX-99",
        b"XX-999-X",
        b"X-999-XX",
        b"XXX-99-X",
        b"X-99-XXX",
        b"9-XX-999",
        b"999-XX-9",
    ];
    let b = t.b;
    let mut i = 0;
    while i + 8 <= b.len() {
        if !b[i].is_ascii_alphanumeric() || !t.boundary_before(i) || t.before(i) == b'-' {
            i += 1;
            continue;
        }
        let mut matched = None;
        for shape in SHAPES {
            let n = shape.len();
            if i + n > b.len() || !t.boundary_after(i + n) || t.at(i + n) == b'-' {
                continue;
            }
            let ok = shape.iter().zip(&b[i..i + n]).all(|(s, c)| match s {
                b'X' => c.is_ascii_uppercase(),
                b'9' => c.is_ascii_digit(),
                _ => c == s,
            });
            if ok {
                matched = Some(n);
                break;
            }
        }
        let Some(n) = matched else {
            i += 1;
            continue;
        };
        let letters: Vec<u8> = b[i..i + n].iter().copied().filter(u8::is_ascii_uppercase).collect();
        let vowels = letters.iter().any(|c| b"AEIOU".contains(c));
        let ctx = t.context_has(i, 40, &["kenteken", "plate", "registration", "auto", "car", "voertuig", "vehicle", "wagen", "scooter"]);
        // since side code 4 (1978) plates have no vowels; older ones are rare: they need context
        if !vowels || ctx {
            out.push(cand(i, i + n, Label::Plate, if ctx { 0.97 } else { 0.85 }, "rule:plate-sidecode"));
        }
        i += n;
    }
}

// ---------------------------------------------------------------- dates of birth

pub(crate) const MONTHS: &[&str] = &[
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
    "january",
    "february",
    "march",
    "may",
    "june",
    "july",
    "august",
    "october",
    "jan",
    "feb",
    "mrt",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "okt",
    "oct",
    "nov",
    "dec",
];
const BIRTH_CONTEXT: &[&str] = &[
    "geboren",
    "geb.",
    "geb ",
    "geb:",
    "geboortedatum",
    "geboortedag",
    "date of birth",
    "birth",
    "born",
    "dob",
    "d.o.b",
    "°",
    "geb.datum",
    "gebdatum",
    "verjaardag",
    "jarig",
];

fn month_at(lower: &str, i: usize) -> Option<usize> {
    let rest = &lower[i..];
    MONTHS.iter().filter(|m| rest.starts_with(*m)).map(|m| m.len()).max().and_then(|n| {
        let mut n = n;
        if rest.as_bytes().get(n) == Some(&b'.') {
            n += 1;
        }
        let next = rest.as_bytes().get(n).copied().unwrap_or(b' ');
        (!next.is_ascii_alphabetic()).then_some(n)
    })
}

/// Every date in the text: (start, end).
pub(crate) fn dates(t: &Text) -> Vec<(usize, usize)> {
    let b = t.b;
    let lower = t.lower.as_str();
    let mut out = Vec::new();
    let mut i = 0;
    let year_at = |j: usize| -> Option<usize> {
        let mut k = j;
        while k < b.len() && b[k].is_ascii_digit() {
            k += 1;
        }
        (k - j == 4 && t.boundary_after(k)).then_some(k)
    };
    while i < b.len() {
        if b[i].is_ascii_digit() && number_start_ok(t, i) {
            let gs = groups(t, i, b"-/.", 3);
            let sizes: Vec<usize> = gs.iter().map(|g| g.1 - g.0).collect();
            if gs.len() == 3 && t.boundary_after(gs[2].1) {
                let numeric = (sizes[0] <= 2 && sizes[1] <= 2 && (sizes[2] == 4 || sizes[2] == 2)) || (sizes == [4, 2, 2]);
                if numeric && gs[1].2 == gs[2].2 {
                    out.push((i, gs[2].1));
                    i = gs[2].1;
                    continue;
                }
            }
            // 3 maart 1985, 3rd of March 1985
            if sizes.first().is_some_and(|&n| n <= 2) {
                let mut j = gs[0].1;
                for suf in ["st", "nd", "rd", "th", "e"] {
                    if lower[j..].starts_with(suf) {
                        j += suf.len();
                        break;
                    }
                }
                if lower[j..].starts_with(" of ") {
                    j += 3;
                }
                if t.at(j) == b' '
                    && let Some(m) = month_at(lower, j + 1)
                {
                    let k = j + 1 + m;
                    if t.at(k) == b' '
                        && let Some(e) = year_at(k + 1)
                    {
                        out.push((i, e));
                        i = e;
                        continue;
                    }
                }
            }
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            continue;
        }
        // March 3, 1985
        if b[i].is_ascii_alphabetic()
            && t.boundary_before(i)
            && let Some(m) = month_at(lower, i)
        {
            let mut j = i + m;
            if t.at(j) == b' ' && t.at(j + 1).is_ascii_digit() {
                j += 1;
                let ds = j;
                while t.at(j).is_ascii_digit() {
                    j += 1;
                }
                if j - ds <= 2 {
                    for suf in ["st", "nd", "rd", "th"] {
                        if lower[j..].starts_with(suf) {
                            j += suf.len();
                            break;
                        }
                    }
                    if t.at(j) == b',' {
                        j += 1;
                    }
                    if t.at(j) == b' '
                        && let Some(e) = year_at(j + 1)
                    {
                        out.push((i, e));
                        i = e;
                        continue;
                    }
                }
            }
            i += m;
            continue;
        }
        i += 1;
    }
    out
}

pub(crate) fn births(t: &Text, out: &mut Vec<Cand>) {
    for (s, e) in dates(t) {
        let ctx = t.context(s, 48);
        // the nearest sentence only: "geboren" in a sentence before does not count
        let cut = [". ", "! ", "? ", "\n"].iter().filter_map(|m| ctx.rfind(m).map(|p| p + m.len())).max().unwrap_or(0);
        let ctx = if ctx[cut..].trim().is_empty() { ctx } else { &ctx[cut..] };
        // or just after it: "14-09-2013 als geboortedatum", "(date of birth)"
        let mut a = (e + 32).min(t.lower.len());
        while !t.lower.is_char_boundary(a) {
            a -= 1;
        }
        let after = &t.lower[e..a];
        let after = after.split(['.', '\n', ';']).next().unwrap_or("");
        let after_hit = ["geboortedatum", "geboren", "date of birth", "birth date", "(dob", "geb.datum"].iter().any(|w| after.contains(w));
        if BIRTH_CONTEXT.iter().any(|w| ctx.contains(w)) || after_hit {
            out.push(cand(s, e, Label::DateOfBirth, 0.95, "context:birth"));
        }
    }
}

// ---------------------------------------------------------------- KvK, document and case numbers

const KVK_CONTEXT: &[&str] = &["kvk", "kamer van koophandel", "chamber of commerce", "handelsregister", "coc"];

pub(crate) fn kvks(t: &Text, out: &mut Vec<Cand>) {
    let b = t.b;
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() || !number_start_ok(t, i) {
            i += 1;
            continue;
        }
        let gs = groups(t, i, b" .", 4);
        let mut total = 0;
        let mut end = None;
        for g in &gs {
            total += g.1 - g.0;
            if total == 8 {
                end = Some(g.1);
                break;
            }
        }
        let last = gs.last().map(|g| g.1).unwrap_or(i + 1);
        if let Some(e) = end
            && t.boundary_after(e)
            && t.context_has(i, 40, KVK_CONTEXT)
        {
            out.push(cand(i, e, Label::Kvk, 0.95, "context:kvk"));
            i = e;
        } else {
            i = last;
        }
    }
}

const ID_CONTEXT: &[&str] = &[
    "paspoort",
    "passport",
    "id-kaart",
    "idkaart",
    "id kaart",
    "identiteitskaart",
    "identiteitsbewijs",
    "documentnummer",
    "document number",
    "id card",
    "identity card",
    "id-card",
    "rijbewijs",
    "verblijfsdocument",
    "verblijfsvergunning",
    "reisdocument",
    "id-nummer",
    "id nummer",
    "id number",
    "id-nr",
    "legitimatie",
    "identity document",
];

pub(crate) fn id_numbers(t: &Text, out: &mut Vec<Cand>) {
    let b = t.b;
    let mut i = 0;
    while i + 9 <= b.len() {
        if !b[i].is_ascii_uppercase() || !t.boundary_before(i) {
            i += 1;
            continue;
        }
        let w = &b[i..i + 9];
        let shape = w[..2].iter().all(|c| c.is_ascii_uppercase() && *c != b'O')
            && w[2..8].iter().all(|c| (c.is_ascii_uppercase() && *c != b'O') || c.is_ascii_digit())
            && w[8].is_ascii_digit()
            && t.boundary_after(i + 9);
        if !shape {
            i += 1;
            continue;
        }
        // the shape alone also fits product, ticket and order codes: only near a document word
        if t.context_has(i, 64, ID_CONTEXT) {
            out.push(cand(i, i + 9, Label::IdNumber, 0.95, "context:id-document"));
        }
        i += 9;
    }
}

const CASE_CONTEXT: &[&str] = &[
    "dossiernummer",
    "dossiernr",
    "dossier nr",
    "dossier-nr",
    "dossier",
    "cliëntnummer",
    "clientnummer",
    "cliëntnr",
    "clientnr",
    "client number",
    "client id",
    "client-id",
    "client no",
    "cliënt-id",
    "cliëntid",
    "patiëntnummer",
    "patientnummer",
    "patiëntnr",
    "patientnr",
    "patient number",
    "patient id",
    "zaaknummer",
    "zaaknr",
    "case number",
    "case no",
    "case id",
    "case ref",
    "application no",
    "application number",
    "policy",
    "personeelsnr",
    "ubrn",
    "nhs number",
    "huurcontractnummer",
    "contractnummer",
    "v-nummer",
    "vnummer",
    "relatienummer",
    "casusnummer",
    "ons kenmerk",
    "onze referentie",
    "uw kenmerk",
    "our ref",
    "your ref",
    "tenancy ref",
    "tenancy reference",
    "lidnummer",
    "lidnr",
    "membership number",
    "member number",
    "member id",
    "leerlingnummer",
    "studentnummer",
    "student number",
    "personeelsnummer",
    "employee number",
    "employee id",
    "polisnummer",
    "policy number",
    "huurdernummer",
    "klantnummer",
    "customer number",
    "verzekerdennummer",
    "cliëntcode",
    "dossiercode",
    "file number",
    "ref. client",
    "kandidaatnummer",
    "kandidaatnr",
    "candidate number",
    "candidate id",
    "applicant id",
    "sollicitatienummer",
    "proces-verbaalnummer",
    "pv-nummer",
    "bvh-nummer",
    "aangiftenummer",
    "rolnummer",
    "rolnr",
    "debiteurnummer",
    "debiteurennummer",
    "debtor number",
    "klantnr",
    "studentnr",
    "leerlingnr",
    "nhs no",
    "hospital number",
    "medical record number",
    "verzekeringsnummer",
    "insurance number",
    "member no",
    "membership no",
    "client reference",
];

fn case_matcher() -> Option<&'static aho_corasick::AhoCorasick> {
    static M: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>> = std::sync::OnceLock::new();
    M.get_or_init(|| aho_corasick::AhoCorasick::new(CASE_CONTEXT).ok()).as_ref()
}

pub(crate) fn case_ids(t: &Text, out: &mut Vec<Cand>) {
    let lower = t.lower.as_str();
    let b = t.b;
    let Some(matcher) = case_matcher() else { return };
    // every keyword where it stands, overlaps included ("dossier" inside "dossiernummer")
    for hit in matcher.find_overlapping_iter(lower) {
        let k = hit.start();
        let kw = CASE_CONTEXT[hit.pattern().as_usize()];
        {
            if !t.boundary_before(k) {
                continue;
            }
            // skip the glue between the word and the value: ": ", " nr. ", " #", " is "
            let mut j = k + kw.len();
            let mut hops = 0;
            loop {
                while j < b.len() && matches!(b[j], b' ' | b':' | b'#' | b'\t' | b'=' | b'.') {
                    j += 1;
                }
                let rest = &lower[j..];
                let glue = ["nummer", "number", "nr.", "nr", "no.", "no", "id", "is", "van", "of", "(", "code"]
                    .iter()
                    .find(|g| rest.starts_with(*g) && !rest.as_bytes().get(g.len()).is_some_and(|c| c.is_ascii_alphanumeric()));
                match glue {
                    Some(g) if hops < 3 => {
                        j += g.len();
                        hops += 1;
                    }
                    _ => break,
                }
            }
            let s = j;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || matches!(b[j], b'-' | b'/' | b'_' | b'.')) {
                j += 1;
            }
            while j > s && matches!(b[j - 1], b'.' | b'-' | b'/') {
                j -= 1;
            }
            let value = &b[s..j];
            let digits = value.iter().filter(|c| c.is_ascii_digit()).count();
            if digits >= 3 || (digits >= 2 && value.len() >= 4) {
                out.push(cand(s, j, Label::CaseId, 0.9, "context:case-number"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        assert!(bsn_valid(&[1, 1, 1, 2, 2, 2, 3, 3, 3]));
        assert!(!bsn_valid(&[1, 2, 3, 4, 5, 6, 7, 8, 9]));
        assert!(iban_valid(b"NL91ABNA0417164300"));
        assert!(!iban_valid(b"NL91ABNA0417164301"));
        assert!(phone_ok(&[0, 6, 1, 2, 3, 4, 5, 6, 7, 8], false));
        assert!(phone_ok(&[3, 1, 0, 6, 1, 2, 3, 4, 5, 6, 7, 8], true));
        assert!(!phone_ok(&[0, 1, 0, 2, 2, 0, 2, 4], false));
    }
}
