//! Bundles: sync without any network. One device writes every response it
//! holds (and its erasures) to a file; another device, or the server,
//! imports it with the same all-or-nothing rules as a sync message. A
//! bundle is a [`SyncRequest`] in the wire format, so the server ingests it
//! through the same path.

use super::codec;
use super::wire::{DocData, SyncError, SyncRequest, incoming};
use crate::doc::DocKind;
use crate::store::Store;
use crate::store::replica::Applied;

/// Writes every response held (whole) and every erasure into a bundle.
pub fn export_bundle(store: &Store) -> Result<Vec<u8>, SyncError> {
    let staged = store.stage("bundle:export")?;
    let mut docs = Vec::new();
    for d in staged.docs.iter().filter(|d| d.kind == DocKind::Response) {
        let mut data = DocData::whole(store, &d.id)?;
        data.flagged = d.flagged;
        docs.push(data);
    }
    docs.sort_by_key(|d| !d.flagged);
    Ok(codec::encode(&SyncRequest {
        cursor: 0,
        docs,
        erased: staged.erased,
        ..SyncRequest::default()
    }))
}

/// Imports a bundle. A corrupt or truncated file is refused before
/// anything is written; otherwise every response is merged (counted once
/// however often the bundle is imported) and erasures applied.
pub fn import_bundle(store: &Store, bytes: &[u8]) -> Result<Applied, SyncError> {
    let request: SyncRequest = codec::decode_at_most(bytes, codec::MAX_BUNDLE)?;
    if request.docs.iter().any(|d| !d.base.is_empty()) {
        return Err(SyncError::Corrupt(
            "a bundle holds whole documents only".into(),
        ));
    }
    let applied = store.apply(&incoming(&request.docs)?)?;
    for id in &request.erased {
        store.erase_response(id)?;
    }
    Ok(applied)
}
