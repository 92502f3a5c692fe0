//! The messages of the sync protocol and the conversions between them and
//! the store's own types. Every message travels in an [`Envelope`] through
//! [`super::codec`].

use automerge::ChangeHash;
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

use crate::doc::DocKind;
use crate::lists::AreaLists;
use crate::store::Store;
use crate::store::replica::{Incoming, Outgoing};

/// The protocol version this build speaks.
pub const PROTOCOL: u32 = 1;

/// A change hash (SHA-256), as sent on the wire.
pub type Hash = ByteBuf;

/// Heads as sent on the wire.
pub fn wire_heads(heads: &[ChangeHash]) -> Vec<Hash> {
    heads.iter().map(|h| ByteBuf::from(h.0.to_vec())).collect()
}

/// Heads from the wire; `None` if any hash is malformed.
pub fn heads_from_wire(heads: &[Hash]) -> Option<Vec<ChangeHash>> {
    heads
        .iter()
        .map(|h| ChangeHash::try_from(h.as_slice()).ok())
        .collect()
}

/// A document's changes, or the whole document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocData {
    /// Document id.
    pub id: String,
    /// Response or form.
    pub kind: DocKind,
    /// The heads `bytes` builds on; empty when `bytes` is the whole document.
    pub base: Vec<Hash>,
    /// Automerge bytes: `save()` or `save_after(base)`.
    pub bytes: ByteBuf,
    /// Carries a safeguarding flag (sent first, shown first).
    #[serde(default)]
    pub flagged: bool,
}

impl DocData {
    /// What the store sends for a document, on the wire.
    pub fn from_outgoing(id: &str, kind: DocKind, out: Outgoing, flagged: bool) -> Self {
        Self {
            id: id.to_owned(),
            kind,
            base: wire_heads(&out.base),
            bytes: ByteBuf::from(out.bytes),
            flagged,
        }
    }

    /// A whole document held by `store`, on the wire.
    pub fn whole(store: &Store, id: &str) -> Result<Self, crate::error::Error> {
        let kind = if id.starts_with("form:") {
            DocKind::Form
        } else {
            DocKind::Response
        };
        let out = Outgoing {
            base: Vec::new(),
            bytes: store.export_document(id)?,
        };
        Ok(Self::from_outgoing(id, kind, out, false))
    }

    /// What the store applies; refused if a base hash is malformed.
    pub fn to_incoming(&self) -> Result<Incoming, crate::error::Error> {
        Ok(Incoming {
            id: self.id.clone(),
            kind: self.kind,
            base: heads_from_wire(&self.base)
                .ok_or_else(|| crate::error::Error::Malformed("bad change hash".into()))?,
            bytes: self.bytes.to_vec(),
        })
    }
}

/// Every document of a message, as the store applies them.
pub fn incoming(docs: &[DocData]) -> Result<Vec<Incoming>, crate::error::Error> {
    docs.iter().map(DocData::to_incoming).collect()
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
    /// The version of the area's lists the device holds (0: none); the
    /// peer sends its lists when they differ.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lists_version: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
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
    /// Documents stored, but with something the device should show (for
    /// example a response kept but not counted: no consent recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<Rejected>,
    /// The area's lists, when the device's copy is out of date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lists: Option<AreaLists>,
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
    Store(#[from] crate::error::Error),
}
