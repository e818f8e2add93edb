//! Who is knocking: the initiator's static public key in a WireGuard handshake initiation,
//! read with the gateway's private key (the first steps of the Noise IK responder, as the
//! WireGuard paper describes them, section 5.4.2).
//!
//! The gateway's data plane refuses initiations from keys it does not hold. A device whose
//! owner has not pressed Connect yet is such a key; reading it tells the gateway where that
//! device is, so that at Connect the gateway can start the handshake itself instead of
//! waiting up to five seconds for the device to retry.

use blake2::digest::{FixedOutput, KeyInit, Mac, Update};
use blake2::{Blake2s256, Blake2sMac, Digest};
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use zeroize::Zeroizing;

use crate::keys::Key;

/// The length of a handshake initiation (message type 1).
pub const INITIATION_LEN: usize = 148;
const CONSTRUCTION: &[u8] = b"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
const IDENTIFIER: &[u8] = b"WireGuard v1 zx2c4 Jason@zx2c4.com";
const LABEL_MAC1: &[u8] = b"mac1----";

/// Whether these bytes have the shape of a handshake initiation.
pub fn is_initiation(msg: &[u8]) -> bool {
    msg.len() == INITIATION_LEN && msg[..4] == [1, 0, 0, 0]
}

fn hash(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Blake2s256::new();
    for p in parts {
        Digest::update(&mut h, p);
    }
    h.finalize().into()
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC-BLAKE2s: keys of up to 64 bytes, so the simple construction is exact.
    let Ok(mut m) = <hmac::SimpleHmac<Blake2s256> as KeyInit>::new_from_slice(key) else { return [0; 32] };
    for p in parts {
        Update::update(&mut m, p);
    }
    m.finalize_fixed().into()
}

/// KDF2 of the paper: two 32-byte outputs.
fn kdf2(chaining: &[u8; 32], input: &[u8]) -> ([u8; 32], Zeroizing<[u8; 32]>) {
    let t0 = Zeroizing::new(hmac(chaining, &[input]));
    let t1 = hmac(&*t0, &[&[1]]);
    let t2 = Zeroizing::new(hmac(&*t0, &[&t1, &[2]]));
    (t1, t2)
}

/// The initiator's static public key, when `msg` is an initiation meant for the gateway whose
/// key pair is (`private`, `public`); `None` for anything else (another gateway's key, a bad
/// `mac1`, a forged or damaged message).
pub fn initiator_static(private: &[u8; 32], public: &Key, msg: &[u8]) -> Option<Key> {
    if !is_initiation(msg) {
        return None;
    }
    // mac1 proves the sender knew our public key; checking it first keeps the costly
    // Diffie-Hellman for messages that were meant for us.
    let mac_key = hash(&[LABEL_MAC1, public.as_bytes()]);
    let mut mac = <Blake2sMac<blake2::digest::consts::U16> as KeyInit>::new_from_slice(&mac_key).ok()?;
    Mac::update(&mut mac, &msg[..116]);
    mac.verify_slice(&msg[116..132]).ok()?;

    let ephemeral: [u8; 32] = msg[8..40].try_into().ok()?;
    let c = hash(&[CONSTRUCTION]);
    let h = hash(&[&c, IDENTIFIER]);
    let h = hash(&[&h, public.as_bytes()]);
    let (c, _) = kdf2(&c, &ephemeral);
    let h = hash(&[&h, &ephemeral]);
    let secret = x25519_dalek::StaticSecret::from(*private);
    let shared = Zeroizing::new(secret.diffie_hellman(&x25519_dalek::PublicKey::from(ephemeral)).to_bytes());
    let (_, key) = kdf2(&c, &*shared);
    let cipher = ChaCha20Poly1305::new_from_slice(&*key).ok()?;
    let plain = cipher.decrypt(Nonce::from_slice(&[0u8; 12]), Payload { msg: &msg[40..88], aad: &h }).ok()?;
    let bytes: [u8; 32] = plain.as_slice().try_into().ok()?;
    Some(Key::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_messages_are_not_initiations() {
        let pair = crate::KeyPair::generate();
        assert!(!is_initiation(&[1, 0, 0, 0]));
        assert!(!is_initiation(&[4u8; INITIATION_LEN]));
        let mut fake = [0u8; INITIATION_LEN];
        fake[0] = 1;
        assert!(is_initiation(&fake));
        assert_eq!(initiator_static(pair.private_bytes(), &pair.public, &fake), None, "a bad mac1 is refused");
    }
}
