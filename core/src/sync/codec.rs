//! Wire codec: `gzip(CBOR(Envelope<T>))` (ciborium, flate2).
//!
//! Decoding checks the magic and the protocol version before the body, and
//! caps the decompressed size so a hostile message cannot exhaust memory:
//! a sync message decompresses to at most [`MAX_MESSAGE`], a bundle file to
//! at most [`MAX_BUNDLE`]. The body is decoded straight into the message
//! types, never into an intermediate value tree.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::wire::{Envelope, PROTOCOL, SyncError};

/// Largest decompressed sync message accepted: a request holds at most a
/// thousand documents, a response at most five hundred.
pub const MAX_MESSAGE: u64 = 64 * 1024 * 1024;
/// Largest decompressed bundle accepted (a whole event's responses fit).
pub const MAX_BUNDLE: u64 = 512 * 1024 * 1024;

/// Media type of encoded messages.
pub const MEDIA_TYPE: &str = "application/vnd.hark.sync+cbor";

/// Encodes what a device sends: a request or a bundle. At gzip's default
/// level: about 30% fewer bytes than the fastest on a batch of 500 new
/// responses to one form.
pub fn encode<T: Serialize>(body: &T) -> Vec<u8> {
    encode_at(body, Compression::default())
}

/// Encodes a peer's answer at the fastest level: an answer is mostly
/// acknowledgements, whose hashes do not compress, and deflate at the
/// default level was about 2% of a server's CPU in an ingest profile.
pub fn encode_answer<T: Serialize>(body: &T) -> Vec<u8> {
    encode_at(body, Compression::fast())
}

fn encode_at<T: Serialize>(body: &T, level: Compression) -> Vec<u8> {
    let envelope = Envelope {
        magic: "hark-sync".to_owned(),
        protocol: PROTOCOL,
        body,
    };
    let mut gz = GzEncoder::new(Vec::new(), level);
    // Writing CBOR into a Vec cannot fail for our plain data types.
    #[allow(clippy::expect_used)]
    {
        ciborium::into_writer(&envelope, &mut gz).expect("CBOR into memory");
        gz.flush().expect("gzip into memory");
        gz.finish().expect("gzip into memory")
    }
}

/// The head of an envelope, read first: the body is skipped unread.
#[derive(serde::Deserialize)]
struct Head {
    magic: String,
    protocol: u32,
}

/// Decodes a sync message body (at most [`MAX_MESSAGE`] decompressed),
/// refusing corrupt, truncated, foreign, oversized and newer-version
/// messages with a clear error.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, SyncError> {
    decode_at_most(bytes, MAX_MESSAGE)
}

/// [`decode`] with another limit on the decompressed size (bundles).
pub fn decode_at_most<T: DeserializeOwned>(bytes: &[u8], limit: u64) -> Result<T, SyncError> {
    let mut plain = Vec::new();
    GzDecoder::new(bytes)
        .take(limit + 1)
        .read_to_end(&mut plain)
        .map_err(|e| SyncError::Corrupt(format!("not a complete gzip stream ({e})")))?;
    if plain.len() as u64 > limit {
        return Err(SyncError::Corrupt(format!(
            "message larger than {} MiB decompressed",
            limit / (1024 * 1024)
        )));
    }
    // Read the head first, so a newer protocol is reported as such even if
    // its body would not parse.
    let head: Head =
        ciborium::from_reader(plain.as_slice()).map_err(|e| SyncError::Corrupt(e.to_string()))?;
    if head.magic != "hark-sync" {
        return Err(SyncError::Corrupt("not a hark sync message".into()));
    }
    if head.protocol > PROTOCOL {
        return Err(SyncError::Version(head.protocol));
    }
    let envelope: Envelope<T> =
        ciborium::from_reader(plain.as_slice()).map_err(|e| SyncError::Corrupt(e.to_string()))?;
    Ok(envelope.body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::DocKind;
    use crate::sync::wire::{DocData, SyncRequest};

    fn sample() -> SyncRequest {
        SyncRequest {
            cursor: 42,
            docs: vec![DocData {
                id: "r1".into(),
                kind: DocKind::Response,
                base: vec![serde_bytes::ByteBuf::from(vec![1u8; 32])],
                bytes: serde_bytes::ByteBuf::from(vec![9u8; 300]),
                flagged: true,
            }],
            erased: vec!["r0".into()],
            want: vec![],
            lists_version: 3,
        }
    }

    #[test]
    fn round_trips() {
        let msg = sample();
        assert_eq!(decode::<SyncRequest>(&encode(&msg)).expect("decode"), msg);
        assert_eq!(
            decode::<SyncRequest>(&encode_answer(&msg)).expect("decode"),
            msg
        );
    }

    #[test]
    fn every_truncation_and_corruption_is_refused() {
        let bytes = encode(&sample());
        for cut in 0..bytes.len() {
            assert!(
                decode::<SyncRequest>(&bytes[..cut]).is_err(),
                "truncated at {cut} accepted"
            );
        }
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0xff;
            // gzip's CRC catches body flips; header flips fail to decode.
            if let Ok(m) = decode::<SyncRequest>(&bad) {
                assert_eq!(m, sample(), "a flip at {i} decoded to a different message");
            }
        }
        assert!(matches!(
            decode::<SyncRequest>(b"hello"),
            Err(SyncError::Corrupt(_))
        ));
    }

    #[test]
    fn a_message_that_decompresses_past_the_limit_is_refused() {
        // A few hundred kilobytes of zeros, gzipped to almost nothing.
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        gz.write_all(&vec![0u8; 1024 * 1024]).expect("gzip");
        let bomb = gz.finish().expect("gzip");
        assert!(bomb.len() < 4096);
        let err = decode_at_most::<SyncRequest>(&bomb, 512 * 1024).expect_err("too large");
        assert!(err.to_string().contains("larger than"), "{err}");
        // Within the limit it is merely not a hark message.
        assert!(matches!(
            decode_at_most::<SyncRequest>(&bomb, 2 * 1024 * 1024),
            Err(SyncError::Corrupt(_))
        ));
    }

    #[test]
    fn a_newer_protocol_is_named() {
        let env = Envelope {
            magic: "hark-sync".to_owned(),
            protocol: PROTOCOL + 1,
            body: "future",
        };
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        ciborium::into_writer(&env, &mut gz).expect("cbor");
        let bytes = gz.finish().expect("gz");
        let err = decode::<SyncRequest>(&bytes).expect_err("newer");
        assert!(matches!(err, SyncError::Version(v) if v == PROTOCOL + 1));
        assert!(err.to_string().contains("update hark"));
    }
}
