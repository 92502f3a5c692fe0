//! Wire codec: `gzip(CBOR(Envelope<T>))` (ciborium, flate2).
//!
//! Decoding checks the magic and the protocol version before the body, and
//! caps the decompressed size so a hostile message cannot exhaust memory.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::wire::{Envelope, PROTOCOL, SyncError};

/// Largest decompressed message accepted (a bundle of a whole event fits).
pub const MAX_DECODED: u64 = 512 * 1024 * 1024;

/// Media type of encoded messages.
pub const MEDIA_TYPE: &str = "application/vnd.hark.sync+cbor";

/// Encodes a message body.
pub fn encode<T: Serialize>(body: &T) -> Vec<u8> {
    let envelope = Envelope {
        magic: "hark-sync".to_owned(),
        protocol: PROTOCOL,
        body,
    };
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    // Writing CBOR into a Vec cannot fail for our plain data types.
    #[allow(clippy::expect_used)]
    {
        ciborium::into_writer(&envelope, &mut gz).expect("CBOR into memory");
        gz.flush().expect("gzip into memory");
        gz.finish().expect("gzip into memory")
    }
}

/// Decodes a message body, refusing corrupt, truncated, foreign and
/// newer-version messages with a clear error.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, SyncError> {
    let mut plain = Vec::new();
    GzDecoder::new(bytes)
        .take(MAX_DECODED + 1)
        .read_to_end(&mut plain)
        .map_err(|e| SyncError::Corrupt(format!("not a complete gzip stream ({e})")))?;
    if plain.len() as u64 > MAX_DECODED {
        return Err(SyncError::Corrupt("message too large".into()));
    }
    // Read the header first, so a newer protocol is reported as such even if
    // its body would not parse.
    let head: Envelope<ciborium::Value> =
        ciborium::from_reader(plain.as_slice()).map_err(|e| SyncError::Corrupt(e.to_string()))?;
    if head.magic != "hark-sync" {
        return Err(SyncError::Corrupt("not a hark sync message".into()));
    }
    if head.protocol > PROTOCOL {
        return Err(SyncError::Version(head.protocol));
    }
    head.body
        .deserialized()
        .map_err(|e| SyncError::Corrupt(e.to_string()))
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
