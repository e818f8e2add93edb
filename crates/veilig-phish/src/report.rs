//! Finding the suspicious message inside an employee's report: attached (`message/rfc822` or an
//! `.eml` file), forwarded inline (the mail program's "Forwarded message" block with the
//! original's From, Date, Subject and To, in Dutch or English), or — when neither — the report
//! itself.

use mail_parser::{MessageParser, MimeHeaders, PartType};

/// How the original reached the report mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// As an attachment: the original with all its headers.
    Attached,
    /// Forwarded inline: the original's sender and subject from the forward block; its
    /// authentication headers are lost.
    Inline,
    /// Not a forward: the message itself is analysed.
    Direct,
}

/// The message to analyse and who reported it.
#[derive(Debug, Clone)]
pub struct Reported {
    pub message: Vec<u8>,
    pub form: Form,
    /// The reporter's address (the report's From), lower case.
    pub reporter: Option<String>,
    pub reporter_name: Option<String>,
    /// The report's own Message-ID, to answer it and to never answer it twice.
    pub report_id: Option<String>,
    pub report_subject: Option<String>,
}

/// Lines that open a forwarded block, lower case.
const MARKERS: &[&str] = &[
    "---------- forwarded message",
    "-------- forwarded message",
    "begin forwarded message",
    "-------- original message",
    "-----original message-----",
    "---------- doorgestuurd bericht",
    "-------- doorgestuurd bericht",
    "begin doorgestuurd bericht",
    "-------- oorspronkelijk bericht",
    "-----oorspronkelijk bericht-----",
    "-------- oorspronkelijk bericht --------",
    "---------- weitergeleitete nachricht",
];

/// Field names in a forward block, by the header they stand for.
const FIELDS: &[(&str, &[&str])] = &[
    ("From", &["from", "van", "afzender", "von"]),
    ("Date", &["date", "sent", "datum", "verzonden", "gesendet"]),
    ("Subject", &["subject", "onderwerp", "betreff"]),
    ("To", &["to", "aan", "an"]),
    ("Cc", &["cc"]),
    ("Reply-To", &["reply-to", "antwoord aan"]),
];

/// Finds the reported message in a report.
pub fn reported_message(raw: &[u8]) -> Reported {
    let Some(outer) = MessageParser::new().parse(raw) else {
        return Reported {
            message: raw.to_vec(),
            form: Form::Direct,
            reporter: None,
            reporter_name: None,
            report_id: None,
            report_subject: None,
        };
    };
    let from = outer.from().and_then(|a| a.first());
    let base = Reported {
        message: Vec::new(),
        form: Form::Direct,
        reporter: from.and_then(|a| a.address()).map(|a| a.trim().to_lowercase()),
        reporter_name: from.and_then(|a| a.name()).map(str::to_string),
        report_id: outer.message_id().map(str::to_string),
        report_subject: outer.subject().map(str::to_string),
    };
    for part in outer.attachments() {
        let named_eml = part.attachment_name().is_some_and(|n| n.to_ascii_lowercase().ends_with(".eml"));
        match &part.body {
            PartType::Message(m) => return Reported { message: m.raw_message().to_vec(), form: Form::Attached, ..base },
            PartType::Binary(b) | PartType::InlineBinary(b) if named_eml => {
                return Reported { message: b.to_vec(), form: Form::Attached, ..base };
            }
            PartType::Text(t) if named_eml => return Reported { message: t.as_bytes().to_vec(), form: Form::Attached, ..base },
            _ => {}
        }
    }
    let text = outer
        .text_bodies()
        .find_map(|p| match &p.body {
            PartType::Text(t) => Some(t.to_string()),
            PartType::Html(h) => Some(mail_parser::decoders::html::html_to_text(h)),
            _ => None,
        })
        .unwrap_or_default();
    if let Some(headers) = forward_block(&text) {
        return Reported { message: rewrite_headers(raw, &headers), form: Form::Inline, ..base };
    }
    Reported { message: raw.to_vec(), form: Form::Direct, ..base }
}

