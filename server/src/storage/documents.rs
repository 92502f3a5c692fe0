//! The storage algorithms, written once for both backends over the
//! transaction interface of [`super::backend`]: ingest, erase, the paging
//! of what a device should receive, projections with their tallies,
//! rebuilds. The blanket implementation at the end makes every
//! [`Backend`] a [`Documents`] store.
//!
//! Tallies: a transaction first adds up the change of every projection it
//! writes ([`Deltas`]), then writes each touched tally row once, under the
//! writers' lock (so concurrent writers on PostgreSQL never deadlock on
//! tally rows).

use automerge::ChangeHash;
use hark_core::doc::DocKind;
use hark_core::response::Status;

use super::backend::{Backend, DocRow, DocTx};
use super::{Documents, Lists, MergeFn, Pending, PendingBatch, doc_id, response_key};
use crate::error::Result;
use crate::export::pack_answers;
use crate::ingest::{DocBytes, Merged, StoredDoc};
use crate::model::Device;
use crate::projection::Projection;
use crate::tally::Deltas;
use hark_core::lists::{AreaLists, ListDim, ListItem};

/// Responses a rebuild recounts per step.
const REBUILD_STEP: usize = 1000;

/// The stored projection of a response, with its answers when it counts.
fn stored_projection(tx: &mut impl DocTx, id: &str) -> Result<Option<Projection>> {
    let Some(mut p) = tx.projection(id)? else {
        return Ok(None);
    };
    if p.status == Status::Submitted {
        p.answers = tx.projected_answers(id)?;
    }
    Ok(Some(p))
}

/// Replaces a response's projection and adds the tally change to `deltas`.
fn write_projection(
    tx: &mut impl DocTx,
    id: &str,
    area_id: &str,
    p: Option<&Projection>,
    deltas: &mut Deltas,
) -> Result<()> {
    let old = stored_projection(tx, id)?;
    deltas.add(area_id, old.as_ref(), p);
    tx.write_projection(id, area_id, p)
}

/// Writes a transaction's tally changes.
fn flush_tallies(tx: &mut impl DocTx, deltas: &Deltas) -> Result<()> {
    let rows = deltas.rows();
    if rows.is_empty() {
        return Ok(());
    }
    tx.lock_writers()?;
    tx.add_tallies(&rows)
}

/// See [`Documents::ingest`].
fn ingest(
    tx: &mut impl DocTx,
    device: &Device,
    ids: &[String],
    merge: &mut MergeFn<'_>,
) -> Result<Vec<Merged>> {
    let mut out = Vec::with_capacity(ids.len());
    let mut deltas = Deltas::new();
    for id in ids {
        let key = response_key(&device.area_id, id);
        if tx.is_erased(&key)? {
            out.push(Merged::Rejected("erased".into()));
            continue;
        }
        let stored = tx.load_doc(&key)?;
        let merged = merge(id, stored)?;
        if let Merged::Write(w) = &merged {
            match &w.bytes {
                DocBytes::Unchanged => {}
                DocBytes::Snapshot(bytes) => {
                    let seq = tx.next_seq()?;
                    tx.put_snapshot(&DocRow {
                        id: &key,
                        area_id: &w.area_id,
                        kind: w.kind,
                        form_id: &w.form_id,
                        seq,
                        heads: &w.heads,
                        bytes,
                    })?;
                }
                DocBytes::Append(bytes) => {
                    let seq = tx.next_seq()?;
                    tx.append_change(&key, seq, &w.heads, bytes)?;
                }
            }
            if w.bytes != DocBytes::Unchanged {
                write_projection(tx, &key, &w.area_id, w.projection.as_ref(), &mut deltas)?;
            }
            tx.set_device_heads(&device.id, &key, &w.heads)?;
        }
        out.push(merged);
    }
    flush_tallies(tx, &deltas)?;
    Ok(out)
}

