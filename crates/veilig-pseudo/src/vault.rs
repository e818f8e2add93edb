//! The vault: the [`Mapping`] encrypted at rest with AES-256-GCM, the key derived from a
//! passphrase with Argon2id or read from a key file. The header (format, KDF parameters, salt,
//! nonce) is authenticated with the ciphertext, so a changed byte anywhere is an error.

use crate::Mapping;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};

const MAGIC: &[u8; 13] = b"VEILIG-VAULT1";
const KDF_ARGON2ID: u8 = 1;
const KDF_KEYFILE: u8 = 2;
/// Argon2id with 19 MiB, 2 passes, 1 lane: OWASP's minimum for interactive use.
const M_COST: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum VaultError {
    #[error("this is not a Veilig vault (or a vault of a newer version)")]
    NotAVault,
    #[error("the passphrase or key file does not open this vault (or the vault was changed)")]
    WrongKey,
    #[error("this vault was made with a passphrase, not a key file")]
    NeedsPassphrase,
    #[error("this vault was made with a key file, not a passphrase")]
    NeedsKeyFile,
    #[error("a key file holds 32 bytes, or 64 hexadecimal digits")]
    BadKeyFile,
    #[error("the passphrase is empty")]
    EmptyPassphrase,
    #[error("key derivation failed: {0}")]
    Kdf(String),
    #[error("the vault's content is damaged: {0}")]
    Corrupt(String),
}

/// How the vault is locked.
#[derive(Clone)]
pub enum Key<'a> {
    Passphrase(&'a str),
    File([u8; 32]),
}

impl std::fmt::Debug for Key<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Key::Passphrase(_) => "Key::Passphrase(…)",
            Key::File(_) => "Key::File(…)",
        })
    }
}

impl Key<'_> {
    /// Reads a key file's content: 32 raw bytes or 64 hex digits (whitespace around is fine).
    pub fn parse_file(bytes: &[u8]) -> Result<[u8; 32], VaultError> {
        let trimmed = std::str::from_utf8(bytes).map(str::trim).ok();
        if let Some(hex) = trimmed
            && hex.len() == 64
            && hex.bytes().all(|c| c.is_ascii_hexdigit())
        {
            let mut k = [0u8; 32];
            for (i, chunk) in hex.as_bytes().chunks(2).enumerate() {
                let s = std::str::from_utf8(chunk).map_err(|_| VaultError::BadKeyFile)?;
                k[i] = u8::from_str_radix(s, 16).map_err(|_| VaultError::BadKeyFile)?;
            }
            return Ok(k);
        }
        <[u8; 32]>::try_from(bytes).map_err(|_| VaultError::BadKeyFile)
    }
}

fn derive(pass: &str, salt: &[u8], m: u32, t: u32, p: u32) -> Result<[u8; 32], VaultError> {
    if pass.is_empty() {
        return Err(VaultError::EmptyPassphrase);
    }
    let params = argon2::Params::new(m, t, p, Some(32)).map_err(|e| VaultError::Kdf(e.to_string()))?;
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = [0u8; 32];
    a.hash_password_into(pass.as_bytes(), salt, &mut out).map_err(|e| VaultError::Kdf(e.to_string()))?;
    Ok(out)
}

/// Encrypts `mapping`. The caller gives fresh random `salt` and `nonce` for every seal.
pub fn seal(mapping: &Mapping, key: &Key, salt: [u8; 16], nonce: [u8; 12]) -> Result<Vec<u8>, VaultError> {
    let mut header = MAGIC.to_vec();
    let k = match key {
        Key::Passphrase(p) => {
            header.push(KDF_ARGON2ID);
            for v in [M_COST, T_COST, P_COST] {
                header.extend_from_slice(&v.to_be_bytes());
            }
            header.extend_from_slice(&salt);
            derive(p, &salt, M_COST, T_COST, P_COST)?
        }
        Key::File(k) => {
            header.push(KDF_KEYFILE);
            *k
        }
    };
    header.extend_from_slice(&nonce);
    let plain = serde_json::to_vec(mapping).map_err(|e| VaultError::Corrupt(e.to_string()))?;
    let cipher = Aes256Gcm::new_from_slice(&k).map_err(|_| VaultError::BadKeyFile)?;
    let ct = cipher.encrypt(Nonce::from_slice(&nonce), Payload { msg: &plain, aad: &header }).map_err(|_| VaultError::WrongKey)?;
    header.extend_from_slice(&ct);
    Ok(header)
}

/// Decrypts a vault.
pub fn open(bytes: &[u8], key: &Key) -> Result<Mapping, VaultError> {
    let rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or(VaultError::NotAVault)?;
    let (&kdf, rest) = rest.split_first().ok_or(VaultError::NotAVault)?;
    let (k, rest) = match (kdf, key) {
        (KDF_ARGON2ID, Key::Passphrase(p)) => {
            if rest.len() < 12 + 16 {
                return Err(VaultError::NotAVault);
            }
            let num = |i: usize| u32::from_be_bytes([rest[i], rest[i + 1], rest[i + 2], rest[i + 3]]);
            let (m, t, p_cost) = (num(0), num(4), num(8));
            // refuse absurd parameters from a tampered file instead of allocating them
            if m > 256 * 1024 || t > 8 || p_cost > 8 {
                return Err(VaultError::NotAVault);
            }
            (derive(p, &rest[12..28], m, t, p_cost)?, &rest[28..])
        }
        (KDF_ARGON2ID, Key::File(_)) => return Err(VaultError::NeedsPassphrase),
        (KDF_KEYFILE, Key::File(k)) => (*k, rest),
        (KDF_KEYFILE, Key::Passphrase(_)) => return Err(VaultError::NeedsKeyFile),
        _ => return Err(VaultError::NotAVault),
    };
    if rest.len() < 12 + 16 {
        return Err(VaultError::NotAVault);
    }
    let header_len = bytes.len() - rest.len() + 12;
    let (header, ct) = bytes.split_at(header_len);
    let nonce = &header[header_len - 12..];
    let cipher = Aes256Gcm::new_from_slice(&k).map_err(|_| VaultError::BadKeyFile)?;
    let plain = cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: header }).map_err(|_| VaultError::WrongKey)?;
    serde_json::from_slice(&plain).map_err(|e| VaultError::Corrupt(e.to_string()))
}