/// The original's header fields from the first forward block in `text`.
fn forward_block(text: &str) -> Option<Vec<(&'static str, String)>> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| {
        let l = l.trim().trim_start_matches('>').trim().to_lowercase();
        MARKERS.iter().any(|m| l.starts_with(m))
    });
    // Outlook forwards without a marker line: a block starting "Van:"/"From:" followed by "Verzonden:"/"Sent:".
    let start = start.map(|s| s + 1).or_else(|| {
        lines.windows(2).position(|w| {
            let (a, b) = (w[0].trim().to_lowercase(), w[1].trim().to_lowercase());
            (a.starts_with("van:") || a.starts_with("from:"))
                && (b.starts_with("verzonden:") || b.starts_with("sent:") || b.starts_with("datum:") || b.starts_with("date:"))
        })
    })?;
    let mut fields: Vec<(&'static str, String)> = Vec::new();
    let mut began = false;
    for line in lines.iter().skip(start).take(20) {
        let line = line.trim().trim_start_matches('>').trim();
        if line.is_empty() {
            if began {
                break;
            }
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            if began {
                break;
            }
            continue;
        };
        let name = name.trim().trim_matches('*').to_lowercase();
        let Some((header, _)) = FIELDS.iter().find(|(_, names)| names.contains(&name.as_str())) else {
            if began {
                break;
            }
            continue;
        };
        began = true;
        if !fields.iter().any(|(h, _)| h == header) {
            fields.push((header, clean_value(header, value.trim().trim_matches('*').trim())));
        }
    }
    fields.iter().any(|(h, _)| *h == "From").then_some(fields)
}

/// Header values as mail programs print them: `Name [mailto:a@b]` becomes `Name <a@b>`.
fn clean_value(header: &str, value: &str) -> String {
    let mut v = value.replace(['\r', '\n'], " ");
    if let Some(i) = v.find("[mailto:") {
        v = format!("{}<{}>", &v[..i], v[i + 8..].trim_end_matches(']'));
    }
    if header == "From" && !v.contains('<') && !v.contains('@') {
        // "Sanne Bakker" alone: the address was not shown; keep the name.
        v = format!("\"{}\" <unknown@invalid>", v.replace('"', ""));
    }
    v
}

/// The report with its top-level header block replaced by the original's fields, keeping the
/// MIME headers so the body is read as before.
fn rewrite_headers(raw: &[u8], fields: &[(&'static str, String)]) -> Vec<u8> {
    let (head_end, body_start) = match memchr::memmem::find(raw, b"\r\n\r\n") {
        Some(i) if memchr::memmem::find(raw, b"\n\n").is_none_or(|j| i < j) => (i, i + 4),
        _ => match memchr::memmem::find(raw, b"\n\n") {
            Some(j) => (j, j + 2),
            None => (raw.len(), raw.len()),
        },
    };
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let mut out = String::new();
    for (h, v) in fields {
        out.push_str(&format!("{h}: {v}\r\n"));
    }
    let mut keep = false;
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if keep {
                out.push_str(line);
                out.push_str("\r\n");
            }
            continue;
        }
        let name = line.split(':').next().unwrap_or("").to_ascii_lowercase();
        keep = name.starts_with("content-") || name == "mime-version";
        if keep {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(raw.get(body_start..).unwrap_or(&[]));
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_forward_in_dutch() {
        let raw = b"From: Marieke de Vries <m.devries@zorggroephorizon.nl>\r\nTo: meldpunt@zorggroephorizon.nl\r\nSubject: Fwd: Uw pakket\r\nMessage-ID: <r1@z>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nIs dit echt?\r\n\r\n---------- Doorgestuurd bericht ---------\r\nVan: PostNL <info@postnl-bezorging.example>\r\nDatum: ma 2 nov. 2026 om 09:12\r\nOnderwerp: Uw pakket kon niet worden bezorgd\r\nAan: <m.devries@zorggroephorizon.nl>\r\n\r\nBetaal 1,95 via https://postnl-bezorging.example/betalen\r\n";
        let r = reported_message(raw);
        assert_eq!(r.form, Form::Inline);
        assert_eq!(r.reporter.as_deref(), Some("m.devries@zorggroephorizon.nl"));
        assert_eq!(r.report_id.as_deref(), Some("r1@z"));
        let inner = MessageParser::new().parse(&r.message).unwrap();
        assert_eq!(inner.from().and_then(|a| a.first()).and_then(|a| a.address()), Some("info@postnl-bezorging.example"));
        assert_eq!(inner.subject(), Some("Uw pakket kon niet worden bezorgd"));
    }
}
