//! DOCX and ODT: the text inside the document's XML parts is pseudonymised where it stands, so
//! runs, styles, tables and images stay as they were. A value split over several runs (spelling
//! marks, a bold first name) becomes one pseudonym in the first run. Author fields in the
//! document's properties are replaced as well.
//!
//! The ZIP container is read from its central directory and written anew (deflate), in memory:
//! no I/O. Sizes are bounded, so a ZIP bomb is refused instead of unpacked.

use crate::{Mapping, Pseudonymiser};
use std::io::Write;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum OfficeError {
    #[error("this is not a DOCX or ODT document (no readable ZIP directory)")]
    NotZip,
    #[error("the document is damaged: {0}")]
    Corrupt(String),
    #[error("the document unpacks to more than {0} MB")]
    TooLarge(usize),
    #[error("the document is encrypted or uses an unsupported compression")]
    Unsupported,
}

/// Unpacked size limit for one document.
pub const MAX_UNPACKED: usize = 200 << 20;

struct Entry {
    name: String,
    data: Vec<u8>,
}

fn u16_at(b: &[u8], i: usize) -> Result<u16, OfficeError> {
    b.get(i..i + 2).map(|s| u16::from_le_bytes([s[0], s[1]])).ok_or(OfficeError::NotZip)
}
fn u32_at(b: &[u8], i: usize) -> Result<u32, OfficeError> {
    b.get(i..i + 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]])).ok_or(OfficeError::NotZip)
}

fn read_zip(b: &[u8]) -> Result<Vec<Entry>, OfficeError> {
    // end of central directory: the last PK\5\6 within the last 64 KiB + 22 bytes
    let from = b.len().saturating_sub(65_557);
    let eocd = (from..b.len().saturating_sub(21)).rev().find(|&i| b[i..].starts_with(b"PK\x05\x06")).ok_or(OfficeError::NotZip)?;
    let count = u16_at(b, eocd + 10)? as usize;
    let cd_offset = u32_at(b, eocd + 16)? as usize;
    let mut entries = Vec::with_capacity(count);
    let mut p = cd_offset;
    let mut total = 0usize;
    for _ in 0..count {
        if !b.get(p..).is_some_and(|s| s.starts_with(b"PK\x01\x02")) {
            return Err(OfficeError::Corrupt("central directory".into()));
        }
        let flags = u16_at(b, p + 8)?;
        let method = u16_at(b, p + 10)?;
        let csize = u32_at(b, p + 20)? as usize;
        let usize_ = u32_at(b, p + 24)? as usize;
        let nlen = u16_at(b, p + 28)? as usize;
        let elen = u16_at(b, p + 30)? as usize;
        let clen = u16_at(b, p + 32)? as usize;
        let local = u32_at(b, p + 42)? as usize;
        let name = b.get(p + 46..p + 46 + nlen).ok_or(OfficeError::NotZip)?;
        let name = String::from_utf8_lossy(name).into_owned();
        p += 46 + nlen + elen + clen;
        if flags & 1 != 0 {
            return Err(OfficeError::Unsupported);
        }
        // what will be held in memory: the unpacked size, and for stored entries the stored bytes
        total = total.saturating_add(usize_.max(csize));
        if method == 0 && csize != usize_ {
            return Err(OfficeError::Corrupt(format!("entry {name} has inconsistent sizes")));
        }
        if total > MAX_UNPACKED {
            return Err(OfficeError::TooLarge(MAX_UNPACKED >> 20));
        }
        if !b.get(local..).is_some_and(|s| s.starts_with(b"PK\x03\x04")) {
            return Err(OfficeError::Corrupt(format!("entry {name}")));
        }
        let start = local + 30 + u16_at(b, local + 26)? as usize + u16_at(b, local + 28)? as usize;
        let raw = b.get(start..start + csize).ok_or_else(|| OfficeError::Corrupt(format!("entry {name} is cut off")))?;
        let data = match method {
            0 => raw.to_vec(),
            8 => miniz_oxide::inflate::decompress_to_vec_with_limit(raw, usize_.clamp(1, MAX_UNPACKED))
                .map_err(|_| OfficeError::Corrupt(format!("entry {name} does not unpack")))?,
            _ => return Err(OfficeError::Unsupported),
        };
        entries.push(Entry { name, data });
    }
    Ok(entries)
}

