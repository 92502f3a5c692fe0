//! Server storage: small traits by capability, two backends (SQLite by
//! default, PostgreSQL at scale), one conformance suite per trait
//! (`tests.rs`, every test run against both).
//!
//! - [`Tenancy`]: areas, enrolment codes, devices.
//! - [`Documents`]: documents with their projections and tallies, which
//!   share a transaction: ingest, erase, what a device should receive,
//!   forms, rebuilds.
//! - [`Reads`]: what reports and exports read (counts, tallies, free text,
//!   the row-level export).
//! - [`Accounts`]: dashboard users and their sessions.
//! - [`AuditLog`]: the per-area audit log.
//! - [`Notes`]: "you said, we did" notes.
//! - [`Links`]: survey links and the uses they take.
//! - [`Lists`]: each area's settings, age phases, needs and pathways.
//! - [`SafeguardingList`]: flagged responses and their follow-up.
//!
//! [`Storage`] is all of them. The algorithms of [`Documents`] (ingest,
//! erase, the paging of `pending`, projections and their tallies, rebuilds,
//! migrations) are written once, in `documents.rs` and `migrate.rs`, over the
//! per-backend transaction interface of `backend.rs`; a backend file holds
//! SQL and its row mapping, nothing else.
//!
//! Responses are stored under a key that includes their area
//! ([`response_key`]): an id used in one area blocks nothing in another, and
//! no device can reach another area's documents by naming their ids.
//!
//! Sequence numbers come from a single counter row taken inside each writing
//! transaction. The row lock orders committing writers, so once a reader
//! sees sequence number N committed, every number below N is committed too:
//! a device cursor can never skip a document, even with several servers on
//! one PostgreSQL.

pub mod backend;
mod documents;
mod migrate;
pub mod postgres;
mod query;
mod rows;
pub mod sqlite;
#[cfg(test)]
mod tests;

use automerge::ChangeHash;
use hark_core::doc::DocKind;
use hark_core::lists::{AreaLists, ListDim, ListItem};

use crate::error::Result;
use crate::export::ExportRecord;
use crate::ingest::{Fate, StagedDoc, StoredDoc};
use crate::model::{
    Area, AuditEntry, Device, Flag, FlagStatus, Note, PublishedQuote, SurveyLink, User,
};
use crate::projection::Projection;
use crate::tally::{TallyQuery, TallyRow};
use crate::throttle::Failures;

/// The key a response of an area is stored under.
pub fn response_key(area_id: &str, id: &str) -> String {
    format!("{area_id}:{id}")
}

/// The id a device knows a stored document by: a response's key without
/// its area, a form's key as it is.
pub fn doc_id(key: &str) -> &str {
    if key.starts_with("form:") {
        return key;
    }
    key.split_once(':').map_or(key, |(_, id)| id)
}

/// Data problems of an area's responses, counted: (form, version, the
/// question or list concerned, the kind of problem, responses).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ProblemCount {
    /// Form id.
    pub form: String,
    /// Form version.
    pub version: String,
    /// The question or list concerned, if any.
    pub subject: Option<String>,
    /// What kind of problem (`not_asked`, `missing_required`, `no_consent`,
    /// `not_on_list`).
    pub kind: String,
    /// Responses with it.
    pub responses: i64,
}

/// A projected answer: (response id, question, text, number).
pub type AnswerCell = (String, String, Option<String>, Option<i64>);

/// A document a device should receive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// Document id.
    pub id: String,
    /// Response or form.
    pub kind: DocKind,
    /// The whole stored document.
    pub bytes: Vec<u8>,
    /// The heads this device last acknowledged, if any.
    pub device_heads: Option<Vec<ChangeHash>>,
}

/// What a device should receive after a cursor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PendingBatch {
    /// Documents.
    pub docs: Vec<Pending>,
    /// Responses erased in the area.
    pub erased: Vec<String>,
    /// Cursor to acknowledge once applied.
    pub cursor: i64,
    /// More remain after this batch.
    pub more: bool,
}

