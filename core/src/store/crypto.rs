//! Authenticated encryption of everything the store keeps about a response.
//!
//! XChaCha20-Poly1305 (RustCrypto) with a 32-byte key the host app supplies
//! from the Android Keystore or iOS Keychain, a fresh random 24-byte nonce per
//! blob, and the blob's place in the store (table, document id, chunk number)
//! bound in as associated data, so a blob copied to another row fails to open
//! just like a blob whose bytes were altered.
//!
//! Blob layout: `version (1) || nonce (24) || ciphertext || tag (16)`.

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::error::{Error, Result};

const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

/// A 32-byte store key. Zeroed when dropped; never printed.
#[derive(Clone)]
pub struct StoreKey([u8; 32]);

impl StoreKey {
    /// Wraps key bytes from the platform keystore.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Accepts exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        Some(Self(bytes.try_into().ok()?))
    }

    /// A new random key (for a host that has no keystore yet, and tests).
    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        fill_random(&mut k);
        Self(k)
    }
}

impl Drop for StoreKey {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.0.zeroize();
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

/// Fills `buf` from the operating system's random source.
pub(crate) fn fill_random(buf: &mut [u8]) {
    // The OS random source failing is not recoverable: no nonce, no write.
    #[allow(clippy::expect_used)]
    getrandom::fill(buf).expect("the operating system's random source is unavailable");
}

/// Seals and opens blobs with one key.
pub(crate) struct Cipher(XChaCha20Poly1305);

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cipher(..)")
    }
}

impl Cipher {
    pub(crate) fn new(key: &StoreKey) -> Self {
        Self(XChaCha20Poly1305::new((&key.0).into()))
    }

    /// Encrypts `plain`, binding `place` (where the blob is stored).
    pub(crate) fn seal(&self, place: &[u8], plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce);
        // Encryption of an in-memory buffer cannot fail for sizes we store.
        #[allow(clippy::expect_used)]
        let sealed = self
            .0
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: place,
                },
            )
            .expect("XChaCha20-Poly1305 encryption");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Decrypts a blob sealed at `place`; any alteration is [`Error::Tampered`].
    pub(crate) fn open(&self, place: &[u8], blob: &[u8]) -> Result<Vec<u8>> {
        if blob.len() < 1 + NONCE_LEN + 16 || blob[0] != VERSION {
            return Err(Error::Tampered);
        }
        let (nonce, sealed) = blob[1..].split_at(NONCE_LEN);
        self.0
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: place,
                },
            )
            .map_err(|_| Error::Tampered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_detects_every_kind_of_tampering() {
        let c = Cipher::new(&StoreKey::generate());
        let blob = c.seal(b"doc/1", b"Ayo feels safe at home");
        assert_eq!(
            c.open(b"doc/1", &blob).expect("opens"),
            b"Ayo feels safe at home"
        );
        assert!(
            !blob.windows(4).any(|w| w == b"safe"),
            "plaintext leaks into the blob"
        );
        for i in 0..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 0x01;
            assert!(
                matches!(c.open(b"doc/1", &bad), Err(Error::Tampered)),
                "flip at {i} not caught"
            );
        }
        assert!(
            matches!(c.open(b"doc/2", &blob), Err(Error::Tampered)),
            "moved blob opened"
        );
        assert!(matches!(
            c.open(b"doc/1", &blob[..blob.len() - 1]),
            Err(Error::Tampered)
        ));
        let other = Cipher::new(&StoreKey::generate());
        assert!(matches!(other.open(b"doc/1", &blob), Err(Error::Tampered)));
    }

    #[test]
    fn nonces_are_fresh() {
        let c = Cipher::new(&StoreKey::generate());
        assert_ne!(c.seal(b"p", b"same"), c.seal(b"p", b"same"));
    }
}