fn write_zip(entries: &[Entry]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::new();
    let mut central: Vec<u8> = Vec::new();
    for e in entries {
        // ODF wants its mimetype first and stored; the rest is deflated
        let stored = e.name == "mimetype";
        let body = if stored { e.data.clone() } else { miniz_oxide::deflate::compress_to_vec(&e.data, 6) };
        let crc = crc32fast::hash(&e.data);
        let offset = out.len() as u32;
        let method: u16 = if stored { 0 } else { 8 };
        let mut local = Vec::with_capacity(30 + e.name.len());
        local.extend_from_slice(b"PK\x03\x04");
        local.extend_from_slice(&20u16.to_le_bytes());
        local.extend_from_slice(&0u16.to_le_bytes());
        local.extend_from_slice(&method.to_le_bytes());
        local.extend_from_slice(&0u16.to_le_bytes()); // time
        local.extend_from_slice(&0x21u16.to_le_bytes()); // date: 1980-01-01
        local.extend_from_slice(&crc.to_le_bytes());
        local.extend_from_slice(&(body.len() as u32).to_le_bytes());
        local.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
        local.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        local.extend_from_slice(&0u16.to_le_bytes());
        local.extend_from_slice(e.name.as_bytes());
        out.extend_from_slice(&local);
        out.extend_from_slice(&body);
        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&method.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0x21u16.to_le_bytes());
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&(body.len() as u32).to_le_bytes());
        central.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0u8; 8]); // extra, comment, disk, internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(e.name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    let _ = out.write_all(&central);
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0u8; 4]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        let after = &rest[p..];
        // an entity is short: look for its ';' in the next bytes only (no quadratic scan)
        let end = after.as_bytes().iter().take(12).position(|&c| c == b';');
        let ent = end.map(|e| &after[1..e]);
        let ch = match ent {
            Some("amp") => Some('&'),
            Some("lt") => Some('<'),
            Some("gt") => Some('>'),
            Some("quot") => Some('"'),
            Some("apos") => Some('\''),
            Some(e) if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16).ok().and_then(char::from_u32),
            Some(e) if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match (ch, end) {
            (Some(c), Some(e)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            _ => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Which XML elements hold the text, and which end a paragraph.
struct Dialect {
    /// Text is read only inside these elements (DOCX: `w:t`); empty = every text node inside a paragraph.
    text_elems: &'static [&'static str],
    paragraphs: &'static [&'static str],
    /// Empty elements that stand for a character: `<w:tab/>`, `<text:s/>`.
    virtual_chars: &'static [(&'static str, char)],
    /// Elements whose whole text is personal (author fields).
    author_elems: &'static [&'static str],
}

const DOCX: Dialect = Dialect {
    text_elems: &["w:t"],
    paragraphs: &["w:p"],
    virtual_chars: &[("w:tab", '\t'), ("w:br", '\n'), ("w:cr", '\n')],
    author_elems: &["dc:creator", "cp:lastModifiedBy", "Manager"],
};
const ODT: Dialect = Dialect {
    text_elems: &[],
    paragraphs: &["text:p", "text:h"],
    virtual_chars: &[("text:s", ' '), ("text:tab", '\t'), ("text:line-break", '\n')],
    author_elems: &["dc:creator", "meta:initial-creator", "meta:printed-by"],
};

fn tag_name(tag: &str) -> &str {
    let t = tag.trim_start_matches(['<', '/']);
    let end = t.find(|c: char| c.is_whitespace() || c == '>' || c == '/').unwrap_or(t.len());
    &t[..end]
}