/// One exchange's staged merges, for a group commit.
#[derive(Debug)]
pub struct Upload {
    /// The device that sent them.
    pub device: Device,
    /// Its documents, merged.
    pub docs: Vec<StagedDoc>,
}

/// Areas, enrolment codes and devices.
pub trait Tenancy {
    /// Creates an area. Errors with `Exists` if the name is taken.
    fn create_area(&self, name: &str) -> Result<Area>;
    /// Looks an area up by name.
    fn area_by_name(&self, name: &str) -> Result<Option<Area>>;
    /// Looks an area up by id.
    fn area(&self, id: &str) -> Result<Option<Area>>;
    /// Every area, by name.
    fn areas(&self) -> Result<Vec<Area>>;
    /// Stores a one-time enrolment code (hashed) for an area.
    fn add_enrol_code(&self, area_id: &str, code_hash: &[u8], expires_at: i64) -> Result<()>;
    /// Redeems a code (once, before it expires) and creates the device, in
    /// one transaction. `None` if the code is unknown, used or expired.
    fn redeem_enrol_code(
        &self,
        code_hash: &[u8],
        now: i64,
        device: &Device,
    ) -> Result<Option<Area>>;
    /// A device by id.
    fn device(&self, id: &str) -> Result<Option<Device>>;
    /// Revokes a device. Returns whether it existed.
    fn revoke_device(&self, id: &str) -> Result<bool>;
}

/// Documents, with the projections and tallies derived from them, always
/// written in the same transaction.
pub trait Documents {
    /// The stored copies of these documents (by key), read in one
    /// snapshot, to merge outside any write transaction.
    fn stage(&self, keys: &[String]) -> Result<Vec<Option<StoredDoc>>>;
    /// Writes a group of staged merges, from one or many exchanges, in one
    /// transaction: each write with its projection (the tallies of the
    /// whole group added up first), and the heads each device now has
    /// acknowledged. A document erased since it was staged is refused; one
    /// whose stored copy changed since (its version is not
    /// [`StagedDoc::seen`](crate::ingest::StagedDoc::seen)) comes back
    /// [`Fate::Stale`] with nothing written, as does a second write of
    /// one document in the group. One outcome per staged document, in order.
    fn commit(&self, group: &[Upload]) -> Result<Vec<Vec<Fate>>>;
    /// Erases responses of `area_id` (withdrawn consent): document,
    /// projections and device records, and records the erasure. Ids of
    /// forms are skipped. Returns how many were stored.
    fn erase(&self, area_id: &str, ids: &[String]) -> Result<usize>;
    /// Documents and erasures `device` should receive after `cursor`, at
    /// most `limit` documents.
    fn pending(&self, device: &Device, cursor: i64, limit: usize) -> Result<PendingBatch>;
    /// Stores a form version for an area (read-only for devices). Returns
    /// `false` if a document with that id exists already.
    fn put_form(
        &self,
        area_id: &str,
        id: &str,
        form_id: &str,
        heads: &[ChangeHash],
        bytes: &[u8],
    ) -> Result<bool>;
    /// Retires a form version of an area: one more change on its document
    /// ([`hark_core::doc::retire_form_doc`]) with a new sequence number, so
    /// every device receives it at its next sync. Returns `false` if it was
    /// retired already; `NotFound` if the area has no such document.
    fn retire_form(&self, area_id: &str, id: &str, at: i64) -> Result<bool>;
    /// Loads one document by its key ([`response_key`], or a form's id).
    fn load(&self, key: &str) -> Result<Option<StoredDoc>>;
    /// Every form version of an area, as (document key, stored form
    /// document), by key.
    fn area_forms(&self, area_id: &str) -> Result<Vec<(String, Vec<u8>)>>;
    /// Ids of every document of a kind (for rebuilds), in batches.
    fn doc_ids(&self, kind: DocKind, after: &str, limit: usize) -> Result<Vec<String>>;
    /// Replaces a response's projection (rebuild).
    fn put_projection(
        &self,
        id: &str,
        area_id: &str,
        projection: Option<&Projection>,
    ) -> Result<()>;
    /// Writes many projections in one transaction, as (response id, area
    /// id, projection) (rebuilds, benchmarks).
    fn put_projections(&self, batch: &[(String, String, Projection)]) -> Result<()>;
    /// Recounts every tally from the stored projections, in one
    /// transaction (after an upgrade from a schema whose live tallies were
    /// missing or kept as rollups, and in `hark admin rebuild`).
    fn rebuild_tallies(&self) -> Result<()>;
    /// Publishes an area's months up to `through` (`YYYY-MM`), at `at`:
    /// adds up the live tallies of every month after the last published
    /// one, up to `through`, into the rollups of the published tallies
    /// ([`crate::tally::ROLLUPS`]), which never change again
    /// (see [`crate::publication`]). Nothing happens when `through` is
    /// published already. Returns the last month published.
    fn publish(&self, area_id: &str, through: &str, at: i64) -> Result<Option<String>>;
}

