//! The server side of a sync exchange: erasures, then uploads merged in one
//! transaction (with projections), then what the device should receive.

use std::collections::{HashMap, VecDeque};

use automerge::AutoCommit;
use hark_core::doc::DocKind;
use hark_core::sync::{Ack, DocData, Rejected, SyncRequest, SyncResponse, wire_heads};
use serde_bytes::ByteBuf;

use crate::error::Result;
use crate::ingest::{Extra, Merged, merge_upload};
use crate::model::{Area, Device};
use crate::storage::Storage;

/// Documents sent to a device per exchange.
pub const DOWNLOAD_LIMIT: usize = 500;

/// Handles one exchange for an authenticated device.
pub fn handle(
    storage: &dyn Storage,
    device: &Device,
    area: &Area,
    request: &SyncRequest,
) -> Result<SyncResponse> {
    if !request.erased.is_empty() {
        storage.erase(&area.id, &request.erased)?;
    }
    let mut response = SyncResponse::default();
    let mut extras: Vec<(String, Extra)> = Vec::new();
    if !request.docs.is_empty() {
        let ids: Vec<String> = request.docs.iter().map(|d| d.id.clone()).collect();
        // Storage skips erased ids, so find each upload by id (the same id
        // may come twice in one request: take them in order).
        let mut queues: HashMap<&str, VecDeque<&DocData>> = HashMap::new();
        for d in &request.docs {
            queues.entry(d.id.as_str()).or_default().push_back(d);
        }
        let outcomes = storage.ingest(device, &ids, &mut |id, stored| {
            let Some(upload) = queues.get_mut(id).and_then(VecDeque::pop_front) else {
                return Ok(Merged::Rejected("unexpected document".into()));
            };
            let (merged, extra) = merge_upload(&area.id, &area.name, upload, stored)?;
            if let Some(e) = extra {
                extras.push((upload.id.clone(), e));
            }
            Ok(merged)
        })?;
        for (doc, outcome) in request.docs.iter().zip(outcomes) {
            match outcome {
                Merged::Write(w) => response.acks.push(Ack {
                    id: doc.id.clone(),
                    heads: wire_heads(&w.heads),
                }),
                Merged::NeedWhole => response.need_whole.push(doc.id.clone()),
                Merged::Rejected(reason) => {
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
        let data = match p.device_heads {
            Some(heads) if !heads.is_empty() => {
                let mut doc = AutoCommit::load(&p.bytes)?;
                if heads.iter().all(|h| doc.get_change_by_hash(h).is_some()) {
                    DocData {
                        id: p.id,
                        kind: p.kind,
                        base: wire_heads(&heads),
                        bytes: ByteBuf::from(doc.save_after(&heads)),
                        flagged: false,
                    }
                } else {
                    DocData {
                        id: p.id,
                        kind: p.kind,
                        base: Vec::new(),
                        bytes: ByteBuf::from(p.bytes),
                        flagged: false,
                    }
                }
            }
            _ => DocData {
                id: p.id,
                kind: p.kind,
                base: Vec::new(),
                bytes: ByteBuf::from(p.bytes),
                flagged: false,
            },
        };
        response.docs.push(data);
    }
    response.erased = pending.erased;
    response.cursor = pending.cursor;
    response.more = pending.more;
    // Wanted documents are sent whole (only from this device's area).
    for id in &request.want {
        if let Some(doc) = storage.load(id)?
            && doc.area_id == area.id
        {
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
