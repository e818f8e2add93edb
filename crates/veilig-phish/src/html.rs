//! Just enough HTML for phishing analysis, hand-written and bounded: the links (`<a href>`,
//! `<area href>`) with the text they show, forms and their targets, password fields, and
//! `<meta http-equiv=refresh>` / `window.location` redirects in attachments.

/// A link in HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub href: String,
    /// The visible text between `<a>` and `</a>`, entities decoded, whitespace collapsed.
    pub text: String,
}

/// What an HTML document contains.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Scan {
    pub anchors: Vec<Anchor>,
    /// The `action` of every form (empty when it has none).
    pub forms: Vec<String>,
    pub password_field: bool,
    /// The page sends the reader elsewhere by itself (meta refresh or a script).
    pub redirects: bool,
    /// A script builds the page from encoded text (`atob`, `unescape`, `eval`,
    /// `String.fromCharCode`, `document.write`): what phishing pages do to hide from scanners.
    pub obfuscated: bool,
}

/// The most links and forms read from one document; the rest are ignored.
const MAX_ITEMS: usize = 500;

/// Scans `html`.
pub fn scan(html: &str) -> Scan {
    let mut out = Scan::default();
    let bytes = html.as_bytes();
    let mut i = 0;
    let mut open: Option<(String, String)> = None; // (href, text so far) of an <a> not yet closed
    let mut skip_until: Option<&'static str> = None; // inside <script> or <style>
    while i < bytes.len() {
        let Some(rel) = memchr_lt(&bytes[i..]) else {
            if let Some((_, text)) = open.as_mut() {
                text.push_str(&html[i..]);
            }
            break;
        };
        let lt = i + rel;
        if let Some((_, text)) = open.as_mut()
            && skip_until.is_none()
        {
            text.push_str(&html[i..lt]);
        }
        if bytes[lt..].starts_with(b"<!--") {
            i = find(bytes, lt + 4, b"-->").map_or(bytes.len(), |e| e + 3);
            continue;
        }
        let end = tag_end(bytes, lt + 1);
        let tag = &html[lt + 1..end.min(bytes.len())];
        i = (end + 1).min(bytes.len());
        let (name, attrs) = split_tag(tag);
        let lname = name.to_ascii_lowercase();
        if let Some(close) = skip_until {
            if lname == close {
                skip_until = None;
            }
            continue;
        }
        match lname.as_str() {
            "script" => {
                if tag.to_ascii_lowercase().contains("location") {
                    out.redirects = true;
                }
                skip_until = Some("/script");
                // A script's body is text until </script>: look for redirects in it.
                let body_end = find_ci(bytes, i, b"</script").unwrap_or(bytes.len());
                let body = html[i..body_end].to_ascii_lowercase();
                if body.contains("location.href") || body.contains("location.replace") || body.contains("window.location") {
                    out.redirects = true;
                }
                if ["atob(", "unescape(", "eval(", "fromcharcode", "document.write", "decodeuricomponent(escape"]
                    .iter()
                    .any(|w| body.contains(w))
                {
                    out.obfuscated = true;
                }
            }
            "style" => skip_until = Some("/style"),
            "a" | "area" => {
                if let Some((href, text)) = open.take() {
                    push_anchor(&mut out, href, &text);
                }
                if let Some(href) = attr(attrs, "href") {
                    if lname == "a" {
                        open = Some((href, String::new()));
                    } else {
                        push_anchor(&mut out, href, "");
                    }
                }
            }
            "/a" => {
                if let Some((href, text)) = open.take() {
                    push_anchor(&mut out, href, &text);
                }
            }
            "form" if out.forms.len() < MAX_ITEMS => out.forms.push(attr(attrs, "action").unwrap_or_default()),
            "input" => {
                let kind = attr(attrs, "type").unwrap_or_default().to_ascii_lowercase();
                let field = attr(attrs, "name").unwrap_or_default().to_ascii_lowercase();
                if kind == "password" || field.contains("pass") || field.contains("wachtwoord") {
                    out.password_field = true;
                }
            }
            "meta" => {
                let equiv = attr(attrs, "http-equiv").unwrap_or_default();
                if equiv.eq_ignore_ascii_case("refresh") && attr(attrs, "content").is_some_and(|c| c.to_ascii_lowercase().contains("url="))
                {
                    out.redirects = true;
                }
            }
            "img" | "br" | "p" | "div" | "td" | "li" | "/p" | "/div" | "/td" => {
                if let Some((_, text)) = open.as_mut() {
                    text.push(' ');
                    if lname == "img"
                        && let Some(alt) = attr(attrs, "alt")
                    {
                        text.push_str(&alt);
                    }
                }
            }
            _ => {}
        }
    }
    if let Some((href, text)) = open.take() {
        push_anchor(&mut out, href, &text);
    }
    out
}