/// One XML part: the text of its paragraphs pseudonymised in place.
fn pseudonymise_xml(xml: &str, d: &Dialect, engine: &Pseudonymiser, mapping: &mut Mapping) -> (String, usize) {
    // pass 1: the text nodes that carry document text, with their place in a joined text
    struct Node {
        start: usize, // byte range of the escaped text in `xml`
        end: usize,
        joined: usize, // where its unescaped text starts in `joined`
        text: String,
        author: bool,
    }
    let mut nodes: Vec<Node> = Vec::new();
    let mut joined = String::new();
    let mut i = 0;
    let mut in_par = 0usize;
    let mut in_text = false;
    let mut in_author = false;
    let b = xml.as_bytes();
    while i < b.len() {
        if b[i] == b'<' {
            let Some(close) = xml[i..].find('>').map(|c| i + c + 1) else { break };
            let tag = &xml[i..close];
            let name = tag_name(tag);
            let closing = tag.starts_with("</");
            let empty = tag.ends_with("/>");
            if d.paragraphs.contains(&name) {
                if closing {
                    in_par = in_par.saturating_sub(1);
                    joined.push('\n');
                } else if !empty {
                    in_par += 1;
                } else {
                    joined.push('\n');
                }
            } else if d.text_elems.contains(&name) {
                in_text = !closing && !empty;
            } else if d.author_elems.contains(&name) {
                in_author = !closing && !empty;
            } else if empty
                && in_par > 0
                && let Some((_, c)) = d.virtual_chars.iter().find(|(n, _)| *n == name)
            {
                joined.push(*c);
            }
            i = close;
            continue;
        }
        let end = xml[i..].find('<').map(|e| i + e).unwrap_or(b.len());
        let wanted = in_author || (in_par > 0 && (d.text_elems.is_empty() || in_text));
        if wanted {
            let text = unescape(&xml[i..end]);
            nodes.push(Node { start: i, end, joined: joined.len(), text: text.clone(), author: in_author });
            joined.push_str(&text);
            if in_author {
                joined.push('\n');
            }
        }
        i = end;
    }
    if nodes.is_empty() {
        return (xml.to_string(), 0);
    }
    // pass 2: find the values in the joined text; author fields are persons whole
    let out = engine.pseudonymise(&joined, mapping);
    let mut spans: Vec<(usize, usize, String)> =
        out.spans.iter().filter_map(|s| s.replacement.clone().map(|r| (s.byte_start, s.byte_end, r))).collect();
    for n in nodes.iter().filter(|n| n.author && !n.text.trim().is_empty()) {
        let (s, e) = (n.joined, n.joined + n.text.len());
        if !spans.iter().any(|x| x.0 < e && s < x.1) {
            spans.push((s, e, mapping.pseudonym(crate::Label::Person, n.text.trim(), false)));
        }
    }
    spans.sort_by_key(|s| s.0);
    let count = spans.len();
    // pass 3: new text per node: a span's replacement goes where the span starts; the rest of
    // the span's characters, in this node or the following ones, are dropped
    let mut new_text: Vec<String> = Vec::with_capacity(nodes.len());
    for n in &nodes {
        let (ns, ne) = (n.joined, n.joined + n.text.len());
        let mut t = String::new();
        let mut pos = ns;
        for (s, e, r) in spans.iter().filter(|(s, e, _)| *s < ne && ns < *e) {
            if *s >= pos {
                t.push_str(&joined[pos..*s]);
                t.push_str(r);
            }
            pos = (*e).min(ne).max(pos);
        }
        if pos < ne {
            t.push_str(&joined[pos..ne]);
        }
        new_text.push(t);
    }
    let mut xml_out = String::with_capacity(xml.len());
    let mut last = 0;
    for (n, t) in nodes.iter().zip(&new_text) {
        xml_out.push_str(&xml[last..n.start]);
        if *t == n.text {
            xml_out.push_str(&xml[n.start..n.end]);
        } else {
            xml_out.push_str(&escape(t));
        }
        last = n.end;
    }
    xml_out.push_str(&xml[last..]);
    // a changed w:t may now start or end with a space: keep it
    if d.text_elems.contains(&"w:t") {
        xml_out = xml_out.replace("<w:t>", "<w:t xml:space=\"preserve\">");
    }
    (xml_out, count)
}

/// Comments and tracked changes name their authors in attributes: `w:author="Anna de Vries"`,
/// `w:initials="AV"`. The author becomes their pseudonym, the initials go.
fn author_attributes(xml: &str, mapping: &mut Mapping) -> String {
    if !xml.contains(" w:author=\"") && !xml.contains(" w:initials=\"") {
        return xml.to_string();
    }
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    loop {
        let a = rest.find(" w:author=\"");
        let i = rest.find(" w:initials=\"");
        let (at, key, initials) = match (a, i) {
            (Some(a), Some(i)) if i < a => (i, " w:initials=\"", true),
            (Some(a), _) => (a, " w:author=\"", false),
            (None, Some(i)) => (i, " w:initials=\"", true),
            (None, None) => break,
        };
        let start = at + key.len();
        let Some(len) = rest[start..].find('"') else { break };
        out.push_str(&rest[..start]);
        let value = unescape(&rest[start..start + len]);
        if !initials && !value.trim().is_empty() {
            out.push_str(&escape(&mapping.pseudonym(crate::Label::Person, value.trim(), false)).replace('"', "&quot;"));
        }
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    out
}

/// Which kind of office document the bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfficeKind {
    Docx,
    Odt,
}

