//! The device side of a sync session: stage -> plan -> apply.
//!
//! [`sync`] stages what changed since the last completed sync with a peer,
//! plans batches ([`super::plan::plan`]), and exchanges them over a
//! [`Transport`]. After each exchange it applies what came back (all or
//! nothing) and records the peer's acknowledgements, so a session cut off
//! half-way resumes from the last acknowledged batch; the local cursor moves
//! only when the whole session completes.

use super::plan::{self, PlannedDoc};
use super::wire::{
    DocData, Rejected, SyncError, SyncRequest, SyncResponse, heads_from_wire, incoming,
};
use crate::lists::AreaLists;
use crate::store::Store;

/// Documents per request.
pub const BATCH_SIZE: usize = 500;
/// Pull rounds allowed in one session (guards against a peer that always
/// says there is more).
const MAX_ROUNDS: usize = 10_000;

/// Carries one request to the peer and brings its response back.
pub trait Transport {
    /// One exchange. Must be safe to repeat (the protocol is idempotent).
    fn exchange(&self, request: &SyncRequest) -> Result<SyncResponse, SyncError>;
}

/// Progress of a session, for a progress bar.
pub trait Progress {
    /// `done` of `total` documents sent so far.
    fn progress(&self, done: usize, total: usize);
}

impl<F: Fn(usize, usize)> Progress for F {
    fn progress(&self, done: usize, total: usize) {
        self(done, total);
    }
}

/// What a session did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Documents sent and acknowledged.
    pub sent: usize,
    /// Documents received and applied.
    pub received: usize,
    /// Responses erased here because they were erased elsewhere.
    pub erased_here: usize,
    /// Documents the peer refused.
    pub rejected: Vec<Rejected>,
    /// Conflicts present in documents received.
    pub conflicts: usize,
    /// Request/response exchanges made.
    pub round_trips: usize,
    /// Documents the peer stored with something to show (e.g. kept but
    /// not counted).
    pub notices: Vec<Rejected>,
}

/// Where the area's lists from the last sync are kept (encrypted, in the
/// store's settings).
const LISTS: &str = "area.lists";

/// The area's lists as last received from the server, if any: the
/// settings, age phases, needs and pathways to offer.
pub fn area_lists(store: &Store) -> Result<Option<AreaLists>, SyncError> {
    store
        .setting(LISTS)?
        .map(|json| serde_json::from_str(&json).map_err(|e| SyncError::Corrupt(e.to_string())))
        .transpose()
}

/// How many documents the next sync with `peer` would send.
pub fn waiting(store: &Store, peer: &str) -> Result<usize, SyncError> {
    let staged = store.stage(peer)?;
    Ok(plan::plan(&staged, usize::MAX)
        .batches
        .iter()
        .map(Vec::len)
        .sum())
}

/// Runs one sync session with `peer` (a stable name for the other side,
/// e.g. the server URL or a hub device id).
pub fn sync(
    store: &Store,
    peer: &str,
    transport: &dyn Transport,
    progress: &dyn Progress,
) -> Result<SyncReport, SyncError> {
    let staged = store.stage(peer)?;
    let plan = plan::plan(&staged, BATCH_SIZE);
    let total: usize = plan.batches.iter().map(Vec::len).sum();
    let mut report = SyncReport::default();
    let mut cursor = staged.peer_cursor;
    let mut erased = plan.erased.clone();
    let mut batches = plan.batches.into_iter();
    let mut done = 0;
    progress.progress(0, total);
    loop {
        let batch: Vec<PlannedDoc> = batches.next().unwrap_or_default();
        let docs = batch
            .iter()
            .map(|d| {
                let out = store.outgoing(&d.id, &d.base)?;
                Ok(DocData::from_outgoing(&d.id, d.kind, out, d.flagged))
            })
            .collect::<Result<Vec<_>, crate::error::Error>>()?;
        let request = SyncRequest {
            cursor,
            docs,
            erased: std::mem::take(&mut erased),
            want: Vec::new(),
            lists_version: area_lists(store)?.map_or(0, |l| l.version),
        };
        let mut response = exchange(transport, &request, &mut report)?;
        apply(store, peer, &mut response, &mut report)?;
        // Documents the peer could not apply as changes go again, whole;
        // one the same response erased here is no longer ours to send.
        let docs = response
            .need_whole
            .iter()
            .filter_map(|id| match DocData::whole(store, id) {
                Err(crate::error::Error::NotFound(_)) => None,
                other => Some(other),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if !docs.is_empty() {
            let retry = SyncRequest {
                cursor,
                docs,
                ..SyncRequest::default()
            };
            let mut again = exchange(transport, &retry, &mut report)?;
            apply(store, peer, &mut again, &mut report)?;
        }
        done += batch.len();
        progress.progress(done, total);
        cursor = response.cursor;
        let mut more = response.more;
        while more {
            if report.round_trips > MAX_ROUNDS {
                return Err(SyncError::Refused(
                    "the server kept sending; try again later".into(),
                ));
            }
            let mut next = exchange(
                transport,
                &SyncRequest {
                    cursor,
                    ..SyncRequest::default()
                },
                &mut report,
            )?;
            apply(store, peer, &mut next, &mut report)?;
            cursor = next.cursor;
            more = next.more;
        }
        if batches.len() == 0 {
            break;
        }
    }
    store.finish_sync(peer, staged.upto, cursor)?;
    Ok(report)
}

fn exchange(
    transport: &dyn Transport,
    request: &SyncRequest,
    report: &mut SyncReport,
) -> Result<SyncResponse, SyncError> {
    report.round_trips += 1;
    transport.exchange(request)
}

/// Applies one response: documents first (all or nothing), then erasures,
/// then the acknowledgements (which may name changes just received).
fn apply(
    store: &Store,
    peer: &str,
    response: &mut SyncResponse,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    if !response.docs.is_empty() {
        let applied = store.apply_from_server(&incoming(&response.docs)?)?;
        report.received += applied.applied;
        report.conflicts += applied.conflicts.len();
        if !applied.want_whole.is_empty() {
            // Our copy lacks the base the peer assumed: forget what we told
            // it, so the next session exchanges those documents whole.
            response
                .acks
                .retain(|a| !applied.want_whole.contains(&a.id));
        }
    }
    for id in &response.erased {
        if store.erase_response(id)? {
            report.erased_here += 1;
        }
    }
    report.sent += response.acks.len();
    let acks = response
        .acks
        .iter()
        .map(|a| Some((a.id.clone(), heads_from_wire(&a.heads)?)))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| SyncError::Corrupt("malformed change hash in an acknowledgement".into()))?;
    store.record_acks(peer, &acks)?;
    report.rejected.extend(response.rejected.iter().cloned());
    report.notices.extend(response.notices.iter().cloned());
    if let Some(lists) = &response.lists {
        let json = serde_json::to_string(lists).map_err(|e| SyncError::Corrupt(e.to_string()))?;
        store.set_setting(LISTS, &json)?;
    }
    Ok(())
}