fn push_anchor(out: &mut Scan, href: String, text: &str) {
    if out.anchors.len() < MAX_ITEMS {
        out.anchors.push(Anchor { href: decode_entities(href.trim()), text: collapse(&decode_entities(text)) });
    }
}

fn memchr_lt(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'<')
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

fn find_ci(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle)).map(|p| p + from)
}

/// The index of the `>` that ends a tag starting at `from`, skipping quoted attribute values.
fn tag_end(b: &[u8], from: usize) -> usize {
    let mut quote = None;
    let mut i = from;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None if c == b'>' => return i,
            None => {}
        }
        i += 1;
    }
    b.len()
}

fn split_tag(tag: &str) -> (&str, &str) {
    let tag = tag.trim_start();
    let end = tag.find(|c: char| c.is_whitespace() || c == '>').unwrap_or(tag.len());
    let (name, rest) = tag.split_at(end);
    (name.trim_end_matches('/'), rest)
}

/// The value of attribute `name` in a tag's attribute text.
pub fn attr(attrs: &str, name: &str) -> Option<String> {
    let b = attrs.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' && b[i] != b'>' {
            i += 1;
        }
        let key = &attrs[start..i];
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = None;
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let vstart = i + 1;
                let vend = b[vstart..].iter().position(|&c| c == q).map_or(b.len(), |p| p + vstart);
                value = Some(&attrs[vstart..vend]);
                i = (vend + 1).min(b.len());
            } else {
                let vstart = i;
                while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                    i += 1;
                }
                value = Some(&attrs[vstart..i]);
            }
        }
        if key.eq_ignore_ascii_case(name) {
            return Some(value.unwrap_or("").to_string());
        }
        if i == start {
            i += 1;
        }
    }
    None
}

/// Decodes the character references that matter for addresses and link texts.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let end = rest[1..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '#')).map(|e| e + 1).unwrap_or(rest.len());
        let name = &rest[1..end];
        let decoded = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            _ => name.strip_prefix('#').and_then(|n| {
                let code = match n.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => n.parse().ok(),
                };
                code.and_then(char::from_u32)
            }),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                let consumed = if rest[end..].starts_with(';') { end + 1 } else { end };
                rest = &rest[consumed..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_forms_and_entities() {
        let s = scan(
            "<p>Hi <a class=x href=\"https://evil.example/?a=1&amp;b=2\">https://www.ing.nl</a>\
             <a href='https://x.example'>Lees <b>meer</b>&nbsp;&#8250;</a><!-- <a href=no> -->\
             <script>var a='<a href=no>';</script><form action=https://collect.example/p><input type=password name=pw></form>",
        );
        assert_eq!(
            s.anchors,
            vec![
                Anchor { href: "https://evil.example/?a=1&b=2".into(), text: "https://www.ing.nl".into() },
                Anchor { href: "https://x.example".into(), text: "Lees meer ›".into() },
            ]
        );
        assert_eq!(s.forms, vec!["https://collect.example/p".to_string()]);
        assert!(s.password_field);
    }
}