/// What reports and exports read.
pub trait Reads {
    /// Distinct counted responses (submitted, with consent) in an area,
    /// optionally for one form.
    fn count_submitted(&self, area_id: &str, form_id: Option<&str>) -> Result<i64>;
    /// Every projected answer of submitted responses of a form in an area
    /// (tests, checks): (response id, question, text, number), by response
    /// then question.
    fn answers(&self, area_id: &str, form_id: &str) -> Result<Vec<AnswerCell>>;
    /// The published tallies (what leaders read: months added up into
    /// rollups by [`Documents::publish`], never changed after): see
    /// [`crate::tally`]. Rows are grouped by form, month, the
    /// query's dimensions (in order) and value; every form version in
    /// `query.versions` is summed.
    fn tallies(&self, query: &TallyQuery) -> Result<Vec<TallyRow>>;
    /// The live tallies, always equal to a recount of the stored
    /// responses, grouped as [`Reads::tallies`]: for checks, never for a
    /// leader.
    fn live_tallies(&self, query: &TallyQuery) -> Result<Vec<TallyRow>>;
    /// The published free-text answers to one question (copied with their
    /// month by [`Documents::publish`]; an erasure removes the words and
    /// unlinks the row) in the
    /// query's versions and months, each with its writer's groups (the
    /// query's `dims` are not read), in alphabetical order so their order
    /// says nothing about who wrote them.
    fn free_text(&self, query: &TallyQuery) -> Result<Vec<PublishedQuote>>;
    /// Streams every submitted response of `forms` in an area, one record
    /// at a time (in no particular order), without holding them all in
    /// memory. Text answers are left out unless `with_text`. `each`
    /// returning an error stops the stream.
    fn export_responses(
        &self,
        area_id: &str,
        forms: &[String],
        with_text: bool,
        each: &mut dyn FnMut(ExportRecord) -> Result<()>,
    ) -> Result<()>;
    /// The area's data problems, counted per form, version, subject and
    /// kind (never per response).
    fn problems(&self, area_id: &str) -> Result<Vec<ProblemCount>>;
}

/// Dashboard users and their sessions.
pub trait Accounts {
    /// Creates a dashboard user. Errors with `Exists` if the name is taken.
    fn create_user(&self, user: &User) -> Result<()>;
    /// A user by (globally unique) name.
    fn user_by_name(&self, username: &str) -> Result<Option<User>>;
    /// The users of an area, by name.
    fn users(&self, area_id: &str) -> Result<Vec<User>>;
    /// Replaces a user's password hash and ends their sessions. Returns
    /// whether the user exists.
    fn set_password(&self, username: &str, password_hash: &str) -> Result<bool>;
    /// Stores a session (its token hashed) until `expires_at`.
    fn create_session(&self, token_hash: &[u8], user_id: &str, expires_at: i64) -> Result<()>;
    /// The user of a live session.
    fn session_user(&self, token_hash: &[u8], now: i64) -> Result<Option<User>>;
    /// Ends a session.
    fn delete_session(&self, token_hash: &[u8]) -> Result<()>;
    /// The failed sign-ins recorded for a key (a user name or an address).
    fn sign_in_failures(&self, key: &str) -> Result<Option<Failures>>;
    /// Records a key's failed sign-ins (`None`: forgets them).
    fn set_sign_in_failures(&self, key: &str, failures: Option<&Failures>) -> Result<()>;
}

