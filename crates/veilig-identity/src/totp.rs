//! Time-based one-time passwords (RFC 6238 over RFC 4226): HMAC-SHA1, 30-second steps, six
//! digits, one step of clock drift either way, and each step accepted once.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;

pub const STEP_SECS: i64 = 30;
pub const DIGITS: u32 = 6;

/// A new 160-bit secret.
pub fn generate_secret() -> Vec<u8> {
    let mut s = vec![0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut s);
    s
}

/// The code for one step (RFC 4226 dynamic truncation).
pub fn code_at(secret: &[u8], step: i64) -> u32 {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else { return 0 };
    mac.update(&(step as u64).to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let bin = (u32::from(digest[offset]) & 0x7f) << 24
        | u32::from(digest[offset + 1]) << 16
        | u32::from(digest[offset + 2]) << 8
        | u32::from(digest[offset + 3]);
    bin % 10u32.pow(DIGITS)
}

pub fn step_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// Checks `input` against the steps around `unix_secs`. Returns the matching step when it is
/// newer than `last_used_step` (a code is good once), otherwise `None`.
pub fn verify(secret: &[u8], input: &str, unix_secs: i64, last_used_step: Option<i64>) -> Option<i64> {
    let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != DIGITS as usize || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let given: u32 = digits.parse().ok()?;
    let now = step_of(unix_secs);
    let mut found = None;
    // Compare every candidate so the time taken does not depend on which one matched.
    for step in [now - 1, now, now + 1] {
        if code_at(secret, step) == given && last_used_step.is_none_or(|last| step > last) {
            found = Some(step);
        }
    }
    found
}

/// RFC 4648 base32 without padding, as authenticator apps expect.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(ALPHABET[((buffer >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The `otpauth://` URI that authenticator apps read from the QR code.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect::<String>()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        enc(issuer),
        enc(account),
        base32(secret),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vectors of RFC 6238 appendix B (SHA-1, eight digits there; six here are the
    /// last six of theirs).
    #[test]
    fn rfc6238_vectors() {
        let secret = b"12345678901234567890";
        for (t, eight) in [(59, 94287082u32), (1111111109, 7081804), (1111111111, 14050471), (1234567890, 89005924), (2000000000, 69279037)]
        {
            assert_eq!(code_at(secret, step_of(t)), eight % 1_000_000, "t={t}");
        }
    }

    #[test]
    fn drift_and_replay() {
        let secret = b"12345678901234567890";
        let t = 1234567890;
        let now = step_of(t);
        let code = format!("{:06}", code_at(secret, now));
        assert_eq!(verify(secret, &code, t, None), Some(now));
        assert_eq!(verify(secret, &code, t, Some(now)), None, "a code is good once");
        let previous = format!("{:06}", code_at(secret, now - 1));
        assert_eq!(verify(secret, &previous, t, None), Some(now - 1), "one step late is fine");
        let old = format!("{:06}", code_at(secret, now - 2));
        assert_eq!(verify(secret, &old, t, None), None, "two steps late is not");
        assert_eq!(verify(secret, "12 34 5", t, None), None);
        assert_eq!(verify(secret, "abcdef", t, None), None);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(verify(secret, &spaced, t, None), Some(now));
    }

    #[test]
    fn base32_and_uri() {
        assert_eq!(base32(b"Hello!\xde\xad\xbe\xef"), "JBSWY3DPEHPK3PXP");
        let uri = otpauth_uri("Veilig Gemeente", "jan@gemeente.nl", b"Hello!\xde\xad\xbe\xef");
        assert_eq!(
            uri,
            "otpauth://totp/Veilig%20Gemeente:jan@gemeente.nl?secret=JBSWY3DPEHPK3PXP&issuer=Veilig%20Gemeente&algorithm=SHA1&digits=6&period=30"
        );
    }
}
