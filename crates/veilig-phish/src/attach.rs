//! Attachments: dangerous file types by name and by content, ZIP archives read from their
//! central directory only (nothing is decompressed, so a ZIP bomb costs nothing), macros in
//! OOXML (`vbaProject.bin`) and OLE files (the `_VBA_PROJECT` stream), HTML pages with forms.

use crate::html;
use crate::reasons::{Code, Reason};

/// Extensions that run code when opened on Windows or macOS.
const EXECUTABLE: &[&str] = &[
    "one",
    "onepkg",
    "exe",
    "com",
    "scr",
    "pif",
    "cpl",
    "msi",
    "msp",
    "bat",
    "cmd",
    "js",
    "jse",
    "vbs",
    "vbe",
    "wsf",
    "wsh",
    "hta",
    "ps1",
    "psm1",
    "jar",
    "reg",
    "dll",
    "app",
    "command",
    "sh",
    "chm",
    "msc",
    "appx",
    "appxbundle",
    "msix",
    "xll",
    "application",
    "gadget",
    "vb",
    "ws",
];
const SHORTCUT: &[&str] = &["lnk", "url", "scf", "website", "desktop", "settingcontent-ms", "library-ms", "searchconnector-ms"];
const DISK_IMAGE: &[&str] = &["iso", "img", "vhd", "vhdx", "dmg", "udf"];
const MACRO_EXT: &[&str] = &["docm", "dotm", "xlsm", "xltm", "xlam", "pptm", "potm", "ppsm", "sldm"];
const ARCHIVE: &[&str] = &["zip", "rar", "7z", "gz", "tgz", "tar", "cab", "arj", "ace", "lzh", "xz", "bz2"];
/// Extensions a decoy name pretends to have in front of the real one.
const DOCUMENT: &[&str] = &[
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "txt", "rtf", "jpg", "jpeg", "png", "gif", "mp3", "mp4", "csv",
    "htm", "html", "zip",
];

/// The most entries read from one archive's directory.
const MAX_ENTRIES: usize = 10_000;

/// One attachment as the message carries it.
pub struct Attachment<'a> {
    pub name: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
}

/// What checking the attachments found, and whether any could not be read.
#[derive(Default)]
pub struct Findings {
    pub reasons: Vec<Reason>,
    pub unreadable: Vec<String>,
    /// Encrypted archives whose password the body may give.
    pub encrypted: Vec<String>,
    pub images: usize,
}

/// Checks one attachment.
pub fn check(a: &Attachment<'_>, out: &mut Findings) {
    let name = a.name.trim().trim_end_matches('.');
    let lower = name.to_lowercase();
    let ext = extension(&lower);
    if a.content_type.starts_with("image/") || matches!(ext, "png" | "jpg" | "jpeg" | "gif" | "bmp" | "webp") {
        out.images += 1;
    }
    if decoy_extension(&lower).is_some() && (EXECUTABLE.contains(&ext) || SHORTCUT.contains(&ext) || DISK_IMAGE.contains(&ext)) {
        out.reasons.push(Reason::new(Code::DoubleExtension, name));
        return;
    }
    if EXECUTABLE.contains(&ext) || looks_like_pe(a.bytes) {
        out.reasons.push(Reason::new(Code::Executable, name));
        return;
    }
    if SHORTCUT.contains(&ext) || a.bytes.starts_with(&[0x4c, 0, 0, 0, 0x01, 0x14, 0x02, 0]) {
        out.reasons.push(Reason::new(Code::Shortcut, name));
        return;
    }
    if DISK_IMAGE.contains(&ext) || is_iso(a.bytes) {
        out.reasons.push(Reason::new(Code::DiskImage, name));
        return;
    }
    if matches!(ext, "htm" | "html" | "shtml" | "xhtml" | "svg" | "mht" | "mhtml") || a.content_type == "text/html" {
        let text = String::from_utf8_lossy(a.bytes);
        let scan = html::scan(&text);
        if !scan.forms.is_empty() && scan.password_field {
            out.reasons.push(Reason::new(Code::HtmlForm, name));
        } else if scan.obfuscated {
            out.reasons.push(Reason::new(Code::HtmlScript, name));
        } else if ext != "svg" || scan.redirects || !scan.anchors.is_empty() {
            out.reasons.push(Reason::new(Code::HtmlAttachment, name));
        }
        return;
    }
    if a.bytes.starts_with(&[0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]) {
        if contains(a.bytes, &utf16("_VBA_PROJECT")) || contains(a.bytes, &utf16("Macros")) {
            out.reasons.push(Reason::new(Code::Macro, name));
        }
        return;
    }
    if a.bytes.starts_with(b"PK\x03\x04") || a.bytes.starts_with(b"PK\x05\x06") || ARCHIVE.contains(&ext) || MACRO_EXT.contains(&ext) {
        check_archive(name, ext, a.bytes, out);
    }
}

