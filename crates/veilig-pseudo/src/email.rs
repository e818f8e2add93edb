//! E-mail messages (`.eml`): the headers that name people and the readable body, decoded from
//! whatever transfer encoding and character set the message uses, as one plain text that the
//! engine then reads like any other. Attachments are left out (and listed by name).

use mail_parser::{Address, MessageParser, MimeHeaders};

fn addresses(a: Option<&Address<'_>>) -> String {
    let Some(a) = a else { return String::new() };
    a.iter()
        .map(|x| match (x.name(), x.address()) {
            (Some(n), Some(e)) => format!("{n} <{e}>"),
            (None, Some(e)) => e.to_string(),
            (Some(n), None) => n.to_string(),
            (None, None) => String::new(),
        })
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The message as plain text: `From:`, `To:`, `Cc:`, `Reply-To:`, `Date:`, `Subject:`, a blank
/// line, the text body (or the HTML body as text), and the names of attachments that were left
/// out. `None` when the bytes are not a message.
pub fn to_text(raw: &[u8]) -> Option<String> {
    if !raw.iter().take(4096).any(|b| *b == b':') {
        return None;
    }
    let m = MessageParser::new().parse(raw)?;
    let mut out = String::new();
    for (key, value) in [
        ("From", addresses(m.from())),
        ("To", addresses(m.to())),
        ("Cc", addresses(m.cc())),
        ("Reply-To", addresses(m.reply_to())),
        ("Date", m.date().map(|d| d.to_rfc822()).unwrap_or_default()),
        ("Subject", m.subject().unwrap_or("").to_string()),
    ] {
        if !value.is_empty() {
            out.push_str(&format!("{key}: {value}\n"));
        }
    }
    out.push('\n');
    let body = m.body_text(0).map(|b| b.into_owned()).unwrap_or_default();
    out.push_str(body.trim_end());
    out.push('\n');
    let names: Vec<String> = m.attachments().filter_map(|a| a.attachment_name().map(str::to_string)).collect();
    if !names.is_empty() {
        out.push_str(&format!("\n[attachments left out: {}]\n", names.join(", ")));
    }
    Some(out)
}
