//! Random tokens, their hashes, recovery codes, and the box that encrypts secrets at rest.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};

/// A random token of 32 bytes, URL-safe, with a readable prefix (`vlg_` for API tokens).
pub fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

pub use veilig_core::random_id;

/// Tokens and session ids are stored only as their SHA-256: they have 256 bits of entropy, so
/// a slow hash adds nothing, and a stolen database does not hold usable tokens.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The alphabet of recovery codes: no 0/o, 1/l/i, so they can be read aloud and typed.
const CODE_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// Ten recovery codes such as `k7dm-q2rx-9vhp` (60 bits each).
pub fn recovery_codes() -> Vec<String> {
    let mut rng = rand::rngs::OsRng;
    (0..10)
        .map(|_| {
            let chars: Vec<char> = (0..12).map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char).collect();
            format!(
                "{}-{}-{}",
                chars[0..4].iter().collect::<String>(),
                chars[4..8].iter().collect::<String>(),
                chars[8..12].iter().collect::<String>()
            )
        })
        .collect()
}

/// A recovery code as typed (any case, with or without dashes or spaces), in stored form.
pub fn normalise_recovery_code(input: &str) -> String {
    let clean: String = input.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
    if clean.len() == 12 { format!("{}-{}-{}", &clean[0..4], &clean[4..8], &clean[8..12]) } else { clean }
}

/// Encrypts small secrets (TOTP keys) with AES-256-GCM under the installation's key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    pub fn new(key: &[u8; 32]) -> Self {
        SecretBox { cipher: Aes256Gcm::new(key.into()) }
    }

    /// A new random key.
    pub fn generate_key() -> [u8; 32] {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        key
    }

    /// `v1:` + base64(nonce || ciphertext). `context` binds the secret to its row, so a value
    /// copied to another user's row does not decrypt there.
    pub fn seal(&self, plain: &[u8], context: &str) -> Result<String, String> {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), aes_gcm::aead::Payload { msg: plain, aad: context.as_bytes() })
            .map_err(|_| "encryption failed".to_owned())?;
        let mut out = nonce.to_vec();
        out.extend(ct);
        Ok(format!("v1:{}", URL_SAFE_NO_PAD.encode(out)))
    }

    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, String> {
        let raw = sealed.strip_prefix("v1:").ok_or("unknown secret format")?;
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| "corrupt secret")?;
        if bytes.len() < 12 + 16 {
            return Err("corrupt secret".to_owned());
        }
        let (nonce, ct) = bytes.split_at(12);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), aes_gcm::aead::Payload { msg: ct, aad: context.as_bytes() })
            .map_err(|_| "the secret does not decrypt with this installation's key".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_in_their_context() {
        let b = SecretBox::new(&SecretBox::generate_key());
        let sealed = b.seal(b"JBSWY3DPEHPK3PXP", "factor:1").unwrap();
        assert!(!sealed.contains("JBSWY3DP"));
        assert_eq!(b.open(&sealed, "factor:1").unwrap(), b"JBSWY3DPEHPK3PXP");
        assert!(b.open(&sealed, "factor:2").is_err());
        let other = SecretBox::new(&SecretBox::generate_key());
        assert!(other.open(&sealed, "factor:1").is_err());
        assert!(b.open("v1:!!", "factor:1").is_err());
    }

    #[test]
    fn recovery_codes_are_distinct_and_typed_loosely() {
        let codes = recovery_codes();
        assert_eq!(codes.len(), 10);
        let unique: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), 10);
        assert!(codes.iter().all(|c| c.len() == 14 && c.chars().filter(|&ch| ch == '-').count() == 2));
        assert_eq!(normalise_recovery_code(" K7DM Q2RX-9vhp "), "k7dm-q2rx-9vhp");
    }

    #[test]
    fn tokens_are_long_and_hashed() {
        let t = random_token("vlg_");
        assert!(t.starts_with("vlg_") && t.len() == 47);
        assert_ne!(random_token(""), random_token(""));
        assert_eq!(token_hash("x").len(), 64);
    }
}
