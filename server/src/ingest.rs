//! Merging what a device sends into the server's copy of a document, and
//! deciding what to write: pure over bytes. Storage loads the stored copy
//! inside its transaction and hands it to [`merge_upload`] (through the
//! exchange in `sync.rs`); whatever this decides is written in that same
//! transaction, with the projection it carries.

use automerge::{AutoCommit, ChangeHash};
use hark_core::doc::{DocKind, same_heads};
use hark_core::response::ResponseDoc;
use hark_core::sync::{DocData, heads_from_wire};

use crate::error::Result;
use crate::projection::{Projection, project};

/// Change chunks the server keeps per document before compacting it into
/// a snapshot (it loads whole documents only to merge, so more than a
/// device keeps).
pub const SERVER_CHUNKS_BEFORE_SNAPSHOT: i64 = 32;

/// A stored document as loaded for merging.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDoc {
    /// The area it belongs to.
    pub area_id: String,
    /// Response or form.
    pub kind: DocKind,
    /// Snapshot followed by change chunks: what `Automerge::load` reads.
    pub bytes: Vec<u8>,
    /// Number of change chunks after the snapshot.
    pub n_changes: i64,
}

/// How a merged document is written back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DocBytes {
    /// Replace with a compacted snapshot (and drop the change chunks).
    Snapshot(Vec<u8>),
    /// Append one change chunk.
    Append(Vec<u8>),
    /// Nothing new (a replay): touch nothing but the device's record.
    Unchanged,
}

/// What a merge decided to write for one document.
#[derive(Clone, Debug, PartialEq)]
pub struct DocWrite {
    /// Document id.
    pub id: String,
    /// The area it belongs to.
    pub area_id: String,
    /// Response or form.
    pub kind: DocKind,
    /// Form id (for forms and responses).
    pub form_id: String,
    /// Heads after the merge.
    pub heads: Vec<ChangeHash>,
    /// Bytes to write.
    pub bytes: DocBytes,
    /// Projection to replace (responses only).
    pub projection: Option<Projection>,
}

/// The outcome of merging one document.
#[derive(Debug)]
pub enum Merged {
    /// Write this, and acknowledge the heads.
    Write(Box<DocWrite>),
    /// The base is unknown here: ask for the whole document.
    NeedWhole,
    /// Refused, with a reason safe to show.
    Rejected(String),
}

/// Changes the device lacks after a merge: what to send back at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extra {
    /// Heads the device is known to have.
    pub base: Vec<ChangeHash>,
    /// Changes after them.
    pub bytes: Vec<u8>,
}

/// Merges one uploaded document into the stored copy (if any).
///
/// `area_name` is the uploading device's area: a response must say it was
/// captured there, and an existing document must belong to it.
pub fn merge_upload(
    area_id: &str,
    area_name: &str,
    upload: &DocData,
    stored: Option<StoredDoc>,
) -> Result<(Merged, Option<Extra>)> {
    if upload.kind != DocKind::Response {
        return Ok((Merged::Rejected("devices cannot change forms".into()), None));
    }
    let Some(base) = heads_from_wire(&upload.base) else {
        return Ok((Merged::Rejected("malformed change hash".into()), None));
    };
    let reject = |why: &str| Ok((Merged::Rejected(why.to_owned()), None));
    match stored {
        Some(s) if s.area_id != area_id => reject("unknown document"),
        Some(s) => {
            let mut doc = match AutoCommit::load(&s.bytes) {
                Ok(d) => d,
                Err(_) => return reject("stored copy unreadable"),
            };
            let before = doc.get_heads();
            if !base.iter().all(|h| doc.get_change_by_hash(h).is_some()) {
                return Ok((Merged::NeedWhole, None));
            }
            let incoming_heads = if base.is_empty() {
                // A whole document: it must be the same response.
                match ResponseDoc::load(&upload.bytes, "server") {
                    Ok(mut incoming) if incoming.id() == upload.id => Some(incoming.heads()),
                    Ok(_) => return reject("document id does not match"),
                    Err(_) => return reject("corrupt document data"),
                }
            } else {
                None
            };
            if doc.load_incremental(&upload.bytes).is_err() {
                return reject("corrupt document data");
            }
            if !doc.get_missing_deps(&[]).is_empty() {
                return Ok((Merged::NeedWhole, None));
            }
            let mut response = match ResponseDoc::from_automerge(doc) {
                Ok(r) if r.id() == upload.id => r,
                _ => return reject("not a hark response"),
            };
            let after = response.heads();
            // What the device lacks: the server held changes beyond its base.
            let device_has = incoming_heads.clone().unwrap_or_else(|| base.clone());
            let extra = if !base.is_empty() && same_heads(&before, &base)
                || same_heads(&after, &device_has)
            {
                None
            } else {
                Some(Extra {
                    bytes: response.doc_mut().save_after(&device_has),
                    base: device_has,
                })
            };
            let bytes = if same_heads(&after, &before) {
                DocBytes::Unchanged
            } else if s.n_changes + 1 >= SERVER_CHUNKS_BEFORE_SNAPSHOT {
                DocBytes::Snapshot(response.save())
            } else {
                DocBytes::Append(response.doc_mut().save_after(&before))
            };
            Ok((written(area_id, &response, after, bytes)?, extra))
        }
        None => {
            if !base.is_empty() {
                return Ok((Merged::NeedWhole, None));
            }
            let mut response = match ResponseDoc::load(&upload.bytes, "server") {
                Ok(r) => r,
                Err(_) => return reject("corrupt document data"),
            };
            if response.id() != upload.id {
                return reject("document id does not match");
            }
            if response.context().area != area_name {
                return reject("response was captured for another area");
            }
            let heads = response.heads();
            let bytes = DocBytes::Snapshot(response.save());
            Ok((written(area_id, &response, heads, bytes)?, None))
        }
    }
}

/// The write for a merged response, with its projection.
fn written(
    area_id: &str,
    response: &ResponseDoc,
    heads: Vec<ChangeHash>,
    bytes: DocBytes,
) -> Result<Merged> {
    Ok(Merged::Write(Box::new(DocWrite {
        id: response.id().to_owned(),
        area_id: area_id.to_owned(),
        kind: DocKind::Response,
        form_id: response.form_ref().id.clone(),
        heads,
        bytes,
        projection: Some(project(response)?),
    })))
}