fn check_archive(name: &str, ext: &str, bytes: &[u8], out: &mut Findings) {
    if !bytes.starts_with(b"PK") {
        if MACRO_EXT.contains(&ext) {
            out.reasons.push(Reason::new(Code::Macro, name));
        } else if ext == "7z" && bytes.starts_with(b"7z\xbc\xaf\x27\x1c") {
            // 7-Zip hides whether it is encrypted in compressed headers; say it cannot be checked.
            out.unreadable.push(name.to_string());
        } else if ext == "rar" && rar_encrypted(bytes) {
            out.encrypted.push(name.to_string());
        }
        return;
    }
    let entries = match zip_entries(bytes) {
        Some(e) => e,
        None => {
            out.unreadable.push(name.to_string());
            return;
        }
    };
    if entries.iter().any(|e| e.name.to_ascii_lowercase().ends_with("vbaproject.bin")) || MACRO_EXT.contains(&ext) {
        out.reasons.push(Reason::new(Code::Macro, name));
    }
    if entries.iter().any(|e| e.encrypted) {
        out.encrypted.push(name.to_string());
    }
    let dangerous: Vec<&str> = entries
        .iter()
        .map(|e| e.name.rsplit('/').next().unwrap_or(&e.name))
        .filter(|n| {
            let lower = n.to_lowercase();
            let ext = extension(&lower);
            EXECUTABLE.contains(&ext) || SHORTCUT.contains(&ext) || DISK_IMAGE.contains(&ext)
        })
        .collect();
    if let Some(first) = dangerous.first() {
        out.reasons.push(Reason::new(Code::ArchiveExecutable, format!("{name}: {first}")));
    }
}

fn extension(lower: &str) -> &str {
    lower.rsplit_once('.').map_or("", |(_, e)| e.trim())
}

/// The decoy extension in `factuur.pdf.exe` or `scan.pdf      .js`.
fn decoy_extension(lower: &str) -> Option<&str> {
    let (stem, _) = lower.rsplit_once('.')?;
    let stem = stem.trim_end();
    let (_, front) = stem.rsplit_once('.')?;
    DOCUMENT.contains(&front).then_some(front)
}

fn looks_like_pe(b: &[u8]) -> bool {
    if !b.starts_with(b"MZ") || b.len() < 0x40 {
        return false;
    }
    let off = u32::from_le_bytes([b[0x3c], b[0x3d], b[0x3e], b[0x3f]]) as usize;
    b.get(off..off + 4) == Some(b"PE\0\0")
}

fn is_iso(b: &[u8]) -> bool {
    [0x8001usize, 0x8801, 0x9001].iter().any(|&o| b.get(o..o + 5) == Some(b"CD001"))
}

fn rar_encrypted(b: &[u8]) -> bool {
    // RAR 5: the archive encryption header is block type 4 right after the signature.
    b.starts_with(b"Rar!\x1a\x07\x01\x00") && b.get(8 + 4 + 1) == Some(&4)
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// One entry of a ZIP central directory.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub encrypted: bool,
}

/// The entries of a ZIP archive from its central directory; `None` when there is none to read.
pub fn zip_entries(b: &[u8]) -> Option<Vec<Entry>> {
    // The end-of-central-directory record is in the last 65,557 bytes.
    let tail_start = b.len().saturating_sub(65_557);
    let eocd = (tail_start..b.len().saturating_sub(21)).rev().find(|&i| b.get(i..i + 4) == Some(b"PK\x05\x06"))?;
    let le16 = |o: usize| b.get(o..o + 2).map(|s| u16::from_le_bytes([s[0], s[1]]) as usize);
    let le32 = |o: usize| b.get(o..o + 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize);
    let count = le16(eocd + 10)?;
    let mut pos = le32(eocd + 16)?;
    let mut entries = Vec::new();
    for _ in 0..count.min(MAX_ENTRIES) {
        if b.get(pos..pos + 4) != Some(b"PK\x01\x02") {
            return if entries.is_empty() { None } else { Some(entries) };
        }
        let flags = le16(pos + 8)?;
        let (name_len, extra_len, comment_len) = (le16(pos + 28)?, le16(pos + 30)?, le16(pos + 32)?);
        let name = b.get(pos + 46..pos + 46 + name_len)?;
        entries.push(Entry { name: String::from_utf8_lossy(name).into_owned(), encrypted: flags & 1 == 1 });
        pos += 46 + name_len + extra_len + comment_len;
    }
    Some(entries)
}

