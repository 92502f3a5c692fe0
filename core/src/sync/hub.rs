//! The answering side of a device-to-device sync: the hub tablet at an
//! event that the other tablets sync with. It merges what a peer sends
//! (all or nothing), passes erasures on, and acknowledges every document
//! with the heads it holds. [`LocalPeer`] carries a session into a hub in
//! the same process, through the codec exactly as over a wire.

use super::client::Transport;
use super::codec::{decode, encode, encode_answer};
use super::wire::{Ack, DocData, SyncError, SyncRequest, SyncResponse, incoming, wire_heads};
use crate::error::Result;
use crate::store::Store;

/// Answers one sync request from another device.
pub fn serve(store: &Store, request: &SyncRequest) -> Result<SyncResponse> {
    let applied = store.apply(&incoming(&request.docs)?)?;
    for id in &request.erased {
        store.erase_response(id)?;
    }
    let mut acks = Vec::new();
    for d in &request.docs {
        if applied.want_whole.contains(&d.id) {
            continue;
        }
        if let Some(heads) = store.heads(&d.id)? {
            acks.push(Ack {
                id: d.id.clone(),
                heads: wire_heads(&heads),
            });
        }
    }
    let docs = request
        .want
        .iter()
        .filter_map(|id| DocData::whole(store, id).ok())
        .collect();
    Ok(SyncResponse {
        cursor: 0,
        acks,
        need_whole: applied.want_whole,
        docs,
        ..SyncResponse::default()
    })
}

/// A transport straight into a hub store in the same process.
#[derive(Debug)]
pub struct LocalPeer<'a>(pub &'a Store);

impl Transport for LocalPeer<'_> {
    fn exchange(&self, request: &SyncRequest) -> Result<SyncResponse, SyncError> {
        // Through the codec, exactly as over a wire.
        let request: SyncRequest = decode(&encode(request))?;
        let response = serve(self.0, &request)?;
        decode(&encode_answer(&response))
    }
}
