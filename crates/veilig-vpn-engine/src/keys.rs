//! WireGuard keys: Curve25519, written as 44 characters of standard base64.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

/// A WireGuard public key (or, inside [`KeyPair`], a private one).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key([u8; 32]);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("a WireGuard key is 44 characters of base64 ending in '=' (this one has {0} characters)")]
    Length(usize),
    #[error("this is not base64: a WireGuard key uses only A-Z, a-z, 0-9, '+', '/' and one '=' at the end")]
    NotBase64,
    #[error("this key is all zeros or of low order and cannot be used")]
    Weak,
}

impl Key {
    /// Parses a key as `wg` prints it. Whitespace around it is ignored; anything else that is
    /// not exactly a 32-byte base64 value is refused with the reason.
    pub fn parse(s: &str) -> Result<Key, KeyError> {
        let s = s.trim();
        if s.len() != 44 {
            return Err(KeyError::Length(s.chars().count()));
        }
        let bytes = STANDARD.decode(s).map_err(|_| KeyError::NotBase64)?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| KeyError::NotBase64)?;
        // The canonical encoding only: the last character's low two bits must be zero.
        if STANDARD.encode(arr) != s {
            return Err(KeyError::NotBase64);
        }
        let key = Key(arr);
        if key.is_weak() {
            return Err(KeyError::Weak);
        }
        Ok(key)
    }

    pub const fn from_bytes(bytes: [u8; 32]) -> Key {
        Key(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// A public key whose shared secret with any private key would be predictable (all zeros,
    /// or one of the small-order points of Curve25519).
    fn is_weak(&self) -> bool {
        const SMALL_ORDER: [[u8; 32]; 5] = [
            [0; 32],
            {
                let mut a = [0u8; 32];
                a[0] = 1;
                a
            },
            [
                0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb,
                0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00,
            ],
            [
                0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4,
                0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57,
            ],
            [
                0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
            ],
        ];
        SMALL_ORDER.contains(&self.0)
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({})", self.to_base64())
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_base64())
    }
}

/// A private key and its public key. The private half is wiped from memory when dropped and
/// never printed by `Debug`.
pub struct KeyPair {
    private: Zeroizing<[u8; 32]>,
    pub public: Key,
}

impl KeyPair {
    /// A new key pair from the operating system's random source.
    pub fn generate() -> KeyPair {
        let secret = x25519_dalek::StaticSecret::random_from_rng(rand::rngs::OsRng);
        Self::from_secret(&secret)
    }

    /// The key pair of a private key given in base64 (as in a `.conf` file or `wg genkey`).
    pub fn from_private_base64(s: &str) -> Result<KeyPair, KeyError> {
        let s = Zeroizing::new(s.trim().to_owned());
        if s.len() != 44 {
            return Err(KeyError::Length(s.chars().count()));
        }
        let bytes = Zeroizing::new(STANDARD.decode(s.as_bytes()).map_err(|_| KeyError::NotBase64)?);
        let mut arr = Zeroizing::new([0u8; 32]);
        if bytes.len() != 32 {
            return Err(KeyError::NotBase64);
        }
        arr.copy_from_slice(&bytes);
        let secret = x25519_dalek::StaticSecret::from(*arr);
        Ok(Self::from_secret(&secret))
    }

    fn from_secret(secret: &x25519_dalek::StaticSecret) -> KeyPair {
        let public = x25519_dalek::PublicKey::from(secret);
        KeyPair { private: Zeroizing::new(secret.to_bytes()), public: Key(public.to_bytes()) }
    }

    pub fn private_bytes(&self) -> &[u8; 32] {
        &self.private
    }

    /// The private key in base64, for a configuration file that is shown once.
    pub fn private_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(*self.private))
    }
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyPair {{ public: {}, private: <hidden> }}", self.public)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_round_trip_through_base64() {
        let pair = KeyPair::generate();
        let again = KeyPair::from_private_base64(&pair.private_base64()).unwrap();
        assert_eq!(again.public, pair.public);
        assert_eq!(Key::parse(&pair.public.to_base64()).unwrap(), pair.public);
        assert!(!format!("{pair:?}").contains(pair.private_base64().as_str()));
    }

    #[test]
    fn the_public_key_of_a_known_private_key() {
        // RFC 7748 section 6.1, Alice's key pair, in base64.
        let alice = KeyPair::from_private_base64("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=").unwrap();
        assert_eq!(alice.public.to_base64(), "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=");
    }

    #[test]
    fn malformed_keys_are_refused_with_the_reason() {
        assert_eq!(Key::parse("abc"), Err(KeyError::Length(3)));
        assert_eq!(Key::parse("!wdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo="), Err(KeyError::NotBase64));
        assert_eq!(Key::parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="), Err(KeyError::Weak));
        // Non-canonical: the last character carries bits that base64 of 32 bytes cannot have.
        assert_eq!(Key::parse("hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmp="), Err(KeyError::NotBase64));
        assert!(Key::parse("  hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=\n").is_ok());
    }
}
