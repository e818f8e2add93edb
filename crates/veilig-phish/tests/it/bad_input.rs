//! Mail that cannot be read completely gets a verdict of at least *suspicious* with the reason
//! "could not be analysed fully", never a crash.

use veilig_phish::{Code, Verdict, analyse};

use crate::ctx;

fn incomplete(raw: &[u8]) -> (Verdict, String) {
    let a = analyse(raw, &ctx());
    assert_ne!(a.verdict, Verdict::Clean, "{:?}", a.reasons);
    let r = a.reasons.iter().find(|r| r.code == Code::Incomplete).unwrap_or_else(|| panic!("no incomplete reason: {:?}", a.reasons));
    (a.verdict, r.detail.clone())
}

#[test]
fn truncated_mime() {
    let raw = b"From: a@leverancier.example\nSubject: x\nContent-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: text/plain\n\nHallo\n--zz\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK";
    assert!(incomplete(raw).1.starts_with("truncated"));
}

#[test]
fn mail_without_from() {
    let (verdict, why) = incomplete(b"To: m.devries@zorggroephorizon.nl\nSubject: Hallo\n\nTekst");
    assert_eq!(verdict, Verdict::Suspicious);
    assert_eq!(why, "no sender");
}

#[test]
fn not_mail_at_all() {
    assert_eq!(incomplete(b"").1, "not an e-mail message");
    assert_eq!(incomplete(&[0xff, 0xfe, 0x00, 0x01, 0x02]).1, "not an e-mail message");
}

#[test]
fn unknown_charset_and_broken_encodings_are_read_without_a_crash() {
    let raw = "From: Bank <x@bank-veilig.example>\nSubject: =?x-unknown?B?@@@?=\nContent-Type: text/plain; charset=x-made-up\nContent-Transfer-Encoding: base64\n\n@@@not base64@@@\n";
    let a = analyse(raw.as_bytes(), &ctx());
    // The headers are still read: the sender is known and the campaign can be grouped.
    assert_eq!(a.fingerprint.from.as_deref(), Some("x@bank-veilig.example"), "{:?}", a.reasons);
    assert!(a.score <= 100);
}

#[test]
fn deeply_nested_messages() {
    let mut raw = String::from("From: a@b.example\nSubject: innermost\n\nHallo\n");
    for i in 0..40 {
        raw = format!(
            "From: a{i}@b.example\nSubject: laag {i}\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=n{i}\n\n--n{i}\nContent-Type: message/rfc822\n\n{raw}\n--n{i}--\n"
        );
    }
    assert_eq!(incomplete(raw.as_bytes()).1, "nested too deeply");
}

#[test]
fn a_25_mb_attachment_is_analysed() {
    let line = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\n";
    let mut raw = String::from(
        "From: Scanner <scan@zorggroephorizon.nl>\nSubject: Scan\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=s\n\n--s\nContent-Type: text/plain\n\nScan.\n--s\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=scan.pdf\nContent-Transfer-Encoding: base64\n\n",
    );
    while raw.len() < 25 * 1024 * 1024 {
        raw.push_str(line);
    }
    raw.push_str("--s--\n");
    let a = analyse(raw.as_bytes(), &ctx());
    assert_eq!(a.verdict, Verdict::Clean, "{:?}", a.reasons);
    assert_eq!(a.fingerprint.attachments.len(), 1);
}

/// A ZIP whose directory claims 4 GB per entry and 60,000 entries: it is read from its
/// directory, never inflated.
#[test]
fn zip_bomb_directory() {
    let mut zip = Vec::new();
    let mut central = Vec::new();
    for i in 0..60_000u32 {
        let name = format!("f{i}.txt");
        central.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00");
        central.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&0u32.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_len = central.len() as u32;
    zip.extend_from_slice(&central);
    zip.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    zip.extend_from_slice(&60_000u16.to_le_bytes());
    zip.extend_from_slice(&60_000u16.to_le_bytes());
    zip.extend_from_slice(&cd_len.to_le_bytes());
    zip.extend_from_slice(&0u32.to_le_bytes());
    zip.extend_from_slice(&[0, 0]);
    let b64 = base64_encode(&zip);
    let raw = format!(
        "From: x@leverancier.example\nSubject: archief\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=q\n\n--q\nContent-Type: text/plain\n\nZie bijlage\n--q\nContent-Type: application/zip\nContent-Disposition: attachment; filename=archief.zip\nContent-Transfer-Encoding: base64\n\n{b64}\n--q--\n"
    );
    let a = analyse(raw.as_bytes(), &ctx());
    assert!(a.reasons.iter().all(|r| r.code != Code::Incomplete), "{:?}", a.reasons);
}

fn base64_encode(b: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (n, chunk) in b.chunks(3).enumerate() {
        let v = (u32::from(chunk[0]) << 16) | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8) | u32::from(*chunk.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(T[((v >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
        if n % 19 == 18 {
            out.push('\n');
        }
    }
    out
}