/// See [`Documents::erase`].
fn erase(tx: &mut impl DocTx, area_id: &str, ids: &[String]) -> Result<usize> {
    let mut deltas = Deltas::new();
    let mut stored = 0;
    for id in ids {
        // Only responses of the caller's area (their keys name it): never
        // forms, never another area's documents.
        let key = response_key(area_id, id);
        let owner = tx.doc_owner(&key)?;
        if owner
            .as_ref()
            .is_some_and(|(a, k)| a != area_id || *k != DocKind::Response)
            || id.starts_with("form:")
        {
            continue;
        }
        stored += usize::from(owner.is_some());
        let seq = tx.next_seq()?;
        tx.delete_doc(&key)?;
        write_projection(tx, &key, area_id, None, &mut deltas)?;
        tx.record_erasure(&key, area_id, seq)?;
    }
    flush_tallies(tx, &deltas)?;
    Ok(stored)
}

/// See [`Documents::pending`]. Reads up to the highest committed sequence
/// number first (every number up to it is committed, see the module header
/// of [`super`]); the area's forms, the documents the device holds at other
/// heads and the area's erasures are merged by sequence number into one
/// page of at most `limit`; a page cut short ends at the last sequence
/// number it holds, so the next page starts right after it.
fn pending(
    tx: &mut impl DocTx,
    device: &Device,
    cursor: i64,
    limit: usize,
) -> Result<PendingBatch> {
    enum Item {
        Form(String),
        Doc(String, Vec<ChangeHash>),
        Erased(String),
    }
    let limit = limit.max(1);
    let upper = tx.current_seq()?;
    // One more than a page: whether more remain.
    let fetch = limit + 1;
    let mut rows: Vec<(i64, Item)> = tx
        .forms_between(&device.area_id, cursor, upper, fetch)?
        .into_iter()
        .map(|(seq, key)| (seq, Item::Form(key)))
        .collect();
    rows.extend(
        tx.device_docs_between(&device.id, cursor, upper, fetch)?
            .into_iter()
            .map(|(seq, key, heads)| (seq, Item::Doc(key, heads))),
    );
    rows.extend(
        tx.erasures_between(&device.area_id, cursor, upper, fetch)?
            .into_iter()
            .map(|(seq, key)| (seq, Item::Erased(key))),
    );
    rows.sort_by_key(|r| r.0);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let cursor_out = match rows.last() {
        Some(last) if more => last.0,
        _ => upper,
    };
    let mut batch = PendingBatch {
        cursor: cursor_out,
        more,
        ..PendingBatch::default()
    };
    for (_, item) in rows {
        let (key, device_heads) = match item {
            Item::Erased(key) => {
                batch.erased.push(doc_id(&key).to_owned());
                continue;
            }
            Item::Form(key) => (key, None),
            Item::Doc(key, heads) => (key, Some(heads)),
        };
        if let Some(d) = tx.load_doc(&key)? {
            batch.docs.push(Pending {
                id: doc_id(&key).to_owned(),
                kind: d.kind,
                bytes: d.bytes,
                device_heads,
            });
        }
    }
    Ok(batch)
}

/// See [`Documents::put_form`].
fn put_form(
    tx: &mut impl DocTx,
    area_id: &str,
    id: &str,
    form_id: &str,
    heads: &[ChangeHash],
    bytes: &[u8],
) -> Result<bool> {
    if tx.doc_exists(id)? {
        return Ok(false);
    }
    let seq = tx.next_seq()?;
    tx.insert_doc(&DocRow {
        id,
        area_id,
        kind: DocKind::Form,
        form_id,
        seq,
        heads,
        bytes,
    })
}

/// Recounts every tally from the projections, a step of responses at a
/// time.
pub(super) fn rebuild_tallies(tx: &mut impl DocTx) -> Result<()> {
    tx.lock_writers()?;
    tx.clear_tallies()?;
    let mut after = String::new();
    loop {
        let ids = tx.submitted_after(&after, REBUILD_STEP)?;
        let Some((last, _)) = ids.last().cloned() else {
            return Ok(());
        };
        let mut deltas = Deltas::new();
        for (id, area_id) in &ids {
            if let Some(p) = stored_projection(tx, id)? {
                deltas.add(area_id, None, Some(&p));
            }
        }
        flush_tallies(tx, &deltas)?;
        after = last;
    }
}

/// Packs the answers of responses projected before they were packed.
pub(super) fn backfill_packed(tx: &mut impl DocTx) -> Result<()> {
    for id in tx.response_ids()? {
        let answers = tx.projected_answers(&id)?;
        tx.set_packed(&id, &pack_answers(&answers))?;
    }
    Ok(())
}

