//! Sync: one protocol for device <-> server, device <-> device (a hub
//! tablet at an event) and bundle files.
//!
//! A sync is a *session* of batched request/response exchanges, not a loop
//! over documents. The device stages what changed since its last
//! acknowledged sync ([`crate::store::Store::stage`]), [`plan::plan`] (a pure
//! function) decides what to send in which batch, and [`client::sync`] applies
//! the plan over a [`Transport`]. An up-to-date device costs one small round
//! trip. Every exchange is idempotent: Automerge changes are
//! content-addressed, so a replayed, duplicated or reordered message merges
//! to the same document, and a response is identified by its id, so it is
//! counted once however often it arrives.
//!
//! Wire format ([`codec`]): `gzip(CBOR(Envelope))`, with an explicit protocol
//! version; a peer speaking a newer version gets [`SyncError::Version`].

pub mod bundle;
pub mod client;
pub mod codec;
pub mod http;
pub mod plan;

use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

pub use client::{Progress, SyncReport, Transport, sync};
pub use codec::{decode, encode};

/// The protocol version this build speaks.
pub const PROTOCOL: u32 = 1;

/// A change hash (SHA-256), as sent on the wire.
pub type Hash = ByteBuf;

/// Kinds of document that travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    /// A response (devices -> server, and edits made elsewhere back).
    Response,
    /// A form version (server -> devices only; read-only on devices).
    Form,
}

/// A document's changes, or the whole document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocData {
    /// Document id.
    pub id: String,
    /// Kind.
    pub kind: DocKind,
    /// The heads `bytes` builds on; empty when `bytes` is the whole document.
    pub base: Vec<Hash>,
    /// Automerge bytes: `save()` or `save_after(base)`.
    pub bytes: ByteBuf,
    /// Carries a safeguarding flag (sent first, shown first).
    #[serde(default)]
    pub flagged: bool,
}

/// Device -> peer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// The peer's cursor this device last acknowledged (0: never).
    pub cursor: i64,
    /// Documents with changes the peer has not acknowledged.
    pub docs: Vec<DocData>,
    /// Responses erased here (withdrawn consent).
    pub erased: Vec<String>,
    /// Documents the device asks for whole (it lost or lacks their base).
    pub want: Vec<String>,
}

/// The peer's acknowledgement of one document: its heads after merging.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// Document id.
    pub id: String,
    /// The peer's heads after merging.
    pub heads: Vec<Hash>,
}

/// A document the peer refused, and why (no personal data).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    /// Document id.
    pub id: String,
    /// Why.
    pub reason: String,
}

/// Peer -> device.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// The cursor to acknowledge next time, once `docs` are applied.
    pub cursor: i64,
    /// Documents merged, with the peer's heads.
    pub acks: Vec<Ack>,
    /// Documents whose base the peer does not have: send them whole.
    pub need_whole: Vec<String>,
    /// Documents refused.
    pub rejected: Vec<Rejected>,
    /// Documents the device lacks or has older copies of.
    pub docs: Vec<DocData>,
    /// Responses erased elsewhere: erase them here.
    pub erased: Vec<String>,
    /// The peer has more to send: ask again with the new cursor.
    pub more: bool,
}

/// Envelope of every message and bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// Always `"hark-sync"`.
    pub magic: String,
    /// Protocol version.
    pub protocol: u32,
    /// The message.
    pub body: T,
}

/// Sync failures, as the device and the peer see them.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The peer speaks a newer protocol.
    #[error("the other side speaks sync protocol {0}, this build speaks {PROTOCOL}: update hark")]
    Version(u32),
    /// A message that does not decode: truncated, corrupt, or not hark's.
    #[error("sync message is corrupt or truncated: {0}")]
    Corrupt(String),
    /// The peer refused the device's credentials.
    #[error("the server refused this device's credentials (revoked or unknown)")]
    Unauthorized,
    /// The peer answered with an error.
    #[error("the server refused: {0}")]
    Refused(String),
    /// Network failure; the next sync resumes.
    #[error("could not reach the server: {0}")]
    Network(String),
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] crate::Error),
}

#[cfg(test)]
mod tests;
