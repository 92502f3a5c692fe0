//! The per-backend transaction interface: the statements the shared
//! algorithms (`documents.rs`, `migrate.rs`) are written over. A backend
//! implements [`Backend`] (how to open a write, read or migration
//! transaction) and [`DocTx`] + [`SchemaTx`] (one method per statement);
//! it then is [`super::Documents`] and, with the other capability traits,
//! [`super::Storage`], by the blanket implementations in `documents.rs`.
//!
//! Every method here is one or two SQL statements and the mapping of their
//! rows. Nothing here loops over documents, adds up tallies or decides
//! anything: that is the algorithms' job, written once.

use std::collections::{HashMap, HashSet};

use automerge::ChangeHash;
use hark_core::doc::DocKind;
use hark_core::lists::AreaLists;

use crate::error::Result;
use crate::ingest::StoredDoc;
use crate::projection::{AnswerRow, Projection};
use crate::tally::TallyKey;

/// How a backend opens its transactions. The closure's result commits;
/// its error rolls everything back.
pub trait Backend: Send + Sync + 'static {
    /// One transaction.
    type Tx<'t>: DocTx + SchemaTx
    where
        Self: 't;

    /// The backend's numbered migrations: migration `i` (from 0) makes
    /// schema version `i + 1`.
    const MIGRATIONS: &'static [&'static str];

    /// A write transaction that will touch the documents `lock` names:
    /// writers of the same documents, in this process or another server,
    /// take turns.
    fn write<T>(
        &self,
        lock: &[String],
        f: impl FnOnce(&mut Self::Tx<'_>) -> Result<T>,
    ) -> Result<T>;

    /// A read-only transaction that sees one snapshot throughout.
    fn read<T>(&self, f: impl FnOnce(&mut Self::Tx<'_>) -> Result<T>) -> Result<T>;

    /// The transaction migrations run in: at most one at a time across
    /// every server on the database.
    fn migration<T>(&self, f: impl FnOnce(&mut Self::Tx<'_>) -> Result<T>) -> Result<T>;
}

/// A document row as written: the document and what the server indexes it
/// by.
#[derive(Clone, Copy, Debug)]
pub struct DocRow<'a> {
    /// Document id.
    pub id: &'a str,
    /// The area it belongs to.
    pub area_id: &'a str,
    /// Response or form.
    pub kind: DocKind,
    /// Its form's id.
    pub form_id: &'a str,
    /// The sequence number of this write.
    pub seq: i64,
    /// Heads after the write.
    pub heads: &'a [ChangeHash],
    /// The snapshot.
    pub bytes: &'a [u8],
}

/// A response's projection as written (`None`: removed).
#[derive(Clone, Copy, Debug)]
pub struct ProjectionRow<'a> {
    /// The response's key.
    pub id: &'a str,
    /// Its area.
    pub area_id: &'a str,
    /// What to store.
    pub projection: Option<&'a Projection>,
}

/// The statements on documents, projections and tallies.
pub trait DocTx {
    /// Takes the next sequence number (and with it the writers' lock, held
    /// until the transaction ends).
    fn next_seq(&mut self) -> Result<i64>;
    /// The highest sequence number committed.
    fn current_seq(&mut self) -> Result<i64>;
    /// Takes `n` consecutive sequence numbers at once (with the writers'
    /// lock) and returns the first.
    fn reserve_seqs(&mut self, n: i64) -> Result<i64>;
    /// Takes the writers' lock without a sequence number (before tally
    /// writes that come with none).
    fn lock_writers(&mut self) -> Result<()>;

    /// Whether the id was erased.
    fn is_erased(&mut self, id: &str) -> Result<bool>;
    /// Which of these ids were erased.
    fn erased_among(&mut self, ids: &[&str]) -> Result<HashSet<String>>;
    /// The versions (sequence numbers) of those of these documents that are
    /// stored (locked for the transaction in a write transaction).
    fn doc_versions(&mut self, ids: &[&str]) -> Result<HashMap<String, i64>>;
    /// A document, snapshot and change chunks concatenated (locked for the
    /// transaction in a write transaction).
    fn load_doc(&mut self, id: &str) -> Result<Option<StoredDoc>>;
    /// The area and kind of a stored document (locked likewise).
    fn doc_owner(&mut self, id: &str) -> Result<Option<(String, DocKind)>>;
    /// Writes documents as one snapshot each (inserting or replacing them,
    /// their change chunks dropped). The ids are distinct.
    fn put_snapshots(&mut self, docs: &[DocRow<'_>]) -> Result<()>;
    /// Inserts a document that does not exist yet; `false` if one does.
    fn insert_doc(&mut self, doc: &DocRow<'_>) -> Result<bool>;
    /// Whether a document with this id is stored.
    fn doc_exists(&mut self, id: &str) -> Result<bool>;
    /// Appends one change chunk to a stored document, at `seq`.
    fn append_change(
        &mut self,
        id: &str,
        seq: i64,
        heads: &[ChangeHash],
        bytes: &[u8],
    ) -> Result<()>;
    /// Deletes a document, its change chunks and every device's record of
    /// it.
    fn delete_doc(&mut self, id: &str) -> Result<()>;
    /// Records an erasure at `seq` (once per id).
    fn record_erasure(&mut self, id: &str, area_id: &str, seq: i64) -> Result<()>;
    /// Records the heads a device has acknowledged for documents (distinct
    /// ids).
    fn set_device_heads(&mut self, device_id: &str, docs: &[(&str, &[ChangeHash])]) -> Result<()>;
    /// Every form document of an area, as (key, snapshot), by key.
    fn area_forms(&mut self, area_id: &str) -> Result<Vec<(String, Vec<u8>)>>;
    /// Ids of documents of a kind after `after`, in id order.
    fn doc_ids(&mut self, kind: DocKind, after: &str, limit: usize) -> Result<Vec<String>>;

    /// The stored projections of those of these responses that have one,
    /// with their answers (by question) where they are submitted.
    fn projections(&mut self, ids: &[&str]) -> Result<HashMap<String, Projection>>;
    /// The projected answers of a response, by question.
    fn projected_answers(&mut self, id: &str) -> Result<Vec<AnswerRow>>;
    /// Replaces responses' projection rows, their answers, data problems
    /// and flags (`None`: deletes them). The ids are distinct.
    fn write_projections(&mut self, rows: &[ProjectionRow<'_>]) -> Result<()>;
    /// Ids of every projected response.
    fn response_ids(&mut self) -> Result<Vec<String>>;
    /// Replaces the packed answers of a response.
    fn set_packed(&mut self, id: &str, packed: &str) -> Result<()>;
    /// (id, area id) of submitted responses after `after`, in id order.
    fn submitted_after(&mut self, after: &str, limit: usize) -> Result<Vec<(String, String)>>;
    /// Adds to tally cells, as (area id, key, change), in the order given.
    fn add_tallies(&mut self, rows: &[(&str, TallyKey, i64)]) -> Result<()>;
    /// Deletes every tally (not the published ones).
    fn clear_tallies(&mut self) -> Result<()>;
    /// The last month published in an area.
    fn published_through(&mut self, area_id: &str) -> Result<Option<String>>;
    /// Copies an area's tallies of the months in `(after, through]` into
    /// the published tallies and records `through` as published, at `at`.
    fn publish_months(
        &mut self,
        area_id: &str,
        after: Option<&str>,
        through: &str,
        at: i64,
    ) -> Result<()>;

    /// (seq, id) of an area's forms written in `(after, upto]`, in
    /// sequence order, at most `limit`.
    fn forms_between(
        &mut self,
        area_id: &str,
        after: i64,
        upto: i64,
        limit: usize,
    ) -> Result<Vec<(i64, String)>>;
    /// (seq, id, heads the device acknowledged) of documents written in
    /// `(after, upto]` that the device holds at other heads, in sequence
    /// order, at most `limit`.
    fn device_docs_between(
        &mut self,
        device_id: &str,
        after: i64,
        upto: i64,
        limit: usize,
    ) -> Result<Vec<(i64, String, Vec<ChangeHash>)>>;
    /// (seq, key) of an area's erasures in `(after, upto]`, in sequence
    /// order, at most `limit`.
    fn erasures_between(
        &mut self,
        area_id: &str,
        after: i64,
        upto: i64,
        limit: usize,
    ) -> Result<Vec<(i64, String)>>;

    /// The version of an area's lists (0: it keeps the defaults).
    fn lists_version(&mut self, area_id: &str) -> Result<i64>;
    /// An area's list values as (list, value, label), by list then position.
    fn list_items(&mut self, area_id: &str) -> Result<Vec<(String, String, String)>>;
    /// Replaces every list of an area and records their version.
    fn replace_lists(&mut self, area_id: &str, lists: &AreaLists) -> Result<()>;
}

/// The statements migrations need.
pub trait SchemaTx {
    /// The schema version recorded (0: an empty database).
    fn schema_version(&mut self) -> Result<usize>;
    /// Runs one migration's SQL.
    fn execute_batch(&mut self, sql: &str) -> Result<()>;
    /// Records the schema version.
    fn set_schema_version(&mut self, version: usize) -> Result<()>;
}