/// Writes projections in one transaction.
fn put_projections<'p>(
    tx: &mut impl DocTx,
    batch: impl IntoIterator<Item = (&'p str, &'p str, Option<&'p Projection>)>,
) -> Result<()> {
    let mut deltas = Deltas::new();
    for (id, area_id, p) in batch {
        write_projection(tx, id, area_id, p, &mut deltas)?;
    }
    flush_tallies(tx, &deltas)
}

impl<B: Backend> Documents for B {
    fn ingest(
        &self,
        device: &Device,
        ids: &[String],
        merge: &mut MergeFn<'_>,
    ) -> Result<Vec<Merged>> {
        let keys: Vec<String> = ids
            .iter()
            .map(|id| response_key(&device.area_id, id))
            .collect();
        self.write(&keys, |tx| ingest(tx, device, ids, merge))
    }

    fn erase(&self, area_id: &str, ids: &[String]) -> Result<usize> {
        let keys: Vec<String> = ids.iter().map(|id| response_key(area_id, id)).collect();
        self.write(&keys, |tx| erase(tx, area_id, ids))
    }

    fn pending(&self, device: &Device, cursor: i64, limit: usize) -> Result<PendingBatch> {
        self.read(|tx| pending(tx, device, cursor, limit))
    }

    fn put_form(
        &self,
        area_id: &str,
        id: &str,
        form_id: &str,
        heads: &[ChangeHash],
        bytes: &[u8],
    ) -> Result<bool> {
        self.write(&[id.to_owned()], |tx| {
            put_form(tx, area_id, id, form_id, heads, bytes)
        })
    }

    fn load(&self, id: &str) -> Result<Option<StoredDoc>> {
        self.read(|tx| tx.load_doc(id))
    }

    fn area_forms(&self, area_id: &str) -> Result<Vec<Vec<u8>>> {
        self.read(|tx| tx.area_forms(area_id))
    }

    fn doc_ids(&self, kind: DocKind, after: &str, limit: usize) -> Result<Vec<String>> {
        self.read(|tx| tx.doc_ids(kind, after, limit))
    }

    fn put_projection(
        &self,
        id: &str,
        area_id: &str,
        projection: Option<&Projection>,
    ) -> Result<()> {
        self.write(&[id.to_owned()], |tx| {
            put_projections(tx, [(id, area_id, projection)])
        })
    }

    fn put_projections(&self, batch: &[(String, String, Projection)]) -> Result<()> {
        let ids: Vec<String> = batch.iter().map(|(id, _, _)| id.clone()).collect();
        self.write(&ids, |tx| {
            put_projections(
                tx,
                batch
                    .iter()
                    .map(|(id, area_id, p)| (id.as_str(), area_id.as_str(), Some(p))),
            )
        })
    }

    fn rebuild_tallies(&self) -> Result<()> {
        self.write(&[], |tx| rebuild_tallies(tx))
    }
}

/// An area's lists: the defaults until the first change, then what is
/// stored.
fn area_lists(tx: &mut impl DocTx, area_id: &str) -> Result<AreaLists> {
    let version = tx.lists_version(area_id)?;
    if version == 0 {
        return Ok(AreaLists::defaults());
    }
    let mut lists = AreaLists {
        version,
        settings: Vec::new(),
        age_phases: Vec::new(),
        needs: Vec::new(),
        pathways: Vec::new(),
    };
    for (dim, id, label) in tx.list_items(area_id)? {
        if let Some(dim) = ListDim::parse(&dim) {
            lists.list_mut(dim).push(ListItem { id, label });
        }
    }
    Ok(lists)
}

impl<B: Backend> Lists for B {
    fn area_lists(&self, area_id: &str) -> Result<AreaLists> {
        self.read(|tx| area_lists(tx, area_id))
    }

    fn set_area_list(&self, area_id: &str, dim: ListDim, items: &[ListItem]) -> Result<AreaLists> {
        self.write(&[], |tx| {
            tx.lock_writers()?;
            let mut lists = area_lists(tx, area_id)?;
            *lists.list_mut(dim) = items.to_vec();
            // Above the defaults' version, so devices holding them fetch.
            lists.version = lists.version.max(1) + 1;
            tx.replace_lists(area_id, &lists)?;
            Ok(lists)
        })
    }
}