/// The per-area audit log.
pub trait AuditLog {
    /// Appends to the audit log.
    fn audit(&self, entry: &AuditEntry) -> Result<()>;
    /// An area's audit log, newest first, entries with `seq < before`.
    fn audit_log(&self, area_id: &str, before: i64, limit: usize) -> Result<Vec<AuditEntry>>;
}

/// "You said, we did" notes.
pub trait Notes {
    /// Creates or replaces a note (only within its own area).
    fn put_note(&self, note: &Note) -> Result<()>;
    /// An area's notes, newest first.
    fn notes(&self, area_id: &str) -> Result<Vec<Note>>;
    /// Deletes a note of an area. Returns whether it existed.
    fn delete_note(&self, area_id: &str, id: &str) -> Result<bool>;
}

/// Survey links: what an administrator hands out, and the one atomic step
/// by which a link takes a response.
pub trait Links {
    /// Stores a new link with the hash of its secret token.
    fn create_link(&self, link: &SurveyLink, token_hash: &[u8]) -> Result<()>;
    /// An area's links, newest first.
    fn links(&self, area_id: &str) -> Result<Vec<SurveyLink>>;
    /// The link whose secret token hashes to `token_hash`.
    fn link_by_token(&self, token_hash: &[u8]) -> Result<Option<SurveyLink>>;
    /// Takes one use of a link, atomically: only while it is not revoked,
    /// not closed at `now` and under its cap (so concurrent answers on
    /// any number of servers never take more than the cap). Returns
    /// whether a use was taken.
    fn claim_link(&self, id: &str, now: i64) -> Result<bool>;
    /// Gives back a use taken by [`Links::claim_link`] whose response was
    /// then not stored.
    fn release_link(&self, id: &str) -> Result<()>;
    /// Revokes a link of an area. Returns whether it existed there.
    fn revoke_link(&self, area_id: &str, id: &str) -> Result<bool>;
}

/// Each area's reporting lists.
pub trait Lists {
    /// The area's lists (the defaults until an administrator changes one).
    fn area_lists(&self, area_id: &str) -> Result<AreaLists>;
    /// Replaces one list (already checked) and gives the area's lists with
    /// their new version.
    fn set_area_list(&self, area_id: &str, dim: ListDim, items: &[ListItem]) -> Result<AreaLists>;
}

/// The safeguarding list: flagged responses one by one, for the
/// safeguarding role only (the rows are written with the projection, on
/// ingest).
pub trait SafeguardingList {
    /// An area's flags with `id < before`, newest first, optionally of one
    /// status.
    fn flags(
        &self,
        area_id: &str,
        status: Option<FlagStatus>,
        before: i64,
        limit: usize,
    ) -> Result<Vec<Flag>>;
    /// An area's flags with `id > after`, oldest first (a feed to poll).
    fn flags_after(&self, area_id: &str, after: i64, limit: usize) -> Result<Vec<Flag>>;
    /// One flag of an area.
    fn flag(&self, area_id: &str, id: i64) -> Result<Option<Flag>>;
    /// Records a flag's follow-up. Returns whether the flag exists.
    fn set_flag_status(
        &self,
        area_id: &str,
        id: i64,
        status: FlagStatus,
        by: &str,
        at: i64,
        note: Option<&str>,
    ) -> Result<bool>;
    /// How many of an area's flags have a status.
    fn count_flags(&self, area_id: &str, status: FlagStatus) -> Result<i64>;
}

/// Everything the server stores. Implementations must be safe to share
/// between request handlers and between server processes on one database.
pub trait Storage:
    Tenancy
    + Documents
    + Lists
    + Reads
    + Accounts
    + AuditLog
    + Notes
    + Links
    + SafeguardingList
    + Send
    + Sync
    + 'static
{
    /// Brings the schema up to date (numbered migrations, see `migrate.rs`).
    fn migrate(&self) -> Result<()>;
}
