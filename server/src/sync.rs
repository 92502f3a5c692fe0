//! The server side of a sync exchange: erasures, then uploads merged and
//! checked against their forms in one transaction (with projections),
//! then what the device should receive. Work per request is bounded: at
//! most [`MAX_DOCS`] documents, [`MAX_WANTS`] wants and [`MAX_ERASURES`]
//! erasures are taken, and at most [`DOWNLOAD_LIMIT`] documents and
//! erasures sent back.

use std::collections::BTreeSet;

use automerge::AutoCommit;
use hark_core::doc::{DocKind, now_ms};
use hark_core::sync::{Ack, DocData, Rejected, SyncRequest, SyncResponse, wire_heads};
use serde_bytes::ByteBuf;

use crate::error::{Error, Result};
use crate::ingest::{Extra, Ingest, Merged};
use crate::model::{Area, AuditEntry, Device};
use crate::state::AppState;
use crate::storage::response_key;

/// Documents and erasures sent to a device per exchange.
pub const DOWNLOAD_LIMIT: usize = 500;
/// Most documents a device may send in one request (its batches are 500).
pub const MAX_DOCS: usize = 1000;
/// Most documents a device may ask for whole in one request.
pub const MAX_WANTS: usize = 1000;
/// Most erasures a device may send in one request.
pub const MAX_ERASURES: usize = 10_000;

/// Refuses a request larger than the bounds, naming the bound.
fn check_bounds(request: &SyncRequest) -> Result<()> {
    for (n, max, what) in [
        (request.docs.len(), MAX_DOCS, "documents"),
        (request.want.len(), MAX_WANTS, "wanted documents"),
        (request.erased.len(), MAX_ERASURES, "erasures"),
    ] {
        if n > max {
            return Err(Error::Invalid(format!(
                "a sync request holds at most {max} {what}, not {n}"
            )));
        }
    }
    Ok(())
}

/// Handles one exchange for an authenticated device, arriving at
/// `arrived_at` (ms since the epoch, the server's clock): through the
/// server's storage, its group writer, metrics and forms.
pub fn handle(
    state: &AppState,
    device: &Device,
    area: &Area,
    request: &SyncRequest,
    arrived_at: i64,
) -> Result<SyncResponse> {
    let storage = state.storage.as_ref();
    let metrics = &state.metrics;
    metrics.exchanges.inc();
    check_bounds(request)?;
    if !request.erased.is_empty() {
        let erased: BTreeSet<&String> = request.erased.iter().collect();
        let ids: Vec<String> = erased.into_iter().cloned().collect();
        let stored = storage.erase(&area.id, &ids)?;
        storage.audit(&AuditEntry {
            seq: 0,
            at: now_ms(),
            area_id: area.id.clone(),
            actor: format!("device:{}", device.id),
            action: "responses.erase".into(),
            detail: format!("{} erasures, {stored} stored responses erased", ids.len()),
        })?;
    }
    let mut response = SyncResponse::default();
    let lists = storage.area_lists(&area.id)?;
    if request.lists_version != lists.version {
        response.lists = Some(lists.clone());
    }
    let mut extras: Vec<(String, Extra)> = Vec::new();
    if !request.docs.is_empty() {
        let forms = state.forms.area_forms(storage.area_forms(&area.id)?);
        let ctx = Ingest {
            area,
            forms: &forms,
            lists: &lists,
            now_ms: arrived_at,
        };
        let uploads: Vec<&DocData> = request.docs.iter().collect();
        let outcomes =
            crate::writer::ingest(storage, state.writer.as_ref(), &ctx, device, &uploads)?;
        for (doc, (outcome, extra)) in request.docs.iter().zip(outcomes) {
            if let Some(extra) = extra {
                extras.push((doc.id.clone(), extra));
            }
            match outcome {
                Merged::Write(w) => {
                    let problems = w.projection.iter().flat_map(|p| &p.problems);
                    for problem in problems {
                        response.notices.push(Rejected {
                            id: doc.id.clone(),
                            reason: problem.notice(),
                        });
                    }
                    metrics.docs_merged.inc();
                    response.acks.push(Ack {
                        id: doc.id.clone(),
                        heads: wire_heads(&w.heads),
                    });
                }
                Merged::NeedWhole => response.need_whole.push(doc.id.clone()),
                Merged::Rejected(reason) => {
                    metrics.docs_refused.inc();
                    tracing::warn!(doc = %doc.id, %reason, "document refused");
                    response.rejected.push(Rejected {
                        id: doc.id.clone(),
                        reason,
                    });
                }
            }
        }
    }
    for (id, extra) in extras {
        response.docs.push(DocData {
            id,
            kind: DocKind::Response,
            base: wire_heads(&extra.base),
            bytes: ByteBuf::from(extra.bytes),
            flagged: false,
        });
    }
    let pending = storage.pending(device, request.cursor, DOWNLOAD_LIMIT)?;
    for p in pending.docs {
        // What the device lacks after the heads it acknowledged, or the
        // whole document when those heads are not known here.
        let changes = match &p.device_heads {
            Some(heads) if !heads.is_empty() => {
                let mut doc = AutoCommit::load(&p.bytes)?;
                heads
                    .iter()
                    .all(|h| doc.get_change_by_hash(h).is_some())
                    .then(|| (wire_heads(heads), doc.save_after(heads)))
            }
            _ => None,
        };
        let (base, bytes) = changes.unwrap_or_else(|| (Vec::new(), p.bytes));
        response.docs.push(DocData {
            id: p.id,
            kind: p.kind,
            base,
            bytes: ByteBuf::from(bytes),
            flagged: false,
        });
    }
    response.erased = pending.erased;
    response.cursor = pending.cursor;
    response.more = pending.more;
    // Wanted documents are sent whole (only this area's: the key names it).
    let wanted: BTreeSet<&String> = request.want.iter().collect();
    for id in wanted {
        if let Some(doc) = storage.load(&response_key(&area.id, id))? {
            response.docs.push(DocData {
                id: id.clone(),
                kind: doc.kind,
                base: Vec::new(),
                bytes: ByteBuf::from(doc.bytes),
                flagged: false,
            });
        }
    }
    Ok(response)
}