/// True when the body gives a password for an archive: a password word followed closely by
/// `:`, `=` or "is" and a short token ("wachtwoord: 2024", "the password is Fact2026!"), not
/// a sentence saying it comes separately ("het wachtwoord ontvangt u per sms").
pub fn password_in(text_lower: &str) -> bool {
    const WORDS: &[&str] = &["wachtwoord", "password", "paswoord", "passwort", "ww", "pw", "pwd", "toegangscode", "code"];
    for w in WORDS {
        for (i, _) in text_lower.match_indices(w) {
            let before_ok = i == 0 || !text_lower[..i].chars().next_back().is_some_and(char::is_alphanumeric);
            if !before_ok {
                continue;
            }
            let rest = text_lower[i + w.len()..].trim_start_matches([' ', '*', '"']);
            let Some(value) = rest
                .strip_prefix(':')
                .or_else(|| rest.strip_prefix('='))
                .or_else(|| rest.strip_prefix("is "))
                .or_else(|| rest.strip_prefix("luidt"))
            else {
                continue;
            };
            let token: String = value.trim_start_matches([' ', '"', '\'', '*']).chars().take_while(|c| !c.is_whitespace()).collect();
            let token = token.trim_end_matches(['.', ',', ';', ')', '"', '\'']);
            if (3..=32).contains(&token.chars().count()) && !["het", "de", "een", "the", "sent", "verstuurd"].contains(&token) {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip(names: &[(&str, bool)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, enc) in names {
            let offset = out.len() as u32;
            out.extend_from_slice(b"PK\x03\x04");
            out.extend_from_slice(&[20, 0, u8::from(*enc), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(name.as_bytes());
            central.extend_from_slice(b"PK\x01\x02");
            central.extend_from_slice(&[20, 0, 20, 0, u8::from(*enc), 0]);
            central.extend_from_slice(&[0; 18]);
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 12]);
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        let cd_len = central.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
        out.extend_from_slice(&(names.len() as u16).to_le_bytes());
        out.extend_from_slice(&(names.len() as u16).to_le_bytes());
        out.extend_from_slice(&cd_len.to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out
    }

    #[test]
    fn reads_a_zip_directory() {
        let z = zip(&[("word/document.xml", false), ("word/vbaProject.bin", false), ("geheim.exe", true)]);
        let e = zip_entries(&z).unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(e[1].name, "word/vbaProject.bin");
        assert!(e[2].encrypted && !e[0].encrypted);
        let mut f = Findings::default();
        check(&Attachment { name: "offerte.docx", content_type: "application/octet-stream", bytes: &z }, &mut f);
        let codes: Vec<Code> = f.reasons.iter().map(|r| r.code).collect();
        assert_eq!(codes, vec![Code::Macro, Code::ArchiveExecutable]);
        assert_eq!(f.encrypted, vec!["offerte.docx".to_string()]);
        assert_eq!(zip_entries(&z[..z.len() - 30]), None);
    }

    #[test]
    fn passwords_given_or_not() {
        assert!(password_in("open de bijlage. wachtwoord: 2024"));
        assert!(password_in("the password is fact2026! thanks"));
        assert!(password_in("ww: welkom123"));
        assert!(!password_in("het wachtwoord ontvangt u apart per sms."));
        assert!(!password_in("wijzig uw wachtwoord via het portaal"));
    }

    #[test]
    fn names() {
        assert_eq!(decoy_extension("factuur.pdf.exe"), Some("pdf"));
        assert_eq!(decoy_extension("scan.pdf     .js"), Some("pdf"));
        assert_eq!(decoy_extension("jaarverslag.2024.pdf"), None);
    }
}
