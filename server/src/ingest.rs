//! Merging what a device sends into the server's copy of a document, and
//! deciding what to write: pure over bytes. The exchange (`writer.rs`)
//! stages the stored copies, merges each with [`merge_upload`] outside any
//! write transaction, and hands the decisions ([`StagedDoc`]) to the group
//! writer, which writes each in one transaction with the projection it
//! carries, unless the stored copy changed since it was staged
//! ([`Fate::Stale`]: merged again).

use automerge::{AutoCommit, ChangeHash};
use hark_core::doc::{DocKind, same_heads};
use hark_core::response::ResponseDoc;
use hark_core::sync::{DocData, heads_from_wire};

use hark_core::lists::AreaLists;

use crate::model::Area;
use crate::projection::Projection;
use crate::validate::{AreaForms, check};

/// Change chunks the server keeps per document before compacting it into
/// a snapshot (it loads whole documents only to merge, so more than a
/// device keeps).
pub const SERVER_CHUNKS_BEFORE_SNAPSHOT: i64 = 32;

/// A new document up to this size is stored as it arrived (it loaded and
/// validated, so it is a whole Automerge document); a larger one is
/// re-encoded, so padding or repeated chunks cannot bloat storage.
pub const STORED_AS_ARRIVED_MAX: usize = 64 * 1024;

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
    /// The sequence number of its last write: its version.
    pub seq: i64,
}

/// A merge decided outside the writer, waiting for it.
#[derive(Debug)]
pub struct StagedDoc {
    /// The key it is stored under.
    pub key: String,
    /// The version ([`StoredDoc::seq`]) of the stored copy it was merged
    /// with; `None` if there was none.
    pub seen: Option<i64>,
    /// What the merge decided.
    pub merged: Merged,
}

/// What the writer did with a staged document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// The merge stands: written, if it was a write.
    Kept,
    /// Erased since it was staged: refused, nothing written.
    Erased,
    /// The stored copy changed after it was staged: nothing was written;
    /// merge it again.
    Stale,
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

/// What a merge checks against: the uploading device's area, its forms
/// and lists, and the server's clock.
#[derive(Clone, Copy, Debug)]
pub struct Ingest<'a> {
    /// The device's area.
    pub area: &'a Area,
    /// The form versions the area has installed.
    pub forms: &'a AreaForms,
    /// The area's lists.
    pub lists: &'a AreaLists,
    /// Now, ms since the epoch.
    pub now_ms: i64,
}

/// What a response is: its id, area, form and version, which never change
/// after its first upload.
fn identity(r: &ResponseDoc) -> (String, String, hark_core::form::FormRef) {
    (r.id().to_owned(), r.context().area, r.form_ref().clone())
}

/// Merges one uploaded document into the stored copy (if any), checks the
/// result against its form (`validate.rs`), and decides what to write.
/// Anything wrong with the upload refuses this document only, with a reason
/// the device shows.
pub fn merge_upload(
    ctx: &Ingest<'_>,
    upload: &DocData,
    stored: Option<StoredDoc>,
) -> (Merged, Option<Extra>) {
    let reject = |why: &str| (Merged::Rejected(why.to_owned()), None);
    if upload.kind != DocKind::Response {
        return reject("devices cannot change forms");
    }
    let Some(base) = heads_from_wire(&upload.base) else {
        return reject("malformed change hash");
    };
    match stored {
        Some(s) if s.area_id != ctx.area.id => reject("unknown document"),
        Some(s) => {
            let stored = match AutoCommit::load(&s.bytes)
                .map_err(hark_core::Error::from)
                .and_then(ResponseDoc::from_automerge)
            {
                Ok(d) => d,
                Err(_) => return reject("stored copy unreadable"),
            };
            let was = identity(&stored);
            let mut doc = stored.into_automerge();
            let before = doc.get_heads();
            if !base.iter().all(|h| doc.get_change_by_hash(h).is_some()) {
                return (Merged::NeedWhole, None);
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
                return (Merged::NeedWhole, None);
            }
            let mut response = match ResponseDoc::from_automerge(doc) {
                Ok(r) if r.id() == upload.id => r,
                _ => return reject("not a hark response"),
            };
            if identity(&response) != was {
                return reject("a response's id, area, form and version never change");
            }
            let projection = match check(&response, ctx.forms, ctx.lists, ctx.now_ms) {
                Ok(p) => p,
                Err(why) => return (Merged::Rejected(why), None),
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
            (written(ctx, &response, after, bytes, projection), extra)
        }
        None => {
            if !base.is_empty() {
                return (Merged::NeedWhole, None);
            }
            let mut response = match ResponseDoc::load(&upload.bytes, "server") {
                Ok(r) => r,
                Err(_) => return reject("corrupt document data"),
            };
            if response.id() != upload.id {
                return reject("document id does not match");
            }
            if response.context().area != ctx.area.name {
                return reject("response was captured for another area");
            }
            let projection = match check(&response, ctx.forms, ctx.lists, ctx.now_ms) {
                Ok(p) => p,
                Err(why) => return (Merged::Rejected(why), None),
            };
            let heads = response.heads();
            let bytes = DocBytes::Snapshot(if upload.bytes.len() <= STORED_AS_ARRIVED_MAX {
                upload.bytes.to_vec()
            } else {
                response.save()
            });
            (written(ctx, &response, heads, bytes, projection), None)
        }
    }
}

/// The write for a merged response, with its projection.
fn written(
    ctx: &Ingest<'_>,
    response: &ResponseDoc,
    heads: Vec<ChangeHash>,
    bytes: DocBytes,
    projection: Projection,
) -> Merged {
    Merged::Write(Box::new(DocWrite {
        id: response.id().to_owned(),
        area_id: ctx.area.id.clone(),
        kind: DocKind::Response,
        form_id: response.form_ref().id.clone(),
        heads,
        bytes,
        projection: Some(projection),
    }))
}