/// Pseudonymises a DOCX or ODT document; returns the new document and how many values.
pub fn pseudonymise(bytes: &[u8], engine: &Pseudonymiser, mapping: &mut Mapping) -> Result<(Vec<u8>, OfficeKind, usize), OfficeError> {
    let mut entries = read_zip(bytes)?;
    let kind = if entries.iter().any(|e| e.name == "word/document.xml") {
        OfficeKind::Docx
    } else if entries.iter().any(|e| e.name == "content.xml") {
        OfficeKind::Odt
    } else {
        return Err(OfficeError::Corrupt("neither word/document.xml nor content.xml".into()));
    };
    // a thumbnail is a picture of the first page: it goes
    entries.retain(|e| !e.name.starts_with("Thumbnails/") && e.name != "docProps/thumbnail.jpeg");
    let mut total = 0;
    for e in entries.iter_mut() {
        let n = e.name.as_str();
        let (dialect, wanted) = match kind {
            OfficeKind::Docx => (
                &DOCX,
                n == "word/document.xml"
                    || (n.starts_with("word/header") || n.starts_with("word/footer")) && n.ends_with(".xml")
                    || ["word/footnotes.xml", "word/endnotes.xml", "word/comments.xml", "docProps/core.xml", "docProps/app.xml"]
                        .contains(&n),
            ),
            OfficeKind::Odt => (&ODT, ["content.xml", "styles.xml", "meta.xml"].contains(&n)),
        };
        if !wanted {
            continue;
        }
        let xml = String::from_utf8(std::mem::take(&mut e.data)).map_err(|_| OfficeError::Corrupt(format!("{n} is not UTF-8")))?;
        let (new, count) = pseudonymise_xml(&xml, dialect, engine, mapping);
        let new = author_attributes(&new, mapping);
        total += count;
        e.data = new.into_bytes();
    }
    Ok((write_zip(&entries), kind, total))
}

/// The document's text, paragraph by paragraph (for tests and previews).
pub fn text(bytes: &[u8]) -> Result<String, OfficeError> {
    let entries = read_zip(bytes)?;
    let (name, d) =
        if entries.iter().any(|e| e.name == "word/document.xml") { ("word/document.xml", &DOCX) } else { ("content.xml", &ODT) };
    let e = entries.iter().find(|e| e.name == name).ok_or(OfficeError::Corrupt(format!("no {name}")))?;
    let xml = std::str::from_utf8(&e.data).map_err(|_| OfficeError::Corrupt(format!("{name} is not UTF-8")))?;
    let mut out = String::new();
    let mut in_par = 0usize;
    let mut in_text = false;
    let mut i = 0;
    while i < xml.len() {
        if xml.as_bytes()[i] == b'<' {
            let Some(close) = xml[i..].find('>').map(|c| i + c + 1) else { break };
            let tag = &xml[i..close];
            let name = tag_name(tag);
            if d.paragraphs.contains(&name) {
                if tag.starts_with("</") || tag.ends_with("/>") {
                    in_par = in_par.saturating_sub(usize::from(tag.starts_with("</")));
                    out.push('\n');
                } else {
                    in_par += 1;
                }
            } else if d.text_elems.contains(&name) {
                in_text = !tag.starts_with("</") && !tag.ends_with("/>");
            } else if tag.ends_with("/>")
                && in_par > 0
                && let Some((_, c)) = d.virtual_chars.iter().find(|(n, _)| *n == name)
            {
                out.push(*c);
            }
            i = close;
            continue;
        }
        let end = xml[i..].find('<').map(|e| i + e).unwrap_or(xml.len());
        if in_par > 0 && (d.text_elems.is_empty() || in_text) {
            out.push_str(&unescape(&xml[i..end]));
        }
        i = end;
    }
    Ok(out)
}

/// Builds a small document from parts (name, content): for tests and fixtures.
pub fn build(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let entries: Vec<Entry> = parts.iter().map(|(n, d)| Entry { name: (*n).to_string(), data: d.to_vec() }).collect();
    write_zip(&entries)
}

/// One part of the document, unpacked (`None` if absent or unreadable).
pub fn part(bytes: &[u8], name: &str) -> Option<Vec<u8>> {
    read_zip(bytes).ok()?.into_iter().find(|e| e.name == name).map(|e| e.data)
}
