//! The storage algorithms, written once for both backends over the
//! transaction interface of [`super::backend`]: the group commit of
//! staged merges, erase, the paging
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

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::backend::{Backend, DocRow, DocTx, ProjectionRow};
use super::{Documents, Lists, Pending, PendingBatch, Upload, doc_id, response_key};
use crate::error::{Error, Result};
use crate::export::pack_answers;
use crate::ingest::{DocBytes, Fate, Merged, StoredDoc};
use crate::model::Device;
use crate::projection::Projection;
use crate::publication;
use crate::tally::Deltas;
use hark_core::lists::{AreaLists, ListDim, ListItem};

/// Responses a rebuild recounts per step.
const REBUILD_STEP: usize = 1000;

/// Replaces responses' projections and adds the tally changes to `deltas`.
/// Each run of distinct ids is read and written in one go; a response named
/// again starts a new run, so its change counts against the one before.
///
/// A response counted for the first time is placed in its month here,
/// under the writers' lock, against what is published
/// ([`publication::counted_month`]): so a month copied to the published
/// tallies never gains a response afterwards, and one counted before stays
/// in its month, even after a time uncounted (reopened as a draft).
fn write_projections(
    tx: &mut impl DocTx,
    rows: &[ProjectionRow<'_>],
    deltas: &mut Deltas,
) -> Result<()> {
    if rows.iter().any(|r| r.projection.is_some_and(|p| p.counted)) {
        tx.lock_writers()?;
    }
    let mut published: HashMap<String, Option<String>> = HashMap::new();
    let mut start = 0;
    while start < rows.len() {
        let mut seen = HashSet::new();
        let end = rows[start..]
            .iter()
            .position(|r| !seen.insert(r.id))
            .map_or(rows.len(), |n| start + n);
        let run = &rows[start..end];
        let ids: Vec<&str> = run.iter().map(|r| r.id).collect();
        let old = tx.projections(&ids)?;
        let mut placed: Vec<Option<Cow<'_, Projection>>> = Vec::with_capacity(run.len());
        for r in run {
            let earlier = old.get(r.id).and_then(Projection::counted_in_month);
            placed.push(match r.projection {
                Some(p) if p.counted => {
                    if !published.contains_key(r.area_id) {
                        let through = tx.published_through(r.area_id)?;
                        published.insert(r.area_id.to_owned(), through);
                    }
                    let month = publication::counted_month(
                        earlier,
                        &p.month,
                        &p.arrived_month,
                        published.get(r.area_id).and_then(Option::as_deref),
                    );
                    if month == p.month {
                        Some(Cow::Borrowed(p))
                    } else {
                        Some(Cow::Owned(Projection { month, ..p.clone() }))
                    }
                }
                // Not counted now: the month it was counted in is kept.
                Some(p) if p.counted_in.as_deref() != earlier => Some(Cow::Owned(Projection {
                    counted_in: earlier.map(str::to_owned),
                    ..p.clone()
                })),
                p => p.map(Cow::Borrowed),
            });
        }
        let run: Vec<ProjectionRow<'_>> = run
            .iter()
            .zip(&placed)
            .map(|(r, p)| ProjectionRow {
                projection: p.as_deref(),
                ..*r
            })
            .collect();
        for r in &run {
            deltas.add(r.area_id, old.get(r.id), r.projection);
        }
        tx.write_projections(&run)?;
        start = end;
    }
    Ok(())
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

/// See [`Documents::commit`]. Checks first, for every write in the group,
/// whether the document was erased or its stored version moved on since it
/// was staged (another exchange wrote it, or an earlier upload in this same
/// group did); then takes one sequence number per document that changes,
/// all at once; writes each with its projection; and writes the tally
/// changes of the whole group once.
fn commit(tx: &mut impl DocTx, group: &[Upload]) -> Result<Vec<Vec<Fate>>> {
    let keys: Vec<&str> = group
        .iter()
        .flat_map(|u| &u.docs)
        .filter(|d| matches!(d.merged, Merged::Write(_)))
        .map(|d| d.key.as_str())
        .collect();
    let erased = tx.erased_among(&keys)?;
    let versions = tx.doc_versions(&keys)?;
    // Decide before writing, so the sequence numbers are taken in one go.
    let mut touched = HashSet::new();
    let mut needed = 0;
    let fates: Vec<Vec<Fate>> = group
        .iter()
        .map(|upload| {
            upload
                .docs
                .iter()
                .map(|d| {
                    let Merged::Write(w) = &d.merged else {
                        return Fate::Kept;
                    };
                    if erased.contains(&d.key) {
                        Fate::Erased
                    } else if versions.get(&d.key).copied() != d.seen
                        || !touched.insert(d.key.as_str())
                    {
                        Fate::Stale
                    } else {
                        needed += i64::from(w.bytes != DocBytes::Unchanged);
                        Fate::Kept
                    }
                })
                .collect()
        })
        .collect();
    let mut seq = if needed > 0 {
        tx.reserve_seqs(needed)?
    } else {
        0
    };
    let mut snapshots = Vec::new();
    let mut projections = Vec::new();
    let mut heads: BTreeMap<&str, Vec<(&str, &[ChangeHash])>> = BTreeMap::new();
    for (upload, fates) in group.iter().zip(&fates) {
        for (d, fate) in upload.docs.iter().zip(fates) {
            let (Fate::Kept, Merged::Write(w)) = (fate, &d.merged) else {
                continue;
            };
            match &w.bytes {
                DocBytes::Unchanged => {}
                DocBytes::Snapshot(bytes) => snapshots.push(DocRow {
                    id: &d.key,
                    area_id: &w.area_id,
                    kind: w.kind,
                    form_id: &w.form_id,
                    seq,
                    heads: &w.heads,
                    bytes,
                }),
                DocBytes::Append(bytes) => tx.append_change(&d.key, seq, &w.heads, bytes)?,
            }
            if w.bytes != DocBytes::Unchanged {
                seq += 1;
                projections.push(ProjectionRow {
                    id: &d.key,
                    area_id: &w.area_id,
                    projection: w.projection.as_ref(),
                });
            }
            heads
                .entry(upload.device.id.as_str())
                .or_default()
                .push((&d.key, &w.heads));
        }
    }
    tx.put_snapshots(&snapshots)?;
    let mut deltas = Deltas::new();
    write_projections(tx, &projections, &mut deltas)?;
    for (device, docs) in &heads {
        tx.set_device_heads(device, docs)?;
    }
    flush_tallies(tx, &deltas)?;
    Ok(fates)
}

/// See [`Documents::erase`].
fn erase(tx: &mut impl DocTx, area_id: &str, ids: &[String]) -> Result<usize> {
    let ids: BTreeSet<&String> = ids.iter().collect();
    let mut stored = 0;
    let mut gone = Vec::new();
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
        tx.record_erasure(&key, area_id, seq)?;
        gone.push(key);
    }
    let rows: Vec<ProjectionRow<'_>> = gone
        .iter()
        .map(|key| ProjectionRow {
            id: key,
            area_id,
            projection: None,
        })
        .collect();
    let mut deltas = Deltas::new();
    write_projections(tx, &rows, &mut deltas)?;
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

/// See [`Documents::retire_form`].
fn retire_form(tx: &mut impl DocTx, area_id: &str, id: &str, at: i64) -> Result<bool> {
    let stored = match tx.load_doc(id)? {
        Some(d) if d.area_id == area_id && d.kind == DocKind::Form => d,
        _ => return Err(Error::NotFound(format!("form document {id}"))),
    };
    if hark_core::doc::form_doc_retired(&stored.bytes)?.is_some() {
        return Ok(false);
    }
    let form = hark_core::doc::form_from_doc(&stored.bytes)?;
    let (heads, bytes) = hark_core::doc::retire_form_doc(&stored.bytes, at)?;
    let seq = tx.next_seq()?;
    tx.put_snapshots(&[DocRow {
        id,
        area_id,
        kind: DocKind::Form,
        form_id: &form.id,
        seq,
        heads: &heads,
        bytes: &bytes,
    }])?;
    Ok(true)
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
        let keys: Vec<&str> = ids.iter().map(|(id, _)| id.as_str()).collect();
        let stored = tx.projections(&keys)?;
        let mut deltas = Deltas::new();
        for (id, area_id) in &ids {
            if let Some(p) = stored.get(id) {
                deltas.add(area_id, None, Some(p));
            }
        }
        flush_tallies(tx, &deltas)?;
        after = last;
    }
}

/// See [`Documents::publish`].
fn publish(tx: &mut impl DocTx, area_id: &str, through: &str, at: i64) -> Result<Option<String>> {
    tx.lock_writers()?;
    let published = tx.published_through(area_id)?;
    if published.as_deref() >= Some(through) {
        return Ok(published);
    }
    tx.publish_months(area_id, published.as_deref(), through, at)?;
    Ok(Some(through.to_owned()))
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
    let rows: Vec<ProjectionRow<'_>> = batch
        .into_iter()
        .map(|(id, area_id, projection)| ProjectionRow {
            id,
            area_id,
            projection,
        })
        .collect();
    let mut deltas = Deltas::new();
    write_projections(tx, &rows, &mut deltas)?;
    flush_tallies(tx, &deltas)
}

impl<B: Backend> Documents for B {
    fn stage(&self, keys: &[String]) -> Result<Vec<Option<StoredDoc>>> {
        self.read(|tx| keys.iter().map(|k| tx.load_doc(k)).collect())
    }

    fn commit(&self, group: &[Upload]) -> Result<Vec<Vec<Fate>>> {
        let keys: Vec<String> = group
            .iter()
            .flat_map(|u| u.docs.iter().map(|d| d.key.clone()))
            .collect();
        self.write(&keys, |tx| commit(tx, group))
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

    fn retire_form(&self, area_id: &str, id: &str, at: i64) -> Result<bool> {
        self.write(&[id.to_owned()], |tx| retire_form(tx, area_id, id, at))
    }

    fn load(&self, id: &str) -> Result<Option<StoredDoc>> {
        self.read(|tx| tx.load_doc(id))
    }

    fn area_forms(&self, area_id: &str) -> Result<Vec<(String, Vec<u8>)>> {
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

    fn publish(&self, area_id: &str, through: &str, at: i64) -> Result<Option<String>> {
        let published = self.read(|tx| tx.published_through(area_id))?;
        if published.as_deref() >= Some(through) {
            return Ok(published);
        }
        self.write(&[], |tx| publish(tx, area_id, through, at))
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
